//! The OAuth 2.0 token endpoint's one grant, client credentials (RFC 6749
//! §4.4): a service token's id and secret in, a short-lived access token
//! with the token's scopes (or fewer) out. The access token is checked
//! against the stored service token on every request
//! ([`crate::auth::authenticate`]), so revoking the token, its expiry or
//! its admin's deactivation end it at once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::auth::{self, TokenLookup, tokens};
use crate::db::TokenId;
use crate::domain::oauth::{self, ClientGrant, ErrorKind, OAuthError};
use crate::error::AppError;

/// The token request's form (`application/x-www-form-urlencoded`). The
/// client authenticates with HTTP Basic (the service token's id as user,
/// its secret as password) or with `client_id` and `client_secret` here.
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    /// `client_credentials`, the only grant offered.
    #[schema(value_type = GrantType, example = "client_credentials")]
    pub grant_type: String,
    /// Space-separated scopes, each held by the token; all of them if absent.
    // The pattern names every `Scope`: tests/api/openapi.rs holds it to them.
    #[schema(
        nullable = false,
        pattern = r"^ *(users:read|users:write|candidates:read|candidates:write|loops:read|loops:write|feedback:read|audit:read|webhooks:manage|analytics:read|scim)?( +(users:read|users:write|candidates:read|candidates:write|loops:read|loops:write|feedback:read|audit:read|webhooks:manage|analytics:read|scim))* *$",
        example = "loops:read candidates:read"
    )]
    pub scope: Option<String>,
    /// The service token's id, when not sent with HTTP Basic.
    #[schema(
        nullable = false,
        format = Uuid,
        example = "0193a5c4-7d2e-7b1a-9c3f-4e5d6a7b8c9d"
    )]
    pub client_id: Option<String>,
    /// The service token's secret (`brt_…`), when not sent with HTTP Basic.
    #[schema(
        nullable = false,
        example = "brt_3q2-7wXbYc8a1VQh0mLk2n4R5sT6uV7w8X9yZ0aB1cD"
    )]
    pub client_secret: Option<String>,
}

/// The grant types the token endpoint accepts, as the schema states them
/// (the field is a plain `String`: another value is OAuth's
/// `unsupported_grant_type`, not a body that fails to parse).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum GrantType {
    ClientCredentials,
}

/// A successful token answer (RFC 6749 §5.1). There is no refresh token:
/// the client asks again with its credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    #[schema(example = "loops:read candidates:read")]
    pub scope: String,
}

/// An error answer of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenError {
    /// The RFC 6749 error code.
    #[schema(example = "invalid_scope")]
    pub error: TokenErrorCode,
    /// What was wrong, for the developer.
    #[schema(example = "this client does not hold `users:write`")]
    pub error_description: String,
}

/// RFC 6749 §5.2's codes that this endpoint answers with.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenErrorCode {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl From<ErrorKind> for TokenErrorCode {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidRequest => TokenErrorCode::InvalidRequest,
            ErrorKind::InvalidClient => TokenErrorCode::InvalidClient,
            ErrorKind::UnsupportedGrantType => TokenErrorCode::UnsupportedGrantType,
            ErrorKind::InvalidScope => TokenErrorCode::InvalidScope,
        }
    }
}

/// What the endpoint answers: a token, a refusal in OAuth's own terms, or
/// a failure of the service itself (problem+json like everywhere else).
pub enum Outcome {
    Issued(ClientToken),
    Refused(OAuthError),
}

fn unknown_client() -> OAuthError {
    OAuthError {
        kind: ErrorKind::InvalidClient,
        description: "unknown client, wrong secret, or a token that is revoked, expired \
                      or whose admin is deactivated"
            .into(),
    }
}

/// Trades a service token's credentials for an access token.
pub async fn client_credentials(state: &AppState, grant: ClientGrant) -> Result<Outcome, AppError> {
    let Ok(client_id) = grant.client_id.parse::<TokenId>() else {
        return Ok(Outcome::Refused(unknown_client()));
    };
    if !grant.client_secret.starts_with(auth::SERVICE_TOKEN_PREFIX) {
        return Ok(Outcome::Refused(unknown_client()));
    }
    let hash = tokens::token_hash(&grant.client_secret);
    let Some((token, _owner)) = auth::live_token(state, TokenLookup::Hash(hash)).await? else {
        return Ok(Outcome::Refused(unknown_client()));
    };
    // The secret finds the token; the id must name the same one.
    if token.id != client_id {
        return Ok(Outcome::Refused(unknown_client()));
    }
    let scopes = match oauth::narrow(&auth::granted_scopes(&token), grant.scope.as_deref()) {
        Ok(scopes) => scopes,
        Err(e) => return Ok(Outcome::Refused(e)),
    };
    auth::mark_used(state, &token).await?;
    let scope = oauth::scope_string(&scopes);
    let access_token = state
        .keys
        .issue_client(&token.id.to_string(), &scope)
        .map_err(AppError::Internal)?;
    Ok(Outcome::Issued(ClientToken {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.keys.access_ttl.as_secs(),
        scope,
    }))
}
