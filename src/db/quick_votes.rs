//! Quick votes (issue 17): inserted once, never updated.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConn;
use super::models::QuickVoteRow;
use super::schema::quick_votes;
use super::types::{InterviewId, LoopId};

/// Inserts a quick vote. The caller holds the loop's lock and has checked
/// there is none; the unique key on `interview_id` stands behind that.
pub fn insert(conn: &mut DbConn, row: &QuickVoteRow) -> QueryResult<()> {
    diesel::insert_into(quick_votes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn of_interview(
    conn: &mut DbConn,
    interview_id: InterviewId,
) -> QueryResult<Option<QuickVoteRow>> {
    quick_votes::table
        .filter(quick_votes::interview_id.eq(interview_id))
        .select(QuickVoteRow::as_select())
        .get_result(conn)
        .optional()
}

/// The quick votes of one loop, by interview.
pub fn of_loop(
    conn: &mut DbConn,
    loop_id: LoopId,
) -> QueryResult<HashMap<InterviewId, QuickVoteRow>> {
    let rows: Vec<QuickVoteRow> = quick_votes::table
        .filter(quick_votes::loop_id.eq(loop_id))
        .select(QuickVoteRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.interview_id, r)).collect())
}
