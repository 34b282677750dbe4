//! Sign-in, token refresh and sign-out.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::auth::tokens::{random_token, token_hash};
use crate::db::{
    self, DbConn, models::RefreshTokenRow, models::UserRow, now, signin::Claim, to_db,
};
use crate::domain::signin;
use crate::error::{AppError, AppResult, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com")]
    pub email: String,
    #[schema(example = "a long passphrase")]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single-use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
}

/// A token answer: never stored by a cache or a browser (RFC 6749 §5.1).
fn token_answer(tokens: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(tokens)
}

/// Issues a refresh token in `family` (a new family at login) and returns
/// the secret; only its hash is stored.
fn store_refresh(
    conn: &mut DbConn,
    state: &AppState,
    user_id: &str,
    family: &str,
) -> AppResult<String> {
    let token = random_token();
    let at = now();
    let ttl = Duration::from_std(state.config.refresh_token_ttl).map_err(anyhow::Error::from)?;
    db::users::insert_refresh(
        conn,
        &RefreshTokenRow {
            id: Uuid::new_v4().to_string(),
            user_id: user_id.to_string(),
            family_id: family.to_string(),
            token_hash: token_hash(&token),
            created_at: to_db(at),
            expires_at: to_db(at + ttl),
            rotated_at: None,
            revoked_at: None,
        },
    )?;
    Ok(token)
}

fn pair(state: &AppState, user: &UserRow, refresh_token: String) -> AppResult<TokenPair> {
    Ok(TokenPair {
        access_token: state.keys.issue(&user.id, &user.role, user.session_epoch)?,
        token_type: "Bearer".into(),
        expires_in: state.keys.access_ttl.as_secs(),
        refresh_token,
    })
}

/// Sign in with email and password.
///
/// Every attempt is counted before its password is checked, per account ×
/// client address, per account and per client address
/// (`src/domain/signin.rs`); past a counter's free attempts the next one
/// waits, twice as long each time (429 with `Retry-After`). The owner
/// signing in from their own address is not held up by someone guessing
/// from another. An unknown email takes as long as a wrong password and is
/// counted the same way.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair, headers(
            ("Cache-Control" = String, description = "`no-store`: a token answer is never cached"),
            ("RateLimit-Policy" = String, description = "The sign-in counters: free attempts (`q`) and the seconds after which a quiet counter forgets (`w`)"),
            ("RateLimit" = String, description = "The counter closest to waiting: attempts left (`r`) and seconds (`t`)"),
        )),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password, or inactive account", body = Problem, content_type = "application/problem+json", headers(
            ("RateLimit-Policy" = String, description = "The sign-in counters"),
            ("RateLimit" = String, description = "The counter closest to waiting"),
        )),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts: wait `Retry-After` seconds", body = Problem, content_type = "application/problem+json", headers(
            ("Retry-After" = u64, description = "Seconds until the next attempt is evaluated"),
            ("RateLimit-Policy" = String, description = "The sign-in counters"),
            ("RateLimit" = String, description = "The counter that refused, `r=0`, and seconds until it admits (`t`)"),
        )),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    let email_lower = email.trim().to_lowercase();
    if email_lower.len() > 1024 || password.len() > 4096 {
        return Err(AppError::Unauthorized("invalid_credentials"));
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let address = signin::client_address(
        req.peer_addr().map(|a| a.ip()).unwrap_or(signin::NO_PEER),
        &forwarded,
        &state.config.trusted_proxies,
    );
    let counters = signin::counters(&email_lower, address);
    let at = now().timestamp_millis();
    let plan = counters.clone();
    let key = email_lower.clone();
    // Counted first, in one write: at most the free attempts of a burst get
    // to argon2, however many arrive at once and on whichever instance.
    let (claim, user) = state
        .db
        .write(move |conn| {
            let claim = db::signin::claim(conn, &plan, at)?;
            let user = match claim {
                Claim::Admitted(_) => db::users::by_email(conn, &key)?,
                Claim::Refused { .. } => None,
            };
            Ok((claim, user))
        })
        .await?;
    let taken = match claim {
        Claim::Admitted(taken) => taken,
        Claim::Refused { scope, next_at_ms } => {
            let wait = signin::retry_after_secs(at, next_at_ms);
            let mut resp = AppError::TooManyRequests {
                retry_after_secs: wait as u64,
            }
            .error_response();
            rate_limit_headers(&mut resp, signin::refused_header(scope, wait));
            return Ok(resp);
        }
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(password, hash).await?;
    let st = state.clone();
    let outcome = match user {
        Some(u) if verified && u.active => Some(
            state
                .db
                .write(move |conn| {
                    db::signin::credit(conn, &counters)?;
                    let family = Uuid::new_v4().to_string();
                    let refresh = store_refresh(conn, &st, &u.id, &family)?;
                    pair(&st, &u, refresh)
                })
                .await?,
        ),
        // The failure was counted before the check: nothing to write.
        _ => None,
    };
    let (mut resp, counts) = match outcome {
        Some(tokens) => (token_answer(tokens), signin::after_success(&taken)),
        None => (
            AppError::Unauthorized("invalid_credentials").error_response(),
            taken,
        ),
    };
    rate_limit_headers(&mut resp, signin::admitted_header(&counts));
    Ok(resp)
}

fn rate_limit_headers(resp: &mut HttpResponse, rate_limit: String) {
    let headers = resp.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&signin::policy_header()) {
        headers.insert(header::HeaderName::from_static("ratelimit-policy"), v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&rate_limit) {
        headers.insert(header::HeaderName::from_static("ratelimit"), v);
    }
}

enum Rotation {
    Issued(TokenPair),
    Refused(&'static str),
}

/// Exchange a refresh token for a new pair.
///
/// The old token dies. Presenting a token that was already used revokes
/// its whole family: whoever stole it and its owner are both signed out.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh_token",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`: a token answer is never cached"))),
        (status = 401, description = "Unknown, expired, revoked or reused token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn rotate(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let hash = token_hash(body.refresh_token.trim());
    let st = state.clone();
    // Reuse detection must commit its revocation, so refusals are values
    // here and become errors only after the transaction.
    let outcome = state
        .db
        .write(move |conn| {
            let Some(token) = db::users::refresh_by_hash(conn, &hash)? else {
                return Ok(Rotation::Refused("invalid_refresh_token"));
            };
            if token.rotated_at.is_some() || token.revoked_at.is_some() {
                db::users::revoke_family(conn, &token.family_id)?;
                return Ok(Rotation::Refused("refresh_token_reused"));
            }
            if token.expires_at <= to_db(now()) {
                return Ok(Rotation::Refused("refresh_token_expired"));
            }
            let user = match db::users::by_id(conn, &token.user_id)? {
                Some(u) if u.active => u,
                _ => {
                    db::users::revoke_family(conn, &token.family_id)?;
                    return Ok(Rotation::Refused("invalid_refresh_token"));
                }
            };
            if !db::users::mark_rotated(conn, &token.id)? {
                db::users::revoke_family(conn, &token.family_id)?;
                return Ok(Rotation::Refused("refresh_token_reused"));
            }
            let fresh = store_refresh(conn, &st, &user.id, &token.family_id)?;
            Ok(Rotation::Issued(pair(&st, &user, fresh)?))
        })
        .await?;
    match outcome {
        Rotation::Issued(p) => Ok(token_answer(p)),
        Rotation::Refused(code) => Err(AppError::Unauthorized(code)),
    }
}

/// Sign out: the refresh token and its family stop working.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let hash = token_hash(body.refresh_token.trim());
    let me = user.id.to_string();
    state
        .db
        .write(move |conn| {
            if let Some(token) = db::users::refresh_by_hash(conn, &hash)?
                && token.user_id == me
            {
                db::users::revoke_family(conn, &token.family_id)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
