//! The debrief's rules: blind re-votes, their reveal, vote counts, and the
//! independence report that proves nobody read before sealing.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ReadVia, Violation, Vote};

pub const RATIONALE_MAX_CHARS: usize = 5000;

/// A re-vote that differs from the sealed vote must say why; any rationale
/// is bounded.
pub fn revote_problems(sealed: Option<Vote>, vote: Vote, rationale: &str) -> Vec<Violation> {
    let mut v = Vec::new();
    let n = rationale.trim().chars().count();
    if sealed != Some(vote) && n == 0 {
        v.push(Violation::new(
            "rationale_required",
            "rationale",
            "changing your vote from the sealed one needs a rationale",
        ));
    }
    if n > RATIONALE_MAX_CHARS {
        v.push(Violation::new(
            "too_long",
            "rationale",
            format!("at most {RATIONALE_MAX_CHARS} characters"),
        ));
    }
    v
}

/// Debrief votes are shown once every voter has voted, or once the Bar
/// Raiser reveals them.
pub fn votes_visible(voters: usize, cast: usize, revealed_by_bar_raiser: bool) -> bool {
    revealed_by_bar_raiser || (voters > 0 && cast >= voters)
}

/// How many votes of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub strong_no_hire: usize,
    pub inclined_not_to_hire: usize,
    pub inclined_to_hire: usize,
    pub strong_hire: usize,
}

pub fn tally(votes: impl IntoIterator<Item = Vote>) -> Tally {
    let mut t = Tally::default();
    for v in votes {
        match v {
            Vote::StrongNoHire => t.strong_no_hire += 1,
            Vote::InclinedNotToHire => t.inclined_not_to_hire += 1,
            Vote::InclinedToHire => t.inclined_to_hire += 1,
            Vote::StrongHire => t.strong_hire += 1,
        }
    }
    t
}

/// A logged read of someone else's feedback.
#[derive(Debug, Clone)]
pub struct Read {
    pub reader: Uuid,
    pub at: DateTime<Utc>,
    pub via: ReadVia,
}

/// One participant's line in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Independence {
    pub participant: Uuid,
    pub sealed_at: Option<DateTime<Utc>>,
    /// First read of anyone else's feedback, break-glass excluded.
    pub first_read_at: Option<DateTime<Utc>>,
    /// The seal came before any read (or, without a seal of their own, no
    /// read came before the debrief opened).
    pub independent: bool,
}

/// The independence report: for each participant (id, own seal time),
/// whether their seal preceded every read they made of others' feedback.
pub fn independence(
    participants: &[(Uuid, Option<DateTime<Utc>>)],
    reads: &[Read],
    debrief_opened_at: Option<DateTime<Utc>>,
) -> Vec<Independence> {
    participants
        .iter()
        .map(|(who, sealed_at)| {
            let first_read_at = reads
                .iter()
                .filter(|r| r.reader == *who && r.via != ReadVia::BreakGlass)
                .map(|r| r.at)
                .min();
            let independent = match (sealed_at, first_read_at) {
                (_, None) => true,
                (Some(sealed), Some(read)) => sealed < &read,
                (None, Some(read)) => debrief_opened_at.is_some_and(|opened| opened <= read),
            };
            Independence {
                participant: *who,
                sealed_at: *sealed_at,
                first_read_at,
                independent,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 10, min, 0).unwrap()
    }

    #[test]
    fn revotes() {
        assert!(revote_problems(Some(Vote::StrongHire), Vote::StrongHire, "").is_empty());
        assert_eq!(
            revote_problems(Some(Vote::StrongHire), Vote::StrongNoHire, " ")[0].code,
            "rationale_required"
        );
        assert!(
            revote_problems(Some(Vote::StrongHire), Vote::StrongNoHire, "new evidence").is_empty()
        );
        assert_eq!(
            revote_problems(None, Vote::StrongHire, "")[0].code,
            "rationale_required"
        );
        assert_eq!(
            revote_problems(None, Vote::StrongHire, &"x".repeat(5001))[0].code,
            "too_long"
        );
    }

    #[test]
    fn blind_until_all_or_revealed() {
        assert!(!votes_visible(5, 4, false));
        assert!(votes_visible(5, 5, false));
        assert!(votes_visible(5, 1, true));
        assert!(!votes_visible(0, 0, false));
    }

    #[test]
    fn tallies() {
        let t = tally([Vote::StrongHire, Vote::StrongHire, Vote::StrongNoHire]);
        assert_eq!(
            (t.strong_hire, t.strong_no_hire, t.inclined_to_hire),
            (2, 1, 0)
        );
    }

    #[test]
    fn the_report() {
        let (a, b, c, d, e) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
            Uuid::from_u128(5),
        );
        let reads = vec![
            Read {
                reader: a,
                at: t(20),
                via: ReadVia::SealedOwn,
            },
            Read {
                reader: a,
                at: t(10),
                via: ReadVia::SealedOwn,
            },
            Read {
                reader: b,
                at: t(5),
                via: ReadVia::SealedOwn,
            },
            Read {
                reader: c,
                at: t(1),
                via: ReadVia::BreakGlass,
            },
            Read {
                reader: d,
                at: t(40),
                via: ReadVia::Debrief,
            },
            Read {
                reader: e,
                at: t(29),
                via: ReadVia::SealedOwn,
            },
        ];
        let report = independence(
            &[
                (a, Some(t(9))),
                (b, Some(t(6))),
                (c, Some(t(30))),
                (d, None),
                (e, None),
            ],
            &reads,
            Some(t(30)),
        );
        assert_eq!(report[0].first_read_at, Some(t(10)));
        assert!(report[0].independent, "sealed at 9, first read at 10");
        assert!(!report[1].independent, "read at 5 before sealing at 6");
        assert!(
            report[2].independent && report[2].first_read_at.is_none(),
            "break-glass reads are not theirs to answer for"
        );
        assert!(
            report[3].independent,
            "no seal of their own, read only in the debrief"
        );
        assert!(
            !report[4].independent,
            "read before the debrief without having sealed"
        );
    }
}
