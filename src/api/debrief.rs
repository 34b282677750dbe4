//! The debrief: the HTTP side of [`crate::workflows::debrief`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable};
use actix_web::{HttpResponse, get, post, put, web};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::debrief::{
    self as flow, DebriefView, DebriefVoteInput, DecisionInput, MyDebriefVote, VetoInput,
};
use crate::workflows::views::Loop;

/// Open the debrief (the loop's Bar Raiser).
///
/// Refused with 409 `feedback_outstanding`, naming each open interview, until
/// every voting interview is sealed or excused. Freezes feedback; opens sealed
/// content to participants and the loop's recruiter.
#[utoipa::path(
    tag = "debrief",
    operation_id = "open_debrief",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`feedback_outstanding` (each open interview listed in `errors`) or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/debrief")]
pub async fn open(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::open(&state, &me, id.into_inner()).await?))
}

/// The debrief view (participants and the loop's recruiter, once the debrief is
/// open): all sealed feedback with addenda, sealed and debrief votes side by
/// side, the competency matrix, counts, and the independence report.
///
/// Reading it logs a read of each feedback not your own.
#[utoipa::path(
    tag = "debrief",
    operation_id = "get_debrief",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DebriefView),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`debrief_not_open`, or `feedback_integrity_failed` (a sealed feedback no longer matches its receipt)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/debrief")]
pub async fn show(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::show(&state, &me, id.into_inner()).await?))
}

/// Cast or change your debrief vote (voting participants, while the debrief is
/// open).
///
/// Your sealed vote stays on record; a different vote needs a rationale. Others
/// see only that you voted until all have voted or the Bar Raiser reveals.
#[utoipa::path(
    tag = "debrief",
    operation_id = "cast_debrief_vote",
    params(("id" = Uuid, Path)),
    request_body = DebriefVoteInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyDebriefVote),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "The debrief is not open", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[put("/loops/{id}/debrief/votes/me")]
pub async fn cast_vote(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DebriefVoteInput>,
) -> AppResult<HttpResponse> {
    let mine = flow::cast_vote(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(mine))
}

/// Reveal the debrief votes before everyone has voted (the Bar Raiser).
///
/// Until then participants see only who has voted. Revealing is recorded in the
/// audit chain; it changes no vote. Only while the debrief is open.
#[utoipa::path(
    tag = "debrief",
    operation_id = "reveal_debrief_votes",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`debrief_not_open`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/debrief/reveal")]
pub async fn reveal(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::reveal(&state, &me, id.into_inner()).await?))
}

/// Record the decision (the loop's hiring manager, during the debrief).
///
/// `no_hire` is final; `hire` waits for the Bar Raiser to concur or veto.
#[utoipa::path(
    tag = "debrief",
    operation_id = "record_decision",
    params(("id" = Uuid, Path)),
    request_body = DecisionInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`debrief_not_open` or `already_decided`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/loops/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DecisionInput>,
) -> AppResult<HttpResponse> {
    let view = flow::decide(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The Bar Raiser concurs with a hire.
///
/// The hiring manager's `hire` becomes the final outcome. Only the loop's Bar
/// Raiser, while the hire is pending.
#[utoipa::path(
    tag = "debrief",
    operation_id = "concur_with_hire",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "No hire is pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/decision/concur")]
pub async fn concur(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let view = flow::verdict(&state, &me, id.into_inner(), None).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The Bar Raiser vetoes a hire.
///
/// With a rationale of at least 50 characters. The outcome becomes `no_hire`
/// with `vetoed: true`, final; participants are told.
#[utoipa::path(
    tag = "debrief",
    operation_id = "veto_hire",
    params(("id" = Uuid, Path)),
    request_body = VetoInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "No hire is pending", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rationale too short", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/decision/veto")]
pub async fn veto_hire(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<VetoInput>,
) -> AppResult<HttpResponse> {
    let view = flow::verdict(&state, &me, id.into_inner(), Some(body.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view))
}
