//! Interviews within a loop: who interviews, on which competencies, when.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::loops::{check_competencies, lock_visible, recheck_if_scheduled};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, DbConn, loops::InterviewChanges, models::InterviewRow};
use crate::domain::{InterviewRole, LoopState, lifecycle, visibility};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::{self, Notice};
use crate::workflows::views::{self, Interview, Names};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInterview {
    pub interviewer_id: Uuid,
    /// One to three when the loop is scheduled.
    pub competency_ids: Vec<Uuid>,
    pub starts_at: DateTime<Utc>,
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: i32,
    /// `interviewer` (votes) or `shadow` (writes feedback, never votes). Default `interviewer`.
    pub loop_role: Option<InterviewRole>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInterview {
    pub interviewer_id: Option<Uuid>,
    pub competency_ids: Option<Vec<Uuid>>,
    pub starts_at: Option<DateTime<Utc>>,
    #[schema(minimum = 5, maximum = 480)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MyInterviews {
    pub items: Vec<MyInterview>,
}

fn check_interviewer(conn: &mut DbConn, id: Uuid, errors: &mut Vec<FieldError>) -> AppResult<()> {
    match db::users::by_id(conn, &id.to_string())? {
        None => errors.push(FieldError::new("interviewer_id", "no such user")),
        Some(u) if !u.active => errors.push(FieldError::new(
            "interviewer_id",
            "this user is deactivated",
        )),
        _ => {}
    }
    Ok(())
}

/// Rule 7 for putting `interviewer` on an interview of loop `b`: never
/// oneself (403 `self_assignment`), never the loop's recruiter (422).
fn check_assignment(b: &db::loops::LoopBundle, me: &AuthUser, interviewer: Uuid) -> AppResult<()> {
    match visibility::may_assign(me.id, interviewer, db::uuid(&b.row.recruiter_id)) {
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

fn duration_problem(d: i32) -> Option<FieldError> {
    (!(5..=480).contains(&d))
        .then(|| FieldError::new("duration_minutes", "between 5 and 480 minutes"))
}

fn taken(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::conflict(
            "duplicate_interviewer",
            "this person already has an interview in the loop",
        ),
        other => other,
    }
}

/// The interview's loop, locked, after checking the caller may edit it and
/// the interview has no feedback yet.
fn lock_for_edit(
    conn: &mut DbConn,
    interview_id: &str,
    me: &AuthUser,
) -> AppResult<(db::loops::LoopBundle, InterviewRow)> {
    let interview = db::loops::interview(conn, interview_id)?.ok_or(AppError::NotFound)?;
    let b = lock_visible(conn, &interview.loop_id, me)?;
    lifecycle::edit(views::state_of(&b)?, &views::loop_actor(&b, me))?;
    if b.feedback.contains_key(interview_id) {
        return Err(AppError::conflict(
            "interview_has_feedback",
            "the interviewer has started feedback; the interview can no longer change",
        ));
    }
    Ok((b, interview))
}

fn notify_interviewer(
    conn: &mut DbConn,
    public_url: &str,
    loop_id: &str,
    interview_id: &str,
    make: impl Fn(Uuid, DateTime<Utc>, Vec<String>) -> Notice,
) -> AppResult<()> {
    let b = db::loops::bundle(conn, loop_id)?.ok_or(AppError::NotFound)?;
    if views::state_of(&b)? != LoopState::Scheduled {
        return Ok(());
    }
    let names = Names::load(conn, &b)?;
    if let Some(i) = b.interview(interview_id)
        && let Some(to) = names.recipient(&i.interviewer_id)
    {
        let competencies = b
            .competencies_of(&i.id)
            .iter()
            .map(|c| names.competency(c).name)
            .collect();
        let notice = make(db::uuid(&i.id), db::from_db(i.starts_at), competencies);
        notify::enqueue(conn, public_url, &[to], &names.loop_ref(&b), &notice, None)?;
    }
    Ok(())
}

fn view_of(conn: &mut DbConn, loop_id: &str, interview_id: &str) -> AppResult<Interview> {
    let b = db::loops::bundle(conn, loop_id)?.ok_or(AppError::NotFound)?;
    let names = Names::load(conn, &b)?;
    let i = b.interview(interview_id).ok_or(AppError::NotFound)?;
    views::interview_view(&b, i, &names, db::now())
}

/// Add an interview to a loop (the loop's recruiter, admins) while the loop
/// is `draft` or `scheduled`.
#[utoipa::path(
    tag = "interviews",
    operation_id = "create_interview",
    params(("id" = Uuid, Path, description = "Loop id")),
    request_body = CreateInterview,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Interview),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`self_assignment` (nobody puts themselves on an interview), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Loop past editing, or the person already interviews in it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `recruiter_cannot_interview` (the loop's recruiter holds no seat in it)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/interviews")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateInterview>,
) -> AppResult<HttpResponse> {
    let req = body.into_inner();
    let loop_id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &loop_id, &me)?;
            lifecycle::edit(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            check_assignment(&b, &me, req.interviewer_id)?;
            let mut errors = Vec::new();
            errors.extend(duration_problem(req.duration_minutes));
            check_interviewer(conn, req.interviewer_id, &mut errors)?;
            let comps = check_competencies(
                conn,
                "competency_ids",
                &req.competency_ids,
                &b.required_competency_ids,
                &mut errors,
            )?;
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let at = db::to_db(db::now());
            let row = InterviewRow {
                id: Uuid::new_v4().to_string(),
                loop_id: loop_id.clone(),
                interviewer_id: req.interviewer_id.to_string(),
                loop_role: req
                    .loop_role
                    .unwrap_or(InterviewRole::Interviewer)
                    .as_str()
                    .into(),
                starts_at: db::to_db(req.starts_at),
                duration_minutes: req.duration_minutes,
                excused_at: None,
                excused_by: None,
                excuse_reason: None,
                created_at: at,
                updated_at: at,
                assigned_at: Some(at),
                assigned_by: Some(me.id.to_string()),
            };
            db::loops::insert_interview(conn, &row, &comps).map_err(taken)?;
            recheck_if_scheduled(conn, &loop_id)?;
            db::audit::append(
                conn,
                &loop_id,
                Some(me.id),
                "interview.added",
                Some(&row.id),
                &serde_json::json!({
                    "interviewer_id": row.interviewer_id,
                    "loop_role": row.loop_role,
                    "competency_ids": comps,
                    "starts_at": crate::domain::audit::timestamp(req.starts_at),
                    "duration_minutes": row.duration_minutes,
                }),
            )?;
            notify_interviewer(
                conn,
                &public_url,
                &loop_id,
                &row.id,
                |interview_id, starts_at, competencies| Notice::InterviewAssigned {
                    interview_id,
                    starts_at,
                    competencies,
                },
            )?;
            view_of(conn, &loop_id, &row.id)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Read one interview and its feedback status.
#[utoipa::path(
    tag = "interviews",
    operation_id = "get_interview",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Interview),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/interviews/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let (view, at) = state
        .db
        .run(move |conn| {
            let interview = db::loops::interview(conn, &id)?.ok_or(AppError::NotFound)?;
            let b = db::loops::bundle(conn, &interview.loop_id)?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &me)?;
            Ok((
                view_of(conn, &interview.loop_id, &id)?,
                interview.updated_at,
            ))
        })
        .await?;
    Ok(super::preconditions::ok(at).json(view))
}

/// Change an interview (the loop's recruiter, admins) while the loop is
/// `draft` or `scheduled` and no feedback has been started.
#[utoipa::path(
    tag = "interviews",
    operation_id = "update_interview",
    params(("id" = Uuid, Path)),
    request_body = UpdateInterview,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Interview),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`self_assignment` (moving an interview to oneself), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Loop past editing, feedback started, or duplicate interviewer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `recruiter_cannot_interview`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/interviews/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: super::preconditions::IfMatch,
    body: web::Json<UpdateInterview>,
) -> AppResult<HttpResponse> {
    let req = body.into_inner();
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let (b, interview) = lock_for_edit(conn, &id, &me)?;
            if_match.check(interview.updated_at)?;
            let moved_to = req
                .interviewer_id
                .filter(|who| who.to_string() != interview.interviewer_id);
            if let Some(who) = moved_to {
                check_assignment(&b, &me, who)?;
            }
            let mut errors = Vec::new();
            if let Some(d) = req.duration_minutes {
                errors.extend(duration_problem(d));
            }
            if let Some(who) = req.interviewer_id {
                check_interviewer(conn, who, &mut errors)?;
            }
            let comps = match &req.competency_ids {
                Some(ids) => {
                    let mut allowed = b.required_competency_ids.clone();
                    allowed.extend(b.competencies_of(&id).iter().cloned());
                    Some(check_competencies(
                        conn,
                        "competency_ids",
                        ids,
                        &allowed,
                        &mut errors,
                    )?)
                }
                None => None,
            };
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let at = db::to_db(db::now());
            db::loops::update_interview(
                conn,
                &id,
                &InterviewChanges {
                    interviewer_id: req.interviewer_id.map(|u| u.to_string()),
                    loop_role: req.loop_role.map(|r| r.as_str().to_string()),
                    starts_at: req.starts_at.map(db::to_db),
                    duration_minutes: req.duration_minutes,
                    updated_at: Some(at),
                    assigned_at: moved_to.map(|_| Some(at)),
                    assigned_by: moved_to.map(|_| Some(me.id.to_string())),
                    ..Default::default()
                },
            )
            .map_err(taken)?;
            if let Some(comps) = &comps {
                db::loops::set_interview_competencies(conn, &id, comps)?;
            }
            recheck_if_scheduled(conn, &b.row.id)?;
            db::audit::append(
                conn,
                &b.row.id,
                Some(me.id),
                "interview.updated",
                Some(&id),
                &serde_json::json!({
                    "interviewer_id": req.interviewer_id,
                    "loop_role": req.loop_role,
                    "competency_ids": comps,
                    "starts_at": req.starts_at.map(crate::domain::audit::timestamp),
                    "duration_minutes": req.duration_minutes,
                }),
            )?;
            let reassigned = moved_to.is_some();
            if reassigned && views::state_of(&b)? == LoopState::Scheduled {
                let names = Names::load(conn, &b)?;
                if let Some(to) = names.recipient(&interview.interviewer_id) {
                    let notice = Notice::InterviewRemoved {
                        interview_id: db::uuid(&id),
                    };
                    notify::enqueue(conn, &public_url, &[to], &names.loop_ref(&b), &notice, None)?;
                }
            }
            notify_interviewer(
                conn,
                &public_url,
                &b.row.id,
                &id,
                |interview_id, starts_at, competencies| {
                    if reassigned {
                        Notice::InterviewAssigned {
                            interview_id,
                            starts_at,
                            competencies,
                        }
                    } else {
                        Notice::InterviewChanged {
                            interview_id,
                            starts_at,
                            competencies,
                        }
                    }
                },
            )?;
            view_of(conn, &b.row.id, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Remove an interview (same conditions as changing it).
#[utoipa::path(
    tag = "interviews",
    operation_id = "delete_interview",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Loop past editing or feedback started", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A scheduled loop would break its composition rules", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/interviews/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: super::preconditions::IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    state
        .db
        .write(move |conn| {
            let (b, interview) = lock_for_edit(conn, &id, &me)?;
            if_match.check(interview.updated_at)?;
            db::loops::delete_interview(conn, &id)?;
            recheck_if_scheduled(conn, &b.row.id)?;
            db::audit::append(
                conn,
                &b.row.id,
                Some(me.id),
                "interview.removed",
                Some(&id),
                &serde_json::json!({"interviewer_id": interview.interviewer_id}),
            )?;
            if views::state_of(&b)? == LoopState::Scheduled {
                let names = Names::load(conn, &b)?;
                if let Some(to) = names.recipient(&interview.interviewer_id) {
                    let notice = Notice::InterviewRemoved {
                        interview_id: db::uuid(&id),
                    };
                    notify::enqueue(conn, &public_url, &[to], &names.loop_ref(&b), &notice, None)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own interviews across loops, soonest first, with due dates.
#[utoipa::path(
    tag = "interviews",
    operation_id = "list_my_interviews",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyInterviews),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/interviews")]
pub async fn mine(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let me_id = me.id.to_string();
    let items = state
        .db
        .run(move |conn| {
            let rows = db::loops::interviews_of(conn, &me_id)?;
            let mut items = Vec::with_capacity(rows.len());
            let now = db::now();
            for (interview, loop_row) in rows {
                let b = db::loops::bundle_from_row(conn, loop_row)?;
                let names = Names::load(conn, &b)?;
                let view = views::interview_view(&b, &interview, &names, now)?;
                items.push(MyInterview {
                    loop_id: db::uuid(&b.row.id),
                    loop_state: views::state_of(&b)?,
                    candidate_name: names.candidate_name(),
                    position: b.row.position.clone(),
                    interview: view,
                });
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MyInterviews { items }))
}
