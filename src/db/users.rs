//! Accounts, refresh-token families and stored settings.

use diesel::prelude::*;

use super::models::{RefreshTokenRow, UserRow};
use super::schema::{refresh_tokens, settings, users};
use super::types::{LoopId, RefreshTokenId, TokenFamilyId, UserId};
use super::{DbConn, now, to_db};
use crate::domain::types::AccountRole;

pub fn by_id(conn: &mut DbConn, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email_lower.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<AccountRole>,
    pub bar_raiser_certified: Option<bool>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub email: Option<String>,
    pub email_lower: Option<String>,
    pub session_epoch: Option<i32>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn update(conn: &mut DbConn, id: UserId, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set(changes)
        .returning(users::all_columns)
        .get_result(conn)
}

/// Loops `user_id` takes part in (hiring manager, Bar Raiser, interviewer
/// or shadow) that are neither decided nor cancelled, by id.
pub fn open_loops_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<LoopId>> {
    use super::schema::{interviews, loops};
    use crate::domain::LoopState;
    let via_interviews = interviews::table
        .filter(interviews::interviewer_id.eq(user_id))
        .select(interviews::loop_id);
    loops::table
        .filter(
            loops::hiring_manager_id
                .eq(user_id)
                .or(loops::bar_raiser_id.eq(user_id))
                .or(loops::id.eq_any(via_interviews)),
        )
        .filter(loops::state.ne(LoopState::Decided))
        .filter(loops::state.ne(LoopState::Cancelled))
        .select(loops::id)
        .order(loops::id.asc())
        .load(conn)
}

/// One page of users, newest first, after the `(created_at, id)` cursor.
pub fn page(
    conn: &mut DbConn,
    after: Option<(chrono::NaiveDateTime, UserId)>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order((users::created_at.desc(), users::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            users::created_at
                .lt(at)
                .or(users::created_at.eq(at).and(users::id.lt(id))),
        );
    }
    q.load(conn)
}

// --- refresh tokens -------------------------------------------------------

pub fn insert_refresh(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn refresh_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .get_result(conn)
        .optional()
}

/// Marks a token used. Returns false when it was no longer live (a
/// concurrent refresh won), so the loser can treat it as reuse.
pub fn mark_rotated(conn: &mut DbConn, id: RefreshTokenId) -> QueryResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(to_db(now())))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut DbConn, family_id: TokenFamilyId) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db(now())))
    .execute(conn)
}

pub fn revoke_all_for_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db(now())))
    .execute(conn)
}

// --- settings -------------------------------------------------------------

pub fn setting(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .get_result(conn)
        .optional()
}

/// Stores `value` under `key` unless another instance got there first;
/// returns whichever value is stored.
pub fn setting_or_insert(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<String> {
    if let Some(v) = setting(conn, key)? {
        return Ok(v);
    }
    let inserted = diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value.to_string()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => setting(conn, key)?.ok_or(diesel::result::Error::NotFound),
        Err(e) => Err(e),
    }
}
