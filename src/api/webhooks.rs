//! Webhook subscriptions for HR tooling: admins, or service tokens with
//! `webhooks:manage`, register a URL for some event types. The signing
//! secret is shown once; it is stored as given, since it must sign.

use std::time::Duration;

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::idempotency::ReplayPolicy;
use crate::app::AppState;
use crate::auth::{AuthUser, tokens};
use crate::db::{self, audit::ORG_CHAIN, webhooks::WebhookRow};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::webhooks::{EventType, ResolveError, TargetRefusal, check_url, resolve_public};

/// Longest accepted target URL.
const URL_MAX: usize = 2000;
/// Bounds of a caller-supplied secret, in characters.
const SECRET_MIN: usize = 16;
const SECRET_MAX: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: http or https, not a loopback or
    /// private address (unless the server allows those).
    pub url: String,
    /// At least one.
    pub event_types: Vec<EventType>,
    /// Signs deliveries (16 to 200 characters); generated if absent.
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<EventType>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A new webhook with its signing secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    /// Verify `X-BarRaiser-Signature` with it (see the README).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: db::uuid(&r.id),
            url: r.url,
            event_types: r
                .event_types
                .split_whitespace()
                .filter_map(EventType::parse)
                .collect(),
            created_by: db::uuid(&r.created_by),
            created_at: db::from_db(r.created_at),
        }
    }
}

fn url_error(why: TargetRefusal) -> FieldError {
    FieldError {
        field: "url".into(),
        message: why.message,
        code: Some(why.code.to_string()),
    }
}

/// How long registration waits for a host name to resolve.
const RESOLVE_WITHIN: Duration = Duration::from_secs(3);

/// A host name whose every address is refused is refused at registration
/// too. One that does not resolve (yet) is accepted: each delivery resolves
/// it again and connects only to addresses that pass.
async fn resolves_only_inside(url: &reqwest::Url) -> Option<TargetRefusal> {
    let host = url.host_str()?;
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match tokio::time::timeout(RESOLVE_WITHIN, resolve_public(host, port)).await {
        Ok(Err(e @ ResolveError::NothingPublic { .. })) => Some(TargetRefusal {
            code: "target_not_global",
            message: format!("must point at a public address: {e}"),
        }),
        _ => None,
    }
}

/// Register a webhook.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = CreateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
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
    me.require_admin()?;
    let req = body.into_inner();
    let mut errors = Vec::new();
    if req.url.chars().count() > URL_MAX {
        errors.push(FieldError::new(
            "url",
            format!("at most {URL_MAX} characters"),
        ));
    } else {
        match check_url(&req.url, state.config.webhook_allow_private) {
            Err(why) => errors.push(url_error(why)),
            Ok(url) if !state.config.webhook_allow_private => {
                if let Some(why) = resolves_only_inside(&url).await {
                    errors.push(url_error(why));
                }
            }
            Ok(_) => {}
        }
    }
    if req.event_types.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            "subscribe to at least one event type",
        ));
    }
    if let Some(s) = &req.secret {
        let n = s.chars().count();
        if !(SECRET_MIN..=SECRET_MAX).contains(&n) || s.trim() != s {
            errors.push(FieldError::new(
                "secret",
                format!("{SECRET_MIN} to {SECRET_MAX} characters, no surrounding spaces"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let secret = req
        .secret
        .unwrap_or_else(|| format!("whsec_{}", tokens::random_token()));
    let mut events = req.event_types;
    events.sort();
    events.dedup();
    let row = WebhookRow {
        id: Uuid::new_v4().to_string(),
        url: req.url.trim().to_string(),
        event_types: events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        secret: secret.clone(),
        created_by: me.id.to_string(),
        created_at: db::to_db(db::now()),
        deleted_at: None,
    };
    let stored = row.clone();
    state
        .db
        .write(move |conn| {
            db::webhooks::insert(conn, &stored)?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "webhook.created",
                Some(&stored.id),
                &serde_json::json!({"url": stored.url, "event_types": stored.event_types}),
            )
        })
        .await?;
    // The secret is shown once: a retry with the same Idempotency-Key gets
    // a 409 naming the webhook, never the secret again.
    let policy = ReplayPolicy::secret(&row.id);
    Ok(policy.mark(HttpResponse::Created().json(CreatedWebhook {
        webhook: row.into(),
        secret,
    })))
}

/// List live webhooks, newest first (secrets are never shown).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let rows = state.db.run(|conn| Ok(db::webhooks::live(conn)?)).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: rows.into_iter().map(Webhook::from).collect(),
    }))
}

/// One live webhook.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Webhook),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let id = id.into_inner().to_string();
    let row = state
        .db
        .run(move |conn| db::webhooks::live_by_id(conn, &id)?.ok_or(AppError::NotFound))
        .await?;
    // A webhook never changes (only its deletion): its tag is its creation.
    Ok(super::preconditions::ok(row.created_at).json(Webhook::from(row)))
}

/// Delete a webhook: nothing more is queued for it, and deliveries still
/// queued are not sent.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: super::preconditions::IfMatch,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let current = db::webhooks::live_by_id(conn, &id)?.ok_or(AppError::NotFound)?;
            if_match.check(current.created_at)?;
            if !db::webhooks::delete(conn, &id, db::to_db(db::now()))? {
                return Err(AppError::NotFound);
            }
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "webhook.deleted",
                Some(&id),
                &serde_json::json!({}),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
