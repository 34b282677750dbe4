//! Webhook subscriptions for HR tooling: admins, or service tokens with
//! `webhooks:manage`, register a URL for some event types. The signing
//! secret (Standard Webhooks: `whsec_` + base64) is shown once; it is
//! stored as given, since it must sign. Rotating it shows the new one once,
//! and the previous one keeps signing for a grace period.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::pagination::{Page, PageQuery, PageRequest};
use super::preconditions::{IfMatch, Tagged};
use super::{Actor, AppState};
use crate::db::{self, webhooks::WebhookRow};
use crate::domain::{Violation, accounts};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, accounts::AccountEvent};
use crate::notify::webhooks::{
    EventType, ResolveError, SigningKey, TargetRefusal, check_url, generate_secret, resolve_public,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: http or https, not a loopback or
    /// private address (unless the server allows those).
    #[schema(max_length = 2000, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\u0000]+$")]
    pub url: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub event_types: Vec<EventType>,
    /// Signs deliveries: a Standard Webhooks secret, `whsec_` followed by
    /// the base64 of 24 to 64 bytes. Generated (32 random bytes) if absent.
    #[schema(
        pattern = "^whsec_[A-Za-z0-9+/]{32,88}={0,2}$",
        example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    )]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<EventType>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// The secret predates Standard Webhooks: deliveries keep the old body
    /// and `X-BarRaiser-Signature` beside the standard headers, whose key
    /// is the secret's text. Rotate the secret to move to the standard
    /// scheme.
    pub legacy_secret: bool,
    /// When the secret was last rotated.
    pub secret_rotated_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation signs too (a second
    /// `v1,` signature in `webhook-signature`); past once it stopped.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// A new webhook with its signing secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    /// Verify deliveries with it, by the Standard Webhooks scheme (see the
    /// README).
    pub secret: String,
}

/// A webhook's new signing secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedWebhookSecret {
    pub webhook: Webhook,
    /// The new secret. Deliveries are signed with it and, until
    /// `webhook.previous_secret_expires_at`, with the previous one too.
    pub secret: String,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: r.id.into(),
            url: r.url,
            // Leniently: an event type this version no longer sends is not
            // shown.
            event_types: r
                .event_types
                .split_whitespace()
                .filter_map(EventType::parse)
                .collect(),
            created_by: r.created_by.into(),
            created_at: db::from_db(r.created_at),
            legacy_secret: SigningKey::from_stored(&r.secret).is_legacy(),
            secret_rotated_at: r.secret_rotated_at.map(db::from_db),
            previous_secret_expires_at: r.previous_secret_expires_at.map(db::from_db),
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

/// These rules' answers have never carried a code; the API keeps them so.
fn uncoded(v: Violation) -> FieldError {
    FieldError::new(v.field, v.message)
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

/// What is wrong with the target URL, if anything.
async fn url_problem(url: &str, allow_private: bool) -> Option<FieldError> {
    if let Some(v) = accounts::webhook_url_too_long(url) {
        return Some(uncoded(v));
    }
    match check_url(url, allow_private) {
        Err(why) => Some(url_error(why)),
        Ok(url) if !allow_private => resolves_only_inside(&url).await.map(url_error),
        Ok(_) => None,
    }
}

/// Registers a webhook.
pub async fn create(state: &AppState, me: &Actor, req: CreateWebhook) -> AppResult<CreatedWebhook> {
    me.require_admin()?;
    let mut errors: Vec<FieldError> = url_problem(&req.url, state.config.webhook_allow_private)
        .await
        .into_iter()
        .collect();
    errors.extend(accounts::webhook_events_problem(req.event_types.len()).map(uncoded));
    if let Some(s) = &req.secret {
        errors.extend(accounts::webhook_secret_problem(s).map(uncoded));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let secret = req.secret.unwrap_or_else(generate_secret);
    let mut types = req.event_types;
    types.sort();
    types.dedup();
    let id = Uuid::new_v4();
    let row = WebhookRow {
        id: id.into(),
        url: req.url.trim().to_string(),
        event_types: types
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        secret: secret.clone(),
        created_by: me.id,
        created_at: db::to_db(db::now()),
        deleted_at: None,
        previous_secret: None,
        previous_secret_expires_at: None,
        secret_rotated_at: None,
    };
    let stored = row.clone();
    let by = me.by(state);
    state
        .db
        .write(move |conn| {
            db::webhooks::insert(conn, &stored)?;
            let event = AccountEvent::WebhookCreated {
                webhook: id,
                url: stored.url,
                event_types: stored.event_types,
            };
            events::record(conn, &by, event)
        })
        .await?;
    Ok(CreatedWebhook {
        webhook: row.into(),
        secret,
    })
}

/// Live webhooks, newest first (secrets are never shown).
pub async fn list(state: &AppState, me: &Actor, q: PageQuery) -> AppResult<Page<Webhook>> {
    me.require_admin()?;
    let page = PageRequest::try_from(&q)?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::webhooks::live_page(conn, p.after(), p.fetch())?))
        .await?;
    Ok(Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id),
        Webhook::from,
    ))
}

/// One live webhook. Only a rotation changes it: its tag is its last
/// rotation, or its creation.
pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<Tagged<Webhook>> {
    me.require_admin()?;
    let key = id.into();
    let row = state
        .db
        .run(move |conn| db::webhooks::live_by_id(conn, key)?.ok_or(AppError::NotFound))
        .await?;
    Ok(Tagged::at(row.changed_at(), row.into()))
}

/// Deletes a webhook: nothing more is queued for it, and deliveries still
/// queued are not sent.
pub async fn remove(state: &AppState, me: &Actor, id: Uuid, if_match: IfMatch) -> AppResult<()> {
    me.require_admin()?;
    let by = me.by(state);
    let key = id.into();
    state
        .db
        .write(move |conn| {
            let current = db::webhooks::live_by_id(conn, key)?.ok_or(AppError::NotFound)?;
            if_match.check(current.changed_at())?;
            if !db::webhooks::delete(conn, key, db::to_db(db::now()))? {
                return Err(AppError::NotFound);
            }
            events::record(conn, &by, AccountEvent::WebhookDeleted { webhook: id })
        })
        .await
}

/// Gives a webhook a new secret, shown once. The previous one keeps signing
/// beside it for the server's grace period (`--webhook-secret-grace`), so
/// receivers can switch without losing a delivery; rotating again within
/// that period drops it at once (a leaked secret is gone after two
/// rotations).
pub async fn rotate_secret(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
) -> AppResult<Tagged<RotatedWebhookSecret>> {
    me.require_admin()?;
    let by = me.by(state);
    let key = id.into();
    let secret = generate_secret();
    let new = secret.clone();
    let grace = chrono::Duration::from_std(state.config.webhook_secret_grace)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webhook secret grace: {e}")))?;
    let row = state
        .db
        .write(move |conn| {
            let current = db::webhooks::live_by_id(conn, key)?.ok_or(AppError::NotFound)?;
            if_match.check(current.changed_at())?;
            let now = db::now();
            let expires = now + grace;
            if !db::webhooks::rotate_secret(
                conn,
                key,
                &new,
                &current.secret,
                db::to_db(expires),
                db::to_db(now),
            )? {
                return Err(AppError::NotFound);
            }
            events::record(
                conn,
                &by,
                AccountEvent::WebhookSecretRotated {
                    webhook: id,
                    previous_secret_expires_at: expires,
                },
            )?;
            db::webhooks::live_by_id(conn, key)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(Tagged::at(
        row.changed_at(),
        RotatedWebhookSecret {
            webhook: row.into(),
            secret,
        },
    ))
}
