//! The competency catalogue and candidates.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::models::{CandidateRow, CompetencyRow, UserRow};
use super::schema::{
    candidates, competencies, interview_competencies, interviews, loop_competencies, users,
};
use super::types::{CandidateId, CompetencyId, LoopId, UserId};

pub fn competencies(conn: &mut DbConn, include_retired: bool) -> QueryResult<Vec<CompetencyRow>> {
    let mut q = competencies::table
        .select(CompetencyRow::as_select())
        .order((competencies::name.asc(), competencies::id.asc()))
        .into_boxed();
    if !include_retired {
        q = q.filter(competencies::retired.eq(false));
    }
    q.load(conn)
}

pub fn competency(conn: &mut DbConn, id: CompetencyId) -> QueryResult<Option<CompetencyRow>> {
    competencies::table
        .find(id)
        .select(CompetencyRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn competencies_by_ids(
    conn: &mut DbConn,
    ids: &[CompetencyId],
) -> QueryResult<HashMap<CompetencyId, CompetencyRow>> {
    let rows: Vec<CompetencyRow> = competencies::table
        .filter(competencies::id.eq_any(ids))
        .select(CompetencyRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

pub fn insert_competency(conn: &mut DbConn, row: &CompetencyRow) -> QueryResult<()> {
    diesel::insert_into(competencies::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = competencies)]
pub struct CompetencyChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub retired: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_competency(
    conn: &mut DbConn,
    id: CompetencyId,
    c: &CompetencyChanges,
) -> QueryResult<CompetencyRow> {
    diesel::update(competencies::table.find(id))
        .set(c)
        .returning(competencies::all_columns)
        .get_result(conn)
}

pub fn users_by_ids(conn: &mut DbConn, ids: &[UserId]) -> QueryResult<HashMap<UserId, UserRow>> {
    let rows: Vec<UserRow> = users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// The people a loop names: `named` (its hiring manager, Bar Raiser,
/// recruiter and reverse-shadow mentor, or the Bar Raiser again) and `interviewers`, each as the caller read them.
///
/// SQLite cannot keep a statement with an `IN` list of binds prepared
/// (diesel re-prepares it on every call: a fifth of a loop view's time), so
/// there the loop's interviewers come from a sub-select and the four named
/// people from fixed binds; anyone the caller saw that the sub-select missed
/// (an edit between the two reads) is then fetched by id. PostgreSQL binds
/// the whole list as one array (`= ANY($1)`), prepared once.
pub fn loop_users(
    conn: &mut DbConn,
    loop_id: LoopId,
    named: [UserId; 4],
    interviewers: &[UserId],
) -> QueryResult<HashMap<UserId, UserRow>> {
    let mut wanted: Vec<UserId> = named.to_vec();
    wanted.extend_from_slice(interviewers);
    if matches!(conn, DbConn::Postgres(_)) {
        return users_by_ids(conn, &wanted);
    }
    let rows: Vec<UserRow> = users::table
        .filter(
            users::id
                .eq_any(
                    interviews::table
                        .filter(interviews::loop_id.eq(loop_id))
                        .select(interviews::interviewer_id),
                )
                .or(users::id.eq(named[0]))
                .or(users::id.eq(named[1]))
                .or(users::id.eq(named[2]))
                .or(users::id.eq(named[3])),
        )
        .select(UserRow::as_select())
        .load(conn)?;
    let found = rows.into_iter().map(|r| (r.id, r)).collect();
    with_missing(conn, found, &wanted, users_by_ids)
}

/// The competencies `ids` of a loop (required, or assigned to its
/// interviews); on SQLite through sub-selects, as [`loop_users`] explains.
pub fn loop_competencies(
    conn: &mut DbConn,
    loop_id: LoopId,
    ids: &[CompetencyId],
) -> QueryResult<HashMap<CompetencyId, CompetencyRow>> {
    if matches!(conn, DbConn::Postgres(_)) {
        return competencies_by_ids(conn, ids);
    }
    let rows: Vec<CompetencyRow> = competencies::table
        .filter(
            competencies::id
                .eq_any(
                    loop_competencies::table
                        .filter(loop_competencies::loop_id.eq(loop_id))
                        .select(loop_competencies::competency_id),
                )
                .or(competencies::id.eq_any(
                    interview_competencies::table
                        .inner_join(interviews::table)
                        .filter(interviews::loop_id.eq(loop_id))
                        .select(interview_competencies::competency_id),
                )),
        )
        .select(CompetencyRow::as_select())
        .load(conn)?;
    let found = rows.into_iter().map(|r| (r.id, r)).collect();
    with_missing(conn, found, ids, competencies_by_ids)
}

/// A lookup of rows by their ids.
type ByIds<K, T> = fn(&mut DbConn, &[K]) -> QueryResult<HashMap<K, T>>;

/// `found`, plus whichever of `wanted` it lacks, fetched by id (an edit of
/// the loop between the caller's read and the sub-select; rare).
fn with_missing<K: Copy + Eq + std::hash::Hash, T>(
    conn: &mut DbConn,
    mut found: HashMap<K, T>,
    wanted: &[K],
    by_ids: ByIds<K, T>,
) -> QueryResult<HashMap<K, T>> {
    let missing: Vec<K> = wanted
        .iter()
        .copied()
        .filter(|id| !found.contains_key(id))
        .collect();
    if !missing.is_empty() {
        found.extend(by_ids(conn, &missing)?);
    }
    Ok(found)
}

// --- candidates -------------------------------------------------------------

pub fn candidate(conn: &mut DbConn, id: CandidateId) -> QueryResult<Option<CandidateRow>> {
    candidates::table
        .find(id)
        .select(CandidateRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_candidate(conn: &mut DbConn, row: &CandidateRow) -> QueryResult<()> {
    diesel::insert_into(candidates::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = candidates)]
pub struct CandidateChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub email_lower: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub links: Option<String>,
    pub notes: Option<Option<String>>,
    pub erased_at: Option<Option<NaiveDateTime>>,
    pub erased_by: Option<Option<UserId>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_candidate(
    conn: &mut DbConn,
    id: CandidateId,
    c: &CandidateChanges,
) -> QueryResult<CandidateRow> {
    diesel::update(candidates::table.find(id))
        .set(c)
        .returning(candidates::all_columns)
        .get_result(conn)
}

pub fn candidate_page(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, CandidateId)>,
    limit: i64,
) -> QueryResult<Vec<CandidateRow>> {
    let mut q = candidates::table
        .select(CandidateRow::as_select())
        .order((candidates::created_at.desc(), candidates::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            candidates::created_at
                .lt(at)
                .or(candidates::created_at.eq(at).and(candidates::id.lt(id))),
        );
    }
    q.load(conn)
}

pub fn candidate_names(
    conn: &mut DbConn,
    ids: &[CandidateId],
) -> QueryResult<HashMap<CandidateId, CandidateRow>> {
    let rows: Vec<CandidateRow> = candidates::table
        .filter(candidates::id.eq_any(ids))
        .select(CandidateRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}
