//! `POST /oauth/token`: the OAuth 2.0 token endpoint for integration
//! platforms (client credentials, RFC 6749 §4.4), the HTTP side of
//! [`crate::workflows::oauth`]. Its refusals are OAuth's own JSON
//! (`error`, `error_description`, §5.2), because every OAuth client library
//! reads that shape; failures of the service itself stay problem+json.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::app::AppState;
use crate::domain::oauth::{self, ClientGrant, ErrorKind, OAuthError, TokenRequest};
use crate::error::Problem;
use crate::workflows::oauth::{self as flow, ClientToken, Outcome, TokenError, TokenForm};

/// Where the token endpoint is.
pub const PATH: &str = "/oauth/token";

/// Token answers are never stored by a cache (§5.1, §5.2).
pub(crate) fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

fn refusal(e: OAuthError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(e.kind.status())
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut builder = no_store(HttpResponse::build(status));
    if e.kind == ErrorKind::InvalidClient {
        builder.insert_header((
            header::WWW_AUTHENTICATE,
            r#"Basic realm="bar-raiser", charset="UTF-8""#,
        ));
    }
    builder.json(TokenError {
        error: e.kind.into(),
        error_description: e.description,
    })
}

fn invalid_request(description: &str) -> OAuthError {
    OAuthError {
        kind: ErrorKind::InvalidRequest,
        description: description.into(),
    }
}

/// One form-urlencoded component, decoded (`+` is a space).
fn form_decode(s: &str) -> Option<String> {
    let mut pairs = form_urlencoded::parse(s.as_bytes());
    match (pairs.next(), pairs.next()) {
        (Some((k, v)), None) if v.is_empty() && !s.contains('=') => Some(k.into_owned()),
        (None, None) => Some(String::new()),
        _ => None,
    }
}

/// Exchange a service token for a short-lived access token (OAuth 2.0
/// client credentials).
///
/// For integration platforms that speak OAuth 2.0: authenticate as the
/// client with HTTP Basic — the service token's id as the user name, its
/// `brt_…` secret as the password — or with `client_id` and
/// `client_secret` in the form, and get an access token for `Authorization:
/// Bearer`. It carries the token's scopes, or the subset asked for in
/// `scope`, and expires after the configured access-token lifetime
/// (`expires_in`); there is no refresh token, ask again. Revoking the
/// service token, its expiry or its admin's deactivation end the access
/// tokens issued for it at once. Errors are OAuth's (RFC 6749 §5.2), not
/// problem+json.
#[utoipa::path(
    tag = "auth",
    operation_id = "oauth_token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = ClientToken, headers(
            ("Cache-Control" = String, description = "`no-store`: a token answer is never cached"),
        )),
        (status = 400, description = "Malformed request (`invalid_request`), another grant (`unsupported_grant_type`) or a scope the token does not hold (`invalid_scope`)", body = TokenError, content_type = "application/json"),
        (status = 401, description = "No client credentials, or not those of a live service token whose admin is active (`invalid_client`)", body = TokenError, content_type = "application/json", headers(
            ("WWW-Authenticate" = String, description = "`Basic realm=\"bar-raiser\"`"),
        )),
        (status = 500, description = "The service failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("client_basic" = []), ()),
)]
#[post("/oauth/token")]
pub async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let grant = match read_request(&req, &body) {
        Ok(grant) => grant,
        Err(e) => return refusal(e),
    };
    match flow::client_credentials(&state, grant).await {
        Ok(Outcome::Issued(token)) => no_store(HttpResponse::Ok()).json(token),
        Ok(Outcome::Refused(e)) => refusal(e),
        Err(e) => e.error_response(),
    }
}

/// The grant a token request asks for, or why it is refused:
/// the form body and the client's HTTP Basic credentials, read as HTTP
/// gives them, then checked by [`oauth::parse`].
fn read_request(req: &HttpRequest, body: &[u8]) -> Result<ClientGrant, OAuthError> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(invalid_request(
            "the body must be `application/x-www-form-urlencoded`",
        ));
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let basic = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| invalid_request("the Authorization header is not readable"))?;
            match oauth::basic_credentials(value, |b| STANDARD.decode(b).ok(), form_decode) {
                None => {
                    return Err(invalid_request(
                        "the client authenticates with HTTP Basic, not another scheme",
                    ));
                }
                Some(credentials) => Some(credentials?),
            }
        }
    };
    oauth::parse(TokenRequest { form: &form, basic })
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn components_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("").as_deref(), Some(""));
        assert_eq!(form_decode("a=b"), None);
        assert_eq!(form_decode("a&b"), None);
    }
}
