//! The Bar Raiser program (issue 17): each person's state, mentors'
//! sign-offs, and the facts certification and lapse are decided on.
//! `users.bar_raiser_certified` is the projection of `state = 'certified'`,
//! written by [`put`] and nowhere else.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::models::{ProgramRow, SignOffRow};
use super::schema::{bar_raiser_program, bar_raiser_sign_offs, feedback, interviews, loops, users};
use super::types::{LoopId, UserId};
use crate::domain::types::{
    InterviewRole, LoopState, Outcome, ProgramState, StoredFeedbackState, Vote,
};

pub fn get(conn: &mut DbConn, user: UserId) -> QueryResult<Option<ProgramRow>> {
    bar_raiser_program::table
        .find(user)
        .select(ProgramRow::as_select())
        .get_result(conn)
        .optional()
}

/// Stores the person's program row and its projection on `users` together.
pub fn put(conn: &mut DbConn, row: &ProgramRow) -> QueryResult<()> {
    let n = diesel::update(bar_raiser_program::table.find(row.user_id))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(bar_raiser_program::table)
            .values(row)
            .execute(conn)?;
    }
    diesel::update(users::table.find(row.user_id))
        .set(users::bar_raiser_certified.eq(row.state == ProgramState::Certified))
        .execute(conn)?;
    Ok(())
}

/// Everyone in one program state, oldest change first.
pub fn in_state(conn: &mut DbConn, state: ProgramState) -> QueryResult<Vec<ProgramRow>> {
    in_state_page(conn, state, None, i64::MAX)
}

/// One page of the people in `state`, longest in it first, after the
/// `(updated_at, user_id)` cursor.
pub fn in_state_page(
    conn: &mut DbConn,
    state: ProgramState,
    after: Option<(chrono::NaiveDateTime, UserId)>,
    limit: i64,
) -> QueryResult<Vec<ProgramRow>> {
    let mut q = bar_raiser_program::table
        .filter(bar_raiser_program::state.eq(state))
        .select(ProgramRow::as_select())
        .order((
            bar_raiser_program::updated_at.asc(),
            bar_raiser_program::user_id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            bar_raiser_program::updated_at
                .gt(at)
                .or(bar_raiser_program::updated_at
                    .eq(at)
                    .and(bar_raiser_program::user_id.gt(id))),
        );
    }
    q.load(conn)
}

pub fn insert_sign_off(conn: &mut DbConn, row: &SignOffRow) -> QueryResult<()> {
    diesel::insert_into(bar_raiser_sign_offs::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn sign_offs_of(conn: &mut DbConn, trainee: UserId) -> QueryResult<Vec<SignOffRow>> {
    bar_raiser_sign_offs::table
        .filter(bar_raiser_sign_offs::trainee_id.eq(trainee))
        .select(SignOffRow::as_select())
        .order((
            bar_raiser_sign_offs::signed_at.asc(),
            bar_raiser_sign_offs::id.asc(),
        ))
        .load(conn)
}

pub fn sign_off_of_loop(conn: &mut DbConn, loop_id: LoopId) -> QueryResult<Option<SignOffRow>> {
    bar_raiser_sign_offs::table
        .filter(bar_raiser_sign_offs::loop_id.eq(loop_id))
        .select(SignOffRow::as_select())
        .get_result(conn)
        .optional()
}

/// Makes the loop a reverse shadow held by `mentor`, or an ordinary loop.
pub fn set_reverse_shadow(
    conn: &mut DbConn,
    loop_id: LoopId,
    mentor: Option<UserId>,
) -> QueryResult<()> {
    diesel::update(loops::table.find(loop_id))
        .set(loops::mentor_id.eq(mentor))
        .execute(conn)
        .map(|_| ())
}

/// Loops the person shadowed with their feedback sealed, distinct.
pub fn shadowed_loops(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    let ids: Vec<LoopId> = interviews::table
        .inner_join(feedback::table)
        .filter(interviews::interviewer_id.eq(user))
        .filter(interviews::loop_role.eq(InterviewRole::Shadow))
        .filter(feedback::state.eq(StoredFeedbackState::Sealed))
        .select(interviews::loop_id)
        .distinct()
        .load(conn)?;
    Ok(ids.len())
}

/// The person's sealed votes in decided loops they shadowed or led as a
/// reverse shadow, beside each loop's final outcome.
pub fn training_votes(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<(Vote, Outcome)>> {
    let rows: Vec<(Option<Vote>, Option<Outcome>)> = interviews::table
        .inner_join(feedback::table)
        .inner_join(loops::table)
        .filter(interviews::interviewer_id.eq(user))
        .filter(
            interviews::loop_role
                .eq(InterviewRole::Shadow)
                .or(loops::mentor_id
                    .is_not_null()
                    .and(loops::bar_raiser_id.eq(user))),
        )
        .filter(feedback::state.eq(StoredFeedbackState::Sealed))
        .filter(loops::state.eq(LoopState::Decided))
        .select((feedback::vote, loops::final_outcome))
        .order(loops::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(v, o)| Some((v?, o?)))
        .collect())
}

/// When the person last served as a loop's Bar Raiser (the newest loop
/// they serve or served, in any state but draft and cancelled).
pub fn last_served(conn: &mut DbConn, user: UserId) -> QueryResult<Option<NaiveDateTime>> {
    loops::table
        .filter(loops::bar_raiser_id.eq(user))
        .filter(loops::state.ne(LoopState::Draft))
        .filter(loops::state.ne(LoopState::Cancelled))
        .select(diesel::dsl::max(loops::created_at))
        .get_result(conn)
}

/// How many loops the person served as Bar Raiser created at `since` or
/// later (the load warning's count; the `loops_bar_raiser` index).
pub fn served_since(conn: &mut DbConn, user: UserId, since: NaiveDateTime) -> QueryResult<i64> {
    loops::table
        .filter(loops::bar_raiser_id.eq(user))
        .filter(loops::state.ne(LoopState::Draft))
        .filter(loops::state.ne(LoopState::Cancelled))
        .filter(loops::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// When each certified Bar Raiser last served, in one statement for the
/// daily lapse job; those who never served are absent.
pub fn last_served_by_certified(conn: &mut DbConn) -> QueryResult<HashMap<UserId, NaiveDateTime>> {
    let rows: Vec<(UserId, Option<NaiveDateTime>)> = loops::table
        .filter(
            loops::bar_raiser_id.eq_any(
                bar_raiser_program::table
                    .filter(bar_raiser_program::state.eq(ProgramState::Certified))
                    .select(bar_raiser_program::user_id),
            ),
        )
        .filter(loops::state.ne(LoopState::Draft))
        .filter(loops::state.ne(LoopState::Cancelled))
        .group_by(loops::bar_raiser_id)
        .select((loops::bar_raiser_id, diesel::dsl::max(loops::created_at)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id, at?)))
        .collect())
}
