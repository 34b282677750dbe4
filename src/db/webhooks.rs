//! Webhook subscriptions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::webhooks;
use super::types::{UserId, WebhookId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: WebhookId,
    pub url: String,
    /// Space-separated event type names.
    pub event_types: String,
    /// Signs deliveries; never leaves the server after creation or
    /// rotation. `whsec_` + base64 of the key, or `legacy:` + a secret from
    /// before Standard Webhooks, whose text is the key
    /// ([`crate::notify::webhooks::SigningKey`]).
    pub secret: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    /// The secret before the last rotation, signing beside `secret` until
    /// `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    /// When the secret was last rotated (the webhook's last change).
    pub secret_rotated_at: Option<NaiveDateTime>,
}

impl WebhookRow {
    /// When the webhook last changed: its entity tag.
    pub fn changed_at(&self) -> NaiveDateTime {
        self.secret_rotated_at.unwrap_or(self.created_at)
    }
}

pub fn insert(conn: &mut DbConn, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A live (not deleted) webhook.
pub fn live_by_id(conn: &mut DbConn, id: WebhookId) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .get_result(conn)
        .optional()
}

/// Live webhooks, newest first.
/// Every live webhook, newest first (the fan-out of an event).
pub fn live(conn: &mut DbConn) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .order((webhooks::created_at.desc(), webhooks::id.desc()))
        .load(conn)
}

/// One page of live webhooks, newest first, after the `(created_at, id)`
/// cursor.
pub fn live_page(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, WebhookId)>,
    limit: i64,
) -> QueryResult<Vec<WebhookRow>> {
    let mut q = webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .order((webhooks::created_at.desc(), webhooks::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            webhooks::created_at
                .lt(at)
                .or(webhooks::created_at.eq(at).and(webhooks::id.lt(id))),
        );
    }
    q.load(conn)
}

/// Marks a webhook deleted; false when there was no live one.
pub fn delete(conn: &mut DbConn, id: WebhookId, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::deleted_at.is_null()),
    )
    .set(webhooks::deleted_at.eq(at))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a live webhook's secret; the one it replaces keeps signing
/// until `previous_expires_at`. False when there was no live one.
pub fn rotate_secret(
    conn: &mut DbConn,
    id: WebhookId,
    secret: &str,
    previous: &str,
    previous_expires_at: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::deleted_at.is_null()),
    )
    .set((
        webhooks::secret.eq(secret),
        webhooks::previous_secret.eq(Some(previous)),
        webhooks::previous_secret_expires_at.eq(Some(previous_expires_at)),
        webhooks::secret_rotated_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
