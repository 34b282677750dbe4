//! The analytics snapshot of decided loops: written once when a loop's
//! outcome becomes final (or by the backfill), read by the analytics
//! queries. Rows only; the figures are `domain::analytics`'s.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Date, Double, Integer, Text};

use super::DbConn;
use super::schema::{
    analytics_agreement, analytics_agreement_days, analytics_loops, analytics_ratings,
    analytics_votes, loops,
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
    /// Voters with a quick vote; of those, the ones whose sealed vote
    /// amended it, and the ones whose final vote differs from it.
    pub quick_voted: i32,
    pub amended: i32,
    pub quick_to_final_changed: i32,
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
    /// The quick vote, scored like `sealed_vote`; `None` without one.
    pub quick_vote: Option<i32>,
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

    /// The unit's upper triangle, in the stored order.
    pub fn upper(&self) -> [f64; 10] {
        [
            self.o11, self.o12, self.o13, self.o14, self.o22, self.o23, self.o24, self.o33,
            self.o34, self.o44,
        ]
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
    roll_up(conn, &s.agreement)?;
    Ok(true)
}

/// Adds a day's coincidences to its sums, written once with `$n` placeholders.
const ADD_DAY: &str = "INSERT INTO analytics_agreement_days \
     (day, subject, pairable, o11, o12, o13, o14, o22, o23, o24, o33, o34, o44) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (day, subject) DO UPDATE SET \
       pairable = analytics_agreement_days.pairable + excluded.pairable, \
       o11 = analytics_agreement_days.o11 + excluded.o11, \
       o12 = analytics_agreement_days.o12 + excluded.o12, \
       o13 = analytics_agreement_days.o13 + excluded.o13, \
       o14 = analytics_agreement_days.o14 + excluded.o14, \
       o22 = analytics_agreement_days.o22 + excluded.o22, \
       o23 = analytics_agreement_days.o23 + excluded.o23, \
       o24 = analytics_agreement_days.o24 + excluded.o24, \
       o33 = analytics_agreement_days.o33 + excluded.o33, \
       o34 = analytics_agreement_days.o34 + excluded.o34, \
       o44 = analytics_agreement_days.o44 + excluded.o44";

/// Adds newly captured coincidence rows to the sums of their UTC day and
/// subject (`analytics_agreement_days`), in the caller's transaction: the
/// per-loop capture and the bench seeder's bulk capture both call it with
/// the rows they insert, so the roll-up always equals the per-loop rows
/// summed by day. Captured rows are never rewritten or deleted; a change
/// that empties `analytics_agreement` must empty this table too.
pub fn roll_up(conn: &mut DbConn, rows: &[AnalyticsAgreementRow]) -> QueryResult<()> {
    let mut days: BTreeMap<(NaiveDate, &str), (i32, [f64; 10])> = BTreeMap::new();
    for r in rows {
        let e = days
            .entry((r.decided_at.date(), r.subject.as_str()))
            .or_default();
        e.0 += r.pairable;
        for (sum, v) in e.1.iter_mut().zip(r.upper()) {
            *sum += v;
        }
    }
    macro_rules! add {
        ($c:expr, $sql:expr, $day:expr, $subject:expr, $pairable:expr, $o:expr) => {
            diesel::sql_query($sql)
                .bind::<Date, _>($day)
                .bind::<Text, _>($subject)
                .bind::<Integer, _>($pairable)
                .bind::<Double, _>($o[0])
                .bind::<Double, _>($o[1])
                .bind::<Double, _>($o[2])
                .bind::<Double, _>($o[3])
                .bind::<Double, _>($o[4])
                .bind::<Double, _>($o[5])
                .bind::<Double, _>($o[6])
                .bind::<Double, _>($o[7])
                .bind::<Double, _>($o[8])
                .bind::<Double, _>($o[9])
                .execute($c)
        };
    }
    for ((day, subject), (pairable, o)) in days {
        match conn {
            DbConn::Postgres(c) => add!(c, ADD_DAY, day, subject, pairable, o)?,
            // SQLite's numbered parameters are `?n`.
            DbConn::Sqlite(c) => add!(c, ADD_DAY.replace('$', "?"), day, subject, pairable, o)?,
        };
    }
    Ok(())
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

/// [`in_period!`] for a query that reads an index ordered by another
/// column: on SQLite the period's bounds are written `+table.decided_at`,
/// which keeps its planner from taking a `decided_at` index and sorting
/// every row of the period in a temporary B-tree (0.4–0.7 s for a year's
/// 320 000 votes at 100 000 loops) instead of walking the ordered index
/// and stopping at the offset (~15 ms). PostgreSQL chooses by its
/// statistics.
macro_rules! in_period_ordered {
    ($q:expr, $table:ident, $scope:expr, $sqlite:expr) => {{
        if $sqlite {
            use diesel::dsl::sql;
            use diesel::sql_types::{Bool, Timestamp};
            let mut q = $q;
            if let Some(from) = $scope.from {
                q = q.filter(
                    sql::<Bool>(concat!("+", stringify!($table), ".decided_at >= "))
                        .bind::<Timestamp, _>(from),
                );
            }
            if let Some(to) = $scope.to {
                q = q.filter(
                    sql::<Bool>(concat!("+", stringify!($table), ".decided_at < "))
                        .bind::<Timestamp, _>(to),
                );
            }
            q
        } else {
            in_period!($q, $table, $scope)
        }
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

/// `analytics_loops` in `scope`, boxed, to be aggregated.
macro_rules! loops_scoped {
    ($scope:expr) => {{
        let mut q = in_period!(analytics_loops::table.into_boxed(), analytics_loops, $scope);
        if let Some(p) = $scope.position.clone() {
            q = q.filter(analytics_loops::position.eq(p));
        }
        if let Some(c) = $scope.competency {
            q = q.filter(analytics_loops::loop_id.eq_any(rated!(c)));
        }
        q
    }};
}

/// `analytics_votes` in `scope`, boxed.
macro_rules! votes_scoped {
    ($scope:expr) => {{
        let mut q = in_period!(analytics_votes::table.into_boxed(), analytics_votes, $scope);
        if let Some(p) = $scope.position.clone() {
            q = q.filter(analytics_votes::loop_id.eq_any(for_position!(p)));
        }
        if let Some(c) = $scope.competency {
            q = q.filter(analytics_votes::loop_id.eq_any(rated!(c)));
        }
        q
    }};
}

/// The summary's sums over the loops in `scope`, added up by the database.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoopTotals {
    pub loops: i64,
    /// Loops where any voter changed their vote.
    pub changed_loops: i64,
    /// Changed votes that moved toward the hiring manager's sealed vote,
    /// and all changed votes, over the loops where the hiring manager cast
    /// one (`toward_hiring_manager` not null).
    pub toward_hiring_manager: i64,
    pub changed_with_hiring_manager: i64,
    /// Sum and number of the loops' convergences (where not null).
    pub convergence_sum: Option<f64>,
    pub convergences: i64,
    /// Voters, quick-voted voters, and of those the amended ones and the
    /// ones whose final vote differs from the quick vote.
    pub voters: i64,
    pub quick_voted: i64,
    pub amended: i64,
    pub quick_to_final_changed: i64,
}

pub fn loop_totals(conn: &mut DbConn, scope: &Scope) -> QueryResult<LoopTotals> {
    use analytics_loops as l;
    use diesel::dsl::{count, count_star, sql, sum};
    use diesel::sql_types::{BigInt, Nullable};
    type Totals = (
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        i64,
        (Option<i64>, Option<i64>, Option<i64>, Option<i64>),
    );
    let (loops, changed_loops, toward, changed_hm, convergence_sum, convergences, quick): Totals =
        loops_scoped!(scope)
            .select((
                count_star(),
                sql::<BigInt>("COALESCE(SUM(CASE WHEN changed > 0 THEN 1 ELSE 0 END), 0)"),
                sum(l::toward_hiring_manager),
                sql::<Nullable<BigInt>>(
                    "SUM(CASE WHEN toward_hiring_manager IS NOT NULL THEN changed END)",
                ),
                sum(l::convergence),
                count(l::convergence),
                (
                    sum(l::voters),
                    sum(l::quick_voted),
                    sum(l::amended),
                    sum(l::quick_to_final_changed),
                ),
            ))
            .get_result(conn)?;
    let (voters, quick_voted, amended, quick_to_final_changed) = quick;
    Ok(LoopTotals {
        loops,
        changed_loops,
        toward_hiring_manager: toward.unwrap_or(0),
        changed_with_hiring_manager: changed_hm.unwrap_or(0),
        convergence_sum,
        convergences,
        voters: voters.unwrap_or(0),
        quick_voted: quick_voted.unwrap_or(0),
        amended: amended.unwrap_or(0),
        quick_to_final_changed: quick_to_final_changed.unwrap_or(0),
    })
}

/// Loops in `scope` per Bar Raiser and ending: `(bar_raiser, vetoed,
/// decided_hire, loops)`.
pub fn bar_raiser_endings(
    conn: &mut DbConn,
    scope: &Scope,
) -> QueryResult<Vec<(UserId, bool, bool, i64)>> {
    use analytics_loops as l;
    use diesel::dsl::count_star;
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    let q = l::table
        .group_by((l::bar_raiser_id, l::vetoed, l::decided_hire))
        .select((l::bar_raiser_id, l::vetoed, l::decided_hire, count_star()))
        .into_boxed();
    // Grouped by walking `analytics_loops_bar_raiser` in its order rather
    // than sorting the period's rows in a temporary B-tree (~45 ms of CPU
    // for a year at 100 000 loops on SQLite, ~5 ms walking the index).
    let mut q = in_period_ordered!(q, analytics_loops, scope, sqlite);
    if let Some(p) = scope.position.clone() {
        q = q.filter(l::position.eq(p));
    }
    if let Some(c) = scope.competency {
        q = q.filter(l::loop_id.eq_any(rated!(c)));
    }
    q.load(conn)
}

/// A duration in hours whose percentiles the summary reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hours {
    /// Each voter's interview end → seal (`analytics_votes`).
    Seal,
    /// Each loop's last interview end → debrief opened.
    DebriefOpen,
    /// Each loop's debrief opened → final decision.
    Decision,
}

/// How many values of `hours` `scope` holds (nulls left out).
pub fn hours_count(conn: &mut DbConn, scope: &Scope, hours: Hours) -> QueryResult<i64> {
    use diesel::dsl::{count, count_star};
    match hours {
        // Not null: every row, counted from the `decided_at` index alone.
        Hours::Seal => votes_scoped!(scope).select(count_star()).get_result(conn),
        Hours::DebriefOpen => loops_scoped!(scope)
            .select(count(analytics_loops::debrief_open_hours))
            .get_result(conn),
        Hours::Decision => loops_scoped!(scope)
            .select(count(analytics_loops::decision_hours))
            .get_result(conn),
    }
}

/// The values of `hours` in `scope` sorted ascending, from the `offset`-th
/// (0-based), at most `limit`: the order statistics a percentile needs,
/// read by walking an index ordered by the value (`analytics_votes_seal_order`,
/// `analytics_loops_debrief_open`, `analytics_loops_decision`) up to the
/// offset, without reading or sorting the others.
pub fn hours_sorted(
    conn: &mut DbConn,
    scope: &Scope,
    hours: Hours,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<f64>> {
    use analytics_loops as l;
    use analytics_votes as v;
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    let loops = || {
        let mut q = in_period_ordered!(
            analytics_loops::table.into_boxed(),
            analytics_loops,
            scope,
            sqlite
        );
        if let Some(p) = scope.position.clone() {
            q = q.filter(l::position.eq(p));
        }
        if let Some(c) = scope.competency {
            q = q.filter(l::loop_id.eq_any(rated!(c)));
        }
        q
    };
    match hours {
        Hours::Seal => {
            let mut q = in_period_ordered!(
                analytics_votes::table.into_boxed(),
                analytics_votes,
                scope,
                sqlite
            );
            if let Some(p) = scope.position.clone() {
                q = q.filter(v::loop_id.eq_any(for_position!(p)));
            }
            if let Some(c) = scope.competency {
                q = q.filter(v::loop_id.eq_any(rated!(c)));
            }
            q.order(v::seal_hours.asc())
                .offset(offset)
                .limit(limit)
                .select(v::seal_hours)
                .load(conn)
        }
        Hours::DebriefOpen => loops()
            .filter(l::debrief_open_hours.is_not_null())
            .order(l::debrief_open_hours.asc())
            .offset(offset)
            .limit(limit)
            .select(l::debrief_open_hours.assume_not_null())
            .load(conn),
        Hours::Decision => loops()
            .filter(l::decision_hours.is_not_null())
            .order(l::decision_hours.asc())
            .offset(offset)
            .limit(limit)
            .select(l::decision_hours.assume_not_null())
            .load(conn),
    }
}

/// The per-day sums of the coincidences of the days `first <= day < end`,
/// per subject: what [`agreement_in`] gives for the whole days
/// `[first, end)`, read from the roll-up [`roll_up`] keeps.
pub fn agreement_days_in(
    conn: &mut DbConn,
    first: NaiveDate,
    end: NaiveDate,
) -> QueryResult<Vec<(String, i64, [f64; 10])>> {
    use analytics_agreement_days as d;
    use diesel::dsl::sum;
    let rows: Vec<(String, Option<i64>, Sums)> = d::table
        .filter(d::day.ge(first))
        .filter(d::day.lt(end))
        .group_by(d::subject)
        .select((
            d::subject,
            sum(d::pairable),
            (
                sum(d::o11),
                sum(d::o12),
                sum(d::o13),
                sum(d::o14),
                sum(d::o22),
                sum(d::o23),
                sum(d::o24),
                sum(d::o33),
                sum(d::o34),
                sum(d::o44),
            ),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(from_sums).collect())
}

/// Ten summed coincidence cells, null when no row was summed.
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

fn from_sums((subject, units, s): (String, Option<i64>, Sums)) -> (String, i64, [f64; 10]) {
    let o = [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7, s.8, s.9].map(|v| v.unwrap_or(0.0));
    (subject, units.unwrap_or(0), o)
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
    let rows: Vec<(String, Option<i64>, Sums)> = q.load(conn)?;
    Ok(rows.into_iter().map(from_sums).collect())
}
