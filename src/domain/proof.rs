//! What the audit chain proves about content (independence rule 8).
//!
//! The hash chain makes the *events* tamper-evident. This module makes the
//! events speak for the *rows*: every change to content records a receipt
//! (a digest of the row as written) in its event, and [`check`] recomputes
//! each receipt from the rows as stored. An edited vote, rating, summary,
//! addendum, debrief vote, decision or veto, and an edited, deleted or
//! invented read-log row, then shows as a named bad subject.
//!
//! Receipts of anything an audit reader may not see (a feedback's field
//! groups, an addendum, a debrief vote) mix in a random salt kept with the
//! row and never shown, so a four-valued vote cannot be guessed from its
//! digest. Failures name the subject and the field group, never content.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::audit::{Event, timestamp};
use super::feedback::{Content, canonical_json, sha256_hex};
use super::types::{Outcome, ReadVia, Verdict};
use super::{Rating, Vote};

/// The audit actions whose payload carries a receipt checked here.
pub mod action {
    pub const SEALED: &str = "feedback.sealed";
    pub const ADDENDUM: &str = "feedback.addendum_added";
    pub const READ: &str = "feedback.read";
    pub const BREAK_GLASS_READ: &str = "feedback.break_glass_read";
    pub const VOTE: &str = "debrief.vote_cast";
    pub const DECISION: &str = "decision.recorded";
    pub const VETO: &str = "decision.vetoed";
    pub const CONCUR: &str = "decision.concurred";
    pub const QUICK_VOTE: &str = "quick_vote.committed";
}

fn salted(salt: &str, part: &str, data: &str) -> String {
    sha256_hex(&format!("{salt}\n{part}\n{data}"))
}

/// A fresh salt: 128 random bits from a v4 UUID, as hex.
pub fn new_salt() -> String {
    Uuid::new_v4().simple().to_string()
}

/// Salted digests of a sealed feedback's field groups: which group changed
/// can be named without the digests revealing any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FeedbackDigests {
    pub ratings: String,
    pub summary: String,
    pub vote: String,
}

pub fn feedback_digests(salt: &str, content: &Content) -> FeedbackDigests {
    let mut ratings: Vec<(String, i32, &str)> = content
        .ratings
        .iter()
        .map(|r| {
            (
                r.competency_id.to_string(),
                r.rating.map(Rating::get).unwrap_or(0),
                r.evidence.as_deref().unwrap_or(""),
            )
        })
        .collect();
    ratings.sort();
    FeedbackDigests {
        ratings: salted(
            salt,
            "ratings",
            &serde_json::to_string(&ratings).expect("tuples serialise"),
        ),
        summary: salted(salt, "summary", content.summary.as_deref().unwrap_or("")),
        vote: salted(salt, "vote", content.vote.map(Vote::as_str).unwrap_or("")),
    }
}

pub fn addendum_receipt(salt: &str, id: Uuid, text: &str, created_at: DateTime<Utc>) -> String {
    salted(
        salt,
        "addendum",
        &format!("{id}\n{}\n{text}", timestamp(created_at)),
    )
}

pub fn vote_receipt(
    salt: &str,
    voter: Uuid,
    vote: Vote,
    rationale: &str,
    at: DateTime<Utc>,
) -> String {
    salted(
        salt,
        "debrief_vote",
        &format!("{voter}\n{}\n{}\n{rationale}", vote.as_str(), timestamp(at)),
    )
}

/// A quick vote as stored: immutable from its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuickVote {
    pub id: Uuid,
    pub interview_id: Uuid,
    pub voter: Uuid,
    pub vote: Vote,
    pub committed_at: DateTime<Utc>,
    pub salt: String,
}

/// The salted receipt of a quick vote: the trail proves it was committed
/// then and never changed, without revealing it.
pub fn quick_vote_receipt(q: &StoredQuickVote) -> String {
    salted(
        &q.salt,
        "quick_vote",
        &format!(
            "{}\n{}\n{}\n{}\n{}",
            q.id,
            q.interview_id,
            q.voter,
            q.vote.as_str(),
            timestamp(q.committed_at)
        ),
    )
}

/// The hiring manager's decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFacts {
    pub outcome: Outcome,
    pub rationale: String,
    pub recycle: bool,
    pub decided_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

pub fn decision_receipt(d: &DecisionFacts) -> String {
    sha256_hex(&format!(
        "decision\n{}\n{}\n{}\n{}\n{}",
        d.outcome,
        d.recycle,
        d.decided_by,
        timestamp(d.recorded_at),
        d.rationale
    ))
}

/// The Bar Raiser's verdict on a hire as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictFacts {
    pub verdict: Verdict,
    pub rationale: Option<String>,
    pub final_outcome: Outcome,
    pub at: DateTime<Utc>,
}

pub fn verdict_receipt(v: &VerdictFacts) -> String {
    sha256_hex(&format!(
        "verdict\n{}\n{}\n{}\n{}",
        v.verdict,
        v.final_outcome,
        timestamp(v.at),
        v.rationale.as_deref().unwrap_or("")
    ))
}

/// One row of the read log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFacts {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub reader: Uuid,
    pub via: ReadVia,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

pub fn read_receipt(r: &ReadFacts) -> String {
    sha256_hex(&format!(
        "read\n{}\n{}\n{}\n{}\n{}\n{}",
        r.id,
        r.feedback_id,
        r.reader,
        r.via,
        timestamp(r.at),
        r.reason.as_deref().unwrap_or("")
    ))
}

/// A sealed feedback as stored.
#[derive(Debug, Clone)]
pub struct SealedFeedback {
    pub id: Uuid,
    pub interview_id: Uuid,
    pub author: Uuid,
    pub content: Content,
    pub sealed_at: DateTime<Utc>,
    /// The receipt column of the row.
    pub content_sha256: String,
    pub salt: Option<String>,
}

impl SealedFeedback {
    /// The receipt recomputed from the content as stored.
    pub fn recomputed(&self) -> String {
        sha256_hex(&canonical_json(
            self.interview_id,
            self.author,
            &self.content,
            self.sealed_at,
        ))
    }
}

#[derive(Debug, Clone)]
pub struct StoredAddendum {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredVote {
    pub voter: Uuid,
    pub vote: Vote,
    pub rationale: String,
    pub updated_at: DateTime<Utc>,
    pub salt: Option<String>,
}

/// Everything of one loop that the chain vouches for, as stored.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    pub loop_id: Uuid,
    pub sealed: Vec<SealedFeedback>,
    /// Feedback id -> its salt, for addenda.
    pub salts: HashMap<Uuid, String>,
    pub addenda: Vec<StoredAddendum>,
    pub votes: Vec<StoredVote>,
    pub decision: Option<DecisionFacts>,
    pub verdict: Option<VerdictFacts>,
    pub reads: Vec<ReadFacts>,
    pub quick_votes: Vec<StoredQuickVote>,
}

/// The first subject whose stored form does not match the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadSubject {
    /// `feedback`, `addendum`, `debrief_vote`, `decision`, `verdict`, `read`,
    /// `quick_vote`.
    pub kind: &'static str,
    pub id: Uuid,
    /// The field group that differs (`ratings`, `vote`, `summary`, `seal`,
    /// `receipt`, `text`, `record`), or `missing` / `unrecorded` when a row
    /// or its event is gone.
    pub part: &'static str,
}

fn bad(kind: &'static str, id: Uuid, part: &'static str) -> BadSubject {
    BadSubject { kind, id, part }
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn uuid_field(v: &Value, key: &str) -> Option<Uuid> {
    typed_field(v, key)
}

/// A payload field read as a typed value (an id, a vote, an outcome).
fn typed_field<T: std::str::FromStr>(v: &Value, key: &str) -> Option<T> {
    field(v, key).and_then(|s| s.parse().ok())
}

/// Which group of a sealed feedback differs from its recorded digests.
fn feedback_part(f: &SealedFeedback, recorded: &Value) -> &'static str {
    let digests = recorded
        .get("digests")
        .and_then(|d| serde_json::from_value::<FeedbackDigests>(d.clone()).ok());
    if let (Some(d), Some(salt)) = (digests, f.salt.as_deref()) {
        let now = feedback_digests(salt, &f.content);
        if now.vote != d.vote {
            return "vote";
        }
        if now.ratings != d.ratings {
            return "ratings";
        }
        if now.summary != d.summary {
            return "summary";
        }
    }
    "seal"
}

/// Checks the stored rows of one loop against its (already hash-verified)
/// events. Returns how many subjects were checked, or the first bad one.
pub fn check(events: &[Event], stored: &Stored) -> Result<usize, BadSubject> {
    let parsed: Vec<(&Event, Value)> = events
        .iter()
        .map(|e| (e, serde_json::from_str(&e.payload).unwrap_or(Value::Null)))
        .collect();
    fn of<'a>(
        parsed: &'a [(&'a Event, Value)],
        name: &'static str,
    ) -> impl Iterator<Item = (&'a Event, &'a Value)> {
        parsed
            .iter()
            .filter(move |(e, _)| e.action == name)
            .map(|(e, p)| (*e, p))
    }
    let of = |name: &'static str| of(&parsed, name);
    let mut checked = 0;

    // Sealed feedback: one seal event each, and no seal event without its row.
    let seals: HashMap<Uuid, &Value> = of(action::SEALED)
        .filter_map(|(_, p)| Some((uuid_field(p, "feedback_id")?, p)))
        .collect();
    for f in &stored.sealed {
        checked += 1;
        let Some(recorded) = seals.get(&f.id) else {
            return Err(bad("feedback", f.id, "unrecorded"));
        };
        let receipt = field(recorded, "content_sha256").unwrap_or("");
        if f.recomputed() != receipt {
            return Err(bad("feedback", f.id, feedback_part(f, recorded)));
        }
        if f.content_sha256 != receipt {
            return Err(bad("feedback", f.id, "receipt"));
        }
    }
    let sealed_ids: HashSet<Uuid> = stored.sealed.iter().map(|f| f.id).collect();
    if let Some(id) = seals.keys().find(|id| !sealed_ids.contains(id)) {
        return Err(bad("feedback", *id, "missing"));
    }

    // Addenda.
    let addenda: HashMap<Uuid, &Value> = of(action::ADDENDUM)
        .filter_map(|(_, p)| Some((uuid_field(p, "addendum_id")?, p)))
        .collect();
    for a in &stored.addenda {
        checked += 1;
        let Some(recorded) = addenda.get(&a.id) else {
            return Err(bad("addendum", a.id, "unrecorded"));
        };
        let ok = match (field(recorded, "receipt"), stored.salts.get(&a.feedback_id)) {
            (Some(r), Some(salt)) => addendum_receipt(salt, a.id, &a.text, a.created_at) == r,
            // Recorded before receipts were salted.
            _ => field(recorded, "text_sha256") == Some(sha256_hex(&a.text).as_str()),
        };
        if !ok {
            return Err(bad("addendum", a.id, "text"));
        }
    }
    let addendum_ids: HashSet<Uuid> = stored.addenda.iter().map(|a| a.id).collect();
    if let Some(id) = addenda.keys().find(|id| !addendum_ids.contains(id)) {
        return Err(bad("addendum", *id, "missing"));
    }

    // Debrief votes: the latest cast of each voter is what must be stored.
    let mut latest_votes: HashMap<Uuid, &Value> = HashMap::new();
    for (e, p) in of(action::VOTE) {
        if let Some(voter) = uuid_field(p, "voter_id").or(e.actor_id) {
            latest_votes.insert(voter, p);
        }
    }
    for v in &stored.votes {
        checked += 1;
        let Some(recorded) = latest_votes.get(&v.voter) else {
            return Err(bad("debrief_vote", v.voter, "unrecorded"));
        };
        let ok = match (field(recorded, "receipt"), v.salt.as_deref()) {
            (Some(r), Some(salt)) => {
                vote_receipt(salt, v.voter, v.vote, &v.rationale, v.updated_at) == r
            }
            // Recorded in the clear before receipts existed.
            _ => {
                typed_field(recorded, "vote") == Some(v.vote)
                    && field(recorded, "rationale") == Some(v.rationale.as_str())
            }
        };
        if !ok {
            return Err(bad("debrief_vote", v.voter, "record"));
        }
    }
    let voters: HashSet<Uuid> = stored.votes.iter().map(|v| v.voter).collect();
    if let Some(voter) = latest_votes.keys().find(|v| !voters.contains(v)) {
        return Err(bad("debrief_vote", *voter, "missing"));
    }

    // Decision and verdict: the latest event of each.
    let loop_id = stored.loop_id;
    let decision = of(action::DECISION).last();
    match (&stored.decision, decision) {
        (None, None) => {}
        (Some(_), None) => return Err(bad("decision", loop_id, "unrecorded")),
        (None, Some(_)) => return Err(bad("decision", loop_id, "missing")),
        (Some(d), Some((_, p))) => {
            checked += 1;
            let ok = match field(p, "receipt") {
                Some(r) => decision_receipt(d) == r,
                None => {
                    typed_field(p, "outcome") == Some(d.outcome)
                        && field(p, "rationale") == Some(d.rationale.as_str())
                }
            };
            if !ok {
                return Err(bad("decision", loop_id, "record"));
            }
        }
    }
    let verdict = of(action::VETO)
        .chain(of(action::CONCUR))
        .max_by_key(|(e, _)| e.seq);
    match (&stored.verdict, verdict) {
        (None, None) => {}
        (Some(_), None) => return Err(bad("verdict", loop_id, "unrecorded")),
        (None, Some(_)) => return Err(bad("verdict", loop_id, "missing")),
        (Some(v), Some((_, p))) => {
            checked += 1;
            let ok = match field(p, "receipt") {
                Some(r) => verdict_receipt(v) == r,
                None => typed_field(p, "final_outcome") == Some(v.final_outcome),
            };
            if !ok {
                return Err(bad("verdict", loop_id, "record"));
            }
        }
    }

    // The read log: every row has its event, every event its row.
    let reads: HashMap<Uuid, &Value> = of(action::READ)
        .chain(of(action::BREAK_GLASS_READ))
        .filter_map(|(_, p)| Some((uuid_field(p, "read_id")?, p)))
        .collect();
    for r in &stored.reads {
        checked += 1;
        let Some(recorded) = reads.get(&r.id) else {
            return Err(bad("read", r.id, "unrecorded"));
        };
        if field(recorded, "receipt") != Some(read_receipt(r).as_str()) {
            return Err(bad("read", r.id, "record"));
        }
    }
    let read_ids: HashSet<Uuid> = stored.reads.iter().map(|r| r.id).collect();
    if let Some(id) = reads.keys().find(|id| !read_ids.contains(id)) {
        return Err(bad("read", *id, "missing"));
    }

    // Quick votes: one commit event each, and no event without its row.
    let quick: HashMap<Uuid, &Value> = of(action::QUICK_VOTE)
        .filter_map(|(_, p)| Some((uuid_field(p, "quick_vote_id")?, p)))
        .collect();
    for q in &stored.quick_votes {
        checked += 1;
        let Some(recorded) = quick.get(&q.id) else {
            return Err(bad("quick_vote", q.id, "unrecorded"));
        };
        if field(recorded, "receipt") != Some(quick_vote_receipt(q).as_str()) {
            return Err(bad("quick_vote", q.id, "record"));
        }
    }
    let quick_ids: HashSet<Uuid> = stored.quick_votes.iter().map(|q| q.id).collect();
    if let Some(id) = quick.keys().find(|id| !quick_ids.contains(id)) {
        return Err(bad("quick_vote", *id, "missing"));
    }
    Ok(checked)
}

/// Whether a payload field may ever be shown to a reader of the trail:
/// ids, hashes, times, outcomes and the operators' own reasons. A vote, a
/// rationale, any text an interviewer wrote may not, for people and tokens
/// alike. Every event declares what it shows (`crate::events`), and a test
/// holds each declaration to this policy.
pub fn may_show(field: &str) -> bool {
    const KEYS: [&str; 16] = [
        "receipt",
        "digests",
        "outcome",
        "final_outcome",
        "recycle",
        "via",
        "changed",
        "reason",
        "position",
        "level",
        "loop_role",
        "duration_minutes",
        "feedback_due_hours",
        // A loop's setting (`off`, `optional`, `required`), never a vote.
        "quick_vote_setting",
        "revision",
        // Where a person stands in the Bar Raiser program, never a vote.
        "program_state",
    ];
    const SUFFIXES: [&str; 4] = ["_id", "_ids", "_sha256", "_at"];
    KEYS.contains(&field) || SUFFIXES.iter().any(|s| field.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feedback::RatingEntry;
    use chrono::TimeZone;
    use serde_json::json;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn at(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, s).unwrap()
    }

    fn content() -> Content {
        Content {
            ratings: vec![RatingEntry {
                competency_id: id(50),
                rating: Rating::new(3),
                evidence: Some("e".repeat(120)),
            }],
            vote: Some(Vote::InclinedToHire),
            summary: Some("solid".into()),
        }
    }

    fn event(seq: i32, action: &str, payload: Value) -> Event {
        Event {
            id: id(1000 + seq as u128),
            chain: "loop".into(),
            seq,
            actor_id: Some(id(7)),
            action: action.into(),
            subject_id: Some(id(99).to_string()),
            payload: payload.to_string(),
            created_at: at(seq as u32),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// A loop with one sealed feedback, an addendum, a debrief vote, a
    /// decision, a veto and a read, with the events recording them.
    fn fixture() -> (Vec<Event>, Stored) {
        let salt = "s1".to_string();
        let f = SealedFeedback {
            id: id(10),
            interview_id: id(11),
            author: id(7),
            content: content(),
            sealed_at: at(1),
            content_sha256: String::new(),
            salt: Some(salt.clone()),
        };
        let f = SealedFeedback {
            content_sha256: f.recomputed(),
            ..f
        };
        let addendum = StoredAddendum {
            id: id(20),
            feedback_id: id(10),
            text: "a typo fixed".into(),
            created_at: at(2),
        };
        let vote = StoredVote {
            voter: id(7),
            vote: Vote::StrongHire,
            rationale: "changed my mind".into(),
            updated_at: at(3),
            salt: Some("s2".into()),
        };
        let decision = DecisionFacts {
            outcome: Outcome::Hire,
            rationale: "strong".into(),
            recycle: false,
            decided_by: id(8),
            recorded_at: at(4),
        };
        let verdict = VerdictFacts {
            verdict: Verdict::Veto,
            rationale: Some("x".repeat(60)),
            final_outcome: Outcome::NoHire,
            at: at(5),
        };
        let read = ReadFacts {
            id: id(30),
            feedback_id: id(10),
            reader: id(9),
            via: ReadVia::SealedOwn,
            reason: None,
            at: at(6),
        };
        let quick = StoredQuickVote {
            id: id(40),
            interview_id: id(41),
            voter: id(7),
            vote: Vote::InclinedToHire,
            committed_at: at(1),
            salt: "s3".into(),
        };
        let events = vec![
            event(
                1,
                action::SEALED,
                json!({"feedback_id": f.id, "content_sha256": f.content_sha256,
                       "digests": feedback_digests(&salt, &f.content)}),
            ),
            event(
                2,
                action::ADDENDUM,
                json!({"addendum_id": addendum.id, "feedback_id": f.id,
                       "receipt": addendum_receipt(&salt, addendum.id, &addendum.text, addendum.created_at)}),
            ),
            event(
                3,
                action::VOTE,
                json!({"voter_id": vote.voter,
                       "receipt": vote_receipt("s2", vote.voter, vote.vote, &vote.rationale, vote.updated_at)}),
            ),
            event(
                4,
                action::DECISION,
                json!({"outcome": "hire", "receipt": decision_receipt(&decision)}),
            ),
            event(
                5,
                action::VETO,
                json!({"final_outcome": "no_hire", "receipt": verdict_receipt(&verdict)}),
            ),
            event(
                6,
                action::READ,
                json!({"read_id": read.id, "receipt": read_receipt(&read)}),
            ),
            event(
                7,
                action::QUICK_VOTE,
                json!({"quick_vote_id": quick.id, "committed_at": "x",
                       "receipt": quick_vote_receipt(&quick)}),
            ),
        ];
        let stored = Stored {
            salts: HashMap::from([(f.id, salt)]),
            loop_id: id(99),
            sealed: vec![f],
            addenda: vec![addendum],
            votes: vec![vote],
            decision: Some(decision),
            verdict: Some(verdict),
            reads: vec![read],
            quick_votes: vec![quick],
        };
        (events, stored)
    }

    #[test]
    fn an_untouched_loop_checks_every_subject() {
        let (events, stored) = fixture();
        assert_eq!(check(&events, &stored), Ok(7));
        assert_eq!(check(&[], &Stored::default()), Ok(0));
    }

    #[test]
    fn each_edit_names_its_subject_and_field_group() {
        type Edit = fn(&mut Stored);
        let cases: [(Edit, BadSubject); 15] = [
            (
                |s| s.quick_votes[0].vote = Vote::StrongHire,
                bad("quick_vote", id(40), "record"),
            ),
            (
                |s| s.quick_votes[0].committed_at = at(30),
                bad("quick_vote", id(40), "record"),
            ),
            (
                |s| s.quick_votes.clear(),
                bad("quick_vote", id(40), "missing"),
            ),
            (
                |s| s.sealed[0].content.vote = Some(Vote::StrongHire),
                bad("feedback", id(10), "vote"),
            ),
            (
                |s| s.sealed[0].content.ratings[0].rating = Rating::new(4),
                bad("feedback", id(10), "ratings"),
            ),
            (
                |s| s.sealed[0].content.ratings[0].evidence = Some("short".into()),
                bad("feedback", id(10), "ratings"),
            ),
            (
                |s| s.sealed[0].content.summary = Some("weak".into()),
                bad("feedback", id(10), "summary"),
            ),
            (
                |s| s.sealed[0].sealed_at = at(59),
                bad("feedback", id(10), "seal"),
            ),
            (
                |s| s.sealed[0].content_sha256 = "0".repeat(64),
                bad("feedback", id(10), "receipt"),
            ),
            (
                |s| s.addenda[0].text = "something else".into(),
                bad("addendum", id(20), "text"),
            ),
            (
                |s| s.votes[0].vote = Vote::StrongNoHire,
                bad("debrief_vote", id(7), "record"),
            ),
            (
                |s| s.decision.as_mut().unwrap().outcome = Outcome::NoHire,
                bad("decision", id(99), "record"),
            ),
            (
                |s| s.verdict.as_mut().unwrap().rationale = Some("y".repeat(60)),
                bad("verdict", id(99), "record"),
            ),
            (|s| s.reads[0].at = at(40), bad("read", id(30), "record")),
            (|s| s.reads.clear(), bad("read", id(30), "missing")),
        ];
        for (edit, expected) in cases {
            let (events, mut stored) = fixture();
            edit(&mut stored);
            assert_eq!(
                check(&events, &stored),
                Err(expected.clone()),
                "{expected:?}"
            );
        }
    }

    #[test]
    fn rows_deleted_or_invented_are_named() {
        let (events, mut stored) = fixture();
        stored.sealed.clear();
        assert_eq!(
            check(&events, &stored),
            Err(bad("feedback", id(10), "missing"))
        );

        let (events, mut stored) = fixture();
        stored.addenda.push(StoredAddendum {
            id: id(21),
            feedback_id: id(10),
            text: "planted".into(),
            created_at: at(9),
        });
        assert_eq!(
            check(&events, &stored),
            Err(bad("addendum", id(21), "unrecorded"))
        );

        let (events, mut stored) = fixture();
        stored.votes.clear();
        assert_eq!(
            check(&events, &stored),
            Err(bad("debrief_vote", id(7), "missing"))
        );

        let (events, mut stored) = fixture();
        stored.decision = None;
        assert_eq!(
            check(&events, &stored),
            Err(bad("decision", id(99), "missing"))
        );

        let (events, mut stored) = fixture();
        let mut extra = stored.reads[0].clone();
        extra.id = id(31);
        stored.reads.push(extra);
        assert_eq!(
            check(&events, &stored),
            Err(bad("read", id(31), "unrecorded"))
        );
    }

    #[test]
    fn a_quick_vote_receipt_does_not_reveal_the_vote() {
        let (_, stored) = fixture();
        let q = &stored.quick_votes[0];
        let receipt = quick_vote_receipt(q);
        for v in Vote::ALL {
            let unsalted = StoredQuickVote {
                vote: *v,
                salt: String::new(),
                ..q.clone()
            };
            assert_ne!(receipt, quick_vote_receipt(&unsalted));
        }
        let other_salt = StoredQuickVote {
            salt: "s4".into(),
            ..q.clone()
        };
        assert_ne!(receipt, quick_vote_receipt(&other_salt));
    }

    #[test]
    fn digests_do_not_reveal_a_vote() {
        let c = content();
        let d = feedback_digests("salt-a", &c);
        for v in [
            Vote::StrongNoHire,
            Vote::InclinedNotToHire,
            Vote::InclinedToHire,
            Vote::StrongHire,
        ] {
            let unsalted = sha256_hex(&format!("\nvote\n{}", v.as_str()));
            assert_ne!(d.vote, unsalted);
        }
        assert_ne!(d.vote, feedback_digests("salt-b", &c).vote);
    }

    #[test]
    fn the_policy_shows_ids_hashes_and_outcomes_only() {
        for field in [
            "voter_id",
            "receipt",
            "content_sha256",
            "sealed_at",
            "digests",
            "reason",
        ] {
            assert!(may_show(field), "{field}");
        }
        for field in [
            "vote",
            "sealed_vote",
            "rationale",
            "summary",
            "evidence",
            "name",
            "email",
        ] {
            assert!(!may_show(field), "{field}");
        }
    }
}
