//! The error answers most operations share, described once. An operation
//! lists the ones it can give (`responses((status = 200, body = X),
//! Unauthenticated, NotFound)`); an answer whose meaning is particular to
//! one operation (which conflicts, which rule) stays written beside it.
//!
//! The answers every operation of a kind gives without its handler running
//! (a body that cannot be read, a full writer queue, `If-Match`,
//! `Idempotency-Key`) are added to the document by [`super::spec`].

use actix_web::{HttpResponse, HttpResponseBuilder, http::header};
use utoipa::IntoResponses;

use crate::error::Problem;

/// `missing_token` or `invalid_token`: no bearer token, or one that is
/// expired, revoked, or of a session that ended. Sign in again.
#[derive(IntoResponses)]
#[response(status = 401, content_type = "application/problem+json")]
pub struct Unauthenticated(pub Problem);

/// The caller may not do this; `code` names the rule (`admin_only`,
/// `recruiter_or_admin_only`, `insufficient_scope`, …).
#[derive(IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// `not_found`: no such resource, or one the caller may not know of (the
/// two are not told apart).
#[derive(IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The request is well-formed but invalid; `errors` names each field and
/// what is wrong with it (`validation_failed`, `invalid_query`, …).
#[derive(IntoResponses)]
#[response(status = 422, content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// A 201 answer naming what was created in `Location` (RFC 9110 §10.2.2),
/// as a path on this server under the API's prefix (`/interviews/{id}` →
/// `/api/v1/interviews/{id}`).
pub fn located(path: impl std::fmt::Display) -> HttpResponseBuilder {
    let mut answer = HttpResponse::Created();
    answer.insert_header((header::LOCATION, format!("{}{path}", super::API_PREFIX)));
    answer
}
