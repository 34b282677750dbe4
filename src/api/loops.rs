//! Interview loops: created and edited by recruiters, read by everyone in
//! them, moved through their states only by the domain's transitions.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::preconditions;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{
    self, DbConn,
    loops::{LoopChanges, LoopFilter},
    models::LoopRow,
};
use crate::domain::accounts::text_problem;
use crate::domain::{AccountRole, LoopState, Violation, composition, lifecycle};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::webhooks::{self, EventType};
use crate::notify::{self, Notice};
use crate::workflows::pagination::{Page, PageRequest};
use crate::workflows::views::{self, CandidateRef, Loop, Names};

const TEXT_MAX: usize = 200;
const REASON_MAX: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLoop {
    pub candidate_id: Uuid,
    pub position: String,
    pub level: String,
    pub hiring_manager_id: Uuid,
    /// Must be a certified Bar Raiser when the loop is scheduled.
    pub bar_raiser_id: Uuid,
    /// Defaults to the caller.
    pub recruiter_id: Option<Uuid>,
    #[serde(default)]
    pub required_competency_ids: Vec<Uuid>,
    /// Hours after an interview ends that its feedback is due (default 24).
    #[schema(minimum = 1, maximum = 720)]
    pub feedback_due_hours: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLoop {
    pub position: Option<String>,
    pub level: Option<String>,
    pub hiring_manager_id: Option<Uuid>,
    pub bar_raiser_id: Option<Uuid>,
    pub recruiter_id: Option<Uuid>,
    pub required_competency_ids: Option<Vec<Uuid>>,
    #[schema(minimum = 1, maximum = 720)]
    pub feedback_due_hours: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelLoop {
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantFilter {
    /// Loops the caller takes part in.
    Me,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoopQuery {
    pub state: Option<LoopState>,
    pub candidate_id: Option<Uuid>,
    pub participant: Option<ParticipantFilter>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A loop in a list: enough to find it, no interviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoopSummary {
    pub id: Uuid,
    pub candidate: CandidateRef,
    pub position: String,
    pub level: String,
    pub state: LoopState,
    pub hiring_manager_id: Uuid,
    pub bar_raiser_id: Uuid,
    pub recruiter_id: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Checks that each `(field, user id)` names an active account, and that
/// the recruiter field names a recruiter or admin.
fn check_people(
    conn: &mut DbConn,
    people: &[(&str, Uuid)],
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let ids: Vec<String> = people.iter().map(|(_, id)| id.to_string()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = db::catalog::users_by_ids(conn, &refs)?;
    for (field, id) in people {
        match found.get(&id.to_string()) {
            None => errors.push(FieldError::new(*field, "no such user")),
            Some(u) if !u.active => {
                errors.push(FieldError::new(*field, "this user is deactivated"))
            }
            Some(u) if *field == "recruiter_id" && u.role == AccountRole::Member.as_str() => errors
                .push(FieldError::new(
                    *field,
                    "the recruiter must be a recruiter or an admin",
                )),
            _ => {}
        }
    }
    Ok(())
}

/// Checks that competencies exist, are not retired (unless already on the
/// loop: `allowed`), and are not repeated.
pub fn check_competencies(
    conn: &mut DbConn,
    field: &str,
    ids: &[Uuid],
    allowed: &[String],
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<String>> {
    let strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let found = db::catalog::competencies_by_ids(conn, &refs)?;
    for (n, id) in strings.iter().enumerate() {
        match found.get(id) {
            None => errors.push(FieldError::new(
                format!("{field}[{n}]"),
                "no such competency",
            )),
            Some(c) if c.retired && !allowed.contains(id) => errors.push(FieldError::new(
                format!("{field}[{n}]"),
                "this competency is retired",
            )),
            _ => {}
        }
        if strings[..n].contains(id) {
            errors.push(FieldError::new(format!("{field}[{n}]"), "listed twice"));
        }
    }
    if ids.len() > 16 {
        errors.push(FieldError::new(field, "at most 16 competencies"));
    }
    Ok(strings)
}

fn due_hours_problem(h: Option<i32>) -> Option<FieldError> {
    h.filter(|h| !(1..=720).contains(h))
        .map(|_| FieldError::new("feedback_due_hours", "between 1 and 720 hours"))
}

fn fail_if(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// Loads a loop the caller may see, locked for writing.
pub fn lock_visible(
    conn: &mut DbConn,
    id: &str,
    me: &AuthUser,
) -> AppResult<db::loops::LoopBundle> {
    let b = db::loops::lock_bundle(conn, id)?.ok_or(AppError::NotFound)?;
    views::require_visible(&b, me)?;
    Ok(b)
}

/// Re-checks composition after an edit to a scheduled loop: an edit may not
/// leave a scheduled loop in a shape it could not have been scheduled in.
pub fn recheck_if_scheduled(conn: &mut DbConn, loop_id: &str) -> AppResult<()> {
    let b = db::loops::bundle(conn, loop_id)?.ok_or(AppError::NotFound)?;
    if views::state_of(&b)? != LoopState::Scheduled {
        return Ok(());
    }
    let names = Names::load(conn, &b)?;
    let broken: Vec<Violation> = composition::check(&views::composition(&b, &names)?);
    if broken.is_empty() {
        Ok(())
    } else {
        Err(crate::domain::Refusal::Invalid(broken).into())
    }
}

/// Create a loop for a candidate (recruiters, admins). It starts in `draft`.
#[utoipa::path(
    tag = "loops",
    operation_id = "create_loop",
    request_body = CreateLoop,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown ids named by field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateLoop>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let req = body.into_inner();
    let mut errors: Vec<FieldError> = [
        text_problem("position", &req.position, TEXT_MAX),
        text_problem("level", &req.level, TEXT_MAX),
    ]
    .into_iter()
    .flatten()
    .map(FieldError::from)
    .collect();
    errors.extend(due_hours_problem(req.feedback_due_hours));
    let view = state
        .db
        .write(move |conn| {
            let recruiter = req.recruiter_id.unwrap_or(me.id);
            match db::catalog::candidate(conn, &req.candidate_id.to_string())? {
                None => errors.push(FieldError::new("candidate_id", "no such candidate")),
                Some(c) if c.erased_at.is_some() => {
                    errors.push(FieldError::new("candidate_id", "this candidate was erased"))
                }
                _ => {}
            }
            check_people(
                conn,
                &[
                    ("hiring_manager_id", req.hiring_manager_id),
                    ("bar_raiser_id", req.bar_raiser_id),
                    ("recruiter_id", recruiter),
                ],
                &mut errors,
            )?;
            let required = check_competencies(
                conn,
                "required_competency_ids",
                &req.required_competency_ids,
                &[],
                &mut errors,
            )?;
            fail_if(errors)?;
            let at = db::to_db(db::now());
            let row = LoopRow {
                id: Uuid::new_v4().to_string(),
                candidate_id: req.candidate_id.to_string(),
                position: req.position.trim().to_string(),
                level: req.level.trim().to_string(),
                hiring_manager_id: req.hiring_manager_id.to_string(),
                bar_raiser_id: req.bar_raiser_id.to_string(),
                recruiter_id: recruiter.to_string(),
                feedback_due_hours: req.feedback_due_hours.unwrap_or(24),
                state: LoopState::Draft.as_str().into(),
                cancel_reason: None,
                cancelled_at: None,
                debrief_opened_at: None,
                votes_revealed_at: None,
                decision_outcome: None,
                decision_rationale: None,
                decision_recycle: None,
                decided_by: None,
                decision_recorded_at: None,
                bar_raiser_verdict: None,
                veto_rationale: None,
                verdict_at: None,
                final_outcome: None,
                decided_at: None,
                created_by: me.id.to_string(),
                created_at: at,
                updated_at: at,
                version: 0,
            };
            db::loops::insert(conn, &row, &required)?;
            db::audit::append(
                conn,
                &row.id,
                Some(me.id),
                "loop.created",
                Some(&row.id),
                &serde_json::json!({
                    "candidate_id": row.candidate_id,
                    "position": row.position,
                    "level": row.level,
                    "hiring_manager_id": row.hiring_manager_id,
                    "bar_raiser_id": row.bar_raiser_id,
                    "recruiter_id": row.recruiter_id,
                    "feedback_due_hours": row.feedback_due_hours,
                    "required_competency_ids": required,
                }),
            )?;
            let b = db::loops::bundle(conn, &row.id)?.ok_or(AppError::NotFound)?;
            views::loop_view(conn, &b)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List loops, newest first. Members see only loops they take part in;
/// recruiters and admins see all (or theirs with `participant=me`).
#[utoipa::path(
    tag = "loops",
    operation_id = "list_loops",
    params(LoopQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<LoopSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<LoopQuery>,
) -> AppResult<HttpResponse> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = LoopFilter {
        state: q.state.map(|s| s.as_str().to_string()),
        candidate_id: q.candidate_id.map(|c| c.to_string()),
        participant: (q.participant.is_some() || !me.is_recruiter_or_admin())
            .then(|| me.id.to_string()),
    };
    let p = page.clone();
    let (rows, candidates) = state
        .db
        .run(move |conn| {
            let rows = db::loops::page(conn, &filter, p.after.clone(), p.fetch())?;
            let ids: Vec<&str> = rows.iter().map(|r| r.candidate_id.as_str()).collect();
            let candidates = db::catalog::candidate_names(conn, &ids)?;
            Ok((rows, candidates))
        })
        .await?;
    let page: Page<LoopSummary> = Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id.clone()),
        |r| {
            let c = candidates.get(&r.candidate_id);
            LoopSummary {
                id: db::uuid(&r.id),
                candidate: CandidateRef {
                    id: db::uuid(&r.candidate_id),
                    name: c.map(|c| c.name.clone()).unwrap_or_default(),
                    erased: c.is_some_and(|c| c.erased_at.is_some()),
                },
                position: r.position,
                level: r.level,
                state: r.state.parse().unwrap_or(LoopState::Draft),
                hiring_manager_id: db::uuid(&r.hiring_manager_id),
                bar_raiser_id: db::uuid(&r.bar_raiser_id),
                recruiter_id: db::uuid(&r.recruiter_id),
                created_at: db::from_db(r.created_at),
                updated_at: db::from_db(r.updated_at),
            }
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Read a loop: its interviews with feedback status (never content),
/// progress and decision. 404 for people outside it.
#[utoipa::path(
    tag = "loops",
    operation_id = "get_loop",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let (view, at) = state
        .db
        .read(move |conn| {
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &me)?;
            Ok((views::loop_view(conn, &b)?, b.row.updated_at))
        })
        .await?;
    Ok(preconditions::ok(at).json(view))
}

/// Edit a loop while `draft` or `scheduled` (the loop's recruiter, admins).
/// A scheduled loop must still satisfy the composition rules afterwards.
#[utoipa::path(
    tag = "loops",
    operation_id = "update_loop",
    params(("id" = Uuid, Path)),
    request_body = UpdateLoop,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`self_assignment` (making oneself the hiring manager or Bar Raiser), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The loop is past editing", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/loops/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: preconditions::IfMatch,
    body: web::Json<UpdateLoop>,
) -> AppResult<HttpResponse> {
    let req = body.into_inner();
    let id = id.into_inner().to_string();
    let (view, at) = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            if_match.check(b.row.updated_at)?;
            lifecycle::edit(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            let mut errors: Vec<FieldError> = [
                req.position
                    .as_deref()
                    .and_then(|p| text_problem("position", p, TEXT_MAX)),
                req.level
                    .as_deref()
                    .and_then(|l| text_problem("level", l, TEXT_MAX)),
            ]
            .into_iter()
            .flatten()
            .map(FieldError::from)
            .collect();
            errors.extend(due_hours_problem(req.feedback_due_hours));
            let people: Vec<(&str, Uuid)> = [
                ("hiring_manager_id", req.hiring_manager_id),
                ("bar_raiser_id", req.bar_raiser_id),
                ("recruiter_id", req.recruiter_id),
            ]
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .collect();
            // Rule 7: nobody appoints themselves into a running loop.
            let me_str = me.id.to_string();
            for (new, current) in [
                (req.hiring_manager_id, &b.row.hiring_manager_id),
                (req.bar_raiser_id, &b.row.bar_raiser_id),
            ] {
                if new.is_some_and(|n| n == me.id) && *current != me_str {
                    return Err(AppError::forbidden("self_assignment"));
                }
            }
            check_people(conn, &people, &mut errors)?;
            // Rule 7: a recruiter never holds a seat in a loop they run.
            if let Some(r) = req.recruiter_id
                && b.interview_of(&r.to_string()).is_some()
            {
                errors.push(FieldError::new(
                    "recruiter_id",
                    "this person holds an interview in the loop; the loop's recruiter cannot interview or shadow in it",
                ));
            }
            let required = match &req.required_competency_ids {
                Some(ids) => Some(check_competencies(
                    conn,
                    "required_competency_ids",
                    ids,
                    &b.required_competency_ids,
                    &mut errors,
                )?),
                None => None,
            };
            fail_if(errors)?;
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    position: req.position.as_ref().map(|p| p.trim().to_string()),
                    level: req.level.as_ref().map(|l| l.trim().to_string()),
                    hiring_manager_id: req.hiring_manager_id.map(|u| u.to_string()),
                    bar_raiser_id: req.bar_raiser_id.map(|u| u.to_string()),
                    recruiter_id: req.recruiter_id.map(|u| u.to_string()),
                    feedback_due_hours: req.feedback_due_hours,
                    ..Default::default()
                },
            )?;
            if let Some(required) = &required {
                db::loops::set_required(conn, &id, required)?;
            }
            recheck_if_scheduled(conn, &id)?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                "loop.updated",
                Some(&id),
                &serde_json::json!({
                    "position": req.position,
                    "level": req.level,
                    "hiring_manager_id": req.hiring_manager_id,
                    "bar_raiser_id": req.bar_raiser_id,
                    "recruiter_id": req.recruiter_id,
                    "feedback_due_hours": req.feedback_due_hours,
                    "required_competency_ids": required,
                }),
            )?;
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            Ok((views::loop_view(conn, &b)?, b.row.updated_at))
        })
        .await?;
    Ok(preconditions::ok(at).json(view))
}

/// Schedule a draft loop: checks every composition rule and answers 422
/// listing each one broken; on success interviewers are notified.
#[utoipa::path(
    tag = "loops",
    operation_id = "schedule_loop",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Composition rules broken, each listed with its code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/schedule")]
pub async fn schedule(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            let names = Names::load(conn, &b)?;
            let broken = composition::check(&views::composition(&b, &names)?);
            let next =
                lifecycle::schedule(views::state_of(&b)?, &views::loop_actor(&b, &me), broken)?;
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    state: Some(next.as_str().into()),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                "loop.scheduled",
                Some(&id),
                &serde_json::json!({}),
            )?;
            webhooks::emit(
                conn,
                EventType::LoopScheduled,
                serde_json::json!({"loop_id": id, "candidate_id": b.row.candidate_id}),
            )?;
            let about = names.loop_ref(&b);
            for i in &b.interviews {
                if let Some(to) = names.recipient(&i.interviewer_id) {
                    let notice = Notice::InterviewAssigned {
                        interview_id: db::uuid(&i.id),
                        starts_at: db::from_db(i.starts_at),
                        competencies: b
                            .competencies_of(&i.id)
                            .iter()
                            .map(|c| names.competency(c).name)
                            .collect(),
                    };
                    notify::enqueue(conn, &public_url, &[to], &about, &notice, None)?;
                }
            }
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            views::loop_view_with(&b, &names)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Cancel a loop before it is decided, with a reason; participants are told.
#[utoipa::path(
    tag = "loops",
    operation_id = "cancel_loop",
    params(("id" = Uuid, Path)),
    request_body = CancelLoop,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided or already cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CancelLoop>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().reason;
    if let Some(v) = text_problem("reason", &reason, REASON_MAX) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            let next = lifecycle::cancel(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    state: Some(next.as_str().into()),
                    cancel_reason: Some(Some(reason.trim().to_string())),
                    cancelled_at: Some(Some(db::to_db(db::now()))),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                "loop.cancelled",
                Some(&id),
                &serde_json::json!({"reason": reason.trim()}),
            )?;
            let names = Names::load(conn, &b)?;
            let notice = Notice::LoopCancelled {
                reason: reason.trim().to_string(),
            };
            notify::enqueue(
                conn,
                &public_url,
                &views::participants(&b, &names),
                &names.loop_ref(&b),
                &notice,
                None,
            )?;
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            views::loop_view_with(&b, &names)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
