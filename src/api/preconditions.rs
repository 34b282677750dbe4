//! Conditional requests against lost updates (RFC 9110 §13.1.1): every
//! GET of a changeable resource carries an `ETag`, and every PATCH, PUT or
//! DELETE on it honours `If-Match`, compared inside the write transaction
//! (so two clients cannot both pass the check and overwrite each other).
//!
//! The tag is derived here only: the resource's `updated_at`, to the
//! microsecond it is stored with. Feedback keeps its own revision tag.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponseBuilder, dev::Payload};
use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};

/// The strong entity tag of a resource last changed at `updated_at`.
pub fn etag(updated_at: NaiveDateTime) -> String {
    format!("\"{}\"", updated_at.and_utc().timestamp_micros())
}

/// A 200 answer tagged with the resource's `ETag`.
pub fn ok(updated_at: NaiveDateTime) -> HttpResponseBuilder {
    let mut b = actix_web::HttpResponse::Ok();
    b.insert_header((header::ETAG, etag(updated_at)));
    b
}

/// The request's `If-Match`, if any: `*` or a list of entity tags.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    pub fn from_request(req: &HttpRequest) -> IfMatch {
        let mut present = false;
        let mut tags = Vec::new();
        for value in req.headers().get_all(header::IF_MATCH) {
            present = true;
            // A value that is not text matches nothing (and so fails).
            let Ok(text) = value.to_str() else { continue };
            tags.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        }
        IfMatch(present.then_some(tags))
    }

    /// Whether the condition holds for a resource whose current tag is
    /// `current`: no header; `*` (the resource exists, or we would not be
    /// here); or one listed tag equal to it by strong comparison (a weak
    /// `W/` tag never matches).
    pub fn matches(&self, current: &str) -> bool {
        match &self.0 {
            None => true,
            Some(tags) => tags.iter().any(|t| t == "*" || t == current),
        }
    }

    /// 412 `precondition_failed` unless [`IfMatch::matches`] the resource
    /// last changed at `updated_at`.
    pub fn check(&self, updated_at: NaiveDateTime) -> AppResult<()> {
        if self.matches(&etag(updated_at)) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }
}

impl FromRequest for IfMatch {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch::from_request(req)))
    }
}

/// The resources whose writes honour `If-Match` (for the OpenAPI document).
pub const CONDITIONAL: [&str; 6] = [
    "/api/v1/candidates/{id}",
    "/api/v1/loops/{id}",
    "/api/v1/interviews/{id}",
    "/api/v1/users/{id}",
    "/api/v1/competencies/{id}",
    "/api/v1/webhooks/{id}",
];

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(values: &[&str]) -> IfMatch {
        let mut r = TestRequest::default();
        for v in values {
            r = r.append_header((header::IF_MATCH, *v));
        }
        IfMatch::from_request(&r.to_http_request())
    }

    #[test]
    fn comparison_follows_rfc_9110() {
        let at = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456)
            .unwrap()
            .naive_utc();
        let tag = etag(at);
        assert_eq!(tag, "\"1700000000123456\"");
        let cases: &[(&[&str], bool)] = &[
            (&[], true),
            (&["*"], true),
            (&["\"1700000000123456\""], true),
            (&["\"x\", \"1700000000123456\""], true),
            (&["\"x\"", "\"1700000000123456\""], true),
            (&["\"bogus\""], false),
            (&["W/\"1700000000123456\""], false),
            (&["1700000000123456"], false),
            (&[""], false),
        ];
        for (values, expected) in cases {
            assert_eq!(with(values).check(at).is_ok(), *expected, "{values:?}");
        }
    }
}
