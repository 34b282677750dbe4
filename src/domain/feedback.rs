//! Structured feedback: what a draft may hold, what a seal requires, and
//! the canonical form whose SHA-256 is the interviewer's receipt.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{FeedbackState, Rating, Refusal, StoredFeedbackState, Violation, Vote};

pub const EVIDENCE_MIN_CHARS: usize = 100;
pub const TEXT_MAX_CHARS: usize = 20_000;
/// A break-glass reason has at least this many characters: enough to say
/// why, not a token "x".
pub const BREAK_GLASS_REASON_MIN_CHARS: usize = 20;
/// The longest reason (break-glass, excuse).
pub const REASON_MAX_CHARS: usize = 2000;

/// One competency's rating as written; any part may be missing in a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingEntry {
    pub competency_id: Uuid,
    pub rating: Option<Rating>,
    pub evidence: Option<String>,
}

/// Feedback content, draft or sealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    pub ratings: Vec<RatingEntry>,
    pub vote: Option<Vote>,
    pub summary: Option<String>,
}

impl Content {
    /// Whether `other` says the same: the same vote, summary and ratings,
    /// in any order (the receipt sorts them, every view orders them by the
    /// interview's competencies; a request and the store need not agree).
    pub fn same_as(&self, other: &Content) -> bool {
        fn sorted(c: &Content) -> Vec<&RatingEntry> {
            let mut r: Vec<&RatingEntry> = c.ratings.iter().collect();
            r.sort_by_key(|e| e.competency_id);
            r
        }
        self.vote == other.vote && self.summary == other.summary && sorted(self) == sorted(other)
    }
}

fn chars(s: &Option<String>) -> usize {
    s.as_deref().map(|s| s.trim().chars().count()).unwrap_or(0)
}

/// What any saved draft must respect: ratings only for assigned
/// competencies, each at most once, text within bounds. Incompleteness is
/// fine in a draft.
pub fn draft_problems(content: &Content, assigned: &[Uuid]) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, r) in content.ratings.iter().enumerate() {
        if !assigned.contains(&r.competency_id) {
            v.push(Violation::new(
                "competency_not_assigned",
                format!("ratings[{n}].competency_id"),
                "this competency is not assigned to the interview",
            ));
        }
        if !seen.insert(r.competency_id) {
            v.push(Violation::new(
                "duplicate_rating",
                format!("ratings[{n}].competency_id"),
                "this competency is rated twice",
            ));
        }
        if r.evidence
            .as_deref()
            .is_some_and(|e| e.chars().count() > TEXT_MAX_CHARS)
        {
            v.push(Violation::new(
                "text_too_long",
                format!("ratings[{n}].evidence"),
                format!("at most {TEXT_MAX_CHARS} characters"),
            ));
        }
    }
    if content
        .summary
        .as_deref()
        .is_some_and(|s| s.chars().count() > TEXT_MAX_CHARS)
    {
        v.push(Violation::new(
            "text_too_long",
            "summary",
            format!("at most {TEXT_MAX_CHARS} characters"),
        ));
    }
    v
}

/// Everything that keeps a draft from being sealed, every problem listed.
pub fn seal_problems(content: &Content, assigned: &[Uuid]) -> Vec<Violation> {
    let mut v = draft_problems(content, assigned);
    for (n, competency) in assigned.iter().enumerate() {
        match content
            .ratings
            .iter()
            .find(|r| r.competency_id == *competency)
        {
            None => v.push(Violation::new(
                "rating_missing",
                format!("ratings[competency_id={competency}]"),
                format!("assigned competency {} has no rating", n + 1),
            )),
            Some(r) => {
                if r.rating.is_none() {
                    v.push(Violation::new(
                        "rating_missing",
                        format!("ratings[competency_id={competency}].rating"),
                        "a rating from 1 to 4 is required",
                    ));
                }
                if chars(&r.evidence) < EVIDENCE_MIN_CHARS {
                    v.push(Violation::new(
                        "evidence_too_short",
                        format!("ratings[competency_id={competency}].evidence"),
                        format!("evidence needs at least {EVIDENCE_MIN_CHARS} characters"),
                    ));
                }
            }
        }
    }
    if content.vote.is_none() {
        v.push(Violation::new("vote_missing", "vote", "a vote is required"));
    }
    if chars(&content.summary) == 0 {
        v.push(Violation::new(
            "summary_missing",
            "summary",
            "a summary is required",
        ));
    }
    v
}

/// The 409s of sealing: timing and state, independent of content.
pub fn may_seal(
    stored: Option<StoredFeedbackState>,
    interview_starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if stored == Some(StoredFeedbackState::Sealed) {
        return Err(Refusal::conflict(
            "already_sealed",
            "this feedback is sealed already",
        ));
    }
    if now < interview_starts_at {
        return Err(Refusal::conflict(
            "interview_not_started",
            "feedback can be sealed once the interview has started",
        ));
    }
    Ok(())
}

/// A sealed feedback never changes.
pub fn may_edit(stored: Option<StoredFeedbackState>) -> Result<(), Refusal> {
    if stored == Some(StoredFeedbackState::Sealed) {
        return Err(Refusal::conflict(
            "already_sealed",
            "sealed feedback never changes; add an addendum",
        ));
    }
    Ok(())
}

/// Addenda correct sealed feedback only.
pub fn may_add_addendum(stored: Option<StoredFeedbackState>) -> Result<(), Refusal> {
    if stored == Some(StoredFeedbackState::Sealed) {
        Ok(())
    } else {
        Err(Refusal::conflict(
            "not_sealed",
            "seal the feedback before adding addenda",
        ))
    }
}

/// Only an interview whose feedback will never be sealed needs excusing,
/// and only once.
pub fn may_excuse(state: FeedbackState) -> Result<(), Refusal> {
    match state {
        FeedbackState::Sealed => Err(Refusal::conflict(
            "interview_sealed",
            "sealed feedback needs no excuse",
        )),
        FeedbackState::Excused => Err(Refusal::conflict(
            "already_excused",
            "this interview is excused already",
        )),
        FeedbackState::NotStarted | FeedbackState::Draft => Ok(()),
    }
}

/// What is wrong with a break-glass reason (already trimmed), if anything:
/// it says why in 20 to 2000 characters.
pub fn break_glass_reason_problem(reason: &str) -> Option<String> {
    let n = reason.chars().count();
    (!(BREAK_GLASS_REASON_MIN_CHARS..=REASON_MAX_CHARS).contains(&n)).then(|| {
        format!(
            "a break-glass reason has {BREAK_GLASS_REASON_MIN_CHARS} to {REASON_MAX_CHARS} characters"
        )
    })
}

/// What is wrong with the reason for excusing an interview, if anything.
pub fn excuse_reason_problem(reason: &str) -> Option<Violation> {
    super::accounts::text_problem("reason", reason, REASON_MAX_CHARS)
}

/// A feedback's entity tag: its revision (every saved change bumps it).
pub fn revision_tag(revision: i32) -> String {
    format!("\"r{revision}\"")
}

/// Whether a draft save's `If-Match` (`expected`, the request's first
/// value) holds for the feedback whose tag is `current` (`None`: none
/// written yet). No header always holds; `*` holds even before the first
/// save; otherwise the tags must be equal.
pub fn revision_matches(expected: Option<&str>, current: Option<&str>) -> bool {
    match expected.map(str::trim) {
        None | Some("*") => true,
        Some(tag) => current == Some(tag),
    }
}

#[derive(Serialize)]
struct CanonicalRating<'a> {
    competency_id: String,
    evidence: &'a str,
    rating: i32,
}

/// Keys in alphabetical order, arrays in a defined order: the same content
/// always serialises to the same bytes.
#[derive(Serialize)]
struct Canonical<'a> {
    author_id: String,
    interview_id: String,
    ratings: Vec<CanonicalRating<'a>>,
    sealed_at: String,
    summary: &'a str,
    vote: &'a str,
}

/// Canonical JSON of sealed content; its SHA-256 is the receipt.
pub fn canonical_json(
    interview_id: Uuid,
    author_id: Uuid,
    content: &Content,
    sealed_at: DateTime<Utc>,
) -> String {
    let mut ratings: Vec<CanonicalRating> = content
        .ratings
        .iter()
        .map(|r| CanonicalRating {
            competency_id: r.competency_id.to_string(),
            evidence: r.evidence.as_deref().unwrap_or(""),
            rating: r.rating.map(Rating::get).unwrap_or(0),
        })
        .collect();
    ratings.sort_by(|a, b| a.competency_id.cmp(&b.competency_id));
    let c = Canonical {
        author_id: author_id.to_string(),
        interview_id: interview_id.to_string(),
        ratings,
        sealed_at: super::audit::timestamp(sealed_at),
        summary: content.summary.as_deref().unwrap_or(""),
        vote: content.vote.map(Vote::as_str).unwrap_or(""),
    };
    serde_json::to_string(&c).expect("plain structs always serialise")
}

pub fn sha256_hex(data: &str) -> String {
    hex::encode(Sha256::digest(data.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_same_content_in_another_order_is_the_same() {
        let entry = |n: u128, r: i64| RatingEntry {
            competency_id: Uuid::from_u128(n),
            rating: Rating::new(r),
            evidence: Some(format!("evidence {n}")),
        };
        let a = Content {
            ratings: vec![entry(9, 1), entry(1, 2)],
            vote: Some(Vote::InclinedToHire),
            summary: Some("s".into()),
        };
        let b = Content {
            ratings: vec![entry(1, 2), entry(9, 1)],
            ..a.clone()
        };
        assert!(a.same_as(&b) && b.same_as(&a));
        let c = Content {
            ratings: vec![entry(1, 2), entry(9, 2)],
            ..a.clone()
        };
        assert!(!a.same_as(&c));
        let d = Content {
            vote: Some(Vote::StrongHire),
            ..a.clone()
        };
        assert!(!a.same_as(&d));
        assert!(!a.same_as(&Content {
            ratings: vec![entry(1, 2)],
            ..a.clone()
        }));
    }

    fn c(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn complete(assigned: &[Uuid]) -> Content {
        Content {
            ratings: assigned
                .iter()
                .map(|id| RatingEntry {
                    competency_id: *id,
                    rating: Rating::new(3),
                    evidence: Some("e".repeat(EVIDENCE_MIN_CHARS)),
                })
                .collect(),
            vote: Some(Vote::InclinedToHire),
            summary: Some("Solid.".into()),
        }
    }

    #[test]
    fn a_complete_draft_seals() {
        let assigned = [c(1), c(2)];
        assert!(seal_problems(&complete(&assigned), &assigned).is_empty());
    }

    #[test]
    fn every_seal_problem_is_listed() {
        let assigned = [c(1), c(2), c(3)];
        let content = Content {
            ratings: vec![
                RatingEntry {
                    competency_id: c(1),
                    rating: None,
                    evidence: Some("short".into()),
                },
                RatingEntry {
                    competency_id: c(9),
                    rating: Rating::new(2),
                    evidence: None,
                },
            ],
            vote: None,
            summary: Some("   ".into()),
        };
        let codes: Vec<_> = seal_problems(&content, &assigned)
            .into_iter()
            .map(|v| v.code)
            .collect();
        assert_eq!(
            codes,
            [
                "competency_not_assigned",
                "rating_missing",
                "evidence_too_short",
                "rating_missing",
                "rating_missing",
                "vote_missing",
                "summary_missing"
            ]
        );
    }

    #[test]
    fn evidence_counts_characters_not_bytes_and_ignores_padding() {
        let assigned = [c(1)];
        let mut content = complete(&assigned);
        content.ratings[0].evidence = Some("é".repeat(EVIDENCE_MIN_CHARS));
        assert!(seal_problems(&content, &assigned).is_empty());
        content.ratings[0].evidence = Some(format!("{}{}", " ".repeat(50), "x".repeat(99)));
        assert_eq!(
            seal_problems(&content, &assigned)[0].code,
            "evidence_too_short"
        );
    }

    #[test]
    fn drafts_may_be_partial_but_not_wrong() {
        let assigned = [c(1), c(2)];
        assert!(draft_problems(&Content::default(), &assigned).is_empty());
        let dup = Content {
            ratings: vec![
                RatingEntry {
                    competency_id: c(1),
                    rating: None,
                    evidence: None,
                },
                RatingEntry {
                    competency_id: c(1),
                    rating: None,
                    evidence: None,
                },
            ],
            ..Content::default()
        };
        assert_eq!(draft_problems(&dup, &assigned)[0].code, "duplicate_rating");
    }

    #[test]
    fn sealing_timing() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        assert!(may_seal(None, start, start).is_ok());
        assert!(matches!(
            may_seal(
                Some(StoredFeedbackState::Draft),
                start,
                start - chrono::Duration::seconds(1)
            ),
            Err(Refusal::Conflict {
                code: "interview_not_started",
                ..
            })
        ));
        assert!(matches!(
            may_seal(Some(StoredFeedbackState::Sealed), start, start),
            Err(Refusal::Conflict {
                code: "already_sealed",
                ..
            })
        ));
        assert!(may_edit(Some(StoredFeedbackState::Sealed)).is_err());
        assert!(may_edit(Some(StoredFeedbackState::Draft)).is_ok());
    }

    #[test]
    fn canonical_form_is_order_independent_and_stable() {
        let assigned = [c(2), c(1)];
        let a = complete(&assigned);
        let mut b = a.clone();
        b.ratings.reverse();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let ja = canonical_json(c(7), c(8), &a, at);
        assert_eq!(ja, canonical_json(c(7), c(8), &b, at));
        assert!(
            ja.starts_with(r#"{"author_id":"00000000-0000-0000-0000-000000000008","interview_id""#)
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn addenda_excuses_and_reasons() {
        use StoredFeedbackState as S;
        for (stored, ok) in [
            (None, false),
            (Some(S::Draft), false),
            (Some(S::Sealed), true),
        ] {
            assert_eq!(may_add_addendum(stored).is_ok(), ok, "{stored:?}");
        }
        use FeedbackState as F;
        let cases = [
            (F::NotStarted, None),
            (F::Draft, None),
            (F::Sealed, Some("interview_sealed")),
            (F::Excused, Some("already_excused")),
        ];
        for (state, refused) in cases {
            let code = may_excuse(state).err().map(|r| match r {
                Refusal::Conflict { code, .. } => code,
                other => panic!("{other:?}"),
            });
            assert_eq!(code, refused, "{state:?}");
        }
        let reasons = [
            ("", false),
            (&*"x".repeat(BREAK_GLASS_REASON_MIN_CHARS - 1), false),
            (&*"x".repeat(BREAK_GLASS_REASON_MIN_CHARS), true),
            (&*"é".repeat(BREAK_GLASS_REASON_MIN_CHARS), true),
            (&*"x".repeat(REASON_MAX_CHARS), true),
            (&*"x".repeat(REASON_MAX_CHARS + 1), false),
        ];
        for (reason, ok) in reasons {
            assert_eq!(
                break_glass_reason_problem(reason).is_none(),
                ok,
                "{}",
                reason.len()
            );
        }
        assert_eq!(
            excuse_reason_problem("  ").map(|v| v.code),
            Some("required")
        );
        assert!(excuse_reason_problem("ill").is_none());
        assert_eq!(
            excuse_reason_problem(&"x".repeat(REASON_MAX_CHARS + 1)).map(|v| v.code),
            Some("too_long")
        );
    }

    #[test]
    fn draft_if_match_compares_revisions() {
        let r2 = revision_tag(2);
        assert_eq!(r2, "\"r2\"");
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (None, None, true),
            (None, Some(&r2), true),
            (Some("*"), None, true),
            (Some(" * "), Some(&r2), true),
            (Some("\"r2\""), Some(&r2), true),
            (Some(" \"r2\" "), Some(&r2), true),
            (Some("\"r1\""), Some(&r2), false),
            (Some("\"r1\""), None, false),
            (Some(""), Some(&r2), false),
            (Some("W/\"r2\""), Some(&r2), false),
        ];
        for (expected, current, holds) in cases {
            assert_eq!(
                revision_matches(*expected, *current),
                *holds,
                "{expected:?} {current:?}"
            );
        }
    }
}
