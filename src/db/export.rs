//! Queries of the scorecard export: sealed feedback of decided loops,
//! ordered by when each scorecard last changed as the export sees it.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::Timestamp;

use super::DbConn;
use super::models::{FeedbackRow, InterviewRow, LoopRow};
use super::schema::{feedback, interviews, loops};
use super::types::{FeedbackId, InterviewId, LoopId, UserId};
use crate::domain::types::{LoopState, StoredFeedbackState};

/// When a scorecard last changed for the export: it enters with its loop's
/// decision (the seal is always earlier) and changes with each addendum.
/// Plain SQL valid on both backends (no parameters inside).
fn updated_at() -> SqlLiteral<Timestamp> {
    sql::<Timestamp>(
        "(SELECT CASE WHEN MAX(feedback_addenda.created_at) > loops.decided_at \
         THEN MAX(feedback_addenda.created_at) ELSE loops.decided_at END \
         FROM feedback_addenda WHERE feedback_addenda.feedback_id = feedback.id)",
    )
}

#[derive(Debug, Clone, Default)]
pub struct ScorecardFilter {
    /// Only loops this user is the recruiter of.
    pub recruiter_id: Option<UserId>,
    /// Only scorecards changed strictly after this.
    pub updated_after: Option<NaiveDateTime>,
    /// Position of the last item of the previous page.
    pub after: Option<(NaiveDateTime, FeedbackId)>,
}

/// One page of sealed feedback of decided loops, oldest change first, each
/// with its export `updated_at`.
pub fn scorecards(
    conn: &mut DbConn,
    filter: &ScorecardFilter,
    limit: i64,
) -> QueryResult<Vec<(FeedbackRow, NaiveDateTime)>> {
    let mut q = feedback::table
        .inner_join(loops::table.on(loops::id.eq(feedback::loop_id)))
        .filter(loops::state.eq(LoopState::Decided))
        .filter(feedback::state.eq(StoredFeedbackState::Sealed))
        .select((FeedbackRow::as_select(), updated_at()))
        .order((updated_at().asc(), feedback::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(r) = &filter.recruiter_id {
        q = q.filter(loops::recruiter_id.eq(*r));
    }
    if let Some(t) = filter.updated_after {
        q = q.filter(updated_at().gt(t));
    }
    if let Some((at, id)) = &filter.after {
        q = q.filter(
            updated_at()
                .gt(*at)
                .or(updated_at().eq(*at).and(feedback::id.gt(*id))),
        );
    }
    q.load(conn)
}

pub fn loops_by_ids(conn: &mut DbConn, ids: &[LoopId]) -> QueryResult<Vec<LoopRow>> {
    loops::table
        .filter(loops::id.eq_any(ids))
        .select(LoopRow::as_select())
        .load(conn)
}

pub fn interviews_by_ids(conn: &mut DbConn, ids: &[InterviewId]) -> QueryResult<Vec<InterviewRow>> {
    interviews::table
        .filter(interviews::id.eq_any(ids))
        .select(InterviewRow::as_select())
        .load(conn)
}
