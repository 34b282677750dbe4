//! A loop's hash-chained audit trail and its verification: who may read
//! it, what the trail shows of each event, and the recomputation of every
//! receipt the chain recorded against the rows as stored.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, AppState, views};
use crate::db::{self, DbConn, FeedbackId, LoopId};
use crate::domain::{StoredFeedbackState, audit::may_audit, proof};
use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    /// Position in the loop's chain, from 1.
    pub seq: i32,
    pub actor_id: Option<Uuid>,
    /// What happened, e.g. `feedback.sealed`.
    pub action: String,
    pub subject_id: Option<String>,
    /// Event details: ids, hashes, times and outcomes, never feedback
    /// content, an unrevealed vote or candidate personal data.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and the event's canonical JSON.
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub loop_id: Uuid,
    pub items: Vec<AuditEvent>,
}

/// A stored row that no longer matches what the chain recorded of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidSubject {
    /// `feedback`, `addendum`, `debrief_vote`, `decision`, `verdict`, `read`
    /// or `quick_vote`.
    pub kind: String,
    /// The feedback, addendum, read-log row or quick vote; the voter for a debrief
    /// vote; the loop for its decision and verdict.
    pub id: Uuid,
    /// Which field group differs (`ratings`, `vote`, `summary`, `seal`,
    /// `receipt`, `text`, `record`), or `missing` (the row is gone) or
    /// `unrecorded` (a row the chain never recorded). Never the content.
    pub part: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// The chain is intact and every subject matches its receipt.
    pub valid: bool,
    pub events_checked: usize,
    /// Sealed feedback, addenda, debrief votes, decision, verdict,
    /// read-log rows and quick votes recomputed against the chain (0 when the chain itself
    /// is broken: nothing it says can be trusted then).
    pub subjects_checked: usize,
    /// The first stored row that does not match the chain.
    pub first_invalid_subject: Option<InvalidSubject>,
    /// The first event that fails verification.
    pub first_invalid_event: Option<Uuid>,
    /// Its position in the chain (also set when the tail is missing).
    pub first_invalid_seq: Option<i32>,
    pub reason: Option<String>,
}

/// Admins, the loop's recruiter and its Bar Raiser (among those who see
/// the loop).
fn require_auditor(b: &db::loops::LoopBundle, me: &Actor) -> AppResult<()> {
    views::require_visible(b, me)?;
    let id = me.id;
    may_audit(
        me.is_admin(),
        b.row.recruiter_id == id,
        b.row.bar_raiser_id == id,
    )
    .map_err(AppError::forbidden)
}

/// The loop's audit events, in chain order, each payload read through the
/// visibility policy: ids, hashes and outcomes only, whatever was recorded.
/// A stored payload that is not JSON shows as `{}` (lenient on purpose:
/// the trail of a damaged chain stays readable, and verification reports
/// the damage).
pub async fn log(state: &AppState, me: &Actor, id: Uuid) -> AppResult<AuditLog> {
    let me = me.clone();
    let key = LoopId::from(id);
    state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, key)?.ok_or(AppError::NotFound)?;
            require_auditor(&b, &me)?;
            let items = db::audit::events(conn, &key.to_string())?
                .into_iter()
                .map(|e| AuditEvent {
                    payload: crate::events::visible_payload(
                        &e.action,
                        serde_json::from_str(&e.payload).unwrap_or_default(),
                    ),
                    id: e.id,
                    seq: e.seq,
                    actor_id: e.actor_id,
                    action: e.action,
                    subject_id: e.subject_id,
                    created_at: e.created_at,
                    prev_hash: e.prev_hash,
                    hash: e.hash,
                })
                .collect();
            Ok(AuditLog { loop_id: id, items })
        })
        .await
}

/// Everything of the loop that the chain vouches for, as stored.
fn stored_subjects(conn: &mut DbConn, b: &db::loops::LoopBundle) -> AppResult<proof::Stored> {
    let loop_id = b.row.id;
    let all: Vec<FeedbackId> = b.feedback.values().map(|f| f.id).collect();
    let mut ratings = db::feedback::loop_ratings(conn, loop_id, &all)?;
    let mut stored = proof::Stored {
        loop_id: loop_id.into(),
        ..Default::default()
    };
    for f in b.feedback.values() {
        if let Some(salt) = &f.receipt_salt {
            stored.salts.insert(f.id.into(), salt.clone());
        }
        if f.state == StoredFeedbackState::Sealed {
            let rs = ratings.remove(&f.id).unwrap_or_default();
            stored
                .sealed
                .push(crate::workflows::feedback::sealed_facts(f, &rs));
        }
    }
    for a in db::feedback::loop_addenda(conn, loop_id, &all)?
        .into_values()
        .flatten()
    {
        stored.addenda.push(proof::StoredAddendum {
            id: a.id.into(),
            feedback_id: a.feedback_id.into(),
            text: a.text,
            created_at: db::from_db(a.created_at),
        });
    }
    for q in b.quick_votes.values() {
        stored
            .quick_votes
            .push(crate::workflows::feedback::quick::stored(q));
    }
    for v in db::feedback::votes(conn, loop_id)? {
        stored.votes.push(proof::StoredVote {
            voter: v.voter_id.into(),
            vote: v.vote,
            rationale: v.rationale,
            updated_at: db::from_db(v.updated_at),
            salt: v.receipt_salt,
        });
    }
    let r = &b.row;
    if let (Some(outcome), Some(by), Some(at)) =
        (r.decision_outcome, r.decided_by, r.decision_recorded_at)
    {
        stored.decision = Some(proof::DecisionFacts {
            outcome,
            rationale: r.decision_rationale.clone().unwrap_or_default(),
            recycle: r.decision_recycle.unwrap_or(false),
            decided_by: by.into(),
            recorded_at: db::from_db(at),
        });
    }
    // A verdict without its final outcome is not one the chain can vouch
    // for: the check then reports the verdict missing.
    if let (Some(verdict), Some(final_outcome), Some(at)) =
        (r.bar_raiser_verdict, r.final_outcome, r.verdict_at)
    {
        stored.verdict = Some(proof::VerdictFacts {
            verdict,
            rationale: r.veto_rationale.clone(),
            final_outcome,
            at: db::from_db(at),
        });
    }
    for read in db::feedback::reads(conn, loop_id)? {
        stored.reads.push(db::feedback::read_facts(&read));
    }
    Ok(stored)
}

/// Recomputes the loop's chain (any edited, deleted or reordered event
/// makes it invalid from that event on), then every receipt the chain
/// recorded against the rows as stored.
pub async fn verify(state: &AppState, me: &Actor, id: Uuid) -> AppResult<AuditVerification> {
    let me = me.clone();
    let id = LoopId::from(id);
    let chain_key = id.to_string();
    state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, id)?.ok_or(AppError::NotFound)?;
            require_auditor(&b, &me)?;
            let chain = db::audit::verify(conn, &chain_key)?;
            if !chain.valid {
                return Ok(AuditVerification {
                    valid: false,
                    events_checked: chain.events_checked,
                    subjects_checked: 0,
                    first_invalid_subject: None,
                    first_invalid_event: chain.first_invalid_event,
                    first_invalid_seq: chain.first_invalid_seq,
                    reason: chain.reason,
                });
            }
            let events = db::audit::events(conn, &chain_key)?;
            let stored = stored_subjects(conn, &b)?;
            let (subjects_checked, bad) = match proof::check(&events, &stored) {
                Ok(n) => (n, None),
                Err(bad) => (0, Some(bad)),
            };
            Ok(AuditVerification {
                valid: bad.is_none(),
                events_checked: chain.events_checked,
                subjects_checked,
                reason: bad.as_ref().map(|b| {
                    format!(
                        "the stored {} {} does not match the chain ({})",
                        b.kind, b.id, b.part
                    )
                }),
                first_invalid_subject: bad.map(|b| InvalidSubject {
                    kind: b.kind.into(),
                    id: b.id,
                    part: b.part.into(),
                }),
                first_invalid_event: None,
                first_invalid_seq: None,
            })
        })
        .await
}
