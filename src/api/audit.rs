//! A loop's hash-chained audit trail and its verification.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db;
use crate::error::{AppError, AppResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    /// Position in the loop's chain, from 1.
    pub seq: i32,
    pub actor_id: Option<Uuid>,
    /// What happened, e.g. `feedback.sealed`.
    pub action: String,
    pub subject_id: Option<String>,
    /// Event details (never feedback content or candidate personal data).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and the event's canonical JSON.
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub loop_id: Uuid,
    pub items: Vec<AuditEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    pub valid: bool,
    pub events_checked: usize,
    /// The first event that fails verification.
    pub first_invalid_event: Option<Uuid>,
    /// Its position in the chain (also set when the tail is missing).
    pub first_invalid_seq: Option<i32>,
    pub reason: Option<String>,
}

/// Admins, the loop's recruiter and its Bar Raiser.
fn require_auditor(b: &db::loops::LoopBundle, me: &AuthUser) -> AppResult<()> {
    views::require_visible(b, me)?;
    let id = me.id.to_string();
    if me.is_admin() || b.row.recruiter_id == id || b.row.bar_raiser_id == id {
        Ok(())
    } else {
        Err(AppError::forbidden("not_loop_auditor"))
    }
}

/// The loop's audit events, in chain order.
#[utoipa::path(
    tag = "audit",
    operation_id = "get_loop_audit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditLog),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/audit")]
pub async fn log(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let body = state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            require_auditor(&b, &me)?;
            let items = db::audit::events(conn, &id)?
                .into_iter()
                .map(|e| AuditEvent {
                    id: e.id,
                    seq: e.seq,
                    actor_id: e.actor_id,
                    action: e.action,
                    subject_id: e.subject_id,
                    payload: serde_json::from_str(&e.payload)
                        .unwrap_or(serde_json::Value::String(e.payload)),
                    created_at: e.created_at,
                    prev_hash: e.prev_hash,
                    hash: e.hash,
                })
                .collect();
            Ok(AuditLog {
                loop_id: db::uuid(&id),
                items,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Recomputes the loop's chain: any edited, deleted or reordered event
/// makes it invalid from that event on.
#[utoipa::path(
    tag = "audit",
    operation_id = "verify_loop_audit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditVerification),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let v = state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            require_auditor(&b, &me)?;
            Ok(db::audit::verify(conn, &id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditVerification {
        valid: v.valid,
        events_checked: v.events_checked,
        first_invalid_event: v.first_invalid_event,
        first_invalid_seq: v.first_invalid_seq,
        reason: v.reason,
    }))
}
