//! The relying party's side of OpenID Connect, through the `openidconnect`
//! crate: discovery of the configured issuer, the authorization URL (code
//! flow with PKCE, `state` and `nonce`), the code exchange at the provider's
//! token endpoint, and full validation of the ID token (signature by the
//! issuer's JWKS, `iss`, `aud`, `azp`, `exp`, `nonce`).
//!
//! The discovery document and the keys are fetched at first use and kept;
//! an ID token signed by a key the service does not hold (the provider
//! rotated its keys) makes it fetch them again, at most once every
//! [`KEY_REFETCH_MIN_SECS`] seconds, and verify once more.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use openidconnect::{EndpointMaybeSet, EndpointNotSet, EndpointSet};
use serde_json::{Map, Value};

use crate::config::SsoArgs;
use crate::domain::sso::KEY_REFETCH_MIN_SECS;
use crate::error::{AppError, AppResult};

/// How long a call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured issuer and this service's registration there.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    metadata: Option<Arc<CoreProviderMetadata>>,
    fetched_at: Option<Instant>,
}

/// A sign-in about to go to the provider: where to send the person and
/// the secrets its callback is checked against.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The person the provider vouched for, from a validated ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Every claim of the ID token, for the configured role claim.
    pub claims: Map<String, Value>,
}

impl Oidc {
    /// The issuer configured, or `None` when single sign-on is off. Half a
    /// configuration (an issuer without a client id or redirect URL) is an
    /// error at start, not at the first sign-in.
    pub fn from_config(cfg: &SsoArgs) -> anyhow::Result<Option<Oidc>> {
        let Some(issuer) = cfg.issuer.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let issuer = IssuerUrl::new(issuer.trim().to_string())
            .map_err(|e| anyhow::anyhow!("BAR_RAISER_OIDC_ISSUER: {e}"))?;
        let client_id = cfg
            .client_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("BAR_RAISER_OIDC_ISSUER needs BAR_RAISER_OIDC_CLIENT_ID")
            })?;
        let redirect = cfg
            .redirect_url
            .clone()
            .ok_or_else(|| {
                anyhow::anyhow!("BAR_RAISER_OIDC_ISSUER needs BAR_RAISER_OIDC_REDIRECT_URL")
            })
            .and_then(|u| {
                RedirectUrl::new(u)
                    .map_err(|e| anyhow::anyhow!("BAR_RAISER_OIDC_REDIRECT_URL: {e}"))
            })?;
        let http = reqwest::Client::builder()
            // Following redirects would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(Some(Oidc {
            issuer,
            client_id: ClientId::new(client_id.trim().to_string()),
            client_secret: cfg
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose().to_string())),
            redirect,
            scopes: cfg
                .scopes
                .split_whitespace()
                .filter(|s| *s != "openid")
                .map(str::to_string)
                .collect(),
            http,
            cache: tokio::sync::Mutex::new(Cached::default()),
        }))
    }

    /// The provider's discovery document and keys: kept from the last fetch
    /// unless `refetch` and the last fetch is old enough. `None` when a
    /// refetch was asked for too soon.
    async fn metadata(&self, refetch: bool) -> AppResult<Option<Arc<CoreProviderMetadata>>> {
        let mut cache = self.cache.lock().await;
        if let Some(m) = &cache.metadata {
            if !refetch {
                return Ok(Some(m.clone()));
            }
            let recent = cache
                .fetched_at
                .is_some_and(|t| t.elapsed() < Duration::from_secs(KEY_REFETCH_MIN_SECS));
            if recent {
                return Ok(None);
            }
        }
        let fetched = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, issuer = %self.issuer.as_str(), "OpenID provider discovery failed");
                AppError::Unavailable(format!("OpenID provider discovery: {e}"))
            })?;
        let fetched = Arc::new(fetched);
        cache.metadata = Some(fetched.clone());
        cache.fetched_at = Some(Instant::now());
        Ok(Some(fetched))
    }

    /// The client for these provider metadata, with our redirect URL.
    fn client(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    async fn current(&self) -> AppResult<Arc<CoreProviderMetadata>> {
        self.metadata(false)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("provider metadata missing")))
    }

    /// A new authorization request: code flow, PKCE (S256), a fresh
    /// `state` and `nonce`.
    pub async fn authorize(&self) -> AppResult<Authorization> {
        let client = self.client(&*self.current().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The issuer's URL as configured (and as ID tokens must name it).
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// Exchanges the provider's code (with the PKCE verifier) at its token
    /// endpoint and validates the ID token it answers with against `nonce`.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> AppResult<Identity> {
        let client = self.client(&*self.current().await?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| AppError::Internal(anyhow::anyhow!("provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    tracing::info!(error = %r, "the provider refused the authorization code");
                    AppError::BadRequest {
                        code: "sso_code_invalid",
                        detail: "the provider refused the authorization code (used, expired, or not issued to this service)".into(),
                    }
                }
                other => {
                    tracing::warn!(error = %other, "OpenID provider token endpoint failed");
                    AppError::Unavailable(format!("OpenID provider token endpoint: {other}"))
                }
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| AppError::Unauthorized("sso_token_invalid"))?;
        let nonce = Nonce::new(nonce.to_string());
        let checked = {
            let verifier = client.id_token_verifier();
            id_token
                .claims(&verifier, &nonce)
                .map(|c| identity_of(c, &id_token.to_string()))
        };
        match checked {
            Ok(identity) => identity,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Signed by a key not in the JWKS held: the provider may have
                // rotated. Fetch its keys again (rate-limited) and retry once.
                let Some(fresh) = self.metadata(true).await? else {
                    return Err(AppError::Unauthorized("sso_token_invalid"));
                };
                let client = self.client(&fresh);
                let verifier = client.id_token_verifier();
                match id_token.claims(&verifier, &nonce) {
                    Ok(c) => identity_of(c, &id_token.to_string()),
                    Err(e) => Err(refusal(e)),
                }
            }
            Err(e) => Err(refusal(e)),
        }
    }
}

fn refusal(e: ClaimsVerificationError) -> AppError {
    tracing::info!(error = %e, "ID token refused");
    AppError::Unauthorized(match e {
        ClaimsVerificationError::Expired(_) => "sso_token_expired",
        ClaimsVerificationError::InvalidNonce(_) => "sso_nonce_mismatch",
        _ => "sso_token_invalid",
    })
}

/// The identity in validated claims; every claim of the (already verified)
/// token's payload is kept for the role claim.
fn identity_of(claims: &openidconnect::core::CoreIdTokenClaims, jwt: &str) -> AppResult<Identity> {
    use base64::Engine;
    let all = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .unwrap_or_default();
    Ok(Identity {
        issuer: claims.issuer().as_str().to_string(),
        subject: claims.subject().as_str().to_string(),
        email: claims.email().map(|e| e.as_str().to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        claims: all,
    })
}
