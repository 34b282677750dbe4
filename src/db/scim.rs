//! SCIM's rows: the provider's view of provisioned accounts, its groups
//! and their members.

use diesel::prelude::*;

use super::DbConn;
use super::models::{ScimGroupRow, ScimUserRow, UserRow};
use super::schema::{api_tokens, scim_group_members, scim_groups, scim_users, users};
use super::types::{InterviewId, LoopId, ScimGroupId, UserId};

/// A provisioned account: its SCIM view and the account it projects onto.
pub type Provisioned = (ScimUserRow, UserRow);

pub fn user(conn: &mut DbConn, id: UserId) -> QueryResult<Option<Provisioned>> {
    scim_users::table
        .inner_join(users::table)
        .filter(scim_users::user_id.eq(id))
        .select((ScimUserRow::as_select(), UserRow::as_select()))
        .get_result(conn)
        .optional()
}

/// Every provisioned account, oldest first (filtering happens in
/// `domain::scim`, over the few attributes SCIM can filter on).
pub fn users(conn: &mut DbConn) -> QueryResult<Vec<Provisioned>> {
    scim_users::table
        .inner_join(users::table)
        .select((ScimUserRow::as_select(), UserRow::as_select()))
        .order((scim_users::created_at.asc(), scim_users::user_id.asc()))
        .load(conn)
}

pub fn insert_user(conn: &mut DbConn, row: &ScimUserRow) -> QueryResult<()> {
    diesel::insert_into(scim_users::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn update_user(conn: &mut DbConn, row: &ScimUserRow) -> QueryResult<()> {
    diesel::update(scim_users::table.find(row.user_id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Forgets the provider's view of an account and its memberships; the
/// account itself stays (deactivated by the caller).
pub fn delete_user(conn: &mut DbConn, id: UserId) -> QueryResult<()> {
    diesel::delete(scim_group_members::table.filter(scim_group_members::user_id.eq(id)))
        .execute(conn)?;
    diesel::delete(scim_users::table.find(id)).execute(conn)?;
    Ok(())
}

/// Revokes every live service token `owner` created, at `at`.
pub fn revoke_tokens_of(
    conn: &mut DbConn,
    owner: UserId,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::created_by.eq(owner))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)
}

pub fn group(conn: &mut DbConn, id: ScimGroupId) -> QueryResult<Option<ScimGroupRow>> {
    scim_groups::table
        .find(id)
        .select(ScimGroupRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn groups(conn: &mut DbConn) -> QueryResult<Vec<ScimGroupRow>> {
    scim_groups::table
        .select(ScimGroupRow::as_select())
        .order((scim_groups::created_at.asc(), scim_groups::id.asc()))
        .load(conn)
}

pub fn insert_group(conn: &mut DbConn, row: &ScimGroupRow) -> QueryResult<()> {
    diesel::insert_into(scim_groups::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn update_group(conn: &mut DbConn, row: &ScimGroupRow) -> QueryResult<()> {
    diesel::update(scim_groups::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn delete_group(conn: &mut DbConn, id: ScimGroupId) -> QueryResult<()> {
    diesel::delete(scim_group_members::table.filter(scim_group_members::group_id.eq(id)))
        .execute(conn)?;
    diesel::delete(scim_groups::table.find(id)).execute(conn)?;
    Ok(())
}

/// Members of `group`, with the account each is.
pub fn members(conn: &mut DbConn, group: ScimGroupId) -> QueryResult<Vec<(UserId, String)>> {
    scim_group_members::table
        .inner_join(users::table.on(users::id.eq(scim_group_members::user_id)))
        .filter(scim_group_members::group_id.eq(group))
        .select((users::id, users::name))
        .order(users::id.asc())
        .load(conn)
}

/// Every membership, as (group, user).
pub fn memberships(conn: &mut DbConn) -> QueryResult<Vec<(ScimGroupId, UserId)>> {
    scim_group_members::table
        .select((scim_group_members::group_id, scim_group_members::user_id))
        .load(conn)
}

/// The groups `user` belongs to: id and display name.
pub fn groups_of(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<(ScimGroupId, String)>> {
    scim_group_members::table
        .inner_join(scim_groups::table)
        .filter(scim_group_members::user_id.eq(user))
        .select((scim_groups::id, scim_groups::display_name))
        .order(scim_groups::display_name_lower.asc())
        .load(conn)
}

/// Replaces the members of `group` with `members` (each inserted once).
pub fn set_members(conn: &mut DbConn, group: ScimGroupId, members: &[UserId]) -> QueryResult<()> {
    diesel::delete(scim_group_members::table.filter(scim_group_members::group_id.eq(group)))
        .execute(conn)?;
    let rows: Vec<_> = members
        .iter()
        .map(|u| {
            (
                scim_group_members::group_id.eq(group),
                scim_group_members::user_id.eq(*u),
            )
        })
        .collect();
    // One statement per row: batch inserts need a per-backend branch under
    // `MultiConnection`, and a group's member list is short.
    for row in rows {
        diesel::insert_into(scim_group_members::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Which of `ids` are provisioned accounts.
pub fn provisioned_among(conn: &mut DbConn, ids: &[UserId]) -> QueryResult<Vec<UserId>> {
    scim_users::table
        .filter(scim_users::user_id.eq_any(ids))
        .select(scim_users::user_id)
        .load(conn)
}

/// The provisioned account whose `userName` is `lower` (lower-cased).
pub fn user_by_name(conn: &mut DbConn, lower: &str) -> QueryResult<Option<UserId>> {
    scim_users::table
        .filter(scim_users::user_name_lower.eq(lower))
        .select(scim_users::user_id)
        .get_result(conn)
        .optional()
}

/// The group whose display name is `lower` (lower-cased).
pub fn group_by_name(conn: &mut DbConn, lower: &str) -> QueryResult<Option<ScimGroupId>> {
    scim_groups::table
        .filter(scim_groups::display_name_lower.eq(lower))
        .select(scim_groups::id)
        .get_result(conn)
        .optional()
}

/// An interview `user` holds that is not excused, in a loop neither decided
/// nor cancelled: interview, loop, start, position, candidate's name and
/// the loop's recruiter.
pub type OpenInterviewRow = (
    InterviewId,
    LoopId,
    chrono::NaiveDateTime,
    String,
    String,
    UserId,
);

pub fn open_interviews_of(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<OpenInterviewRow>> {
    use super::schema::{candidates, interviews, loops};
    use crate::domain::LoopState;
    interviews::table
        .inner_join(loops::table.inner_join(candidates::table))
        .filter(interviews::interviewer_id.eq(user))
        .filter(interviews::excused_at.is_null())
        .filter(loops::state.ne(LoopState::Decided))
        .filter(loops::state.ne(LoopState::Cancelled))
        .select((
            interviews::id,
            loops::id,
            interviews::starts_at,
            loops::position,
            candidates::name,
            loops::recruiter_id,
        ))
        .order((interviews::starts_at.asc(), interviews::id.asc()))
        .load(conn)
}
