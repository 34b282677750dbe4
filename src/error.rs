//! The one place where failures become HTTP.
//!
//! Policy: handlers return `Result<_, AppError>`. Every variant documents the
//! status it maps to. Client errors carry a stable `code` that clients branch
//! on; internal errors are logged with their cause and answered with a body
//! that says nothing about it. Domain refusals (`domain::Refusal`) and diesel
//! errors convert here, so no handler picks a status by itself.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Refusal, Violation};

/// One invalid field or broken rule, named so a client can point at it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The request field (or rule subject) concerned, e.g. `ratings[1].evidence`.
    pub field: String,
    /// What is wrong, for people.
    pub message: String,
    /// A machine-readable code for this entry, when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code: None,
        }
    }
}

impl From<Violation> for FieldError {
    fn from(v: Violation) -> Self {
        Self {
            field: v.field,
            message: v.message,
            code: Some(v.code.to_string()),
        }
    }
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// The problem type: `{public_url}/problems/{code}`, a page that
    /// describes it.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable reason, e.g. `seal_own_feedback_first`.
    pub code: String,
    /// Field errors or broken rules, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read (malformed JSON, bad header).
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no valid credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed; `code` says why.
    #[error("forbidden: {code}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: no such resource, or not the caller's to know about.
    #[error("not found")]
    NotFound,
    /// 404: a feature that is off in this deployment (`code` says which).
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
    /// 409: the resource's state does not allow it.
    #[error("conflict: {code}")]
    Conflict {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 412: `If-Match` named a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 413: body over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed but invalid; every problem is listed.
    #[error("validation failed")]
    Validation {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency (the database) is not answering, or accepts no
    /// writes; sent with `Retry-After`.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 507: the disk under the database is full; sent with `Retry-After`.
    #[error("insufficient storage: {0}")]
    InsufficientStorage(String),
    /// 503: more work is waiting for a bounded queue (SQLite's writer, the
    /// password threads) than it takes; answered at once, with
    /// `Retry-After`, instead of queueing without limit. `what` is logged.
    #[error("overloaded: {what}")]
    Overloaded { what: &'static str },
    /// 500: a bug or an unexpected failure. Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        AppError::Validation {
            code: "validation_failed",
            detail: "the request has invalid fields".into(),
            errors,
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn forbidden(code: &'static str) -> Self {
        AppError::Forbidden {
            code,
            detail: forbidden_detail(code).into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized(code) => code,
            AppError::Forbidden { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::NotConfigured(code) => code,
            AppError::Conflict { code, .. } => code,
            AppError::PreconditionFailed => "precondition_failed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Validation { code, .. } => code,
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::InsufficientStorage(_) => "insufficient_storage",
            AppError::Overloaded { .. } => "overloaded",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest { detail, .. }
            | AppError::Forbidden { detail, .. }
            | AppError::Conflict { detail, .. }
            | AppError::Validation { detail, .. } => detail.clone(),
            AppError::Unauthorized(_) => "valid credentials are required".into(),
            AppError::NotFound => "no such resource".into(),
            AppError::NotConfigured(_) => {
                "this deployment has the feature off; an operator turns it on by configuration"
                    .into()
            }
            AppError::PreconditionFailed => {
                "the resource changed since you read it; fetch it again".into()
            }
            AppError::PayloadTooLarge => "the request body is over the size limit".into(),
            AppError::UnsupportedMediaType => "send the body as application/json".into(),
            AppError::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; try again in {retry_after_secs} seconds")
            }
            AppError::Unavailable(_) => "the service is temporarily unavailable".into(),
            AppError::InsufficientStorage(_) => {
                "the service cannot store anything more for now".into()
            }
            AppError::Overloaded { .. } => format!(
                "the server has more work waiting than it takes; retry in {OVERLOADED_RETRY_AFTER_SECS} second(s)"
            ),
            AppError::Internal(_) => "an internal error occurred; it has been logged".into(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        let errors = match self {
            AppError::Validation { errors, .. } | AppError::Conflict { errors, .. } => {
                errors.clone()
            }
            _ => Vec::new(),
        };
        let code = self.code();
        Problem {
            type_: crate::problems::type_uri(code),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: code.to_string(),
            errors,
        }
    }
}

fn forbidden_detail(code: &str) -> &'static str {
    match code {
        "seal_own_feedback_first" => "seal your own feedback in this loop before reading others'",
        "not_a_participant" => "you are not a participant of this loop",
        "break_glass_required" => "admins read sealed feedback only through break-glass",
        "not_until_debrief" => "feedback content opens to you when the debrief opens",
        "feedback_not_sealed" => "this feedback is a draft; only its author can read it",
        "admin_only" => "this operation needs an admin",
        "recruiter_or_admin_only" => "this operation needs a recruiter or an admin",
        "not_the_interviewer" => "only the interview's interviewer can do this",
        "not_bar_raiser" => "only the loop's Bar Raiser can do this",
        "not_hiring_manager" => "only the loop's hiring manager can do this",
        "not_voting_participant" => "only voting participants of the loop can do this",
        "not_loop_recruiter" => "only the loop's recruiter or an admin can do this",
        "insufficient_scope" => "the token does not carry the scope this operation needs",
        "joined_after_first_seal" => {
            "you joined this loop after feedback was first sealed; content opens to you at the debrief"
        }
        "self_assignment" => {
            "nobody puts themselves on an interview; ask another recruiter or admin"
        }
        "token_privilege_ceiling" => {
            "no token creates or changes an admin account, makes an admin, or sets a password"
        }
        _ => "you may not do this",
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    crate::problems::check(
        &problem.code,
        status.as_u16(),
        problem.errors.iter().map(|e| e.code.clone()),
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .json(problem)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::NotConfigured(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable(e) => tracing::warn!(error = %e, "database unavailable"),
            AppError::InsufficientStorage(e) => tracing::error!(error = %e, "database disk full"),
            AppError::Overloaded { what } => {
                tracing::warn!(queue = what, "queue full; answered 503")
            }
            _ => {}
        }
        let mut resp = problem_response(self.status_code(), &self.to_problem());
        let retry_after = match self {
            AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable(_) | AppError::InsufficientStorage(_) => {
                Some(crate::db::RETRY_AFTER_SECS)
            }
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let AppError::Overloaded { .. } = self {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(OVERLOADED_RETRY_AFTER_SECS),
            );
        }
        if let AppError::Unauthorized(_) = self {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(code) => AppError::forbidden(code),
            Refusal::Conflict { code, detail } => AppError::conflict(code, detail),
            Refusal::Invalid(violations) => AppError::Validation {
                code: "rules_broken",
                detail: "the request breaks one or more rules; each is listed".into(),
                errors: violations.into_iter().map(FieldError::from).collect(),
            },
            Refusal::Blocked {
                code,
                detail,
                violations,
            } => AppError::Conflict {
                code,
                detail,
                errors: violations.into_iter().map(FieldError::from).collect(),
            },
        }
    }
}

impl From<diesel::result::Error> for AppError {
    /// The database refusing work (see `db::fault`) is 503 or 507, with
    /// the driver's one-line message for the log and no backtrace.
    fn from(e: diesel::result::Error) -> Self {
        use crate::db::Fault;
        use diesel::result::{DatabaseErrorKind, Error};
        if let Some(fault) = crate::db::fault(&e) {
            let why = format!("{}: {}", fault.describe(), one_line(&e.to_string()));
            return match fault {
                Fault::DiskFull => AppError::InsufficientStorage(why),
                Fault::ConnectionLost | Fault::ReadOnly | Fault::Busy => AppError::Unavailable(why),
            };
        }
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
                "already_exists",
                "a resource with these values already exists",
            ),
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                AppError::invalid_field("id", "refers to something that does not exist")
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type AppResult<T> = Result<T, AppError>;

/// `Retry-After` of a 503 `overloaded`: a full queue drains in well under
/// a second, so one second spreads the retries without idling.
pub const OVERLOADED_RETRY_AFTER_SECS: u64 = 1;
