//! Loops, their interviews and competencies, loaded together.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::kept::Fixed;
use super::models::{
    FeedbackRow, InterviewCompetencyRow, InterviewRow, LoopRow, QuickVoteRow, UserRow,
};
use super::schema::{
    feedback, interview_competencies, interviews, loop_competencies, loops, quick_votes, users,
    view_names_epoch,
};
use super::types::{CandidateId, CompetencyId, InterviewId, LoopId, UserId};
use super::{DbConn, now, to_db};
use crate::domain::types::{InterviewRole, LoopState, Outcome, QuickVoteMode, Verdict};

/// A loop with everything needed to authorise and describe it.
#[derive(Debug, Clone)]
pub struct LoopBundle {
    pub row: LoopRow,
    pub required_competency_ids: Vec<CompetencyId>,
    pub interviews: Vec<InterviewRow>,
    /// Competency ids per interview id, in assigned order.
    pub competencies: HashMap<InterviewId, Vec<CompetencyId>>,
    /// Feedback per interview id (content not loaded).
    pub feedback: HashMap<InterviewId, FeedbackRow>,
    /// Quick votes per interview id (issue 17). Their votes are content:
    /// only `visibility::quick_vote_access` lets one out.
    pub quick_votes: HashMap<InterviewId, QuickVoteRow>,
}

impl LoopBundle {
    pub fn interview(&self, id: InterviewId) -> Option<&InterviewRow> {
        self.interviews.iter().find(|i| i.id == id)
    }

    pub fn interview_of(&self, user_id: UserId) -> Option<&InterviewRow> {
        self.interviews.iter().find(|i| i.interviewer_id == user_id)
    }

    pub fn competencies_of(&self, interview_id: InterviewId) -> &[CompetencyId] {
        self.competencies
            .get(&interview_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

pub fn row(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<LoopRow>> {
    loops::table
        .find(id)
        .select(LoopRow::as_select())
        .get_result(conn)
        .optional()
}

/// The loop of interview `id`, found in the same statement.
pub fn row_of_interview(conn: &mut DbConn, id: InterviewId) -> QueryResult<Option<LoopRow>> {
    loops::table
        .filter(
            loops::id.eq_any(
                interviews::table
                    .filter(interviews::id.eq(id))
                    .select(interviews::loop_id),
            ),
        )
        .select(LoopRow::as_select())
        .get_result(conn)
        .optional()
}

/// A loop view's key: the loop's `version` and the names' generation.
pub type ViewKey = (i32, i64);

/// What a kept copy of the loop's status view must match to be current:
/// the loop's `version` and the generation of the names it shows, both
/// moved by the database's own triggers on every write that changes what a
/// view shows (migration `2026-12-01-001000_view_keys`). One statement.
pub fn view_key(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<ViewKey>> {
    loops::table
        .find(id)
        .select((
            loops::version,
            view_names_epoch::table
                .select(view_names_epoch::n)
                .single_value(),
        ))
        .get_result::<(i32, Option<i64>)>(conn)
        .optional()
        .map(|k| k.map(|(version, names)| (version, names.unwrap_or(0))))
}

/// The caller's account and the loop's [`view_key`] in one statement: a
/// cached loop view is then one round trip. `None` when the account is
/// gone; an inner `None` when the loop is.
pub fn view_key_as(
    conn: &mut DbConn,
    id: LoopId,
    caller: UserId,
) -> QueryResult<Option<(UserRow, Option<ViewKey>)>> {
    users::table
        .find(caller)
        .select((
            UserRow::as_select(),
            loops::table.find(id).select(loops::version).single_value(),
            view_names_epoch::table
                .select(view_names_epoch::n)
                .single_value(),
        ))
        .get_result::<(UserRow, Option<i32>, Option<i64>)>(conn)
        .optional()
        .map(|found| {
            found.map(|(user, version, names)| (user, version.map(|v| (v, names.unwrap_or(0)))))
        })
}

/// Takes the loop's row lock for the rest of the transaction (on SQLite the
/// write transaction already excludes other writers) and returns the row.
/// Every change to a loop, its interviews or its feedback starts here, so
/// changes to one loop serialise and always see its latest state.
pub fn lock(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<LoopRow>> {
    Fixed::returning::<loops::SqlType>(
        &[
            "UPDATE loops SET version = version + 1 WHERE id = ",
            LOCKED_RETURNS,
        ],
        (id.into_sql::<Text>(),),
    )
    .get_result(conn)
    .optional()
}

/// [`lock`] for the loop of interview `id`, found in the same statement (an
/// interview never moves to another loop): a write to an interview's
/// feedback needs no round trip before the lock. `None` when there is no
/// such interview.
pub fn lock_of_interview(conn: &mut DbConn, id: InterviewId) -> QueryResult<Option<LoopRow>> {
    Fixed::returning::<loops::SqlType>(
        &[
            "UPDATE loops SET version = version + 1 \
             WHERE id IN (SELECT loop_id FROM interviews WHERE id = ",
            LOCKED_RETURNS_AFTER_SUBSELECT,
        ],
        (id.into_sql::<Text>(),),
    )
    .get_result(conn)
    .optional()
}

/// The loop's columns in `loops::all_columns` order, as [`LoopRow`] reads
/// them (a test holds the two equal). The lock statements are written out
/// by hand so that they stay prepared (`db::kept`).
macro_rules! loop_columns {
    () => {
        "\"id\", \"candidate_id\", \"position\", \"level\", \"hiring_manager_id\", \"bar_raiser_id\", \"recruiter_id\", \"feedback_due_hours\", \"state\", \"cancel_reason\", \"cancelled_at\", \"debrief_opened_at\", \"votes_revealed_at\", \"decision_outcome\", \"decision_rationale\", \"decision_recycle\", \"decided_by\", \"decision_recorded_at\", \"bar_raiser_verdict\", \"veto_rationale\", \"verdict_at\", \"final_outcome\", \"decided_at\", \"created_by\", \"created_at\", \"updated_at\", \"version\", \"quick_vote\", \"mentor_id\""
    };
}
const LOCKED_RETURNS: &str = concat!(" RETURNING ", loop_columns!());
const LOCKED_RETURNS_AFTER_SUBSELECT: &str = concat!(") RETURNING ", loop_columns!());
/// What a loop holds beside its row: its required competencies, its
/// interviews with their competencies and quick votes, and its feedback rows
/// (the rows only: no ratings, no addenda).
#[derive(Default, serde::Deserialize)]
struct Held {
    required: Vec<CompetencyId>,
    interviews: Vec<InterviewRow>,
    quick_votes: Vec<QuickVoteRow>,
    links: Vec<InterviewCompetencyRow>,
    feedback: Vec<FeedbackRow>,
}

impl Held {
    /// A statement per table: how SQLite reads it (each statement an
    /// in-process call), and what the tests hold PostgreSQL's one-statement
    /// read equal to ([`bundle_in_statements`]).
    fn load(conn: &mut DbConn, id: LoopId) -> QueryResult<Held> {
        let required = loop_competencies::table
            .filter(loop_competencies::loop_id.eq(id))
            .select(loop_competencies::competency_id)
            .order(loop_competencies::competency_id)
            .load(conn)?;
        // Each interview with its quick vote, if any, in the same statement.
        let rows: Vec<(InterviewRow, Option<QuickVoteRow>)> = interviews::table
            .left_join(quick_votes::table)
            .filter(interviews::loop_id.eq(id))
            .select((
                InterviewRow::as_select(),
                Option::<QuickVoteRow>::as_select(),
            ))
            .order((interviews::starts_at.asc(), interviews::id.asc()))
            .load(conn)?;
        let mut held = Held {
            required,
            ..Held::default()
        };
        for (i, q) in rows {
            held.quick_votes.extend(q);
            held.interviews.push(i);
        }
        // A sub-select, not an `IN` list of the ids just read: diesel cannot
        // keep a statement with a list of binds prepared, and re-preparing it
        // cost a fifth of a loop view's time.
        held.links = interview_competencies::table
            .filter(
                interview_competencies::interview_id.eq_any(
                    interviews::table
                        .filter(interviews::loop_id.eq(id))
                        .select(interviews::id),
                ),
            )
            .select(InterviewCompetencyRow::as_select())
            .order((
                interview_competencies::interview_id,
                interview_competencies::position,
            ))
            .load(conn)?;
        held.feedback = feedback::table
            .filter(feedback::loop_id.eq(id))
            .select(FeedbackRow::as_select())
            .load(conn)?;
        Ok(held)
    }

    /// On PostgreSQL, the document [`held_json!`] reads in one round trip.
    fn parse(json: &str) -> QueryResult<Held> {
        serde_json::from_str(json)
            .map_err(|e| diesel::result::Error::DeserializationError(e.into()))
    }

    fn bundle(self, row: LoopRow) -> LoopBundle {
        let mut competencies: HashMap<InterviewId, Vec<CompetencyId>> = HashMap::new();
        for l in self.links {
            competencies
                .entry(l.interview_id)
                .or_default()
                .push(l.competency_id);
        }
        LoopBundle {
            quick_votes: self
                .quick_votes
                .into_iter()
                .map(|q| (q.interview_id, q))
                .collect(),
            row,
            required_competency_ids: self.required,
            interviews: self.interviews,
            competencies,
            feedback: self
                .feedback
                .into_iter()
                .map(|f| (f.interview_id, f))
                .collect(),
        }
    }
}

/// PostgreSQL: everything [`Held`] reads, as one JSON document built by the
/// database, for the loop whose id is the SQL expression `$id`. Each part
/// in the order the SQLite statements give it; rows keep their column
/// names, which are the row structs' field names (a test compares the two
/// loads of one loop). One round trip instead of four: on PostgreSQL each
/// statement is a round trip to another process on the same cores.
macro_rules! held_json {
    ($id:literal) => {
        concat!(
            "(SELECT json_build_object(",
            "'required', COALESCE((SELECT json_agg(lc.competency_id ORDER BY lc.competency_id) \
             FROM loop_competencies lc WHERE lc.loop_id = ",
            $id,
            "), '[]'), ",
            "'interviews', COALESCE((SELECT json_agg(i ORDER BY i.starts_at, i.id) \
             FROM interviews i WHERE i.loop_id = ",
            $id,
            "), '[]'), ",
            "'quick_votes', COALESCE((SELECT json_agg(q) \
             FROM quick_votes q WHERE q.loop_id = ",
            $id,
            "), '[]'), ",
            "'links', COALESCE((SELECT json_agg(ic ORDER BY ic.interview_id, ic.position) \
             FROM interview_competencies ic WHERE ic.interview_id IN \
             (SELECT li.id FROM interviews li WHERE li.loop_id = ",
            $id,
            ")), '[]'), ",
            "'feedback', COALESCE((SELECT json_agg(f) \
             FROM feedback f WHERE f.loop_id = ",
            $id,
            "), '[]')",
            ")::text)"
        )
    };
}

/// The loop's row as [`row`] reads it, with [`held_json!`] beside it: the
/// statement's parts around its one bind, the loop's condition.
macro_rules! whole_loop {
    ($before:literal, $after:literal) => {
        &[
            concat!(
                "SELECT ",
                loop_columns!(),
                ", ",
                held_json!("l.id"),
                " FROM loops l WHERE ",
                $before
            ),
            $after,
        ]
    };
}

/// A loop read whole, without a lock, on PostgreSQL: one statement.
macro_rules! whole_pg {
    ($conn:expr, $parts:expr, $bind:expr) => {
        match Fixed::returning::<(loops::SqlType, Text)>($parts, ($bind.into_sql::<Text>(),))
            .get_result::<(LoopRow, String)>($conn)
            .optional()?
        {
            Some((row, json)) => Ok(Some(Held::parse(&json)?.bundle(row))),
            None => Ok(None),
        }
    };
}

fn held_pg(conn: &mut DbConn, id: LoopId) -> QueryResult<Held> {
    let json: String = Fixed::returning::<Text>(
        &[
            concat!("SELECT ", held_json!("l.id"), " FROM (SELECT CAST("),
            " AS TEXT) AS id) l",
        ],
        (id.into_sql::<Text>(),),
    )
    .get_result(conn)?;
    Held::parse(&json)
}

/// Loads the rest of the loop whose row is `row`. On PostgreSQL one
/// statement, which must come after the row's lock when there is one: a
/// statement reads as of its start, so reads folded into the locking
/// statement itself could miss what the lock waited for.
pub fn bundle_from_row(conn: &mut DbConn, row: LoopRow) -> QueryResult<LoopBundle> {
    let held = if matches!(conn, DbConn::Postgres(_)) {
        held_pg(conn, row.id)?
    } else {
        Held::load(conn, row.id)?
    };
    Ok(held.bundle(row))
}

pub fn bundle(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<LoopBundle>> {
    if matches!(conn, DbConn::Postgres(_)) {
        return whole_pg!(conn, whole_loop!("l.id = ", ""), id);
    }
    bundle_in_statements(conn, id)
}

/// [`bundle`] as SQLite reads it, a statement per table, on either backend:
/// the tests hold PostgreSQL's one-statement read equal to it.
pub fn bundle_in_statements(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<LoopBundle>> {
    match row(conn, id)? {
        Some(r) => Ok(Some(Held::load(conn, r.id)?.bundle(r))),
        None => Ok(None),
    }
}

/// Locks the loop, then loads it whole.
pub fn lock_bundle(conn: &mut DbConn, id: LoopId) -> QueryResult<Option<LoopBundle>> {
    match lock(conn, id)? {
        Some(r) => bundle_from_row(conn, r).map(Some),
        None => Ok(None),
    }
}

/// The loop of interview `id`, whole; locked first when `lock`
/// ([`lock_of_interview`]).
pub fn bundle_of_interview(
    conn: &mut DbConn,
    id: InterviewId,
    lock: bool,
) -> QueryResult<Option<LoopBundle>> {
    let row = if lock {
        lock_of_interview(conn, id)?
    } else if matches!(conn, DbConn::Postgres(_)) {
        return whole_pg!(
            conn,
            whole_loop!(
                "l.id IN (SELECT i.loop_id FROM interviews i WHERE i.id = ",
                ")"
            ),
            id
        );
    } else {
        row_of_interview(conn, id)?
    };
    match row {
        Some(r) => bundle_from_row(conn, r).map(Some),
        None => Ok(None),
    }
}

pub fn touch(conn: &mut DbConn, id: LoopId) -> QueryResult<()> {
    diesel::update(loops::table.find(id))
        .set(loops::updated_at.eq(to_db(now())))
        .execute(conn)
        .map(|_| ())
}

pub fn insert(conn: &mut DbConn, row: &LoopRow, required: &[CompetencyId]) -> QueryResult<()> {
    diesel::insert_into(loops::table)
        .values(row)
        .execute(conn)?;
    set_required(conn, row.id, required)?;
    super::audit::create_chain(conn, &row.id.to_string())
}

pub fn set_required(
    conn: &mut DbConn,
    loop_id: LoopId,
    required: &[CompetencyId],
) -> QueryResult<()> {
    diesel::delete(loop_competencies::table.filter(loop_competencies::loop_id.eq(loop_id)))
        .execute(conn)?;
    for c in required {
        diesel::insert_into(loop_competencies::table)
            .values((
                loop_competencies::loop_id.eq(loop_id),
                loop_competencies::competency_id.eq(c),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = loops)]
pub struct LoopChanges {
    pub position: Option<String>,
    pub level: Option<String>,
    pub hiring_manager_id: Option<UserId>,
    pub bar_raiser_id: Option<UserId>,
    pub recruiter_id: Option<UserId>,
    pub feedback_due_hours: Option<i32>,
    pub quick_vote: Option<QuickVoteMode>,
    pub state: Option<LoopState>,
    pub cancel_reason: Option<Option<String>>,
    pub cancelled_at: Option<Option<chrono::NaiveDateTime>>,
    pub debrief_opened_at: Option<Option<chrono::NaiveDateTime>>,
    pub votes_revealed_at: Option<Option<chrono::NaiveDateTime>>,
    pub decision_outcome: Option<Option<Outcome>>,
    pub decision_rationale: Option<Option<String>>,
    pub decision_recycle: Option<Option<bool>>,
    pub decided_by: Option<Option<UserId>>,
    pub decision_recorded_at: Option<Option<chrono::NaiveDateTime>>,
    pub bar_raiser_verdict: Option<Option<Verdict>>,
    pub veto_rationale: Option<Option<String>>,
    pub verdict_at: Option<Option<chrono::NaiveDateTime>>,
    pub final_outcome: Option<Option<Outcome>>,
    pub decided_at: Option<Option<chrono::NaiveDateTime>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// Applies `changes` (and stamps `updated_at`), returning the new row.
pub fn update(conn: &mut DbConn, id: LoopId, mut changes: LoopChanges) -> QueryResult<LoopRow> {
    changes.updated_at = Some(to_db(now()));
    diesel::update(loops::table.find(id))
        .set(&changes)
        .returning(loops::all_columns)
        .get_result(conn)
}

/// Filters of the loop list.
#[derive(Debug, Clone, Default)]
pub struct LoopFilter {
    pub state: Option<LoopState>,
    pub candidate_id: Option<CandidateId>,
    /// Only loops this user takes part in (any loop role, or as recruiter).
    pub participant: Option<UserId>,
}

pub fn page(
    conn: &mut DbConn,
    filter: &LoopFilter,
    after: Option<(chrono::NaiveDateTime, LoopId)>,
    limit: i64,
) -> QueryResult<Vec<LoopRow>> {
    let mut q = loops::table
        .select(LoopRow::as_select())
        .order((loops::created_at.desc(), loops::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(s) = &filter.state {
        q = q.filter(loops::state.eq(*s));
    }
    if let Some(c) = &filter.candidate_id {
        q = q.filter(loops::candidate_id.eq(*c));
    }
    if let Some(p) = &filter.participant {
        let interviewing = interviews::table
            .filter(interviews::interviewer_id.eq(*p))
            .select(interviews::loop_id);
        q = q.filter(
            loops::hiring_manager_id
                .eq(*p)
                .or(loops::bar_raiser_id.eq(*p))
                .or(loops::recruiter_id.eq(*p))
                .or(loops::id.eq_any(interviewing)),
        );
    }
    if let Some((at, id)) = after {
        q = q.filter(
            loops::created_at
                .lt(at)
                .or(loops::created_at.eq(at).and(loops::id.lt(id))),
        );
    }
    q.load(conn)
}

// --- interviews ---------------------------------------------------------------

pub fn interview(conn: &mut DbConn, id: InterviewId) -> QueryResult<Option<InterviewRow>> {
    interviews::table
        .find(id)
        .select(InterviewRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_interview(
    conn: &mut DbConn,
    row: &InterviewRow,
    competency_ids: &[CompetencyId],
) -> QueryResult<()> {
    diesel::insert_into(interviews::table)
        .values(row)
        .execute(conn)?;
    set_interview_competencies(conn, row.id, competency_ids)
}

pub fn set_interview_competencies(
    conn: &mut DbConn,
    interview_id: InterviewId,
    competency_ids: &[CompetencyId],
) -> QueryResult<()> {
    diesel::delete(
        interview_competencies::table.filter(interview_competencies::interview_id.eq(interview_id)),
    )
    .execute(conn)?;
    for (n, c) in competency_ids.iter().enumerate() {
        diesel::insert_into(interview_competencies::table)
            .values(InterviewCompetencyRow {
                interview_id,
                competency_id: *c,
                position: n as i32,
            })
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = interviews)]
pub struct InterviewChanges {
    pub interviewer_id: Option<UserId>,
    pub loop_role: Option<InterviewRole>,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub duration_minutes: Option<i32>,
    pub excused_at: Option<Option<chrono::NaiveDateTime>>,
    pub excused_by: Option<Option<UserId>>,
    pub excuse_reason: Option<Option<String>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
    pub assigned_at: Option<Option<chrono::NaiveDateTime>>,
    pub assigned_by: Option<Option<UserId>>,
    pub calendar_sequence: Option<i32>,
}

pub fn update_interview(
    conn: &mut DbConn,
    id: InterviewId,
    c: &InterviewChanges,
) -> QueryResult<InterviewRow> {
    diesel::update(interviews::table.find(id))
        .set(c)
        .returning(interviews::all_columns)
        .get_result(conn)
}

/// Raises the calendar SEQUENCE of every interview of a loop (the loop is
/// cancelled, or changed in what every invitation shows).
pub fn bump_calendar_sequences(conn: &mut DbConn, loop_id: LoopId) -> QueryResult<usize> {
    diesel::update(interviews::table.filter(interviews::loop_id.eq(loop_id)))
        .set(interviews::calendar_sequence.eq(interviews::calendar_sequence + 1))
        .execute(conn)
}

pub fn delete_interview(conn: &mut DbConn, id: InterviewId) -> QueryResult<()> {
    diesel::delete(
        interview_competencies::table.filter(interview_competencies::interview_id.eq(id)),
    )
    .execute(conn)?;
    diesel::delete(interviews::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// A person's interviews across loops, soonest first, with their loops.
/// One page of a person's interviews, soonest first, after the
/// `(starts_at, id)` cursor.
pub fn interviews_of(
    conn: &mut DbConn,
    user_id: UserId,
    after: Option<(chrono::NaiveDateTime, InterviewId)>,
    limit: i64,
) -> QueryResult<Vec<(InterviewRow, LoopRow)>> {
    let mut q = interviews::table
        .inner_join(loops::table)
        .filter(interviews::interviewer_id.eq(user_id))
        .order((interviews::starts_at.asc(), interviews::id.asc()))
        .select((InterviewRow::as_select(), LoopRow::as_select()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            interviews::starts_at
                .gt(at)
                .or(interviews::starts_at.eq(at).and(interviews::id.gt(id))),
        );
    }
    q.load(conn)
}

pub fn competency_links(
    conn: &mut DbConn,
    interview_ids: &[InterviewId],
) -> QueryResult<HashMap<InterviewId, Vec<CompetencyId>>> {
    let links: Vec<InterviewCompetencyRow> = interview_competencies::table
        .filter(interview_competencies::interview_id.eq_any(interview_ids))
        .select(InterviewCompetencyRow::as_select())
        .order((
            interview_competencies::interview_id,
            interview_competencies::position,
        ))
        .load(conn)?;
    let mut map: HashMap<InterviewId, Vec<CompetencyId>> = HashMap::new();
    for l in links {
        map.entry(l.interview_id).or_default().push(l.competency_id);
    }
    Ok(map)
}

pub fn feedback_of(
    conn: &mut DbConn,
    interview_ids: &[InterviewId],
) -> QueryResult<HashMap<InterviewId, FeedbackRow>> {
    let rows: Vec<FeedbackRow> = feedback::table
        .filter(feedback::interview_id.eq_any(interview_ids))
        .select(FeedbackRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|f| (f.interview_id, f)).collect())
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    loops::table.count().get_result(conn)
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use crate::db::schema::loops;

    /// The hand-written lock returns what `LoopRow` reads, in its order.
    #[test]
    fn the_lock_returns_every_loop_column_in_order() {
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
            &loops::table.select(loops::all_columns),
        )
        .to_string();
        let list = &sql["SELECT ".len()..sql.find(" FROM").unwrap()];
        let theirs: Vec<&str> = list
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap().trim_matches('`'))
            .collect();
        let ours: Vec<&str> = loop_columns!()
            .split(", ")
            .map(|c| c.trim_matches('"'))
            .collect();
        assert_eq!(ours, theirs);
    }
}
