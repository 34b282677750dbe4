//! `Idempotency-Key` on POST: a client that retries a request (a timeout, a
//! dropped connection) gets the first answer instead of a second resource.
//!
//! The rules, in one place:
//!
//! - The key is 1 to 255 printable ASCII characters (`400
//!   invalid_idempotency_key` otherwise). Without the header nothing changes.
//! - Keys are per caller: the user id of a valid access token; otherwise a
//!   SHA-256 of the whole `Authorization` header (service tokens, expired
//!   tokens); otherwise `anonymous`. Two callers never see each other's keys.
//! - A request is the same when method, path and query and the JSON body
//!   are (key order and whitespace do not matter; a non-JSON body counts
//!   byte for byte). Same key, other request: `422 idempotency_key_reused`.
//! - Every keyed request is authenticated first, exactly as the handler's
//!   [`AuthUser`] extractor does it ([`authenticate`], shared): a caller who
//!   may not act now — deactivated account, expired or revoked token, a
//!   scope the token lacks — gets that refusal (401/403) from the handler,
//!   never a stored answer, and nothing is claimed.
//! - The first request claims the key before it runs (a row keyed by caller
//!   and key, so the database decides races), with a snapshot of the
//!   caller's authorization ([`authz_snapshot`]: account role and
//!   certification, token id and scopes). A repeat while it runs gets
//!   `409 idempotency_in_progress` with `Retry-After`. A repeat after it,
//!   under the same snapshot, gets the stored status, body and
//!   `Content-Type`/`ETag`/`Location` headers, plus `Idempotent-Replayed:
//!   true`; the handler does not run. Under another snapshot (demoted,
//!   promoted, scopes changed) nothing is replayed: the request runs again
//!   as a fresh request and its answer replaces the stored one, so a right
//!   since lost gets exactly the answer a fresh request gets.
//! - Stored: every final answer. Not stored (the key is released, a retry
//!   runs again): 5xx, 401 (no work was possible), 408 and 429 (transient),
//!   and bodies that are not UTF-8.
//! - Answers that carry feedback content or a secret are never stored in
//!   replayable form. Their handler marks them ([`ReplayPolicy`], a
//!   response extension): `Never` (nothing stored, a retry runs again: a
//!   break-glass read is an audited act each time), `Reread(path)` (only
//!   the status is stored; a replay is a `GET` of `path` through the app
//!   with the caller's rights at replay time: sealing replays as the read
//!   of the feedback), `Withheld` (the store keeps a `409` problem naming
//!   the created resource instead: `secret_not_replayable` for new service
//!   tokens and webhooks, `content_not_replayable` for addenda, so a retry
//!   neither repeats the work nor finds the secret or the text).
//! - Records live 24 hours from the first request; older ones are ignored
//!   and purged by later claims. A claim whose server died mid-request
//!   blocks its key for [`LEASE`], then a retry runs again.
//! - `/api/v1/auth/*` ignores the header: those answers carry tokens, which
//!   are never stored in clear.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use chrono::Duration;
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::BODY_LIMIT;
use crate::app::AppState;
use crate::auth::{AuthUser, Authenticated, Credentials, authenticate};
use crate::db::{self, idempotency::Claim};
use crate::error::AppError;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
pub const KEY_MAX: usize = 255;
/// How long a first response is replayed.
pub const TTL_HOURS: i64 = 24;
/// How long an in-flight claim blocks retries if its request never ends.
pub const LEASE: Duration = Duration::minutes(2);
/// Paths the header applies to.
const SCOPE: &str = "/api/v1/";
const EXCLUDED: &str = "/api/v1/auth/";
/// Response headers kept with a stored response.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

/// Does the header apply to this request at all?
pub fn applies(method: &Method, path: &str) -> bool {
    method == Method::POST && path.starts_with(SCOPE) && !path.starts_with(EXCLUDED)
}

/// The key, if the request carries a well-formed one.
fn parse_key(headers: &header::HeaderMap) -> Result<Option<String>, AppError> {
    let mut values = headers.get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = |detail: &str| AppError::BadRequest {
        code: "invalid_idempotency_key",
        detail: detail.into(),
    };
    if values.next().is_some() {
        return Err(bad("send one Idempotency-Key header, not several"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > KEY_MAX || !bytes.iter().all(|b| (0x20..=0x7e).contains(b))
    {
        return Err(bad(
            "an Idempotency-Key is 1 to 255 printable ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Who the key belongs to (see the module documentation).
fn caller(state: &AppState, headers: &header::HeaderMap) -> String {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return "anonymous".into();
    };
    let user = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, token)| state.keys.verify(token.trim()));
    match user {
        Some(claims) => format!("user:{}", claims.sub),
        None => format!(
            "authorization:{}",
            hex::encode(Sha256::digest(value.as_bytes()))
        ),
    }
}

/// JSON with object keys sorted at every level, so that two encodings of the
/// same value compare equal.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// SHA-256 of what makes two requests "the same".
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str());
    h.update(b" ");
    h.update(path_and_query);
    h.update(b"\n");
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => h.update(serde_json::to_vec(&canonical(&v)).unwrap_or_default()),
        Err(_) => h.update(body),
    }
    hex::encode(h.finalize())
}

/// Answers worth replaying; the rest release the key.
fn storable(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS)
}

async fn read_body(req: &mut ServiceRequest) -> Result<web::Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest {
            code: "unreadable_body",
            detail: "the request body could not be read".into(),
        })?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn replay(row: &db::idempotency::IdempotencyRow) -> HttpResponse {
    let status = row
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    let headers: Vec<(String, String)> = row
        .response_headers
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    for (name, value) in headers {
        resp.insert_header((name, value));
    }
    resp.insert_header((REPLAYED_HEADER, "true"));
    resp.body(row.response_body.clone().unwrap_or_default())
}

/// How a handler's successful answer may be kept for replays; set on the
/// response with [`ReplayPolicy::mark`] and read here. Without a mark the
/// answer is stored as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayPolicy {
    /// Nothing stored, the key released: a retry runs again (for an answer
    /// that is itself an audited act, such as a break-glass read).
    Never,
    /// Only the status is stored; a replay is served by a `GET` of this
    /// path (absolute, e.g. `/api/v1/interviews/{id}/feedback`) with the
    /// caller's rights at replay time.
    Reread(String),
    /// The answer is replaced in the store by a `409` problem with `code`
    /// naming the created resource `id`: the work is not done twice, and
    /// what the answer carried (a secret, feedback content) is kept nowhere.
    Withheld { code: &'static str, id: String },
}

impl ReplayPolicy {
    /// For answers that carry a secret shown once (`secret_not_replayable`).
    pub fn secret(id: impl ToString) -> ReplayPolicy {
        ReplayPolicy::Withheld {
            code: "secret_not_replayable",
            id: id.to_string(),
        }
    }

    /// For answers that carry feedback content that has no read path of its
    /// own (`content_not_replayable`).
    pub fn content(id: impl ToString) -> ReplayPolicy {
        ReplayPolicy::Withheld {
            code: "content_not_replayable",
            id: id.to_string(),
        }
    }

    /// Marks `resp` with this policy.
    pub fn mark(self, mut resp: HttpResponse) -> HttpResponse {
        resp.extensions_mut().insert(self);
        resp
    }
}

/// Marks an answer to be replayed by reading `path` again (see
/// [`ReplayPolicy::Reread`]), for use as `.map(reread(path))`.
pub fn reread(path: String) -> impl FnOnce(HttpResponse) -> HttpResponse {
    move |resp| ReplayPolicy::Reread(path).mark(resp)
}

/// What a replay must find unchanged: the caller's account role and
/// certification, and for a service token its id and scopes. Deactivation,
/// expiry and revocation need no entry: the caller is authenticated again
/// before anything is replayed.
pub fn authz_snapshot(user: &AuthUser) -> String {
    let scopes = user
        .scopes
        .as_ref()
        .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
    serde_json::json!({
        "user": user.id,
        "role": user.role,
        "bar_raiser_certified": user.bar_raiser_certified,
        "token": user.token_id,
        "scopes": scopes,
    })
    .to_string()
}

/// The stored stand-in for a withheld answer.
fn withheld(code: &'static str, id: &str) -> (StatusCode, String) {
    let detail = match code {
        "secret_not_replayable" => format!(
            "this request already created {id}; its secret was shown once and is not kept for \
             replays (revoke or delete it and create another if the secret was lost)"
        ),
        _ => format!(
            "this request already created {id}; its content is not kept for replays (read it \
             where you may)"
        ),
    };
    let problem = AppError::Conflict {
        code,
        detail,
        errors: vec![crate::error::FieldError {
            field: "id".into(),
            message: id.to_string(),
            code: Some("created".into()),
        }],
    }
    .to_problem();
    (
        StatusCode::CONFLICT,
        serde_json::to_string(&problem).unwrap_or_default(),
    )
}

/// Serves a replay by running a `GET` of `path` through the app, as the
/// same caller with their rights now.
async fn reread_path<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: &Next<B>,
    path: &str,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Ok(uri) = path.parse::<actix_web::http::Uri>() else {
        return Ok(req.error_response(AppError::Internal(anyhow::anyhow!(
            "stored reread path {path:?} is not a URI"
        ))));
    };
    // The GET asks its own question of a token (another scope).
    req.extensions_mut().remove::<Authenticated>();
    req.head_mut().method = Method::GET;
    req.head_mut().uri = uri.clone();
    req.head_mut().headers.remove(header::CONTENT_TYPE);
    req.head_mut().headers.remove(header::CONTENT_LENGTH);
    req.match_info_mut().set(actix_web::dev::Url::new(uri));
    req.set_payload(actix_web::dev::Payload::None);
    let mut res = next.call(req).await?.map_into_boxed_body();
    res.headers_mut().insert(
        header::HeaderName::from_static(REPLAYED_HEADER),
        header::HeaderValue::from_static("true"),
    );
    Ok(res)
}

/// The middleware. Wraps the whole app; acts only where [`applies`].
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !applies(req.method(), req.path()) || !req.headers().contains_key(HEADER) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let key = match parse_key(req.headers()) {
        Ok(Some(k)) => k,
        Ok(None) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        Err(e) => return Ok(req.error_response(e)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::Internal(anyhow::anyhow!("app state missing"))));
    };
    // Who is calling, decided now exactly as the handler would: a caller
    // who may not act (deactivated, revoked, expired, out of scope) gets
    // the handler's own refusal, never a stored answer.
    let user = match authenticate(&state, Credentials::of(req.request())).await {
        Ok(user) => user,
        Err(_) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
    };
    let authz = authz_snapshot(&user);
    req.extensions_mut().insert(Authenticated(user));
    let body = match read_body(&mut req).await {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let sha = fingerprint(req.method(), path_and_query, &body);
    req.set_payload(actix_web::dev::Payload::from(body));
    let who = caller(&state, req.headers());

    let claim = {
        let (who, key, authz) = (who.clone(), key.clone(), authz.clone());
        state
            .db
            .write_each(move |conn| {
                let now = db::now();
                let claim = db::idempotency::claim(
                    conn,
                    &who,
                    &key,
                    &sha,
                    &authz,
                    db::to_db(now),
                    db::to_db(now - Duration::hours(TTL_HOURS)),
                    db::to_db(now + LEASE),
                )?;
                // Rights changed since the first answer: no replay; the
                // request runs again as a fresh one would.
                if let Claim::Replay(row) = &claim
                    && row.authz.as_deref() != Some(authz.as_str())
                {
                    return Ok(
                        if db::idempotency::restart(conn, row, &authz, db::to_db(now + LEASE))? {
                            Claim::Fresh
                        } else {
                            Claim::InFlight
                        },
                    );
                }
                Ok(claim)
            })
            .await
    };
    match claim {
        Err(e) => return Ok(req.error_response(e)),
        Ok(Claim::Replay(row)) => {
            return match row.reread_path.as_deref() {
                Some(path) => reread_path(req, &next, path).await,
                None => Ok(req.into_response(replay(&row))),
            };
        }
        Ok(Claim::InFlight) => {
            let mut resp = AppError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )
            .error_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return Ok(req.into_response(resp));
        }
        Ok(Claim::Mismatch) => {
            return Ok(req.error_response(AppError::Validation {
                code: "idempotency_key_reused",
                detail: "this Idempotency-Key was used for a different request; use a new key"
                    .into(),
                errors: vec![crate::error::FieldError::new(
                    "Idempotency-Key",
                    "already used with another method, path or body",
                )],
            }));
        }
        Ok(Claim::Fresh) => {}
    }

    let release = |state: web::Data<AppState>, who: String, key: String| async move {
        let r = state
            .db
            .write_each(move |conn| Ok(db::idempotency::release(conn, &who, &key)?))
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
    };
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            release(state, who, key).await;
            return Err(e);
        }
    };
    let (req, res) = res.into_parts();
    let policy = res.extensions().get::<ReplayPolicy>().cloned();
    let (head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            release(state, who, key).await;
            let resp = AppError::Internal(anyhow::anyhow!("response body could not be read"))
                .error_response();
            return Ok(ServiceResponse::new(req, resp));
        }
    };
    let status = head.status();
    let text = std::str::from_utf8(&bytes).ok().map(str::to_string);
    let kept_headers = || -> Vec<(String, String)> {
        KEPT_HEADERS
            .iter()
            .filter_map(|n| {
                head.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (n.as_str().to_string(), v.to_string()))
            })
            .collect()
    };
    // What is kept: status, headers, body, reread path.
    type Kept = (StatusCode, Vec<(String, String)>, String, Option<String>);
    let stored: Option<Kept> = match policy {
        _ if !storable(status) => None,
        Some(ReplayPolicy::Never) => None,
        Some(ReplayPolicy::Reread(path)) => Some((status, Vec::new(), String::new(), Some(path))),
        Some(ReplayPolicy::Withheld { code, id }) => {
            let (status, body) = withheld(code, &id);
            let headers = vec![(
                header::CONTENT_TYPE.as_str().to_string(),
                "application/problem+json".to_string(),
            )];
            Some((status, headers, body, None))
        }
        None => text.map(|text| (status, kept_headers(), text, None)),
    };
    match stored {
        Some((status, headers, text, reread)) => {
            let headers = serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into());
            let (who2, key2) = (who.clone(), key.clone());
            let stored = state
                .db
                .write_each(move |conn| {
                    Ok(db::idempotency::complete(
                        conn,
                        &who2,
                        &key2,
                        i32::from(status.as_u16()),
                        &headers,
                        &text,
                        reread.as_deref(),
                        db::to_db(db::now()),
                    )?)
                })
                .await;
            if let Err(e) = stored {
                // The work is done and answered; a retry would redo it, but
                // failing this response would not undo it either.
                tracing::error!(error = %e, "could not store an idempotent response");
                release(state, who, key).await;
            }
        }
        None => release(state, who, key).await,
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        let parse = |v: &[u8]| {
            let mut h = header::HeaderMap::new();
            h.insert(
                header::HeaderName::from_static(HEADER),
                header::HeaderValue::from_bytes(v).unwrap(),
            );
            parse_key(&h)
        };
        assert_eq!(parse(b"abc-123").unwrap().as_deref(), Some("abc-123"));
        assert!(parse(b"with space ok").unwrap().is_some());
        assert!(parse(&[b'k'; 255]).unwrap().is_some());
        assert!(parse(&[b'k'; 256]).is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"tab\there").is_err());
        assert!(parse("caf\u{e9}".as_bytes()).is_err());
        assert!(parse_key(&header::HeaderMap::new()).unwrap().is_none());
    }

    #[test]
    fn fingerprints_ignore_json_formatting_only() {
        let a = fingerprint(
            &Method::POST,
            "/api/v1/x",
            br#"{"a":1,"b":[{"c":2,"d":3}]}"#,
        );
        let b = fingerprint(
            &Method::POST,
            "/api/v1/x",
            br#"{ "b": [ {"d": 3, "c": 2} ], "a": 1 }"#,
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint(
                &Method::POST,
                "/api/v1/y",
                br#"{"a":1,"b":[{"c":2,"d":3}]}"#
            )
        );
        assert_ne!(
            a,
            fingerprint(
                &Method::POST,
                "/api/v1/x",
                br#"{"a":2,"b":[{"c":2,"d":3}]}"#
            )
        );
        assert_ne!(
            fingerprint(&Method::POST, "/x", b"not json"),
            fingerprint(&Method::POST, "/x", b"not  json")
        );
    }

    #[test]
    fn what_is_stored() {
        for s in [200, 201, 204, 400, 403, 404, 409, 412, 413, 415, 422] {
            assert!(storable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [401, 408, 429, 500, 503] {
            assert!(!storable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn scope() {
        assert!(applies(&Method::POST, "/api/v1/candidates"));
        assert!(!applies(&Method::GET, "/api/v1/candidates"));
        assert!(!applies(&Method::PUT, "/api/v1/interviews/x/feedback"));
        assert!(!applies(&Method::POST, "/api/v1/auth/login"));
    }
}
