//! Derived progress: per interview `feedback_state`, `due_at`, `overdue`;
//! per loop the counts and `ready_for_debrief`. Never stored, always computed
//! from the rows, so it cannot drift.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{FeedbackState, InterviewRole, LoopState, StoredFeedbackState, Violation};

#[derive(Debug, Clone)]
pub struct InterviewFacts {
    pub id: Uuid,
    pub role: InterviewRole,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub excused: bool,
    pub feedback: Option<StoredFeedbackState>,
}

impl InterviewFacts {
    pub fn feedback_state(&self) -> FeedbackState {
        match self.feedback {
            Some(StoredFeedbackState::Sealed) => FeedbackState::Sealed,
            _ if self.excused => FeedbackState::Excused,
            Some(StoredFeedbackState::Draft) => FeedbackState::Draft,
            None => FeedbackState::NotStarted,
        }
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + Duration::minutes(i64::from(self.duration_minutes))
    }

    /// Interview end plus the loop's `feedback_due_hours`.
    pub fn due_at(&self, feedback_due_hours: i32) -> DateTime<Utc> {
        self.ends_at() + Duration::hours(i64::from(feedback_due_hours))
    }

    /// Late only while feedback can still be written and is not done.
    pub fn overdue(
        &self,
        feedback_due_hours: i32,
        loop_state: LoopState,
        now: DateTime<Utc>,
    ) -> bool {
        self.late_after(feedback_due_hours, loop_state)
            .is_some_and(|due| now > due)
    }

    /// The instant after which the interview is [`overdue`](Self::overdue)
    /// (its `due_at`), or `None` when it cannot become late as things stand:
    /// feedback sealed or excused, or the loop no longer collecting it.
    pub fn late_after(
        &self,
        feedback_due_hours: i32,
        loop_state: LoopState,
    ) -> Option<DateTime<Utc>> {
        let open = loop_state == LoopState::Scheduled
            && matches!(
                self.feedback_state(),
                FeedbackState::NotStarted | FeedbackState::Draft
            );
        open.then(|| self.due_at(feedback_due_hours))
    }

    pub fn voting(&self) -> bool {
        self.role == InterviewRole::Interviewer
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopProgress {
    /// Voting interviews sealed.
    pub sealed_count: usize,
    /// Voting interviews that must be sealed (excused ones do not count).
    pub expected_count: usize,
    pub ready_for_debrief: bool,
}

pub fn loop_progress(state: LoopState, interviews: &[InterviewFacts]) -> LoopProgress {
    let voting = interviews.iter().filter(|i| i.voting());
    let (mut sealed, mut expected) = (0, 0);
    for i in voting {
        match i.feedback_state() {
            FeedbackState::Sealed => {
                sealed += 1;
                expected += 1;
            }
            FeedbackState::Excused => {}
            _ => expected += 1,
        }
    }
    LoopProgress {
        sealed_count: sealed,
        expected_count: expected,
        ready_for_debrief: state == LoopState::Scheduled
            && sealed == expected
            && outstanding(interviews).is_empty(),
    }
}

/// The voting interviews that keep the debrief shut, each named.
pub fn outstanding(interviews: &[InterviewFacts]) -> Vec<Violation> {
    interviews
        .iter()
        .filter(|i| i.voting())
        .filter(|i| {
            !matches!(
                i.feedback_state(),
                FeedbackState::Sealed | FeedbackState::Excused
            )
        })
        .map(|i| {
            Violation::new(
                "interview_not_sealed",
                format!("interviews[{}]", i.id),
                format!("feedback is {}", i.feedback_state()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts(
        role: InterviewRole,
        excused: bool,
        feedback: Option<StoredFeedbackState>,
    ) -> InterviewFacts {
        InterviewFacts {
            id: Uuid::new_v4(),
            role,
            starts_at: Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap(),
            duration_minutes: 60,
            excused,
            feedback,
        }
    }

    #[test]
    fn due_and_overdue() {
        let i = facts(
            InterviewRole::Interviewer,
            false,
            Some(StoredFeedbackState::Draft),
        );
        let due = i.due_at(24);
        assert_eq!(due, Utc.with_ymd_and_hms(2026, 1, 2, 11, 0, 0).unwrap());
        assert!(!i.overdue(24, LoopState::Scheduled, due));
        assert!(i.overdue(24, LoopState::Scheduled, due + Duration::seconds(1)));
        assert!(!i.overdue(24, LoopState::Debrief, due + Duration::days(3)));
        assert_eq!(i.late_after(24, LoopState::Scheduled), Some(due));
        assert_eq!(i.late_after(24, LoopState::Debrief), None);
        let sealed = facts(
            InterviewRole::Interviewer,
            false,
            Some(StoredFeedbackState::Sealed),
        );
        assert!(!sealed.overdue(24, LoopState::Scheduled, due + Duration::days(3)));
        assert_eq!(sealed.late_after(24, LoopState::Scheduled), None);
    }

    #[test]
    fn states() {
        use StoredFeedbackState::*;
        assert_eq!(
            facts(InterviewRole::Interviewer, false, None).feedback_state(),
            FeedbackState::NotStarted
        );
        assert_eq!(
            facts(InterviewRole::Interviewer, false, Some(Draft)).feedback_state(),
            FeedbackState::Draft
        );
        assert_eq!(
            facts(InterviewRole::Interviewer, true, Some(Draft)).feedback_state(),
            FeedbackState::Excused
        );
        assert_eq!(
            facts(InterviewRole::Interviewer, true, Some(Sealed)).feedback_state(),
            FeedbackState::Sealed
        );
    }

    #[test]
    fn shadows_never_block_and_excused_do_not_count() {
        use StoredFeedbackState::*;
        let mut list = vec![
            facts(InterviewRole::Interviewer, false, Some(Sealed)),
            facts(InterviewRole::Interviewer, false, Some(Sealed)),
            facts(InterviewRole::Interviewer, true, None),
            facts(InterviewRole::Shadow, false, Some(Draft)),
        ];
        let p = loop_progress(LoopState::Scheduled, &list);
        assert_eq!(
            (p.sealed_count, p.expected_count, p.ready_for_debrief),
            (2, 2, true)
        );
        list.push(facts(InterviewRole::Interviewer, false, Some(Draft)));
        let p = loop_progress(LoopState::Scheduled, &list);
        assert_eq!(
            (p.sealed_count, p.expected_count, p.ready_for_debrief),
            (2, 3, false)
        );
        assert_eq!(outstanding(&list).len(), 1);
        assert!(!loop_progress(LoopState::Draft, &list[..2]).ready_for_debrief);
    }
}
