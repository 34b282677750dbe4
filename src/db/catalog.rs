//! The competency catalogue and candidates.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::models::{CandidateRow, CompetencyRow, UserRow};
use super::schema::{candidates, competencies, users};

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

pub fn competency(conn: &mut DbConn, id: &str) -> QueryResult<Option<CompetencyRow>> {
    competencies::table
        .find(id)
        .select(CompetencyRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn competencies_by_ids(
    conn: &mut DbConn,
    ids: &[&str],
) -> QueryResult<HashMap<String, CompetencyRow>> {
    let rows: Vec<CompetencyRow> = competencies::table
        .filter(competencies::id.eq_any(ids))
        .select(CompetencyRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
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
    id: &str,
    c: &CompetencyChanges,
) -> QueryResult<CompetencyRow> {
    diesel::update(competencies::table.find(id))
        .set(c)
        .returning(competencies::all_columns)
        .get_result(conn)
}

pub fn users_by_ids(conn: &mut DbConn, ids: &[&str]) -> QueryResult<HashMap<String, UserRow>> {
    let rows: Vec<UserRow> = users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
}

// --- candidates -------------------------------------------------------------

pub fn candidate(conn: &mut DbConn, id: &str) -> QueryResult<Option<CandidateRow>> {
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
    pub erased_by: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_candidate(
    conn: &mut DbConn,
    id: &str,
    c: &CandidateChanges,
) -> QueryResult<CandidateRow> {
    diesel::update(candidates::table.find(id))
        .set(c)
        .returning(candidates::all_columns)
        .get_result(conn)
}

pub fn candidate_page(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, String)>,
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
    ids: &[&str],
) -> QueryResult<HashMap<String, CandidateRow>> {
    let rows: Vec<CandidateRow> = candidates::table
        .filter(candidates::id.eq_any(ids))
        .select(CandidateRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
}
