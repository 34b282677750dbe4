//! Service tokens: the HTTP side of [`crate::workflows::tokens`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, delete, get, post, web};
use uuid::Uuid;

use super::idempotency::ReplayPolicy;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::pagination::{Page, PageQuery};
use crate::workflows::tokens::{self as flow, ApiToken, CreateToken, CreatedToken};

/// Mint a service token (admins, signed in as themselves).
///
/// The secret is in this answer only; store it. A token carries a subset of the
/// admin's rights, named by its scopes, and can never create or change an admin
/// account or set a password.
#[utoipa::path(
    tag = "tokens",
    operation_id = "create_token",
    request_body = CreateToken,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedToken, headers(("Location" = String, description = "The new token: `/api/v1/tokens/{id}`"))),
        Unauthenticated,
        Forbidden,
        (status = 409, description = "`idempotency_in_progress`: the same request is still running; or a later retry with its `Idempotency-Key`: `secret_not_replayable`, naming the token created first (its secret is never shown again)", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateToken>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    // The secret is shown once: a retry with the same Idempotency-Key gets
    // a 409 naming the token, never the secret again.
    let policy = ReplayPolicy::secret(created.token.id);
    let at = format!("/tokens/{}", created.token.id);
    Ok(policy.mark(located(at).json(created)))
}

/// List service tokens, newest first, with when each was last used.
///
/// Admins. Each token with its scopes, expiry, last use and revocation; secrets
/// are never shown again. Paged with `limit` and `cursor`.
#[utoipa::path(
    tag = "tokens",
    operation_id = "list_tokens",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<ApiToken>),
        Unauthenticated,
        Forbidden,
        Unprocessable,
    )
)]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, q.into_inner()).await?))
}

/// Read one service token.
///
/// Admins. Its scopes, expiry, last use and revocation; the secret is never
/// shown again.
#[utoipa::path(
    tag = "tokens",
    operation_id = "get_token",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ApiToken),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/tokens/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::get(&state, &me, id.into_inner()).await?))
}

/// Revoke a service token.
///
/// It stops working at once, on every instance. Admins.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revoke_token",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    flow::revoke(&state, &me, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
