//! Feedback reminders, produced by the worker from each interview's `due_at`
//! (interview end + the loop's `feedback_due_hours`): "due soon" to the
//! interviewer, then "overdue" to the interviewer, a day later to the
//! recruiter, another day later to the Bar Raiser. Each goes out once: its
//! outbox `dedupe_key` (`due_soon:{interview_id}`, …) survives restarts and
//! is shared by every instance. In a loop that requires quick votes the
//! interviewer also hears, once the interview has ended and while the
//! window is open, that a quick vote is due (`quick_vote:{interview_id}`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{LoopRef, Notice, Recipient};
use crate::db::{self, DbConn, from_db, to_db};
use crate::domain::progress::InterviewFacts;
use crate::domain::quickvote;
use crate::domain::reminders::{DUE_SOON, Stage, needs_reminding, recipient, stages};
use crate::error::AppResult;

/// Queues every reminder due at `now` that was not queued before, in one
/// transaction; returns how many messages were queued. Another instance
/// scanning at the same moment makes this one a no-op.
pub fn queue_due(
    conn: &mut DbConn,
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> AppResult<usize> {
    let page = db::outbox::reminder_page(conn, CANDIDATE_PAGE);
    queue_due_paged(conn, public_url, now, quick_vote_window_minutes, page)
}

/// As [`queue_due`], reading at most `page` open interviews per statement
/// (tests walk many pages of a small world with a small `page`).
pub fn queue_due_paged(
    conn: &mut DbConn,
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
    page: i64,
) -> AppResult<usize> {
    let page_size = page.max(1);
    db::write_tx(conn, |conn| {
        if !db::outbox::try_lock_reminders(conn)? {
            return Ok(0);
        }
        // Nothing that starts after now + DUE_SOON can be due soon yet.
        let started_before = to_db(now + DUE_SOON);
        let mut after = None;
        let mut queued = 0;
        loop {
            let page = db::outbox::reminder_candidates(conn, started_before, after, page_size)?;
            queued += queue_page(conn, &page, public_url, now, quick_vote_window_minutes)?;
            match page.last() {
                Some(last) if page.len() as i64 == page_size => {
                    after = Some(last.interview_id);
                }
                _ => return Ok(queued),
            }
        }
    })
}

/// Open interviews read per statement by [`queue_due`] on PostgreSQL: its
/// memory stays that of one page however many interviews are open (SQLite
/// reads them in one statement: `db::outbox::reminder_page` says why).
pub const CANDIDATE_PAGE: i64 = 1000;

/// Queues the reminders due at `now` of one page of candidates.
fn queue_page(
    conn: &mut DbConn,
    candidates: &[db::outbox::ReminderFacts],
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> AppResult<usize> {
    let mut wanted = Vec::new();
    for c in candidates {
        let facts = InterviewFacts {
            id: c.interview_id.into(),
            role: c.loop_role,
            starts_at: from_db(c.starts_at),
            duration_minutes: c.duration_minutes,
            excused: c.excused,
            feedback: c.feedback,
        };
        if !needs_reminding(c.loop_state, &facts) {
            continue;
        }
        let due = stages(&facts, c.feedback_due_hours, now);
        let quick = quickvote::reminder_due(
            c.quick_vote,
            &facts,
            c.quick_voted,
            quick_vote_window_minutes,
            now,
        );
        if !due.is_empty() || quick {
            wanted.push((c, facts, due, quick));
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<db::UserId> = wanted
        .iter()
        .flat_map(|(c, _, _, _)| [c.interviewer_id, c.recruiter_id, c.bar_raiser_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let people = db::outbox::active_recipients(conn, &ids)?;
    let person = |id: db::UserId| {
        people
            .iter()
            .find(|(pid, _, _)| *pid == id)
            .map(|(_, email, name)| Recipient {
                email: email.clone(),
                name: name.clone(),
            })
    };
    let mut queued = 0;
    for (c, facts, due, quick) in wanted {
        let about = LoopRef {
            id: c.loop_id.into(),
            candidate: c.candidate.clone(),
            position: c.position.clone(),
        };
        let interview_id: Uuid = facts.id;
        let due_at = facts.due_at(c.feedback_due_hours);
        let interviewer = person(c.interviewer_id);
        if let (true, Some(to)) = (quick, &interviewer) {
            let (_, closes_at) = quickvote::window(facts.ends_at(), quick_vote_window_minutes);
            let notice = Notice::QuickVoteDue {
                interview_id,
                closes_at,
            };
            queued += super::enqueue_new(
                conn,
                public_url,
                std::slice::from_ref(to),
                &about,
                &notice,
                Some(&format!("quick_vote:{}", c.interview_id)),
            )?;
        }
        for stage in due {
            let notice = match stage {
                Stage::DueSoon => Notice::FeedbackDueSoon {
                    interview_id,
                    due_at,
                },
                Stage::Overdue => Notice::YourFeedbackOverdue {
                    interview_id,
                    due_at,
                },
                Stage::OverdueToRecruiter | Stage::OverdueToBarRaiser => Notice::FeedbackOverdue {
                    interview_id,
                    due_at,
                    interviewer: interviewer
                        .as_ref()
                        .map_or_else(|| "An interviewer".to_string(), |r| r.name.clone()),
                },
            };
            let to = recipient(stage, c.interviewer_id, c.recruiter_id, c.bar_raiser_id)
                .and_then(person);
            let Some(to) = to else { continue };
            queued += super::enqueue_new(
                conn,
                public_url,
                std::slice::from_ref(&to),
                &about,
                &notice,
                Some(&stage.key(&c.interview_id.to_string())),
            )?;
        }
    }
    Ok(queued)
}
