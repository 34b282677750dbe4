//! Single sign-on with OpenID Connect: the HTTP side of
//! [`crate::workflows::sso`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::oauth::no_store;
use crate::app::AppState;
use crate::domain::sso::{self as rules, ClientKind};
use crate::error::{AppResult, Problem};
use crate::workflows::auth::TokenPair;
use crate::workflows::sso::{
    self as flow, CallbackQuery, Finished, SsoExchange, SsoStarted, StartQuery,
};

/// The cookie binding a browser sign-in to its browser: sent back only to
/// this service's SSO paths, never readable by scripts, sent on the
/// provider's top-level redirect back (`Lax`), `Secure` when the service is
/// served over HTTPS, and gone with the sign-in's ten minutes. An empty
/// value with `Max-Age=0` removes it. (actix-web's cookie support is left
/// out of the build; the value is URL-safe base64, nothing to escape.)
fn binding_cookie(state: &AppState, value: &str, max_age: i64) -> (header::HeaderName, String) {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    (
        header::SET_COOKIE,
        format!(
            "{}={value}; Path=/api/v1/auth/sso; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
            rules::BROWSER_COOKIE
        ),
    )
}

/// The binding cookie's value, if the request brought one.
fn binding_of(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == rules::BROWSER_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Start a single sign-on.
///
/// Sends the person to the configured OpenID provider (authorization code
/// flow with PKCE, a fresh `state` and `nonce`, kept on the server for ten
/// minutes). A browser (`client=browser`, the default) is redirected there;
/// a command-line tool (`client=cli`) gets the URL to open as JSON. A
/// browser also gets the `bar_raiser_sso` cookie (HttpOnly, SameSite=Lax,
/// path `/api/v1/auth/sso`) that binds the sign-in to it. Either
/// way the provider sends the person back to `/api/v1/auth/sso/callback`.
#[utoipa::path(
    tag = "auth",
    operation_id = "sso_start",
    params(StartQuery),
    responses(
        (status = 200, description = "`client=cli`: the URL to open in a browser", body = SsoStarted, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 302, description = "`client=browser`: on to the provider", headers(("Location" = String, description = "The provider's authorization URL"))),
        (status = 404, description = "`sso_not_configured`: single sign-on is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`client` is neither `browser` nor `cli`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The provider's discovery document could not be fetched", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/sso/start")]
pub async fn start(
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> AppResult<HttpResponse> {
    let started = flow::start(&state, query.into_inner()).await?;
    Ok(match started.kind {
        ClientKind::Browser => {
            let mut answer = no_store(HttpResponse::Found());
            answer.insert_header((header::LOCATION, started.answer.authorization_url));
            if let Some(binding) = &started.browser_binding {
                answer.insert_header(binding_cookie(&state, binding, rules::LOGIN_TTL_SECS));
            }
            answer.finish()
        }
        ClientKind::Cli => no_store(HttpResponse::Ok()).json(started.answer),
    })
}

/// Finish a single sign-on (the provider's redirect).
///
/// The provider sends the browser here with `code` and `state`. The state
/// must name a pending sign-in (single use) and, for a browser sign-in,
/// come back to the browser that started it (the `bar_raiser_sso` cookie
/// `/start` set), the code is exchanged with
/// the PKCE verifier, and the ID token is validated in full (signature by
/// the issuer's keys, `iss`, `aud`, `azp`, `exp`, `nonce`). The identity
/// signs in as the account linked to its subject, linked once by a verified
/// email. A browser sign-in is redirected to the front end with
/// `#code=<one-time code>`; a command-line one shows the code as text.
/// Either code is exchanged at `POST /api/v1/auth/sso/exchange` within 60
/// seconds.
#[utoipa::path(
    tag = "auth",
    operation_id = "sso_callback",
    params(CallbackQuery),
    responses(
        (status = 200, description = "A command-line sign-in: the one-time code, as text", body = String, content_type = "text/plain", headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 302, description = "A browser sign-in: on to the front end with the one-time code in the fragment", headers(("Location" = String, description = "`BAR_RAISER_OIDC_FRONTEND_URL#code=…`"))),
        (status = 400, description = "`sso_state_mismatch`, `sso_code_invalid` or `sso_provider_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`sso_token_invalid`, `sso_token_expired` or `sso_nonce_mismatch`: the ID token failed validation", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`sso_email_unverified`, `sso_not_linked` or `account_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`sso_not_configured`: single sign-on is off", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The provider could not be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/sso/callback")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> AppResult<HttpResponse> {
    Ok(match flow::callback(&state, query.into_inner(), binding_of(&req)).await? {
        Finished::Redirect(to) => no_store(HttpResponse::Found())
            .insert_header((header::LOCATION, to))
            .insert_header(binding_cookie(&state, "", 0))
            .finish(),
        Finished::Show { code, expires_in } => no_store(HttpResponse::Ok())
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "Signed in. Paste this one-time code where you started (it works once, for {expires_in} seconds):\n\n{code}\n"
            )),
    })
}

/// Exchange a single sign-on's one-time code for tokens.
///
/// The same pair password sign-in answers with. The code works once, for
/// 60 seconds.
#[utoipa::path(
    tag = "auth",
    operation_id = "sso_exchange",
    request_body = SsoExchange,
    responses(
        (status = 200, description = "Signed in", body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`: a token answer is never cached"))),
        (status = 400, description = "`sso_code_invalid`: unknown, used or expired code", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`sso_not_configured`: single sign-on is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/sso/exchange")]
pub async fn exchange(
    state: web::Data<AppState>,
    body: web::Json<SsoExchange>,
) -> AppResult<HttpResponse> {
    let tokens = flow::exchange(&state, body.into_inner()).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}
