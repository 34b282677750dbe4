//! Conditional requests over HTTP (RFC 9110 §13.1.1): every GET of a
//! changeable resource carries an `ETag`, and every PATCH, PUT or DELETE on
//! it honours `If-Match`; the comparison itself is
//! [`crate::workflows::preconditions`], made inside the write transaction.
//! Feedback keeps its own revision tag.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponseBuilder, dev::Payload};
use chrono::NaiveDateTime;

pub use crate::workflows::preconditions::{IfMatch, Tagged, etag};

/// A 200 answer tagged with the resource's `ETag`.
pub fn ok(updated_at: NaiveDateTime) -> HttpResponseBuilder {
    let mut b = actix_web::HttpResponse::Ok();
    b.insert_header((header::ETAG, etag(updated_at)));
    b
}

/// A 200 answer with the outcome's `ETag`.
pub fn tagged<T: serde::Serialize>(t: Tagged<T>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((header::ETAG, t.etag))
        .json(t.body)
}

/// 200 with the ETag and a body already serialized as JSON.
pub fn tagged_json(t: Tagged<actix_web::web::Bytes>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((header::ETAG, t.etag))
        .insert_header(header::ContentType::json())
        .body(t.body)
}

/// The request's `If-Match`, if any.
pub fn if_match(req: &HttpRequest) -> IfMatch {
    IfMatch::from_values(
        req.headers()
            .get_all(header::IF_MATCH)
            .map(|v| v.to_str().ok()),
    )
}

impl FromRequest for IfMatch {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(if_match(req)))
    }
}

/// The resources whose writes honour `If-Match` (for the OpenAPI document).
pub const CONDITIONAL: [&str; 7] = [
    "/api/v1/candidates/{id}",
    "/api/v1/loops/{id}",
    "/api/v1/interviews/{id}",
    "/api/v1/users/{id}",
    "/api/v1/competencies/{id}",
    "/api/v1/webhooks/{id}",
    "/api/v1/webhooks/{id}/rotate-secret",
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
        if_match(&r.to_http_request())
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
