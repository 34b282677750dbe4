//! Structured feedback: what a draft may hold, what a seal requires, and
//! the canonical form whose SHA-256 is the interviewer's receipt.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Rating, Refusal, StoredFeedbackState, Violation, Vote};

pub const EVIDENCE_MIN_CHARS: usize = 100;
pub const TEXT_MAX_CHARS: usize = 20_000;

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
}
