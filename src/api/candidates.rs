//! Candidates: the HTTP side of [`crate::workflows::candidates`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::preconditions::{IfMatch, tagged};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::candidates::{
    self as flow, Candidate, CandidateQuery, CreateCandidate, UpdateCandidate,
};
use crate::workflows::pagination::Page;

/// Record a candidate.
///
/// Recruiters and admins. An email, when given, is unique among candidates (409
/// otherwise); links must be `http(s)` URLs.
#[utoipa::path(
    tag = "candidates",
    operation_id = "create_candidate",
    request_body = CreateCandidate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Candidate, headers(("Location" = String, description = "The new candidate: `/api/v1/candidates/{id}`"))),
        Unauthenticated,
        Forbidden,
        (status = 409, description = "A candidate with this email exists", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/candidates")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateCandidate>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    Ok(located(format_args!("/candidates/{}", created.id)).json(created))
}

/// List candidates, newest first.
///
/// Recruiters and admins. Paged with `limit` and `cursor`.
#[utoipa::path(
    tag = "candidates",
    operation_id = "list_candidates",
    params(CandidateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Candidate>),
        Unauthenticated,
        Forbidden,
        Unprocessable,
    )
)]
#[get("/candidates")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<CandidateQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, q.into_inner()).await?))
}

/// Read a candidate.
///
/// Recruiters and admins. The answer carries an `ETag` for `If-Match` on a
/// later change.
#[utoipa::path(
    tag = "candidates",
    operation_id = "get_candidate",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Candidate),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/candidates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}

/// Correct a candidate's details (not once erased).
///
/// Recruiters and admins. Only the fields sent change. Refused with 409 once
/// the candidate is erased, or when the new email belongs to another candidate.
#[utoipa::path(
    tag = "candidates",
    operation_id = "update_candidate",
    params(("id" = Uuid, Path)),
    request_body = UpdateCandidate,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Candidate),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Erased, or email taken", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[patch("/candidates/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateCandidate>,
) -> AppResult<HttpResponse> {
    let updated = flow::update(&state, &me, id.into_inner(), if_match, body.into_inner()).await?;
    Ok(tagged(updated))
}

/// Erase a candidate's personal data.
///
/// Name, email, phone, links and notes are replaced by a tombstone (also in
/// queued and sent notification copies); loops, feedback and audit chains
/// stay. Erasing twice is harmless.
#[utoipa::path(
    tag = "candidates",
    operation_id = "erase_candidate",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The erased record", body = Candidate),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[delete("/candidates/{id}")]
pub async fn erase(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    Ok(tagged(
        flow::erase(&state, &me, id.into_inner(), if_match).await?,
    ))
}
