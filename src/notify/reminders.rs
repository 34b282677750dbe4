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
use crate::db::{self, Db, DbConn, from_db, to_db};
use crate::domain::progress::InterviewFacts;
use crate::domain::quickvote;
use crate::domain::reminders::{DUE_SOON, Stage, needs_reminding, recipient, stages};
use crate::error::AppResult;

/// Queues every reminder due at `now` that was not queued before; returns
/// how many messages were queued.
///
/// The scan reads outside any transaction, a page of scheduled loops at a
/// time ([`LOOP_PAGE`]), so its memory is one page's however many loops
/// are open and no lock is held while it reads (on SQLite the one writer
/// is never kept waiting for it: a scan that read everything inside its
/// write transaction held every write in the server for over a second per
/// sweep at 100 000 loops). Only the interviews whose reminders are due are
/// then read again inside a short write transaction, the rule applied again
/// to what that transaction sees, and their messages queued: a seal or an
/// excuse that lands between the read and the write is honoured. Another
/// instance scanning at the same moment queues nothing twice (dedupe keys).
pub async fn queue_due(
    db: &Db,
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> AppResult<usize> {
    queue_due_paged(db, public_url, now, quick_vote_window_minutes, LOOP_PAGE).await
}

/// As [`queue_due`], reading `page` scheduled loops at a time (tests walk
/// many pages of a small world with a small `page`).
pub async fn queue_due_paged(
    db: &Db,
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
    page: i64,
) -> AppResult<usize> {
    let page = page.max(1);
    let mut after = None;
    let mut queued = 0;
    loop {
        let found = db
            .run(move |c| due_in_page(c, now, quick_vote_window_minutes, after, page))
            .await?;
        if !found.due.is_empty() {
            let url = public_url.to_string();
            queued += db
                .write_patiently(move |c| {
                    db::write_tx(c, |c| {
                        queue_for(c, &found.due, &url, now, quick_vote_window_minutes)
                    })
                })
                .await?;
        }
        match found.next {
            Some(next) => after = Some(next),
            None => return Ok(queued),
        }
    }
}

/// Scheduled loops read per page by [`queue_due`]: a page's open
/// interviews are a few thousand rows at most.
pub const LOOP_PAGE: i64 = 200;

/// One page of the scan.
#[derive(Debug)]
pub struct Page {
    /// The interviews with a reminder due at `now`.
    pub due: Vec<db::InterviewId>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<db::LoopId>,
}

/// Reads the open interviews of up to `page` scheduled loops after `after`
/// and says which have a reminder due at `now`. Reads only.
pub fn due_in_page(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
    after: Option<db::LoopId>,
    page: i64,
) -> AppResult<Page> {
    let loops = db::outbox::scheduled_loops(conn, after, page)?;
    let next = match loops.last() {
        Some(last) if loops.len() as i64 == page => Some(*last),
        _ => None,
    };
    if loops.is_empty() {
        return Ok(Page { due: vec![], next });
    }
    // Nothing that starts after now + DUE_SOON can be due soon yet.
    let among = db::outbox::Among::Loops(&loops, to_db(now + DUE_SOON));
    let due = db::outbox::open_interviews(conn, among)?
        .iter()
        .filter(|c| due_for(c, now, quick_vote_window_minutes).is_some())
        .map(|c| c.interview_id)
        .collect();
    Ok(Page { due, next })
}

/// Queues the reminders due at `now` of `interviews`, read again here: call
/// it inside the write transaction that is to hold the messages.
pub fn queue_for(
    conn: &mut DbConn,
    interviews: &[db::InterviewId],
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> AppResult<usize> {
    db::outbox::lock_reminders(conn)?;
    let facts = db::outbox::open_interviews(conn, db::outbox::Among::Interviews(interviews))?;
    queue_page(conn, &facts, public_url, now, quick_vote_window_minutes)
}

/// What is due for one open interview at `now`: its facts, the stages due
/// and whether the quick-vote reminder is; `None` when nothing is.
fn due_for(
    c: &db::outbox::ReminderFacts,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> Option<(InterviewFacts, Vec<Stage>, bool)> {
    let facts = InterviewFacts {
        id: c.interview_id.into(),
        role: c.loop_role,
        starts_at: from_db(c.starts_at),
        duration_minutes: c.duration_minutes,
        excused: c.excused,
        feedback: c.feedback,
    };
    if !needs_reminding(c.loop_state, &facts) {
        return None;
    }
    let due = stages(&facts, c.feedback_due_hours, now);
    let quick = quickvote::reminder_due(
        c.quick_vote,
        &facts,
        c.quick_voted,
        quick_vote_window_minutes,
        now,
    );
    (!due.is_empty() || quick).then_some((facts, due, quick))
}

/// Queues the reminders due at `now` of one page of candidates.
fn queue_page(
    conn: &mut DbConn,
    candidates: &[db::outbox::ReminderFacts],
    public_url: &str,
    now: DateTime<Utc>,
    quick_vote_window_minutes: u32,
) -> AppResult<usize> {
    let wanted: Vec<_> = candidates
        .iter()
        .filter_map(|c| {
            let (facts, due, quick) = due_for(c, now, quick_vote_window_minutes)?;
            Some((c, facts, due, quick))
        })
        .collect();
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
