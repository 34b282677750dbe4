//! Webhook subscriptions: the HTTP side of [`crate::workflows::webhooks`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::{HttpResponse, delete, get, post, web};
use uuid::Uuid;

use super::idempotency::ReplayPolicy;
use super::preconditions::{IfMatch, tagged};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::pagination::{Page, PageQuery};
use crate::workflows::webhooks::{
    self as flow, CreateWebhook, CreatedWebhook, RotatedWebhookSecret, Webhook,
};

/// Register a webhook.
///
/// Admins. The target must resolve to global unicast addresses only (no
/// private, loopback or other special-purpose address), checked again at each
/// delivery. The signing secret is in this answer only.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = CreateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedWebhook, headers(("Location" = String, description = "The new webhook: `/api/v1/webhooks/{id}`"))),
        Unauthenticated,
        Forbidden,
        (status = 409, description = "`idempotency_in_progress`: the same request is still running; or a later retry with its `Idempotency-Key`: `secret_not_replayable`, naming the webhook created first (its secret is never shown again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a refused target URL", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateWebhook>,
) -> AppResult<HttpResponse> {
    let created = flow::create(&state, &me, body.into_inner()).await?;
    // The secret is shown once: a retry with the same Idempotency-Key gets
    // a 409 naming the webhook, never the secret again.
    let policy = ReplayPolicy::secret(created.webhook.id);
    let at = format!("/webhooks/{}", created.webhook.id);
    Ok(policy.mark(located(at).json(created)))
}

/// List live webhooks, newest first (secrets are never shown).
///
/// Admins. Paged with `limit` and `cursor`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Webhook>),
        Unauthenticated,
        Forbidden,
        Unprocessable,
    )
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, q.into_inner()).await?))
}

/// One live webhook.
///
/// Admins. The secret is never shown again; 404 once deleted.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Webhook),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}

/// Delete a webhook.
///
/// Nothing more is queued for it, and deliveries still queued are not sent.
/// Admins.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    flow::remove(&state, &me, id.into_inner(), if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook's signing secret.
///
/// Admins. The new secret is in this answer only. The previous one keeps
/// signing beside it (a second `v1,` signature in `webhook-signature`)
/// until `webhook.previous_secret_expires_at`, the server's grace period
/// (24 hours unless configured), so receivers can switch without losing a
/// delivery. Rotating again within that period stops the replaced secret at
/// once. A webhook with a `legacy_secret` moves to the Standard Webhooks
/// body and headers with its first rotation.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RotatedWebhookSecret),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`idempotency_in_progress`: the same request is still running; or a later retry with its `Idempotency-Key`: `secret_not_replayable`, naming the webhook (its new secret is never shown again)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let rotated = flow::rotate_secret(&state, &me, id, if_match).await?;
    Ok(ReplayPolicy::secret(id).mark(tagged(rotated)))
}
