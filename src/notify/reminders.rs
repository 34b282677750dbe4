//! Feedback reminders, produced by the worker from each interview's `due_at`
//! (interview end + the loop's `feedback_due_hours`): "due soon" to the
//! interviewer, then "overdue" to the interviewer, a day later to the
//! recruiter, another day later to the Bar Raiser. Each goes out once: its
//! outbox `dedupe_key` (`due_soon:{interview_id}`, …) survives restarts and
//! is shared by every instance.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{LoopRef, Notice, Recipient};
use crate::db::{self, DbConn, from_db, to_db};
use crate::domain::StoredFeedbackState;
use crate::domain::progress::InterviewFacts;
use crate::error::AppResult;

/// How long before `due_at` the interviewer hears that feedback is due.
pub const DUE_SOON: Duration = Duration::hours(4);
/// How long after `due_at` (and again after that) the next person hears.
pub const ESCALATION_STEP: Duration = Duration::hours(24);

/// One reminder and who gets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    DueSoon,
    Overdue,
    OverdueToRecruiter,
    OverdueToBarRaiser,
}

impl Stage {
    fn key(self, interview_id: &str) -> String {
        let stage = match self {
            Stage::DueSoon => "due_soon",
            Stage::Overdue => "overdue",
            Stage::OverdueToRecruiter => "overdue_recruiter",
            Stage::OverdueToBarRaiser => "overdue_bar_raiser",
        };
        format!("{stage}:{interview_id}")
    }
}

/// The reminders an unsealed, unexcused interview of a scheduled loop has
/// earned by `now`. "Due soon" never comes before the interview has ended,
/// nor once the deadline has passed (then "overdue" says it). Shadows never
/// block the debrief, so their lateness is not escalated.
pub fn stages(interview: &InterviewFacts, due_hours: i32, now: DateTime<Utc>) -> Vec<Stage> {
    let due_at = interview.due_at(due_hours);
    if now <= due_at {
        let from = (due_at - DUE_SOON).max(interview.ends_at());
        return if now >= from {
            vec![Stage::DueSoon]
        } else {
            Vec::new()
        };
    }
    let mut due = vec![Stage::Overdue];
    if interview.voting() {
        if now >= due_at + ESCALATION_STEP {
            due.push(Stage::OverdueToRecruiter);
        }
        if now >= due_at + ESCALATION_STEP * 2 {
            due.push(Stage::OverdueToBarRaiser);
        }
    }
    due
}

/// Queues every reminder due at `now` that was not queued before, in one
/// transaction; returns how many messages were queued. Another instance
/// scanning at the same moment makes this one a no-op.
pub fn queue_due(conn: &mut DbConn, public_url: &str, now: DateTime<Utc>) -> AppResult<usize> {
    db::write_tx(conn, |conn| {
        if !db::outbox::try_lock_reminders(conn)? {
            return Ok(0);
        }
        // Nothing that starts after now + DUE_SOON can be due soon yet.
        let candidates = db::outbox::reminder_candidates(conn, to_db(now + DUE_SOON))?;
        let mut wanted = Vec::new();
        for c in &candidates {
            let facts = InterviewFacts {
                id: c.interview_id.into(),
                role: c.loop_role,
                starts_at: from_db(c.starts_at),
                duration_minutes: c.duration_minutes,
                excused: false,
                feedback: None::<StoredFeedbackState>,
            };
            let due = stages(&facts, c.feedback_due_hours, now);
            if !due.is_empty() {
                wanted.push((c, facts, due));
            }
        }
        if wanted.is_empty() {
            return Ok(0);
        }
        let mut ids: Vec<db::UserId> = wanted
            .iter()
            .flat_map(|(c, _, _)| [c.interviewer_id, c.recruiter_id, c.bar_raiser_id])
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
        for (c, facts, due) in wanted {
            let about = LoopRef {
                id: c.loop_id.into(),
                candidate: c.candidate.clone(),
                position: c.position.clone(),
            };
            let interview_id: Uuid = facts.id;
            let due_at = facts.due_at(c.feedback_due_hours);
            let interviewer = person(c.interviewer_id);
            for stage in due {
                let (to, notice) = match stage {
                    Stage::DueSoon => (
                        interviewer.clone(),
                        Notice::FeedbackDueSoon {
                            interview_id,
                            due_at,
                        },
                    ),
                    Stage::Overdue => (
                        interviewer.clone(),
                        Notice::YourFeedbackOverdue {
                            interview_id,
                            due_at,
                        },
                    ),
                    // Someone who is late themselves is not told about it twice.
                    Stage::OverdueToRecruiter | Stage::OverdueToBarRaiser => {
                        let who = if stage == Stage::OverdueToRecruiter {
                            c.recruiter_id
                        } else {
                            c.bar_raiser_id
                        };
                        let to = (who != c.interviewer_id).then(|| person(who)).flatten();
                        let name = interviewer
                            .as_ref()
                            .map_or_else(|| "An interviewer".to_string(), |r| r.name.clone());
                        (
                            to,
                            Notice::FeedbackOverdue {
                                interview_id,
                                due_at,
                                interviewer: name,
                            },
                        )
                    }
                };
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::domain::InterviewRole;

    /// A 60-minute interview at 09:00 in a loop with a 24 h deadline: it
    /// ends at 10:00 and is due the next day at 10:00.
    fn interview(role: InterviewRole) -> InterviewFacts {
        InterviewFacts {
            id: Uuid::nil(),
            role,
            starts_at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
            duration_minutes: 60,
            excused: false,
            feedback: None,
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    use Stage::*;

    #[test]
    fn nothing_before_the_window() {
        let i = interview(InterviewRole::Interviewer);
        assert_eq!(stages(&i, 24, at(2, 8)), []);
        assert_eq!(stages(&i, 24, at(3, 5)), []);
    }

    #[test]
    fn due_soon_in_the_last_four_hours() {
        let i = interview(InterviewRole::Interviewer);
        assert_eq!(stages(&i, 24, at(3, 6)), [DueSoon]);
        assert_eq!(stages(&i, 24, at(3, 10)), [DueSoon]);
    }

    #[test]
    fn due_soon_never_before_the_interview_ends() {
        // Due two hours after a 09:00-10:00 interview: the window would open
        // at 08:00, before the interview.
        let i = interview(InterviewRole::Interviewer);
        assert_eq!(stages(&i, 2, at(2, 9)), []);
        assert_eq!(stages(&i, 2, at(2, 10)), [DueSoon]);
    }

    #[test]
    fn overdue_escalates_a_day_at_a_time() {
        let i = interview(InterviewRole::Interviewer);
        assert_eq!(stages(&i, 24, at(3, 11)), [Overdue]);
        assert_eq!(stages(&i, 24, at(4, 9)), [Overdue]);
        assert_eq!(stages(&i, 24, at(4, 10)), [Overdue, OverdueToRecruiter]);
        assert_eq!(
            stages(&i, 24, at(5, 10)),
            [Overdue, OverdueToRecruiter, OverdueToBarRaiser]
        );
    }

    #[test]
    fn a_late_shadow_is_reminded_but_not_escalated() {
        let i = interview(InterviewRole::Shadow);
        assert_eq!(stages(&i, 24, at(3, 8)), [DueSoon]);
        assert_eq!(stages(&i, 24, at(9, 0)), [Overdue]);
    }

    #[test]
    fn keys_name_stage_and_interview() {
        assert_eq!(DueSoon.key("i1"), "due_soon:i1");
        assert_eq!(OverdueToBarRaiser.key("i1"), "overdue_bar_raiser:i1");
    }
}
