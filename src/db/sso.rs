//! Single sign-on's rows: identities linked to accounts, sign-ins on their
//! way through the provider, and the one-time codes that end them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::models::{SsoCodeRow, SsoIdentityRow, SsoLoginRow, UserRow};
use super::schema::{scim_users, sso_codes, sso_identities, sso_logins, users};
use super::types::UserId;

/// The account linked to `subject` at `issuer`.
pub fn linked(conn: &mut DbConn, issuer: &str, subject: &str) -> QueryResult<Option<UserRow>> {
    sso_identities::table
        .inner_join(users::table)
        .filter(sso_identities::issuer.eq(issuer))
        .filter(sso_identities::subject.eq(subject))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

/// Whether `user` has an identity at any issuer.
pub fn is_linked(conn: &mut DbConn, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sso_identities::table.filter(sso_identities::user_id.eq(user)),
    ))
    .get_result(conn)
}

/// Whether an identity at `issuer` is linked to `user` already (another
/// subject of the same issuer may not take the account over).
pub fn has_identity_at(conn: &mut DbConn, issuer: &str, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sso_identities::table
            .filter(sso_identities::issuer.eq(issuer))
            .filter(sso_identities::user_id.eq(user)),
    ))
    .get_result(conn)
}

pub fn link(conn: &mut DbConn, row: &SsoIdentityRow) -> QueryResult<()> {
    diesel::insert_into(sso_identities::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Whether SCIM provisioned `user` (its roles are SCIM's then).
pub fn provisioned(conn: &mut DbConn, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        scim_users::table.filter(scim_users::user_id.eq(user)),
    ))
    .get_result(conn)
}

/// The oldest account: the first admin, whom the break-glass rule keeps
/// able to sign in by password.
pub fn first_account(conn: &mut DbConn) -> QueryResult<Option<UserId>> {
    users::table
        .order((users::created_at.asc(), users::id.asc()))
        .select(users::id)
        .first(conn)
        .optional()
}

pub fn insert_login(conn: &mut DbConn, row: &SsoLoginRow) -> QueryResult<()> {
    diesel::insert_into(sso_logins::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Takes the pending sign-in of this state: deleted as it is read, so a
/// second callback with the same state finds nothing.
pub fn take_login(conn: &mut DbConn, state_hash: &str) -> QueryResult<Option<SsoLoginRow>> {
    let row = sso_logins::table
        .find(state_hash)
        .select(SsoLoginRow::as_select())
        .get_result(conn)
        .optional()?;
    if row.is_some() {
        let gone = diesel::delete(sso_logins::table.find(state_hash)).execute(conn)?;
        if gone == 0 {
            // Another callback took it between the read and the delete.
            return Ok(None);
        }
    }
    Ok(row)
}

pub fn insert_code(conn: &mut DbConn, row: &SsoCodeRow) -> QueryResult<()> {
    diesel::insert_into(sso_codes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Takes a one-time code: deleted as it is read.
pub fn take_code(conn: &mut DbConn, code_hash: &str) -> QueryResult<Option<SsoCodeRow>> {
    let row = sso_codes::table
        .find(code_hash)
        .select(SsoCodeRow::as_select())
        .get_result(conn)
        .optional()?;
    if row.is_some() {
        let gone = diesel::delete(sso_codes::table.find(code_hash)).execute(conn)?;
        if gone == 0 {
            return Ok(None);
        }
    }
    Ok(row)
}

/// Forgets sign-ins and codes that ran out before `at`.
pub fn purge_expired(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<usize> {
    let a =
        diesel::delete(sso_logins::table.filter(sso_logins::expires_at.lt(at))).execute(conn)?;
    let b = diesel::delete(sso_codes::table.filter(sso_codes::expires_at.lt(at))).execute(conn)?;
    Ok(a + b)
}
