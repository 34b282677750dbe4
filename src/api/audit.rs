//! A loop's hash-chained audit trail and its verification: the HTTP side
//! of [`crate::workflows::audit`].

use super::responses::{Forbidden, NotFound, Unauthenticated};
use actix_web::{HttpResponse, get, web};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::AppResult;
use crate::workflows::audit::{self as flow, AuditLog, AuditVerification};

/// The loop's audit events, in chain order.
///
/// Each event with its hash and the previous event's hash. Payloads show only
/// what the reader may see: votes of a debrief not yet revealed are withheld.
/// The loop's recruiter, its Bar Raiser and admins; 404 to anyone else.
#[utoipa::path(
    tag = "audit",
    operation_id = "get_loop_audit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditLog),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/loops/{id}/audit")]
pub async fn log(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::log(&state, &me, id.into_inner()).await?))
}

/// Verify the loop's audit chain and every receipt it recorded.
///
/// Recomputes the loop's chain (any edited, deleted or reordered event makes it
/// invalid from that event on), then every receipt the chain recorded against
/// the rows as stored: sealed feedback by field group, addenda, debrief votes,
/// the decision and verdict, and the read log.
#[utoipa::path(
    tag = "audit",
    operation_id = "verify_loop_audit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditVerification),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
#[get("/loops/{id}/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::verify(&state, &me, id.into_inner()).await?))
}
