//! The analytics snapshot of decided loops: written once when a loop's
//! outcome becomes final (or by the backfill), read by the analytics
//! queries. Rows only; the figures are `domain::analytics`'s.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{analytics_loops, analytics_ratings, analytics_votes, loops};
use super::types::{CompetencyId, InterviewId, LoopId, UserId};
use crate::domain::types::LoopState;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = analytics_loops)]
pub struct AnalyticsLoopRow {
    pub loop_id: LoopId,
    pub decided_at: NaiveDateTime,
    pub position: String,
    pub hiring_manager_id: UserId,
    pub bar_raiser_id: UserId,
    pub decided_hire: bool,
    pub vetoed: bool,
    pub last_interview_end_at: Option<NaiveDateTime>,
    pub debrief_opened_at: Option<NaiveDateTime>,
    pub voters: i32,
    pub changed: i32,
    pub toward_hiring_manager: Option<i32>,
    pub toward_bar_raiser: Option<i32>,
    pub spread_sealed: Option<f64>,
    pub spread_debrief: Option<f64>,
    pub convergence: Option<f64>,
    pub bar_raiser_overruled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = analytics_votes)]
pub struct AnalyticsVoteRow {
    pub interview_id: InterviewId,
    pub loop_id: LoopId,
    pub interviewer_id: UserId,
    pub decided_at: NaiveDateTime,
    pub sealed_vote: i32,
    pub debrief_vote: Option<i32>,
    pub others_mean: Option<f64>,
    pub hired: bool,
    pub ended_at: NaiveDateTime,
    pub sealed_at: NaiveDateTime,
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = analytics_ratings)]
pub struct AnalyticsRatingRow {
    pub interview_id: InterviewId,
    pub competency_id: CompetencyId,
    pub loop_id: LoopId,
    pub decided_at: NaiveDateTime,
    pub rating: i32,
}

/// A loop's snapshot and its voters' rows, written together.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub lp: AnalyticsLoopRow,
    pub votes: Vec<AnalyticsVoteRow>,
    pub ratings: Vec<AnalyticsRatingRow>,
}

/// Writes a loop's snapshot, unless it has one already (a decided loop
/// never changes, so the first capture stands). Returns whether it wrote.
pub fn insert(conn: &mut DbConn, s: &Snapshot) -> QueryResult<bool> {
    let exists: i64 = analytics_loops::table
        .filter(analytics_loops::loop_id.eq(&s.lp.loop_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(analytics_loops::table)
        .values(&s.lp)
        .execute(conn)?;
    for v in &s.votes {
        diesel::insert_into(analytics_votes::table)
            .values(v)
            .execute(conn)?;
    }
    for r in &s.ratings {
        diesel::insert_into(analytics_ratings::table)
            .values(r)
            .execute(conn)?;
    }
    Ok(true)
}

/// Decided loops without a snapshot, oldest first, at most `limit`.
pub fn missing(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<LoopId>> {
    loops::table
        .filter(loops::state.eq(LoopState::Decided))
        .filter(loops::id.ne_all(analytics_loops::table.select(analytics_loops::loop_id)))
        .order(loops::decided_at.asc())
        .select(loops::id)
        .limit(limit)
        .load(conn)
}

pub fn loop_row(conn: &mut DbConn, loop_id: LoopId) -> QueryResult<Option<AnalyticsLoopRow>> {
    analytics_loops::table
        .find(loop_id)
        .select(AnalyticsLoopRow::as_select())
        .get_result(conn)
        .optional()
}

/// Which decided loops a query covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub position: Option<String>,
    /// Only loops where this competency was rated.
    pub competency: Option<CompetencyId>,
}

/// `$q` limited to the period of `$scope`, by `$table`'s `decided_at`.
macro_rules! in_period {
    ($q:expr, $table:ident, $scope:expr) => {{
        let mut q = $q;
        if let Some(from) = $scope.from {
            q = q.filter($table::decided_at.ge(from));
        }
        if let Some(to) = $scope.to {
            q = q.filter($table::decided_at.lt(to));
        }
        q
    }};
}

/// Loops where the competency `$c` was rated.
macro_rules! rated {
    ($c:expr) => {
        analytics_ratings::table
            .filter(analytics_ratings::competency_id.eq($c))
            .select(analytics_ratings::loop_id)
    };
}

/// Loops for the position `$p`.
macro_rules! for_position {
    ($p:expr) => {
        analytics_loops::table
            .filter(analytics_loops::position.eq($p))
            .select(analytics_loops::loop_id)
    };
}

pub fn loops_in(conn: &mut DbConn, scope: &Scope) -> QueryResult<Vec<AnalyticsLoopRow>> {
    let mut q = in_period!(analytics_loops::table.into_boxed(), analytics_loops, scope);
    if let Some(p) = scope.position.clone() {
        q = q.filter(analytics_loops::position.eq(p));
    }
    if let Some(c) = scope.competency {
        q = q.filter(analytics_loops::loop_id.eq_any(rated!(c)));
    }
    q.order(analytics_loops::decided_at.asc())
        .select(AnalyticsLoopRow::as_select())
        .load(conn)
}

/// Voter rows in `scope`, of one interviewer when `interviewer` is given.
pub fn votes_in(
    conn: &mut DbConn,
    scope: &Scope,
    interviewer: Option<UserId>,
) -> QueryResult<Vec<AnalyticsVoteRow>> {
    let mut q = in_period!(analytics_votes::table.into_boxed(), analytics_votes, scope);
    if let Some(p) = scope.position.clone() {
        q = q.filter(analytics_votes::loop_id.eq_any(for_position!(p)));
    }
    if let Some(c) = scope.competency {
        q = q.filter(analytics_votes::loop_id.eq_any(rated!(c)));
    }
    if let Some(i) = interviewer {
        q = q.filter(analytics_votes::interviewer_id.eq(i));
    }
    q.order((
        analytics_votes::decided_at.asc(),
        analytics_votes::interview_id.asc(),
    ))
    .select(AnalyticsVoteRow::as_select())
    .load(conn)
}

/// Ratings in `scope`; with a competency, that competency's only.
pub fn ratings_in(conn: &mut DbConn, scope: &Scope) -> QueryResult<Vec<AnalyticsRatingRow>> {
    let mut q = in_period!(
        analytics_ratings::table.into_boxed(),
        analytics_ratings,
        scope
    );
    if let Some(p) = scope.position.clone() {
        q = q.filter(analytics_ratings::loop_id.eq_any(for_position!(p)));
    }
    if let Some(c) = scope.competency {
        q = q.filter(analytics_ratings::competency_id.eq(c));
    }
    q.select(AnalyticsRatingRow::as_select()).load(conn)
}
