//! The quick vote (issue 17): within a window after an interview ends, its
//! interviewer may commit the four-point vote alone, before writing the
//! feedback up. It is sealed the moment it is committed (immutable, with a
//! salted receipt in the audit chain) and read under the same rule as the
//! sealed vote of that interview (`visibility::quick_vote_access`). When the
//! sealed vote differs, the difference is shown (`amended`).
//!
//! Pure rules over plain facts; the clock is the caller's `now`.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};

use super::progress::InterviewFacts;
use super::{FeedbackState, InterviewRole, QuickVoteMode, StoredFeedbackState, Violation, Vote};

/// Minutes after an interview ends that a quick vote is taken, unless
/// configured (`BAR_RAISER_QUICK_VOTE_WINDOW_MINUTES`).
pub const DEFAULT_WINDOW_MINUTES: u32 = 60;
/// What the window may be configured to: a minute to a day.
pub const WINDOW_MINUTES: RangeInclusive<u32> = 1..=1440;
/// The loop setting when a loop does not say.
pub const DEFAULT_MODE: QuickVoteMode = QuickVoteMode::Optional;

/// Why a quick vote is refused, in the order the rules are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A shadow's interview does not vote (403).
    NotVoting,
    /// The interview has its quick vote already; it never changes (409).
    AlreadyCommitted,
    /// The feedback is sealed: a quick vote after it would prove nothing (409).
    FeedbackSealed,
    /// The loop does not take quick votes (422).
    Off,
    /// The interview has not ended yet (422).
    TooEarly { opens_at: DateTime<Utc> },
    /// The window closed (422).
    Closed { closed_at: DateTime<Utc> },
}

impl Refused {
    /// The problem code the refusal is answered with.
    pub fn code(self) -> &'static str {
        match self {
            Refused::NotVoting => "not_voting_participant",
            Refused::AlreadyCommitted => "quick_vote_committed",
            Refused::FeedbackSealed => "already_sealed",
            Refused::Off => "quick_vote_off",
            Refused::TooEarly { .. } => "quick_vote_too_early",
            Refused::Closed { .. } => "quick_vote_closed",
        }
    }
}

/// The interval a quick vote is taken in: from the interview's end to
/// `window_minutes` after it, both ends included.
pub fn window(ends_at: DateTime<Utc>, window_minutes: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        ends_at,
        ends_at + Duration::minutes(i64::from(window_minutes)),
    )
}

/// Everything a quick vote is decided on.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub mode: QuickVoteMode,
    pub role: InterviewRole,
    pub feedback: Option<StoredFeedbackState>,
    pub committed: bool,
    pub ends_at: DateTime<Utc>,
    pub window_minutes: u32,
}

/// May the interviewer commit a quick vote `now`? (That the caller is the
/// interview's interviewer and that the loop takes feedback is asked
/// before, as for any feedback.)
pub fn may_commit(a: &Attempt, now: DateTime<Utc>) -> Result<(), Refused> {
    if a.role != InterviewRole::Interviewer {
        return Err(Refused::NotVoting);
    }
    if a.committed {
        return Err(Refused::AlreadyCommitted);
    }
    if a.feedback == Some(StoredFeedbackState::Sealed) {
        return Err(Refused::FeedbackSealed);
    }
    if a.mode == QuickVoteMode::Off {
        return Err(Refused::Off);
    }
    let (opens_at, closed_at) = window(a.ends_at, a.window_minutes);
    if now < opens_at {
        return Err(Refused::TooEarly { opens_at });
    }
    if now > closed_at {
        return Err(Refused::Closed { closed_at });
    }
    Ok(())
}

/// With `required`, the voting interviews that keep the debrief shut: not
/// excused and without a quick vote, each named. Nothing otherwise.
pub fn outstanding(
    mode: QuickVoteMode,
    interviews: &[InterviewFacts],
    quick_voted: impl Fn(&InterviewFacts) -> bool,
) -> Vec<Violation> {
    if mode != QuickVoteMode::Required {
        return Vec::new();
    }
    interviews
        .iter()
        .filter(|i| i.voting() && i.feedback_state() != FeedbackState::Excused)
        .filter(|i| !quick_voted(i))
        .map(|i| {
            Violation::new(
                "quick_vote_missing",
                format!("interviews[{}]", i.id),
                "no quick vote, and the interview is not excused",
            )
        })
        .collect()
}

/// Whether the sealed vote amends the quick vote: known only when both
/// exist (`None` otherwise).
pub fn amended(quick: Option<Vote>, sealed: Option<Vote>) -> Option<bool> {
    match (quick, sealed) {
        (Some(q), Some(s)) => Some(q != s),
        _ => None,
    }
}

/// Whether the quick-vote reminder is due for an interview at `now`: the
/// loop requires quick votes, the interview votes, is not excused, has no
/// quick vote and no sealed feedback, and its window is open.
pub fn reminder_due(
    mode: QuickVoteMode,
    facts: &InterviewFacts,
    quick_voted: bool,
    window_minutes: u32,
    now: DateTime<Utc>,
) -> bool {
    let (opens_at, closed_at) = window(facts.ends_at(), window_minutes);
    mode == QuickVoteMode::Required
        && facts.voting()
        && !facts.excused
        && facts.feedback != Some(StoredFeedbackState::Sealed)
        && !quick_voted
        && opens_at <= now
        && now <= closed_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    /// A fixed clock: the interview runs 10:00–11:00.
    fn at(minutes_after_end: i64) -> DateTime<Utc> {
        end() + Duration::minutes(minutes_after_end)
    }

    fn end() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 11, 0, 0).unwrap()
    }

    fn attempt() -> Attempt {
        Attempt {
            mode: QuickVoteMode::Optional,
            role: InterviewRole::Interviewer,
            feedback: None,
            committed: false,
            ends_at: end(),
            window_minutes: DEFAULT_WINDOW_MINUTES,
        }
    }

    #[test]
    fn on_time_within_the_window_late_after_it() {
        let a = attempt();
        assert_eq!(may_commit(&a, at(59)), Ok(()));
        assert_eq!(
            may_commit(&a, at(61)),
            Err(Refused::Closed { closed_at: at(60) })
        );
        // Both ends are inside.
        assert_eq!(may_commit(&a, at(0)), Ok(()));
        assert_eq!(may_commit(&a, at(60)), Ok(()));
        assert_eq!(
            may_commit(&a, at(-1)),
            Err(Refused::TooEarly { opens_at: at(0) })
        );
        // During the interview, long before its end.
        assert_eq!(
            may_commit(&a, at(-45)),
            Err(Refused::TooEarly { opens_at: at(0) })
        );
    }

    #[test]
    fn the_window_is_configured() {
        let a = Attempt {
            window_minutes: 15,
            ..attempt()
        };
        assert_eq!(may_commit(&a, at(15)), Ok(()));
        assert_eq!(
            may_commit(&a, at(16)),
            Err(Refused::Closed { closed_at: at(15) })
        );
        assert!(WINDOW_MINUTES.contains(&DEFAULT_WINDOW_MINUTES));
    }

    #[test]
    fn refusals_in_order() {
        let cases: &[(Attempt, Refused)] = &[
            (
                Attempt {
                    role: InterviewRole::Shadow,
                    committed: true,
                    mode: QuickVoteMode::Off,
                    ..attempt()
                },
                Refused::NotVoting,
            ),
            (
                Attempt {
                    committed: true,
                    feedback: Some(StoredFeedbackState::Sealed),
                    ..attempt()
                },
                Refused::AlreadyCommitted,
            ),
            (
                Attempt {
                    feedback: Some(StoredFeedbackState::Sealed),
                    mode: QuickVoteMode::Off,
                    ..attempt()
                },
                Refused::FeedbackSealed,
            ),
            (
                Attempt {
                    mode: QuickVoteMode::Off,
                    ..attempt()
                },
                Refused::Off,
            ),
        ];
        for (a, expected) in cases {
            // Even inside the window.
            assert_eq!(may_commit(a, at(5)), Err(*expected), "{a:?}");
        }
        // A draft does not stand in the way; `required` takes votes too.
        for mode in [QuickVoteMode::Optional, QuickVoteMode::Required] {
            let a = Attempt {
                mode,
                feedback: Some(StoredFeedbackState::Draft),
                ..attempt()
            };
            assert_eq!(may_commit(&a, at(5)), Ok(()));
        }
        assert_eq!(Refused::Off.code(), "quick_vote_off");
        assert_eq!(Refused::AlreadyCommitted.code(), "quick_vote_committed");
    }

    fn facts(
        role: InterviewRole,
        excused: bool,
        feedback: Option<StoredFeedbackState>,
    ) -> InterviewFacts {
        InterviewFacts {
            id: Uuid::new_v4(),
            role,
            starts_at: Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap(),
            duration_minutes: 60,
            excused,
            feedback,
        }
    }

    #[test]
    fn required_blocks_the_debrief_until_voted_or_excused() {
        let voted = facts(
            InterviewRole::Interviewer,
            false,
            Some(StoredFeedbackState::Sealed),
        );
        let missing = facts(
            InterviewRole::Interviewer,
            false,
            Some(StoredFeedbackState::Sealed),
        );
        let excused = facts(InterviewRole::Interviewer, true, None);
        let shadow = facts(InterviewRole::Shadow, false, None);
        let all = vec![voted.clone(), missing.clone(), excused, shadow];
        let has = |i: &InterviewFacts| i.id == voted.id;
        let got = outstanding(QuickVoteMode::Required, &all, has);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].code, "quick_vote_missing");
        assert_eq!(got[0].field, format!("interviews[{}]", missing.id));
        for mode in [QuickVoteMode::Off, QuickVoteMode::Optional] {
            assert!(outstanding(mode, &all, has).is_empty());
        }
        assert!(outstanding(QuickVoteMode::Required, &all, |_| true).is_empty());
    }

    #[test]
    fn amended_when_both_exist_and_differ() {
        use Vote::*;
        assert_eq!(
            amended(Some(InclinedToHire), Some(InclinedToHire)),
            Some(false)
        );
        assert_eq!(
            amended(Some(InclinedToHire), Some(StrongNoHire)),
            Some(true)
        );
        assert_eq!(amended(None, Some(StrongNoHire)), None);
        assert_eq!(amended(Some(StrongHire), None), None);
    }

    #[test]
    fn reminder_while_the_window_is_open_and_required() {
        let f = facts(InterviewRole::Interviewer, false, None);
        let end = f.ends_at();
        let m = |n: i64| end + Duration::minutes(n);
        let due = |mode, f: &InterviewFacts, voted, now| reminder_due(mode, f, voted, 60, now);
        assert!(due(QuickVoteMode::Required, &f, false, m(0)));
        assert!(due(QuickVoteMode::Required, &f, false, m(59)));
        assert!(!due(QuickVoteMode::Required, &f, false, m(61)));
        assert!(!due(QuickVoteMode::Required, &f, false, m(-1)));
        assert!(!due(QuickVoteMode::Required, &f, true, m(5)));
        assert!(!due(QuickVoteMode::Optional, &f, false, m(5)));
        assert!(!due(QuickVoteMode::Off, &f, false, m(5)));
        let shadow = facts(InterviewRole::Shadow, false, None);
        assert!(!due(QuickVoteMode::Required, &shadow, false, m(5)));
        let excused = facts(InterviewRole::Interviewer, true, None);
        assert!(!due(QuickVoteMode::Required, &excused, false, m(5)));
        let sealed = facts(
            InterviewRole::Interviewer,
            false,
            Some(StoredFeedbackState::Sealed),
        );
        assert!(!due(QuickVoteMode::Required, &sealed, false, m(5)));
    }
}
