//! Sign-in, token refresh and sign-out: the HTTP side of
//! [`crate::workflows::auth`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, post, web};

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::domain::signin;
use crate::error::{AppError, AppResult, Problem};
use crate::workflows::auth::{
    self as flow, Answer, Client, LoginOutcome, LoginRequest, RefreshRequest, TokenPair,
};

/// A token answer: never stored by a cache or a browser (RFC 6749 §5.1).
fn token_answer(tokens: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(tokens)
}

/// Where the request comes from, as far as HTTP tells.
fn client(req: &HttpRequest) -> Client {
    Client {
        peer: req.peer_addr().map(|a| a.ip()),
        forwarded_for: req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect(),
    }
}

/// A sign-in's answer, with its rate-limit headers.
fn login_answer(outcome: LoginOutcome) -> HttpResponse {
    let mut resp = match outcome.answer {
        Answer::SignedIn(tokens) => token_answer(tokens),
        Answer::Invalid => AppError::Unauthorized("invalid_credentials").error_response(),
        Answer::PasswordOff => AppError::forbidden("password_signin_disabled").error_response(),
        Answer::Refused { retry_after_secs } => {
            AppError::TooManyRequests { retry_after_secs }.error_response()
        }
    };
    rate_limit_headers(&mut resp, outcome.rate_limit);
    resp
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
        (status = 403, description = "The password is right, but this account signs in through single sign-on (`BAR_RAISER_PASSWORD_SIGNIN`)", body = Problem, content_type = "application/problem+json", headers(
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
    let outcome = flow::login(&state, body.into_inner(), client(&req)).await?;
    Ok(login_answer(outcome))
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
    Ok(token_answer(
        flow::refresh(&state, &body.refresh_token).await?,
    ))
}

/// Sign out.
///
/// The refresh token sent and every token of its family (each one it was
/// rotated from or into) stop working at once. Access tokens already issued run
/// out at their expiry.
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
    flow::logout(&state, &user, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
