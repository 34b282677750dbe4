//! Liveness, readiness and metrics.

use actix_web::{HttpRequest, HttpResponse, get, web};
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

/// Metrics for Prometheus.
///
/// The process' counters and this instance's gauges in Prometheus' text
/// exposition format (version 0.0.4): HTTP requests by route template,
/// method and status, with latency histograms; database pool connections
/// and checkout waits; the SQLite writer's and the password threads'
/// queues; the outbox; webhook deliveries and sign-ins by outcome (see
/// README, "Metrics"). Off unless `BAR_RAISER_METRICS_TOKEN` is set (404);
/// then that token is required as a bearer token — not a user's.
#[utoipa::path(
    tag = "health",
    operation_id = "metrics",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "The exposition", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "No bearer token, or not the metrics token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are off (`BAR_RAISER_METRICS_TOKEN` is unset)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    crate::auth::metrics_scraper(&req, state.config.metrics_token.as_ref())?;
    let text = crate::workflows::metrics::scrape(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(text))
}
