//! Feedback reminders: who hears what, and when, about an interview whose
//! feedback is late. The worker (`notify::reminders`) finds the interviews
//! and queues the mail; every decision is here.

use chrono::{DateTime, Duration, Utc};

use super::progress::InterviewFacts;
use super::{LoopState, StoredFeedbackState};

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
    /// The outbox `dedupe_key` that makes each reminder go out once.
    pub fn key(self, interview_id: &str) -> String {
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

/// Whether an interview can need a reminder at all: its loop is scheduled
/// (feedback is written then), it is not excused, and its feedback is not
/// sealed. The worker's query narrows to the same interviews in SQL.
pub fn needs_reminding(loop_state: LoopState, interview: &InterviewFacts) -> bool {
    loop_state == LoopState::Scheduled
        && !interview.excused
        && interview.feedback != Some(StoredFeedbackState::Sealed)
}

/// Who gets `stage` of an interview's reminders: the interviewer for their
/// own; the recruiter, then the Bar Raiser for an escalation, unless that
/// is the late interviewer themselves (nobody is told twice of their own
/// lateness).
pub fn recipient<P: PartialEq + Copy>(
    stage: Stage,
    interviewer: P,
    recruiter: P,
    bar_raiser: P,
) -> Option<P> {
    let who = match stage {
        Stage::DueSoon | Stage::Overdue => return Some(interviewer),
        Stage::OverdueToRecruiter => recruiter,
        Stage::OverdueToBarRaiser => bar_raiser,
    };
    (who != interviewer).then_some(who)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::domain::InterviewRole;
    use uuid::Uuid;

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

    #[test]
    fn only_open_unsealed_interviews_of_scheduled_loops_are_reminded() {
        let open = interview(InterviewRole::Interviewer);
        let draft = InterviewFacts {
            feedback: Some(StoredFeedbackState::Draft),
            ..open.clone()
        };
        let sealed = InterviewFacts {
            feedback: Some(StoredFeedbackState::Sealed),
            ..open.clone()
        };
        let excused = InterviewFacts {
            excused: true,
            ..open.clone()
        };
        use LoopState as L;
        for (state, i, want) in [
            (L::Scheduled, &open, true),
            (L::Scheduled, &draft, true),
            (L::Scheduled, &sealed, false),
            (L::Scheduled, &excused, false),
            (L::Draft, &open, false),
            (L::Debrief, &draft, false),
            (L::PendingBarRaiser, &open, false),
            (L::Decided, &open, false),
            (L::Cancelled, &draft, false),
        ] {
            assert_eq!(needs_reminding(state, i), want, "{state:?} {i:?}");
        }
    }

    #[test]
    fn escalations_skip_the_late_person_themselves() {
        // interviewer 1, recruiter 2, Bar Raiser 3
        assert_eq!(recipient(DueSoon, 1, 2, 3), Some(1));
        assert_eq!(recipient(Overdue, 1, 2, 3), Some(1));
        assert_eq!(recipient(OverdueToRecruiter, 1, 2, 3), Some(2));
        assert_eq!(recipient(OverdueToBarRaiser, 1, 2, 3), Some(3));
        // The Bar Raiser is the late interviewer: not told of it again.
        assert_eq!(recipient(OverdueToBarRaiser, 3, 2, 3), None);
        assert_eq!(recipient(OverdueToRecruiter, 2, 2, 3), None);
    }
}
