//! The competency catalogue: the HTTP side of
//! [`crate::workflows::competencies`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::preconditions::{IfMatch, tagged};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::competencies::{
    self as flow, Competency, CompetencyList, CompetencyQuery, CreateCompetency, UpdateCompetency,
};

/// The catalogue, by name.
///
/// Every signed-in person may read it, retired competencies included (marked
/// `retired`), so old feedback keeps its names. Not paged, unlike the lists
/// that grow with use: the catalogue is curated by admins (tens of entries),
/// and a client choosing a loop's competencies needs all of it at once.
#[utoipa::path(
    tag = "competencies",
    operation_id = "list_competencies",
    params(CompetencyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CompetencyList),
        Unauthenticated,
        Unprocessable,
    )
)]
#[get("/competencies")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<CompetencyQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, q.into_inner()).await?))
}

/// Add a competency (admins).
///
/// Names are unique (409 `name_taken` otherwise).
#[utoipa::path(
    tag = "competencies",
    operation_id = "create_competency",
    request_body = CreateCompetency,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Competency, headers(("Location" = String, description = "The new competency: `/api/v1/competencies/{id}`"))),
        Unauthenticated,
        Forbidden,
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/competencies")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateCompetency>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    Ok(located(format_args!("/competencies/{}", created.id)).json(created))
}

/// Rename, describe, retire or restore a competency (admins).
///
/// Only the fields sent change. A retired competency can no longer be required
/// or rated in new loops; feedback that rated it keeps it.
#[utoipa::path(
    tag = "competencies",
    operation_id = "update_competency",
    params(("id" = Uuid, Path)),
    request_body = UpdateCompetency,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Competency),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[patch("/competencies/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateCompetency>,
) -> AppResult<HttpResponse> {
    let updated = flow::update(&state, &me, id.into_inner(), if_match, body.into_inner()).await?;
    Ok(tagged(updated))
}

/// Read one competency, retired or not.
///
/// Every signed-in person may. The answer carries an `ETag` for `If-Match` on a
/// later change.
#[utoipa::path(
    tag = "competencies",
    operation_id = "get_competency",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Competency),
        Unauthenticated,
        NotFound,
    )
)]
#[get("/competencies/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}
