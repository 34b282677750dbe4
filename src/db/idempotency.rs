//! Idempotency-Key records: who sent which key with which request, and the
//! first response once there is one. The rules (what is stored, for how
//! long) are in `api::idempotency`; this module only reads and writes rows.
//!
//! Claiming works without a transaction: each statement commits on its
//! own, and the primary key `(caller, key)` decides which of two racing
//! requests owns the key. A failed INSERT inside a PostgreSQL transaction
//! would abort it, so none is used.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use super::DbConn;
use super::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub caller: String,
    pub key: String,
    pub request_sha256: String,
    /// `None` while the first request is in flight.
    pub status: Option<i32>,
    /// JSON array of `[name, value]` pairs.
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub created_at: NaiveDateTime,
    pub locked_until: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    /// The caller's authorization when the key was claimed.
    pub authz: Option<String>,
    /// Replayed by reading this path again; `response_body` is empty.
    pub reread_path: Option<String>,
}

/// What a request finds when it presents its key.
#[derive(Debug)]
pub enum Claim {
    /// The key is now this request's: do the work, then [`complete`] or
    /// [`release`].
    Fresh,
    /// The same request already has an answer: replay it.
    Replay(Box<IdempotencyRow>),
    /// The same request is being handled right now.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// Claims `(caller, key)` for a request with fingerprint `sha`, made under
/// the authorization snapshot `authz`. Records
/// created before `expired_before` are ignored (and deleted, for every
/// caller: the opportunistic purge); an in-flight claim whose lease ran out
/// before `now` is taken over.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    conn: &mut DbConn,
    caller: &str,
    key: &str,
    sha: &str,
    authz: &str,
    now: NaiveDateTime,
    expired_before: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Claim> {
    // A racing request may delete the row between our failed INSERT and our
    // SELECT (it failed and released the key); then simply try again.
    for _ in 0..3 {
        diesel::delete(
            idempotency_keys::table.filter(
                idempotency_keys::created_at
                    .lt(expired_before)
                    .or(idempotency_keys::caller
                        .eq(caller)
                        .and(idempotency_keys::key.eq(key))
                        .and(idempotency_keys::status.is_null())
                        .and(idempotency_keys::locked_until.lt(now))),
            ),
        )
        .execute(conn)?;
        let row = IdempotencyRow {
            caller: caller.to_string(),
            key: key.to_string(),
            request_sha256: sha.to_string(),
            status: None,
            response_headers: None,
            response_body: None,
            created_at: now,
            locked_until: lease_until,
            completed_at: None,
            authz: Some(authz.to_string()),
            reread_path: None,
        };
        match diesel::insert_into(idempotency_keys::table)
            .values(&row)
            .execute(conn)
        {
            Ok(_) => return Ok(Claim::Fresh),
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e),
        }
        let existing: Option<IdempotencyRow> = idempotency_keys::table
            .find((caller, key))
            .select(IdempotencyRow::as_select())
            .get_result(conn)
            .optional()?;
        match existing {
            None => continue,
            Some(r) if r.request_sha256 != sha => return Ok(Claim::Mismatch),
            Some(r) if r.status.is_none() => return Ok(Claim::InFlight),
            Some(r) => return Ok(Claim::Replay(Box::new(r))),
        }
    }
    Ok(Claim::InFlight)
}

/// Takes back a completed record whose answer may not be replayed (the
/// caller's rights changed since): it becomes in flight again under the
/// new snapshot, and its stored answer is gone. False when another request
/// took it first (or it is gone).
pub fn restart(
    conn: &mut DbConn,
    row: &IdempotencyRow,
    authz: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        idempotency_keys::table
            .find((&row.caller, &row.key))
            .filter(idempotency_keys::status.is_not_null())
            .filter(idempotency_keys::completed_at.eq(row.completed_at)),
    )
    .set((
        idempotency_keys::status.eq(None::<i32>),
        idempotency_keys::response_headers.eq(None::<String>),
        idempotency_keys::response_body.eq(None::<String>),
        idempotency_keys::completed_at.eq(None::<NaiveDateTime>),
        idempotency_keys::reread_path.eq(None::<String>),
        idempotency_keys::authz.eq(authz),
        idempotency_keys::locked_until.eq(lease_until),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Stores the final response of the claim's request; with `reread_path`,
/// only its status (a replay reads that path again).
#[allow(clippy::too_many_arguments)]
pub fn complete(
    conn: &mut DbConn,
    caller: &str,
    key: &str,
    status: i32,
    headers: &str,
    body: &str,
    reread_path: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((caller, key)))
        .set((
            idempotency_keys::status.eq(status),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::reread_path.eq(reread_path),
            idempotency_keys::completed_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Gives the key up (the request failed in a way worth retrying).
pub fn release(conn: &mut DbConn, caller: &str, key: &str) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .find((caller, key))
            .filter(idempotency_keys::status.is_null()),
    )
    .execute(conn)
    .map(|_| ())
}

/// Forgets every stored response that mentions `needle` (a candidate's id,
/// when the candidate is erased: their personal data must not outlive the
/// erasure in a replay copy).
pub fn forget_mentions(conn: &mut DbConn, needle: &str) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::response_body.like(format!("%{needle}%"))),
    )
    .execute(conn)
}
