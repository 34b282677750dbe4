//! Feedback, its ratings and addenda, the read log and debrief votes.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::DbConn;
use super::kept::Fixed;
use super::models::{AddendumRow, DebriefVoteRow, FeedbackRow, RatingRow, ReadRow};
use super::schema::{
    competencies, debrief_votes, feedback, feedback_addenda, feedback_ratings, feedback_reads,
};
use super::types::{FeedbackId, InterviewId, LoopId};
use crate::domain::proof;
use crate::domain::types::{StoredFeedbackState, Vote};

pub fn by_interview(
    conn: &mut DbConn,
    interview_id: InterviewId,
) -> QueryResult<Option<FeedbackRow>> {
    feedback::table
        .filter(feedback::interview_id.eq(interview_id))
        .select(FeedbackRow::as_select())
        .get_result(conn)
        .optional()
}

/// Ratings per feedback id, of feedback of any loops (the export).
pub fn ratings(
    conn: &mut DbConn,
    feedback_ids: &[FeedbackId],
) -> QueryResult<HashMap<FeedbackId, Vec<RatingRow>>> {
    let rows: Vec<RatingRow> = match feedback_ids {
        // One feedback (every seal and draft save): a plain key lookup,
        // which stays prepared where an `IN` list would not.
        [one] => feedback_ratings::table
            .filter(feedback_ratings::feedback_id.eq(*one))
            .select(RatingRow::as_select())
            .order(feedback_ratings::competency_id)
            .load(conn)?,
        _ => feedback_ratings::table
            .filter(feedback_ratings::feedback_id.eq_any(feedback_ids))
            .select(RatingRow::as_select())
            .order((
                feedback_ratings::feedback_id,
                feedback_ratings::competency_id,
            ))
            .load(conn)?,
    };
    Ok(by_feedback(rows, |r| r.feedback_id))
}

/// One feedback's ratings, each with its competency's name (a seal hashes
/// the ratings and answers with the names): one statement.
pub fn named_ratings(
    conn: &mut DbConn,
    feedback_id: FeedbackId,
) -> QueryResult<Vec<(RatingRow, Option<String>)>> {
    feedback_ratings::table
        .left_join(competencies::table.on(competencies::id.eq(feedback_ratings::competency_id)))
        .filter(feedback_ratings::feedback_id.eq(feedback_id))
        .select((RatingRow::as_select(), competencies::name.nullable()))
        .order(feedback_ratings::competency_id)
        .load(conn)
}

/// Ratings per feedback id, of some feedback of one loop.
///
/// SQLite cannot keep a statement with an `IN` list of binds prepared, so
/// there the loop's ratings come through a sub-select by loop and are
/// narrowed to `feedback_ids` here; PostgreSQL binds the list as one array.
pub fn loop_ratings(
    conn: &mut DbConn,
    loop_id: LoopId,
    feedback_ids: &[FeedbackId],
) -> QueryResult<HashMap<FeedbackId, Vec<RatingRow>>> {
    if matches!(conn, DbConn::Postgres(_)) || feedback_ids.len() <= 1 {
        return ratings(conn, feedback_ids);
    }
    let rows: Vec<RatingRow> = feedback_ratings::table
        .filter(feedback_ratings::feedback_id.eq_any(of_loop(loop_id)))
        .select(RatingRow::as_select())
        .order((
            feedback_ratings::feedback_id,
            feedback_ratings::competency_id,
        ))
        .load(conn)?;
    Ok(only(by_feedback(rows, |r| r.feedback_id), feedback_ids))
}

/// Addenda per feedback id, oldest first, of feedback of any loops.
pub fn addenda(
    conn: &mut DbConn,
    feedback_ids: &[FeedbackId],
) -> QueryResult<HashMap<FeedbackId, Vec<AddendumRow>>> {
    let rows: Vec<AddendumRow> = feedback_addenda::table
        .filter(feedback_addenda::feedback_id.eq_any(feedback_ids))
        .select(AddendumRow::as_select())
        .order((feedback_addenda::created_at, feedback_addenda::id))
        .load(conn)?;
    Ok(by_feedback(rows, |a| a.feedback_id))
}

/// Addenda per feedback id, of some feedback of one loop (see
/// [`loop_ratings`]).
pub fn loop_addenda(
    conn: &mut DbConn,
    loop_id: LoopId,
    feedback_ids: &[FeedbackId],
) -> QueryResult<HashMap<FeedbackId, Vec<AddendumRow>>> {
    if matches!(conn, DbConn::Postgres(_)) {
        return addenda(conn, feedback_ids);
    }
    let rows: Vec<AddendumRow> = feedback_addenda::table
        .filter(feedback_addenda::feedback_id.eq_any(of_loop(loop_id)))
        .select(AddendumRow::as_select())
        .order((feedback_addenda::created_at, feedback_addenda::id))
        .load(conn)?;
    Ok(only(by_feedback(rows, |a| a.feedback_id), feedback_ids))
}

/// The ids of a loop's feedback, as a sub-select.
fn of_loop(
    loop_id: LoopId,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<feedback::table, diesel::dsl::Eq<feedback::loop_id, LoopId>>,
    feedback::id,
> {
    feedback::table
        .filter(feedback::loop_id.eq(loop_id))
        .select(feedback::id)
}

fn by_feedback<T>(rows: Vec<T>, key: impl Fn(&T) -> FeedbackId) -> HashMap<FeedbackId, Vec<T>> {
    let mut map: HashMap<FeedbackId, Vec<T>> = HashMap::new();
    for r in rows {
        map.entry(key(&r)).or_default().push(r);
    }
    map
}

fn only<T>(
    mut map: HashMap<FeedbackId, Vec<T>>,
    ids: &[FeedbackId],
) -> HashMap<FeedbackId, Vec<T>> {
    map.retain(|k, _| ids.contains(k));
    map
}

pub fn insert(conn: &mut DbConn, row: &FeedbackRow) -> QueryResult<()> {
    diesel::insert_into(feedback::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Replaces the draft's content and bumps its revision.
pub fn update_draft(
    conn: &mut DbConn,
    id: FeedbackId,
    vote: Option<Vote>,
    summary: Option<&str>,
    revision: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<()> {
    Fixed::new(
        &[
            "UPDATE feedback SET vote = ",
            ", summary = ",
            ", revision = ",
            ", updated_at = ",
            " WHERE id = ",
            "",
        ],
        (
            vote.into_sql::<Nullable<Text>>(),
            summary.into_sql::<Nullable<Text>>(),
            revision.into_sql::<Integer>(),
            at.into_sql::<Timestamp>(),
            id.into_sql::<Text>(),
        ),
    )
    .execute(conn)
    .map(|_| ())
}

pub fn replace_ratings(
    conn: &mut DbConn,
    feedback_id: FeedbackId,
    rows: &[RatingRow],
) -> QueryResult<()> {
    diesel::delete(feedback_ratings::table.filter(feedback_ratings::feedback_id.eq(feedback_id)))
        .execute(conn)?;
    for r in rows {
        Fixed::new(
            &[
                "INSERT INTO feedback_ratings (feedback_id, competency_id, rating, evidence) \
                 VALUES (",
                ", ",
                ", ",
                ", ",
                ")",
            ],
            (
                r.feedback_id.into_sql::<Text>(),
                r.competency_id.into_sql::<Text>(),
                r.rating.into_sql::<Nullable<Integer>>(),
                r.evidence.as_deref().into_sql::<Nullable<Text>>(),
            ),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Seals a draft. Returns false when it was not a draft any more.
pub fn seal(
    conn: &mut DbConn,
    id: FeedbackId,
    at: chrono::NaiveDateTime,
    sha: &str,
    salt: &str,
) -> QueryResult<bool> {
    let n = Fixed::new(
        &[
            "UPDATE feedback SET state = ",
            ", sealed_at = ",
            ", content_sha256 = ",
            ", receipt_salt = ",
            ", updated_at = ",
            " WHERE id = ",
            " AND state = ",
            "",
        ],
        (
            StoredFeedbackState::Sealed.into_sql::<Text>(),
            at.into_sql::<Timestamp>(),
            sha.into_sql::<Text>(),
            salt.into_sql::<Text>(),
            at.into_sql::<Timestamp>(),
            id.into_sql::<Text>(),
            StoredFeedbackState::Draft.into_sql::<Text>(),
        ),
    )
    .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_addendum(conn: &mut DbConn, row: &AddendumRow) -> QueryResult<()> {
    diesel::insert_into(feedback_addenda::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts a read-log row. Only `workflows::feedback::record_read` calls
/// this: it records the row's chain event in the same transaction, which
/// is what makes an edited, deleted or invented row fail `verify` (rule 8).
pub fn insert_read(conn: &mut DbConn, row: &ReadRow) -> QueryResult<()> {
    diesel::insert_into(feedback_reads::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A read-log row as the proof sees it.
pub fn read_facts(row: &ReadRow) -> proof::ReadFacts {
    proof::ReadFacts {
        id: row.id.into(),
        feedback_id: row.feedback_id.into(),
        reader: row.reader_id.into(),
        via: row.via,
        reason: row.reason.clone(),
        at: super::from_db(row.read_at),
    }
}

/// The loop's read log, oldest first.
pub fn reads(conn: &mut DbConn, loop_id: LoopId) -> QueryResult<Vec<ReadRow>> {
    feedback_reads::table
        .filter(feedback_reads::loop_id.eq(loop_id))
        .select(ReadRow::as_select())
        .order((feedback_reads::read_at, feedback_reads::id))
        .load(conn)
}

// --- debrief votes ----------------------------------------------------------

pub fn votes(conn: &mut DbConn, loop_id: LoopId) -> QueryResult<Vec<DebriefVoteRow>> {
    debrief_votes::table
        .filter(debrief_votes::loop_id.eq(loop_id))
        .select(DebriefVoteRow::as_select())
        .load(conn)
}

/// Casts or changes a debrief vote (in the loop-locked transaction, so a
/// read-then-write is race free on both backends).
pub fn put_vote(conn: &mut DbConn, row: &DebriefVoteRow) -> QueryResult<()> {
    let exists: i64 = debrief_votes::table
        .filter(debrief_votes::loop_id.eq(&row.loop_id))
        .filter(debrief_votes::voter_id.eq(&row.voter_id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(debrief_votes::table)
            .values(row)
            .execute(conn)?;
    } else {
        diesel::update(
            debrief_votes::table
                .filter(debrief_votes::loop_id.eq(&row.loop_id))
                .filter(debrief_votes::voter_id.eq(&row.voter_id)),
        )
        .set((
            debrief_votes::vote.eq(&row.vote),
            debrief_votes::rationale.eq(&row.rationale),
            debrief_votes::updated_at.eq(row.updated_at),
            debrief_votes::receipt_salt.eq(&row.receipt_salt),
        ))
        .execute(conn)?;
    }
    Ok(())
}
