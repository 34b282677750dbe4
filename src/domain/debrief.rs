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

/// The hiring manager's decision needs a rationale, bounded: the message of
/// the `rationale` field's problem, if any.
pub fn decision_rationale_problem(rationale: &str) -> Option<String> {
    let n = rationale.trim().chars().count();
    (n == 0 || n > RATIONALE_MAX_CHARS)
        .then(|| format!("required, at most {RATIONALE_MAX_CHARS} characters"))
}

/// A veto's rationale is bounded (its minimum is the lifecycle's rule): the
/// message of the `rationale` field's problem, if any. Counted untrimmed.
pub fn veto_rationale_problem(rationale: &str) -> Option<String> {
    (rationale.chars().count() > RATIONALE_MAX_CHARS)
        .then(|| format!("at most {RATIONALE_MAX_CHARS} characters"))
}

/// Who may open the debrief view: the loop's participants, its recruiter and
/// service tokens. `Err` carries the 403's code: an admin is told to use
/// break-glass instead.
pub fn may_view(
    participant: bool,
    loop_recruiter: bool,
    service: bool,
    admin: bool,
) -> Result<(), &'static str> {
    if participant || loop_recruiter || service {
        Ok(())
    } else if admin {
        Err("break_glass_required")
    } else {
        Err("not_a_participant")
    }
}

/// One voter as stored: who, on which interview, the sealed vote, and the
/// debrief vote with its rationale once cast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter<Id> {
    pub voter: Id,
    pub interview: Id,
    /// The quick vote committed after the interview (issue 17), if any.
    pub quick: Option<Vote>,
    pub sealed: Option<Vote>,
    pub debrief: Option<(Vote, String)>,
}

/// One voter's line as the debrief shows it: whether they voted is always
/// shown; the debrief vote, its rationale and whether it changed only once
/// votes are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteLine<Id> {
    pub voter: Id,
    pub interview: Id,
    /// Shown exactly when the sealed vote is (the feedback is sealed).
    pub quick_vote: Option<Vote>,
    /// The sealed vote differs from the quick vote (`None` unless both are
    /// shown).
    pub amended: Option<bool>,
    pub sealed_vote: Option<Vote>,
    pub has_voted: bool,
    pub debrief_vote: Option<Vote>,
    pub rationale: Option<String>,
    pub changed: Option<bool>,
}

/// The vote table of the debrief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteTable<Id> {
    pub lines: Vec<VoteLine<Id>>,
    /// Debrief votes are shown ([`votes_visible`]).
    pub shown: bool,
    pub sealed_counts: Tally,
    /// `None` while debrief votes are hidden.
    pub debrief_counts: Option<Tally>,
}

/// What the debrief shows of the votes of `voters` (the loop's voting,
/// unexcused interviewers), the Bar Raiser having revealed them or not.
pub fn vote_table<Id>(voters: Vec<Voter<Id>>, revealed: bool) -> VoteTable<Id> {
    let cast = voters.iter().filter(|v| v.debrief.is_some()).count();
    let shown = votes_visible(voters.len(), cast, revealed);
    let sealed_counts = tally(voters.iter().filter_map(|v| v.sealed));
    let debrief_counts = shown.then(|| {
        tally(
            voters
                .iter()
                .filter_map(|v| v.debrief.as_ref().map(|d| d.0)),
        )
    });
    let lines = voters
        .into_iter()
        .map(|v| {
            let has_voted = v.debrief.is_some();
            let (debrief_vote, rationale) = match v.debrief.filter(|_| shown) {
                Some((vote, rationale)) => (Some(vote), Some(rationale)),
                None => (None, None),
            };
            let quick_vote = v.sealed.and(v.quick);
            VoteLine {
                voter: v.voter,
                interview: v.interview,
                quick_vote,
                amended: super::quickvote::amended(quick_vote, v.sealed),
                sealed_vote: v.sealed,
                has_voted,
                debrief_vote,
                rationale,
                changed: debrief_vote.map(|d| Some(d) != v.sealed),
            }
        })
        .collect();
    VoteTable {
        lines,
        shown,
        sealed_counts,
        debrief_counts,
    }
}

/// An interview as the competency matrix sees it: the competencies it
/// covers and, once its feedback is sealed, the ratings given (a `None`
/// rating: the competency was not rated). Unsealed feedback shows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixInterview<Id> {
    pub interview: Id,
    pub competencies: Vec<Id>,
    pub sealed_ratings: Option<Vec<(Id, Option<i32>)>>,
}

/// One competency's row: each interview covering it with sealed feedback,
/// in the loop's interview order, and the rating given there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixLine<Id> {
    pub competency: Id,
    pub cells: Vec<(Id, Option<i32>)>,
}

/// The competency matrix: the loop's required competencies and every
/// competency an interview covers, ordered by name (ties keep that order),
/// each across the interviews that covered it and sealed.
pub fn matrix<Id: PartialEq + Clone>(
    required: &[Id],
    interviews: &[MatrixInterview<Id>],
    name: impl Fn(&Id) -> String,
) -> Vec<MatrixLine<Id>> {
    let mut order: Vec<Id> = required.to_vec();
    for c in interviews.iter().flat_map(|i| &i.competencies) {
        if !order.contains(c) {
            order.push(c.clone());
        }
    }
    order.sort_by_key(|c| name(c));
    order
        .into_iter()
        .map(|c| {
            let cells = interviews
                .iter()
                .filter(|i| i.competencies.contains(&c))
                .filter_map(|i| {
                    let ratings = i.sealed_ratings.as_ref()?;
                    let rating = ratings.iter().find(|(k, _)| k == &c).and_then(|r| r.1);
                    Some((i.interview.clone(), rating))
                })
                .collect();
            MatrixLine {
                competency: c,
                cells,
            }
        })
        .collect()
}

/// Whose independence the report answers for: the hiring manager, the Bar
/// Raiser and every interviewer, each once, in that order.
pub fn report_participants<Id: PartialEq>(
    hiring_manager: Id,
    bar_raiser: Id,
    interviewers: impl IntoIterator<Item = Id>,
) -> Vec<Id> {
    let mut out: Vec<Id> = Vec::new();
    for p in [hiring_manager, bar_raiser].into_iter().chain(interviewers) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Who hears of a decision or a verdict: the hiring manager, the recruiter
/// and the Bar Raiser. A person holding two adjacent roles of that list
/// hears once (as it always was: the list is deduplicated in place).
pub fn decision_audience<Id: PartialEq>(
    hiring_manager: Id,
    recruiter: Id,
    bar_raiser: Id,
) -> Vec<Id> {
    let mut to = vec![hiring_manager, recruiter, bar_raiser];
    to.dedup();
    to
}

/// The loop was run independently: every line of the report is.
pub fn all_independent(report: &[Independence]) -> bool {
    report.iter().all(|l| l.independent)
}

/// The reads the report lists apart: break-glass reads, made outside the
/// process and never anyone's independence to answer for.
pub fn listed_apart(via: ReadVia) -> bool {
    via == ReadVia::BreakGlass
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

    #[test]
    fn rationale_bounds() {
        let cases: &[(&str, bool, bool)] = &[
            // (rationale, decision refused, veto refused)
            ("", true, false),
            ("   ", true, false),
            ("fine", false, false),
            (&"x".repeat(5000), false, false),
        ];
        for (r, decision, veto) in cases {
            assert_eq!(decision_rationale_problem(r).is_some(), *decision, "{r:?}");
            assert_eq!(veto_rationale_problem(r).is_some(), *veto, "{r:?}");
        }
        let long = "x".repeat(5001);
        assert_eq!(
            decision_rationale_problem(&long).as_deref(),
            Some("required, at most 5000 characters")
        );
        assert_eq!(
            veto_rationale_problem(&long).as_deref(),
            Some("at most 5000 characters")
        );
        let padded = format!(" {} ", "x".repeat(4999));
        assert!(decision_rationale_problem(&padded).is_none(), "trimmed");
        assert!(veto_rationale_problem(&padded).is_some(), "untrimmed");
    }

    #[test]
    fn who_may_view() {
        // (participant, recruiter, service, admin) -> outcome
        let cases = [
            ((true, false, false, false), Ok(())),
            ((false, true, false, false), Ok(())),
            ((false, false, true, false), Ok(())),
            ((true, false, false, true), Ok(())),
            ((false, false, false, true), Err("break_glass_required")),
            ((false, false, false, false), Err("not_a_participant")),
        ];
        for ((p, r, s, a), want) in cases {
            assert_eq!(may_view(p, r, s, a), want, "{p} {r} {s} {a}");
        }
    }

    fn voter(n: u8, sealed: Option<Vote>, debrief: Option<Vote>) -> Voter<u8> {
        Voter {
            voter: n,
            interview: n + 100,
            quick: None,
            sealed,
            debrief: debrief.map(|v| (v, format!("why {n}"))),
        }
    }

    #[test]
    fn the_vote_table() {
        use Vote::*;
        // Hidden: one of two has voted, not revealed.
        let t = vote_table(
            vec![
                voter(1, Some(StrongHire), Some(StrongNoHire)),
                voter(2, Some(InclinedToHire), None),
            ],
            false,
        );
        assert!(!t.shown);
        assert_eq!(t.debrief_counts, None);
        assert_eq!(
            (
                t.sealed_counts.strong_hire,
                t.sealed_counts.inclined_to_hire
            ),
            (1, 1)
        );
        let l = &t.lines[0];
        assert_eq!((l.voter, l.interview, l.has_voted), (1, 101, true));
        assert_eq!(
            (l.debrief_vote, &l.rationale, l.changed),
            (None, &None, None)
        );
        assert!(!t.lines[1].has_voted);

        // Shown: everyone voted.
        let t = vote_table(
            vec![
                voter(1, Some(StrongHire), Some(StrongNoHire)),
                voter(2, Some(InclinedToHire), Some(InclinedToHire)),
                voter(3, None, Some(StrongHire)),
            ],
            false,
        );
        assert!(t.shown);
        let d = t.debrief_counts.unwrap();
        assert_eq!(
            (d.strong_no_hire, d.inclined_to_hire, d.strong_hire),
            (1, 1, 1)
        );
        assert_eq!(t.sealed_counts.strong_hire, 1);
        let changed: Vec<_> = t.lines.iter().map(|l| l.changed).collect();
        assert_eq!(changed, [Some(true), Some(false), Some(true)]);
        assert_eq!(t.lines[0].rationale.as_deref(), Some("why 1"));

        // Revealed early: shown, a voter who has not voted shows nothing.
        let t = vote_table(
            vec![
                voter(1, Some(StrongHire), Some(StrongHire)),
                voter(2, None, None),
            ],
            true,
        );
        assert!(t.shown);
        assert_eq!(t.debrief_counts.unwrap().strong_hire, 1);
        let l = &t.lines[1];
        assert_eq!(
            (l.has_voted, l.debrief_vote, l.changed),
            (false, None, None)
        );

        // Nobody votes: nothing to show.
        let t = vote_table(Vec::<Voter<u8>>::new(), false);
        assert!(!t.shown && t.lines.is_empty());
    }

    #[test]
    fn quick_votes_beside_sealed_votes() {
        use Vote::*;
        let with_quick = |n, quick, sealed| Voter {
            quick,
            ..voter(n, sealed, None)
        };
        let t = vote_table(
            vec![
                with_quick(1, Some(InclinedToHire), Some(StrongNoHire)),
                with_quick(2, Some(StrongHire), Some(StrongHire)),
                with_quick(3, None, Some(StrongHire)),
                // Not sealed: the quick vote is not shown either.
                with_quick(4, Some(StrongHire), None),
            ],
            false,
        );
        let got: Vec<_> = t.lines.iter().map(|l| (l.quick_vote, l.amended)).collect();
        assert_eq!(
            got,
            [
                (Some(InclinedToHire), Some(true)),
                (Some(StrongHire), Some(false)),
                (None, None),
                (None, None),
            ]
        );
    }

    #[test]
    fn the_matrix() {
        let names = |c: &&str| match *c {
            "c-a" => "Apples".to_string(),
            "c-b" => "Bananas".to_string(),
            "c-z" => "Zebras".to_string(),
            _ => String::new(),
        };
        let interviews = vec![
            MatrixInterview {
                interview: "i1",
                competencies: vec!["c-z", "c-a"],
                sealed_ratings: Some(vec![("c-z", Some(3)), ("c-a", None)]),
            },
            MatrixInterview {
                interview: "i2",
                competencies: vec!["c-a", "c-b"],
                sealed_ratings: None,
            },
            MatrixInterview {
                interview: "i3",
                competencies: vec!["c-a"],
                sealed_ratings: Some(vec![]),
            },
        ];
        let m = matrix(&["c-z", "c-x"], &interviews, names);
        let order: Vec<&str> = m.iter().map(|l| l.competency).collect();
        // Unnamed first (empty name), then by name.
        assert_eq!(order, ["c-x", "c-a", "c-b", "c-z"]);
        assert!(m[0].cells.is_empty(), "required but nobody covers it");
        assert_eq!(
            m[1].cells,
            [("i1", None), ("i3", None)],
            "unsealed i2 left out"
        );
        assert!(m[2].cells.is_empty(), "only i2 covers it, unsealed");
        assert_eq!(m[3].cells, [("i1", Some(3))]);
    }

    #[test]
    fn participants_once_each() {
        assert_eq!(report_participants(1, 2, [3, 1, 4, 3]), [1, 2, 3, 4]);
        assert_eq!(report_participants(1, 1, []), [1]);
    }

    #[test]
    fn independence_overall_and_break_glass() {
        let line = |independent| Independence {
            participant: Uuid::nil(),
            sealed_at: None,
            first_read_at: None,
            independent,
        };
        assert!(all_independent(&[]));
        assert!(all_independent(&[line(true), line(true)]));
        assert!(!all_independent(&[line(true), line(false)]));
        assert!(listed_apart(ReadVia::BreakGlass));
        assert!(!listed_apart(ReadVia::Debrief));
        assert!(!listed_apart(ReadVia::SealedOwn));
    }

    #[test]
    fn who_hears_of_a_decision() {
        assert_eq!(decision_audience(1, 2, 3), [1, 2, 3]);
        assert_eq!(decision_audience(1, 1, 3), [1, 3]);
        assert_eq!(decision_audience(1, 2, 2), [1, 2]);
        assert_eq!(
            decision_audience(1, 2, 1),
            [1, 2, 1],
            "only adjacent roles merge"
        );
    }
}
