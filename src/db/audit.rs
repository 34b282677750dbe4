//! Appending to and reading the per-loop audit hash chains.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use super::kept::Fixed;
use super::models::AuditEventRow;
use super::schema::{audit_chains, audit_events};
use super::types::{AuditEventId, FeedbackId, LoopId, UserId};
use super::{DbConn, from_db, now, to_db};
use crate::domain::audit::{self, Event, GENESIS};
use crate::error::AppResult;

/// The organisation-wide chain (users, competencies, candidates).
pub const ORG_CHAIN: &str = "org";

/// Starts a loop's chain; call in the transaction that creates the loop.
pub fn create_chain(conn: &mut DbConn, chain: &str) -> QueryResult<()> {
    diesel::insert_into(audit_chains::table)
        .values((
            audit_chains::chain.eq(chain),
            audit_chains::last_seq.eq(0),
            audit_chains::last_hash.eq(GENESIS),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The start of an event's insert, up to its first value.
macro_rules! insert_event {
    () => {
        "INSERT INTO audit_events (id, chain, seq, actor_id, action, subject_id, payload, \
         created_at, prev_hash, hash) VALUES ("
    };
}

/// Appends one event to `chain`, in the caller's transaction. Bumping the
/// head first takes its row lock, so appends to one chain serialise (on
/// PostgreSQL; SQLite's write lock already does) and never fork.
pub fn append<P: Serialize>(
    conn: &mut DbConn,
    chain: &str,
    actor_id: Option<Uuid>,
    action: &str,
    subject_id: Option<&str>,
    payload: &P,
) -> AppResult<()> {
    let (seq, prev_hash): (i32, String) = Fixed::returning::<(Integer, Text)>(
        &[
            "UPDATE audit_chains SET last_seq = last_seq + 1 WHERE chain = ",
            " RETURNING last_seq, last_hash",
        ],
        (chain.into_sql::<Text>(),),
    )
    .get_result(conn)?;
    let event = Event {
        id: Uuid::now_v7(),
        chain: chain.to_string(),
        seq,
        actor_id,
        action: action.to_string(),
        subject_id: subject_id.map(str::to_string),
        payload: serde_json::to_string(payload).map_err(anyhow::Error::from)?,
        created_at: now(),
        prev_hash,
        hash: String::new(),
    };
    let hash = audit::event_hash(&event.prev_hash, &event);
    let binds = (
        AuditEventId::from(event.id).into_sql::<Text>(),
        event.chain.as_str().into_sql::<Text>(),
        seq.into_sql::<Integer>(),
        actor_id.map(UserId::from).into_sql::<Nullable<Text>>(),
        event.action.as_str().into_sql::<Text>(),
        event.subject_id.as_deref().into_sql::<Nullable<Text>>(),
        event.payload.as_str().into_sql::<Text>(),
        to_db(event.created_at).into_sql::<Timestamp>(),
        event.prev_hash.as_str().into_sql::<Text>(),
        hash.as_str().into_sql::<Text>(),
    );
    if matches!(conn, DbConn::Postgres(_)) {
        // The event and the head's new hash in one round trip.
        return Fixed::new(
            &[
                concat!("WITH e AS (", insert_event!()),
                ", ", ", ", ", ", ", ", ", ", ", ", ", ", ", ", ", ",
                ") RETURNING chain, hash) \
                 UPDATE audit_chains SET last_hash = e.hash FROM e WHERE audit_chains.chain = e.chain",
            ],
            binds,
        )
        .execute(conn)
        .map(|_| ())
        .map_err(Into::into);
    }
    Fixed::new(
        &[
            "UPDATE audit_chains SET last_hash = ",
            " WHERE chain = ",
            "",
        ],
        (hash.as_str().into_sql::<Text>(), chain.into_sql::<Text>()),
    )
    .execute(conn)?;
    Fixed::new(
        &[
            insert_event!(),
            ", ",
            ", ",
            ", ",
            ", ",
            ", ",
            ", ",
            ", ",
            ", ",
            ", ",
            ")",
        ],
        binds,
    )
    .execute(conn)?;
    Ok(())
}

pub fn events(conn: &mut DbConn, chain: &str) -> QueryResult<Vec<Event>> {
    let rows: Vec<AuditEventRow> = audit_events::table
        .filter(audit_events::chain.eq(chain))
        .order(audit_events::seq.asc())
        .select(AuditEventRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            id: r.id.into(),
            chain: r.chain,
            seq: r.seq,
            actor_id: r.actor_id.map(Uuid::from),
            action: r.action,
            subject_id: r.subject_id,
            payload: r.payload,
            created_at: from_db(r.created_at),
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect())
}

/// The content receipts that the chains of `loop_ids` recorded at seal
/// time, by feedback id. A payload that names no feedback id yields no
/// receipt, so that feedback then fails its check.
pub fn seal_receipts(
    conn: &mut DbConn,
    loop_ids: &[LoopId],
) -> QueryResult<std::collections::HashMap<FeedbackId, String>> {
    let chains: Vec<String> = loop_ids.iter().map(LoopId::to_string).collect();
    let payloads: Vec<String> = audit_events::table
        .filter(audit_events::chain.eq_any(chains))
        .filter(audit_events::action.eq(crate::domain::proof::action::SEALED))
        .select(audit_events::payload)
        .load(conn)?;
    Ok(payloads
        .iter()
        .filter_map(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .filter_map(|v| {
            Some((
                v.get("feedback_id")?.as_str()?.parse().ok()?,
                v.get("content_sha256")?.as_str()?.to_string(),
            ))
        })
        .collect())
}

pub fn verify(conn: &mut DbConn, chain: &str) -> QueryResult<audit::Verification> {
    let head: (i32, String) = audit_chains::table
        .find(chain)
        .select((audit_chains::last_seq, audit_chains::last_hash))
        .get_result(conn)?;
    let events = events(conn, chain)?;
    Ok(audit::verify(&events, (head.0, &head.1)))
}
