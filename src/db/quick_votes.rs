//! Quick votes (issue 17): inserted once, never updated. They are read
//! with the loop's interviews (`loops::bundle_from_row`).

use diesel::prelude::*;

use super::DbConn;
use super::models::QuickVoteRow;
use super::schema::quick_votes;

/// Inserts a quick vote. The caller holds the loop's lock and has checked
/// there is none; the unique key on `interview_id` stands behind that.
pub fn insert(conn: &mut DbConn, row: &QuickVoteRow) -> QueryResult<()> {
    diesel::insert_into(quick_votes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}
