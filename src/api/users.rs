//! Accounts: the HTTP side of [`crate::workflows::users`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::preconditions::{IfMatch, tagged};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::pagination::Page;
use crate::workflows::users::{self as flow, CreateUser, UpdateUser, User, UserQuery};

/// Create an account (admins).
///
/// The password must be at least 12 characters and not a common or breached
/// password, nor built from the person's name or email. Emails are unique,
/// compared without case.
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = User, headers(("Location" = String, description = "The new account: `/api/v1/users/{id}`"))),
        Unauthenticated,
        (status = 403, description = "Not an admin; or a service token over its ceiling (`token_privilege_ceiling`: an admin account or a password)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateUser>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    Ok(located(format_args!("/users/{}", created.id)).json(created))
}

/// List accounts, newest first (admins and recruiters).
///
/// Paged with `limit` and `cursor`.
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<User>),
        Unauthenticated,
        Forbidden,
        Unprocessable,
    )
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, query.into_inner()).await?))
}

/// Read an account (admins and recruiters; anyone for themselves).
///
/// The answer carries an `ETag` for `If-Match` on a later change.
#[utoipa::path(
    tag = "users",
    operation_id = "get_user",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}

/// Change an account (admins).
///
/// Deactivating ends its sessions at once.
#[utoipa::path(
    tag = "users",
    operation_id = "update_user",
    params(("id" = Uuid, Path)),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        Unauthenticated,
        (status = 403, description = "Not an admin; or a service token over its ceiling (`token_privilege_ceiling`: an admin account, a role of admin, or a password)", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`cannot_demote_self`: an admin cannot demote or deactivate themselves; `email_taken`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateUser>,
) -> AppResult<HttpResponse> {
    let updated = flow::update(&state, &me, id.into_inner(), if_match, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// The signed-in user.
///
/// The caller's own account: name, email, role and whether they are a certified
/// Bar Raiser.
#[utoipa::path(
    tag = "users",
    operation_id = "get_me",
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        Unauthenticated,
    )
)]
#[get("/me")]
pub async fn current(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::current(&state, &me).await?))
}
