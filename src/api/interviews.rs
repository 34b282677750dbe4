//! Interviews within a loop: the HTTP side of [`crate::workflows::interviews`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::preconditions::{IfMatch, tagged};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::interviews::{self as flow, CreateInterview, MyInterview, UpdateInterview};
use crate::workflows::pagination::{Page, PageQuery};
use crate::workflows::views::Interview;

/// Add an interview to a loop (the loop's recruiter, admins) while the loop is
/// `draft` or `scheduled`.
///
/// Nobody puts themselves on an interview. A person put on a loop after its
/// first seal reads others' feedback only from the debrief on.
#[utoipa::path(
    tag = "interviews",
    operation_id = "create_interview",
    params(("id" = Uuid, Path, description = "Loop id")),
    request_body = CreateInterview,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Interview, headers(("Location" = String, description = "The new interview: `/api/v1/interviews/{id}`"))),
        Unauthenticated,
        (status = 403, description = "`self_assignment` (nobody puts themselves on an interview), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        NotFound,
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
    let created = flow::create(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(located(format_args!("/interviews/{}", created.id)).json(created))
}

/// Read one interview and its feedback status.
///
/// Never the feedback content, which `get_feedback` serves under the
/// independence rules. 404 to people outside the loop.
#[utoipa::path(
    tag = "interviews",
    operation_id = "get_interview",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Interview),
        Unauthenticated,
        NotFound,
    )
)]
#[get("/interviews/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}

/// Change an interview (the loop's recruiter, admins) while the loop is `draft`
/// or `scheduled` and no feedback has been started.
///
/// Only the fields sent change; nobody moves an interview to themselves.
#[utoipa::path(
    tag = "interviews",
    operation_id = "update_interview",
    params(("id" = Uuid, Path)),
    request_body = UpdateInterview,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Interview),
        Unauthenticated,
        (status = 403, description = "`self_assignment` (moving an interview to oneself), `not_loop_recruiter`", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "Loop past editing, feedback started, or duplicate interviewer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `recruiter_cannot_interview`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/interviews/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateInterview>,
) -> AppResult<HttpResponse> {
    let updated = flow::update(&state, &me, id.into_inner(), if_match, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Remove an interview (same conditions as changing it).
///
/// Refused with 409 once feedback has been started on it or the loop is past
/// editing. The removal is recorded in the loop's audit chain.
#[utoipa::path(
    tag = "interviews",
    operation_id = "delete_interview",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Loop past editing or feedback started", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A scheduled loop would break its composition rules", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/interviews/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    flow::remove(&state, &me, id.into_inner(), if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own interviews across loops, soonest first, with due dates.
///
/// Each with its loop, the candidate's name, the position and the loop's state,
/// beside the interview's times and feedback status. Paged with `limit` and
/// `cursor`.
#[utoipa::path(
    tag = "interviews",
    operation_id = "list_my_interviews",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<MyInterview>),
        Unauthenticated,
        Unprocessable,
    )
)]
#[get("/me/interviews")]
pub async fn mine(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::mine(&state, &me, q.into_inner()).await?))
}
