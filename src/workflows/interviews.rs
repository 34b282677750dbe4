//! Interviews within a loop: who interviews, on which competencies, when.
//! Their interviewers are told by mail once the loop is scheduled.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::loops::{
    account, bundle, check_competencies, fail_if, lock_visible, recheck_composition, seat,
};
use super::pagination::{Page, PageQuery, PageRequest};
use super::preconditions::{IfMatch, Tagged};
use super::views::{self, Interview, Names};
use super::{Actor, AppState};
use crate::db::{
    self, DbConn, InterviewId, LoopId, UserId,
    loops::{InterviewChanges, LoopBundle},
    models::InterviewRow,
};
use crate::domain::loops::{self as rules, FieldProblem};
use crate::domain::{InterviewRole, LoopState, lifecycle, visibility};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{
    self,
    loops::{InterviewChange, LoopEvent, Seat, Told},
};
use crate::notify::LoopRef;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInterview {
    pub interviewer_id: Uuid,
    /// One to three when the loop is scheduled; each once.
    #[schema(max_items = 16, value_type = BTreeSet<Uuid>)]
    pub competency_ids: Vec<Uuid>,
    pub starts_at: DateTime<Utc>,
    #[schema(minimum = 5, maximum = 480)]
    #[serde(deserialize_with = "super::integral::i32")]
    pub duration_minutes: i32,
    /// `interviewer` (votes) or `shadow` (writes feedback, never votes). Default `interviewer`.
    pub loop_role: Option<InterviewRole>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInterview {
    pub interviewer_id: Option<Uuid>,
    /// Replaces the list: one to three when the loop is scheduled; each once.
    #[schema(max_items = 16, value_type = Option<BTreeSet<Uuid>>)]
    pub competency_ids: Option<Vec<Uuid>>,
    pub starts_at: Option<DateTime<Utc>>,
    #[schema(minimum = 5, maximum = 480)]
    #[serde(default, deserialize_with = "super::integral::opt_i32")]
    pub duration_minutes: Option<i32>,
    pub loop_role: Option<InterviewRole>,
}

/// One of the caller's own interviews, with its loop.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyInterview {
    pub loop_id: Uuid,
    pub loop_state: LoopState,
    pub candidate_name: String,
    pub position: String,
    pub interview: Interview,
}

fn check_interviewer(
    conn: &mut DbConn,
    id: Uuid,
    problems: &mut Vec<FieldProblem>,
) -> AppResult<()> {
    let found = db::users::by_id(conn, id.into())?;
    let acct = found.as_ref().map(account);
    problems.extend(rules::person_problem("interviewer_id", acct, false));
    Ok(())
}

/// Rule 7 for putting `interviewer` on an interview of loop `b`: never
/// oneself (403 `self_assignment`), never the loop's recruiter (422).
fn check_assignment(b: &LoopBundle, me: &Actor, interviewer: Uuid) -> AppResult<()> {
    let recruiter = b.row.recruiter_id.into();
    match visibility::may_assign(me.id.into(), interviewer, recruiter) {
        Ok(()) => Ok(()),
        Err("self_assignment") => Err(AppError::forbidden("self_assignment")),
        Err(code) => Err(AppError::Validation {
            code,
            detail: "the loop's recruiter cannot interview or shadow in it".into(),
            errors: vec![FieldError::new(
                "interviewer_id",
                "the loop's recruiter cannot interview or shadow in it",
            )],
        }),
    }
}

/// A unique-key refusal on an interview is the person already holding one
/// in the loop.
fn taken(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::conflict(
            "duplicate_interviewer",
            "this person already has an interview in the loop",
        ),
        other => other,
    }
}

/// The interview's loop, locked, after checking the caller may change the
/// interview.
fn lock_for_edit(
    conn: &mut DbConn,
    interview_id: InterviewId,
    me: &Actor,
) -> AppResult<(LoopBundle, InterviewRow)> {
    let interview = db::loops::interview(conn, interview_id)?.ok_or(AppError::NotFound)?;
    let b = lock_visible(conn, interview.loop_id, me)?;
    rules::edit_interview(
        b.row.state,
        &views::loop_actor(&b, me),
        // A quick vote counts as feedback started (issue 17).
        b.feedback.contains_key(&interview_id) || b.quick_votes.contains_key(&interview_id),
    )?;
    Ok((b, interview))
}

/// The interview's interviewer, as their mail describes it, if they are to
/// be told (the loop is scheduled) and can be.
fn told(
    conn: &mut DbConn,
    loop_id: LoopId,
    interview_id: InterviewId,
) -> AppResult<Option<(LoopRef, Seat)>> {
    let b = bundle(conn, loop_id)?;
    if !rules::interviewers_told(b.row.state) {
        return Ok(None);
    }
    let names = Names::load(conn, &b)?;
    let Some(i) = b.interview(interview_id) else {
        return Ok(None);
    };
    Ok(seat(&b, &names, i).map(|s| (names.loop_ref(&b), s)))
}

fn view_of(conn: &mut DbConn, loop_id: LoopId, interview_id: InterviewId) -> AppResult<Interview> {
    let b = bundle(conn, loop_id)?;
    let names = Names::load(conn, &b)?;
    let i = b.interview(interview_id).ok_or(AppError::NotFound)?;
    Ok(views::interview_view(&b, i, &names, db::now()))
}

/// Adds an interview to a loop (the loop's recruiter, admins) while the
/// loop is `draft` or `scheduled`.
pub async fn create(
    state: &AppState,
    me: &Actor,
    loop_id: Uuid,
    req: CreateInterview,
) -> AppResult<Interview> {
    let (by, me, key) = (me.by(state), me.clone(), LoopId::from(loop_id));
    state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, key, &me)?;
            lifecycle::edit(b.row.state, &views::loop_actor(&b, &me))?;
            check_assignment(&b, &me, req.interviewer_id)?;
            let mut problems: Vec<FieldProblem> = rules::duration_problem(req.duration_minutes)
                .into_iter()
                .collect();
            check_interviewer(conn, req.interviewer_id, &mut problems)?;
            let comps = check_competencies(
                conn,
                "competency_ids",
                &req.competency_ids,
                &b.required_competency_ids,
                &mut problems,
            )?;
            fail_if(problems)?;
            let at = db::to_db(db::now());
            let interview = Uuid::new_v4();
            let loop_role = req.loop_role.unwrap_or(InterviewRole::Interviewer);
            let row = InterviewRow {
                id: interview.into(),
                loop_id: key,
                interviewer_id: req.interviewer_id.into(),
                loop_role,
                starts_at: db::to_db(req.starts_at),
                duration_minutes: req.duration_minutes,
                excused_at: None,
                excused_by: None,
                excuse_reason: None,
                created_at: at,
                updated_at: at,
                assigned_at: Some(at),
                assigned_by: Some(me.id),
                calendar_sequence: 0,
            };
            db::loops::insert_interview(conn, &row, &comps).map_err(taken)?;
            recheck_composition(conn, key)?;
            let event = LoopEvent::InterviewAdded {
                loop_id,
                interview,
                interviewer_id: req.interviewer_id,
                loop_role,
                competency_ids: comps.into_iter().map(Uuid::from).collect(),
                starts_at: req.starts_at,
                duration_minutes: row.duration_minutes,
                told: told(conn, key, row.id)?,
            };
            events::record(conn, &by, event)?;
            view_of(conn, key, row.id)
        })
        .await
}

/// One interview and its feedback status.
pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<Tagged<Interview>> {
    let (id, me) = (InterviewId::from(id), me.clone());
    state
        .db
        .run(move |conn| {
            let interview = db::loops::interview(conn, id)?.ok_or(AppError::NotFound)?;
            let b = bundle(conn, interview.loop_id)?;
            views::require_visible(&b, &me)?;
            let view = view_of(conn, interview.loop_id, id)?;
            Ok(Tagged::at(interview.updated_at, view))
        })
        .await
}

/// Changes an interview (the loop's recruiter, admins) while the loop is
/// `draft` or `scheduled` and no feedback has been started.
pub async fn update(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
    req: UpdateInterview,
) -> AppResult<Interview> {
    let (by, me, key) = (me.by(state), me.clone(), InterviewId::from(id));
    state
        .db
        .write(move |conn| {
            let (b, interview) = lock_for_edit(conn, key, &me)?;
            if_match.check(interview.updated_at)?;
            let current: Uuid = interview.interviewer_id.into();
            let moved_to = req.interviewer_id.filter(|who| *who != current);
            if let Some(who) = moved_to {
                check_assignment(&b, &me, who)?;
            }
            let mut problems: Vec<FieldProblem> = req
                .duration_minutes
                .and_then(rules::duration_problem)
                .into_iter()
                .collect();
            if let Some(who) = req.interviewer_id {
                check_interviewer(conn, who, &mut problems)?;
            }
            let comps = match &req.competency_ids {
                Some(ids) => {
                    let mut allowed = b.required_competency_ids.clone();
                    allowed.extend(b.competencies_of(key).iter().copied());
                    Some(check_competencies(
                        conn,
                        "competency_ids",
                        ids,
                        &allowed,
                        &mut problems,
                    )?)
                }
                None => None,
            };
            fail_if(problems)?;
            let at = db::to_db(db::now());
            db::loops::update_interview(
                conn,
                key,
                &InterviewChanges {
                    interviewer_id: req.interviewer_id.map(UserId::from),
                    loop_role: req.loop_role,
                    starts_at: req.starts_at.map(db::to_db),
                    duration_minutes: req.duration_minutes,
                    updated_at: Some(at),
                    assigned_at: moved_to.map(|_| Some(at)),
                    assigned_by: moved_to.map(|_| Some(me.id)),
                    // Every change its interviewer is told of is a new
                    // revision of the calendar entry.
                    calendar_sequence: Some(interview.calendar_sequence + 1),
                    ..Default::default()
                },
            )
            .map_err(taken)?;
            if let Some(comps) = &comps {
                db::loops::set_interview_competencies(conn, key, comps)?;
            }
            recheck_composition(conn, b.row.id)?;
            let reassigned = moved_to.is_some();
            // The one taken off is told from the loop as it was, with the
            // cancellation of their calendar entry at the new SEQUENCE.
            let removed = if reassigned && rules::interviewers_told(b.row.state) {
                let names = Names::load(conn, &b)?;
                let was = InterviewRow {
                    calendar_sequence: interview.calendar_sequence + 1,
                    ..interview.clone()
                };
                seat(&b, &names, &was).map(|s| (names.loop_ref(&b), s))
            } else {
                None
            };
            let seat = told(conn, b.row.id, key)?;
            let about = removed
                .as_ref()
                .map(|(about, _)| about.clone())
                .or_else(|| seat.as_ref().map(|(about, _)| about.clone()));
            let event = LoopEvent::InterviewUpdated {
                loop_id: b.row.id.into(),
                interview: id,
                change: InterviewChange {
                    interviewer_id: req.interviewer_id,
                    loop_role: req.loop_role,
                    competency_ids: comps.map(|c| c.into_iter().map(Uuid::from).collect()),
                    starts_at: req.starts_at,
                    duration_minutes: req.duration_minutes,
                },
                reassigned,
                told: about.map(|about| {
                    let told = Told {
                        removed: removed.map(|(_, to)| to),
                        seat: seat.map(|(_, s)| s),
                    };
                    (about, told)
                }),
            };
            events::record(conn, &by, event)?;
            view_of(conn, b.row.id, key)
        })
        .await
}

/// Removes an interview (same conditions as changing it).
pub async fn remove(state: &AppState, me: &Actor, id: Uuid, if_match: IfMatch) -> AppResult<()> {
    let (by, me, key) = (me.by(state), me.clone(), InterviewId::from(id));
    state
        .db
        .write(move |conn| {
            let (b, interview) = lock_for_edit(conn, key, &me)?;
            if_match.check(interview.updated_at)?;
            db::loops::delete_interview(conn, key)?;
            recheck_composition(conn, b.row.id)?;
            // Its calendar entry is cancelled, one revision on.
            let told = if rules::interviewers_told(b.row.state) {
                let names = Names::load(conn, &b)?;
                let was = InterviewRow {
                    calendar_sequence: interview.calendar_sequence + 1,
                    ..interview.clone()
                };
                seat(&b, &names, &was).map(|s| (names.loop_ref(&b), s))
            } else {
                None
            };
            let event = LoopEvent::InterviewRemoved {
                loop_id: b.row.id.into(),
                interview: id,
                interviewer_id: interview.interviewer_id.into(),
                told,
            };
            events::record(conn, &by, event)
        })
        .await
}

/// The caller's own interviews across loops, soonest first, with due dates.
pub async fn mine(state: &AppState, me: &Actor, q: PageQuery) -> AppResult<Page<MyInterview>> {
    let page = PageRequest::try_from(&q)?;
    let p = page.clone();
    let me_id = me.id;
    let items = state
        .db
        .run(move |conn| {
            let rows = db::loops::interviews_of(conn, me_id, p.after(), p.fetch())?;
            let mut items = Vec::with_capacity(rows.len());
            let now = db::now();
            for (interview, loop_row) in rows {
                let b = db::loops::bundle_from_row(conn, loop_row)?;
                let names = Names::load(conn, &b)?;
                let view = views::interview_view(&b, &interview, &names, now);
                let at = (interview.starts_at, interview.id);
                let item = MyInterview {
                    loop_id: b.row.id.into(),
                    loop_state: b.row.state,
                    candidate_name: names.candidate_name(),
                    position: b.row.position.clone(),
                    interview: view,
                };
                items.push((at, item));
            }
            Ok(items)
        })
        .await?;
    Ok(Page::from_rows(
        items,
        &page,
        |(at, _)| *at,
        |(_, item)| item,
    ))
}
