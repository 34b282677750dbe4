//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::AppResult;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    pub status: String,
}

/// The process is up.
///
/// Liveness: answers 200 as long as the process serves HTTP, without touching
/// the database. No authentication.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// The database answers.
///
/// Readiness: 200 when a trivial query succeeds, 503 otherwise. No
/// authentication.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "The database does not answer", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .run(|conn| {
            crate::db::ping(conn).map_err(|e| crate::error::AppError::Unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".into(),
    }))
}
