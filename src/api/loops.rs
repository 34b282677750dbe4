//! Interview loops: the HTTP side of [`crate::workflows::loops`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::preconditions::{IfMatch, tagged, tagged_json};
use crate::app::AppState;
use crate::auth::{AuthUser, Claim};
use crate::error::{AppResult, Problem};
use crate::workflows::loops::{
    self as flow, CancelLoop, CreateLoop, LoopQuery, LoopSummary, ScheduledLoop, UpdateLoop,
};
// Named by the OpenAPI document (`api::loops::ParticipantFilter`) and, until
// the debrief moves, by its handlers.

use crate::workflows::pagination::Page;
use crate::workflows::views::Loop;

/// Create a loop for a candidate (recruiters, admins).
///
/// It starts in `draft`.
#[utoipa::path(
    tag = "loops",
    operation_id = "create_loop",
    request_body = CreateLoop,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Loop, headers(("Location" = String, description = "The new loop: `/api/v1/loops/{id}`"))),
        Unauthenticated,
        Forbidden,
        (status = 422, description = "Invalid fields, unknown ids named by field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateLoop>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    Ok(located(format_args!("/loops/{}", created.id)).json(created))
}

/// List loops, newest first.
///
/// Members see only loops they take part in; recruiters and admins see all (or
/// theirs with `participant=me`).
#[utoipa::path(
    tag = "loops",
    operation_id = "list_loops",
    params(LoopQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<LoopSummary>),
        Unauthenticated,
        Unprocessable,
    )
)]
#[get("/loops")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<LoopQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, q.into_inner()).await?))
}

/// Read a loop: its interviews with feedback status (never content), progress
/// and decision.
///
/// 404 for people outside it.
#[utoipa::path(
    tag = "loops",
    operation_id = "get_loop",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        NotFound,
    )
)]
#[get("/loops/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    claim: Claim,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged_json(
        flow::get(&state, claim, id.into_inner()).await?,
    ))
}

/// Edit a loop while `draft` or `scheduled` (the loop's recruiter, admins).
///
/// A scheduled loop must still satisfy the composition rules afterwards.
#[utoipa::path(
    tag = "loops",
    operation_id = "update_loop",
    params(("id" = Uuid, Path)),
    request_body = UpdateLoop,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        (status = 403, description = "`self_assignment` (making oneself the hiring manager or Bar Raiser), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "The loop is past editing", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[patch("/loops/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateLoop>,
) -> AppResult<HttpResponse> {
    let updated = flow::update(&state, &me, id.into_inner(), if_match, body.into_inner()).await?;
    Ok(tagged(updated))
}

/// Schedule a draft loop.
///
/// Checks every composition rule and answers 422 listing each one broken; on
/// success the loop is `scheduled` and its interviewers are notified. The
/// answer's `warnings` list advisories that do not block, such as a Bar
/// Raiser who served many loops in the last 30 days (`bar_raiser_load`).
#[utoipa::path(
    tag = "loops",
    operation_id = "schedule_loop",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ScheduledLoop),
        Unauthenticated,
        Forbidden,
        NotFound,
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
    Ok(HttpResponse::Ok().json(flow::schedule(&state, &me, id.into_inner()).await?))
}

/// Cancel a loop before it is decided, with a reason; participants are told.
///
/// The loop's recruiter or an admin. Refused with 409 once decided or already
/// cancelled.
#[utoipa::path(
    tag = "loops",
    operation_id = "cancel_loop",
    params(("id" = Uuid, Path)),
    request_body = CancelLoop,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Decided or already cancelled", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/loops/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CancelLoop>,
) -> AppResult<HttpResponse> {
    let cancelled = flow::cancel(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(cancelled))
}
