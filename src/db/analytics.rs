//! The analytics snapshot of decided loops: written once when a loop's
//! outcome becomes final (or by the backfill), read by the analytics
//! queries. Rows only; the figures are `domain::analytics`'s.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    analytics_agreement, analytics_loops, analytics_ratings, analytics_votes, loops,
};
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
    /// Last interview end → debrief opened.
    pub debrief_open_hours: Option<f64>,
    /// Debrief opened → final decision.
    pub decision_hours: Option<f64>,
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
    /// Interview end → seal.
    pub seal_hours: f64,
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

/// One unit's coincidences (`domain::analytics::Coincidences`, upper
/// triangle; zero when it has a single value, `pairable` 0): of a loop's
/// sealed votes (`subject` empty) or of one competency's sealed ratings
/// (`subject` its id).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = analytics_agreement)]
pub struct AnalyticsAgreementRow {
    pub loop_id: LoopId,
    pub subject: String,
    pub decided_at: NaiveDateTime,
    pub pairable: i32,
    pub o11: f64,
    pub o12: f64,
    pub o13: f64,
    pub o14: f64,
    pub o22: f64,
    pub o23: f64,
    pub o24: f64,
    pub o33: f64,
    pub o34: f64,
    pub o44: f64,
}

impl AnalyticsAgreementRow {
    /// `o`: the unit's upper triangle, `None` when it is not pairable.
    pub fn new(
        loop_id: LoopId,
        subject: &str,
        decided_at: NaiveDateTime,
        o: Option<[f64; 10]>,
    ) -> Self {
        let pairable = i32::from(o.is_some());
        let [o11, o12, o13, o14, o22, o23, o24, o33, o34, o44] = o.unwrap_or_default();
        AnalyticsAgreementRow {
            loop_id,
            subject: subject.to_string(),
            decided_at,
            pairable,
            o11,
            o12,
            o13,
            o14,
            o22,
            o23,
            o24,
            o33,
            o34,
            o44,
        }
    }
}

/// A loop's snapshot and its voters' rows, written together.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub lp: AnalyticsLoopRow,
    pub votes: Vec<AnalyticsVoteRow>,
    pub ratings: Vec<AnalyticsRatingRow>,
    pub agreement: Vec<AnalyticsAgreementRow>,
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
    for a in &s.agreement {
        diesel::insert_into(analytics_agreement::table)
            .values(a)
            .execute(conn)?;
    }
    Ok(true)
}

/// Decided loops without a snapshot, oldest first, at most `limit`.
///
/// `NOT EXISTS`, not `id != ALL (SELECT …)`: PostgreSQL cannot turn the
/// latter into an anti-join (it must honour NULLs), and once the snapshot
/// ids outgrow `work_mem` it compares every decided loop with every
/// snapshot — minutes at start-up with 70 000 decided loops, during which
/// the server does not answer.
pub fn missing(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<LoopId>> {
    use diesel::dsl::{exists, not};
    loops::table
        .filter(loops::state.eq(LoopState::Decided))
        .filter(not(exists(
            analytics_loops::table.filter(analytics_loops::loop_id.eq(loops::id)),
        )))
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

/// What the summary reads of each loop in `scope`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = analytics_loops)]
pub struct LoopFigures {
    pub bar_raiser_id: UserId,
    pub decided_hire: bool,
    pub vetoed: bool,
    pub changed: i32,
    pub toward_hiring_manager: Option<i32>,
    pub convergence: Option<f64>,
    pub debrief_open_hours: Option<f64>,
    pub decision_hours: Option<f64>,
}

pub fn loop_figures_in(conn: &mut DbConn, scope: &Scope) -> QueryResult<Vec<LoopFigures>> {
    let mut q = in_period!(analytics_loops::table.into_boxed(), analytics_loops, scope);
    if let Some(p) = scope.position.clone() {
        q = q.filter(analytics_loops::position.eq(p));
    }
    if let Some(c) = scope.competency {
        q = q.filter(analytics_loops::loop_id.eq_any(rated!(c)));
    }
    q.select(LoopFigures::as_select()).load(conn)
}

/// Hours from interview end to seal of every voter in `scope`.
pub fn seal_hours_in(conn: &mut DbConn, scope: &Scope) -> QueryResult<Vec<f64>> {
    let mut q = in_period!(analytics_votes::table.into_boxed(), analytics_votes, scope);
    if let Some(p) = scope.position.clone() {
        q = q.filter(analytics_votes::loop_id.eq_any(for_position!(p)));
    }
    if let Some(c) = scope.competency {
        q = q.filter(analytics_votes::loop_id.eq_any(rated!(c)));
    }
    q.select(analytics_votes::seal_hours).load(conn)
}

/// The summed coincidences of the units in `scope`, per subject (empty:
/// the sealed votes; else a competency id; with a competency in `scope`,
/// the votes and that competency only): `(subject, pairable units, upper
/// triangle)`.
pub fn agreement_in(
    conn: &mut DbConn,
    scope: &Scope,
) -> QueryResult<Vec<(String, i64, [f64; 10])>> {
    use analytics_agreement as a;
    use diesel::dsl::sum;
    let mut q = a::table
        .group_by(a::subject)
        .select((
            a::subject,
            sum(a::pairable),
            (
                sum(a::o11),
                sum(a::o12),
                sum(a::o13),
                sum(a::o14),
                sum(a::o22),
                sum(a::o23),
                sum(a::o24),
                sum(a::o33),
                sum(a::o34),
                sum(a::o44),
            ),
        ))
        .into_boxed();
    q = in_period!(q, a, scope);
    if let Some(p) = scope.position.clone() {
        q = q.filter(a::loop_id.eq_any(for_position!(p)));
    }
    if let Some(c) = scope.competency {
        q = q
            .filter(a::loop_id.eq_any(rated!(c)))
            .filter(a::subject.eq("").or(a::subject.eq(c)));
    }
    type Sums = (
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<(String, Option<i64>, Sums)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(subject, units, s)| {
            let o = [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7, s.8, s.9].map(|v| v.unwrap_or(0.0));
            (subject, units.unwrap_or(0), o)
        })
        .collect())
}
