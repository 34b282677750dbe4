//! Loops, their interviews and competencies, loaded together.

use std::collections::HashMap;

use diesel::prelude::*;

use super::models::{FeedbackRow, InterviewCompetencyRow, InterviewRow, LoopRow};
use super::schema::{feedback, interview_competencies, interviews, loop_competencies, loops};
use super::{DbConn, now, to_db};

/// A loop with everything needed to authorise and describe it.
#[derive(Debug, Clone)]
pub struct LoopBundle {
    pub row: LoopRow,
    pub required_competency_ids: Vec<String>,
    pub interviews: Vec<InterviewRow>,
    /// Competency ids per interview id, in assigned order.
    pub competencies: HashMap<String, Vec<String>>,
    /// Feedback per interview id (content not loaded).
    pub feedback: HashMap<String, FeedbackRow>,
}

impl LoopBundle {
    pub fn interview(&self, id: &str) -> Option<&InterviewRow> {
        self.interviews.iter().find(|i| i.id == id)
    }

    pub fn interview_of(&self, user_id: &str) -> Option<&InterviewRow> {
        self.interviews.iter().find(|i| i.interviewer_id == user_id)
    }

    pub fn competencies_of(&self, interview_id: &str) -> &[String] {
        self.competencies
            .get(interview_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

pub fn row(conn: &mut DbConn, id: &str) -> QueryResult<Option<LoopRow>> {
    loops::table
        .find(id)
        .select(LoopRow::as_select())
        .first(conn)
        .optional()
}

/// Takes the loop's row lock for the rest of the transaction (on SQLite the
/// write transaction already excludes other writers) and returns the row.
/// Every change to a loop, its interviews or its feedback starts here, so
/// changes to one loop serialise and always see its latest state.
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<Option<LoopRow>> {
    diesel::update(loops::table.find(id))
        .set(loops::version.eq(loops::version + 1))
        .returning(loops::all_columns)
        .get_result(conn)
        .optional()
}

pub fn bundle_from_row(conn: &mut DbConn, row: LoopRow) -> QueryResult<LoopBundle> {
    let required_competency_ids = loop_competencies::table
        .filter(loop_competencies::loop_id.eq(&row.id))
        .select(loop_competencies::competency_id)
        .order(loop_competencies::competency_id)
        .load(conn)?;
    let interviews: Vec<InterviewRow> = interviews::table
        .filter(interviews::loop_id.eq(&row.id))
        .select(InterviewRow::as_select())
        .order((interviews::starts_at.asc(), interviews::id.asc()))
        .load(conn)?;
    let ids: Vec<&String> = interviews.iter().map(|i| &i.id).collect();
    let links: Vec<InterviewCompetencyRow> = interview_competencies::table
        .filter(interview_competencies::interview_id.eq_any(&ids))
        .select(InterviewCompetencyRow::as_select())
        .order((
            interview_competencies::interview_id,
            interview_competencies::position,
        ))
        .load(conn)?;
    let mut competencies: HashMap<String, Vec<String>> = HashMap::new();
    for l in links {
        competencies
            .entry(l.interview_id)
            .or_default()
            .push(l.competency_id);
    }
    let fb: Vec<FeedbackRow> = feedback::table
        .filter(feedback::loop_id.eq(&row.id))
        .select(FeedbackRow::as_select())
        .load(conn)?;
    let feedback = fb
        .into_iter()
        .map(|f| (f.interview_id.clone(), f))
        .collect();
    Ok(LoopBundle {
        row,
        required_competency_ids,
        interviews,
        competencies,
        feedback,
    })
}

pub fn bundle(conn: &mut DbConn, id: &str) -> QueryResult<Option<LoopBundle>> {
    match row(conn, id)? {
        Some(r) => bundle_from_row(conn, r).map(Some),
        None => Ok(None),
    }
}

/// Locks the loop, then loads it whole.
pub fn lock_bundle(conn: &mut DbConn, id: &str) -> QueryResult<Option<LoopBundle>> {
    match lock(conn, id)? {
        Some(r) => bundle_from_row(conn, r).map(Some),
        None => Ok(None),
    }
}

pub fn touch(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(loops::table.find(id))
        .set(loops::updated_at.eq(to_db(now())))
        .execute(conn)
        .map(|_| ())
}
