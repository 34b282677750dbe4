//! Who is calling: password hashing, tokens, and the [`AuthUser`]
//! extractor that every protected handler takes as an argument.

pub mod oidc;
pub mod password;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};

use crate::app::AppState;
use crate::config::Secret;
use crate::db::{self, models::UserRow};
use crate::domain::AccountRole;
use crate::domain::scopes::{self, Requirement, Scope};
use crate::error::AppError;

/// Longest `Authorization` header considered at all.
const MAX_AUTHORIZATION_LEN: usize = 4096;

/// The signed-in, active caller. Taking it as a handler argument is what
/// makes a route require authentication.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: db::UserId,
    pub email: String,
    pub name: String,
    pub role: AccountRole,
    pub bar_raiser_certified: bool,
    /// Set when the caller is a service token acting for the admin who
    /// made it: what the token may do. `None` for people.
    pub scopes: Option<Vec<Scope>>,
    /// The service token's id, when the caller is one.
    pub token_id: Option<db::TokenId>,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == AccountRole::Admin
    }

    pub fn is_recruiter_or_admin(&self) -> bool {
        matches!(self.role, AccountRole::Admin | AccountRole::Recruiter)
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden("admin_only"))
        }
    }

    pub fn require_recruiter_or_admin(&self) -> Result<(), AppError> {
        if self.is_recruiter_or_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden("recruiter_or_admin_only"))
        }
    }

    pub fn from_row(row: &UserRow) -> AuthUser {
        AuthUser {
            id: row.id,
            email: row.email.clone(),
            name: row.name.clone(),
            role: row.role,
            bar_raiser_certified: row.bar_raiser_certified,
            scopes: None,
            token_id: None,
        }
    }

    pub fn is_service(&self) -> bool {
        self.scopes.is_some()
    }
}

/// Service tokens are told apart from JWTs by this prefix.
pub const SERVICE_TOKEN_PREFIX: &str = "brt_";

/// How a request names its service token: by the secret itself, or by an
/// access token the OAuth token endpoint issued for it (narrowed to
/// `scope`).
enum TokenCredential {
    Secret(String),
    Client { id: db::TokenId, scope: String },
}

/// The live service token (not revoked or expired) and its still active
/// admin, for the secret or client id presented; `None` otherwise.
pub async fn live_token(
    state: &AppState,
    lookup: TokenLookup,
) -> Result<Option<(db::tokens::ApiTokenRow, UserRow)>, AppError> {
    let now = db::to_db(db::now());
    state
        .db
        .read(move |conn| {
            let found = match lookup {
                TokenLookup::Hash(hash) => db::tokens::by_hash(conn, &hash)?,
                TokenLookup::Id(id) => db::tokens::by_id(conn, id)?,
            };
            let Some(t) = found else {
                return Ok(None);
            };
            if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
                return Ok(None);
            }
            let owner = db::users::by_id(conn, t.created_by)?;
            Ok(owner.filter(|o| o.active).map(|o| (t, o)))
        })
        .await
}

/// Which stored token [`live_token`] looks for.
pub enum TokenLookup {
    /// The SHA-256 of the secret ([`tokens::token_hash`]).
    Hash(String),
    Id(db::TokenId),
}

/// The scopes a stored token grants.
pub fn granted_scopes(t: &db::tokens::ApiTokenRow) -> Vec<Scope> {
    t.scopes
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Notes the token's use, to the minute (`tokens::touch`): most requests
/// write nothing, and the rest write through the writer like any write.
pub async fn mark_used(state: &AppState, t: &db::tokens::ApiTokenRow) -> Result<(), AppError> {
    let now = db::to_db(db::now());
    if t.last_used_at
        .is_none_or(|u| u < now - chrono::Duration::seconds(60))
    {
        let id = t.id;
        // Bookkeeping: when the writer is overloaded the mark waits for a
        // later request rather than failing this one.
        match state
            .db
            .write(move |conn| Ok(db::tokens::touch(conn, id, now)?))
            .await
        {
            Ok(()) | Err(AppError::Overloaded { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Resolves a service token: live (not revoked or expired), its admin still
/// active, and granted what this operation requires. An OAuth client's
/// access token carries at most the token's scopes, and never more than
/// the token holds now.
async fn service_token(
    state: &AppState,
    credential: TokenCredential,
    requirement: Requirement,
) -> Result<AuthUser, AppError> {
    let (lookup, narrowed) = match credential {
        TokenCredential::Secret(secret) => (TokenLookup::Hash(tokens::token_hash(&secret)), None),
        TokenCredential::Client { id, scope } => (TokenLookup::Id(id), Some(scope)),
    };
    let (t, owner) = live_token(state, lookup)
        .await?
        .ok_or(AppError::Unauthorized("invalid_token"))?;
    mark_used(state, &t).await?;
    let mut granted = granted_scopes(&t);
    if let Some(scope) = narrowed {
        let asked: Vec<&str> = scope.split_whitespace().collect();
        granted.retain(|s| asked.contains(&s.as_str()));
    }
    let allowed = match requirement {
        Requirement::AnyToken => true,
        Requirement::Scope(s) => granted.contains(&s),
        Requirement::NotForTokens => false,
    };
    if !allowed {
        return Err(AppError::forbidden("insufficient_scope"));
    }
    let mut user = AuthUser::from_row(&owner);
    user.scopes = Some(granted);
    user.token_id = Some(t.id);
    Ok(user)
}

/// `GET /metrics` is for the scraper holding `BAR_RAISER_METRICS_TOKEN`:
/// without that setting there is nothing there (404); with it, the same
/// bearer token is required (401 otherwise). Compared by SHA-256 digest,
/// so the comparison's time tells nothing of the token.
pub fn metrics_scraper(req: &HttpRequest, expected: Option<&Secret>) -> Result<(), AppError> {
    use sha2::{Digest, Sha256};
    let expected = expected
        .filter(|t| !t.expose().is_empty())
        .ok_or(AppError::NotFound)?;
    let presented = bearer(req)?;
    if Sha256::digest(presented.as_bytes()) != Sha256::digest(expected.expose().as_bytes()) {
        return Err(AppError::Unauthorized("invalid_token"));
    }
    Ok(())
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AppError::Unauthorized("missing_token"))?;
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(AppError::Unauthorized("invalid_token"));
    }
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthorized("invalid_token"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(AppError::Unauthorized("invalid_token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthorized("invalid_token"));
    }
    Ok(token.trim().to_string())
}

/// What a request presents: its bearer token (or why it has none) and
/// what its operation asks of a service token.
pub struct Credentials {
    token: Result<String, AppError>,
    requirement: Requirement,
}

impl Credentials {
    pub fn of(req: &HttpRequest) -> Credentials {
        Credentials {
            token: bearer(req),
            requirement: scopes::required(
                req.method().as_str(),
                req.match_pattern().as_deref().unwrap_or(""),
            ),
        }
    }
}

/// Decides who is calling, or why nobody is: the one authentication every
/// request goes through (the [`AuthUser`] extractor, and the idempotency
/// middleware before it replays anything).
pub async fn authenticate(
    state: &AppState,
    credentials: Credentials,
) -> Result<AuthUser, AppError> {
    let claimed = claim(state, credentials).await?;
    settle_stored(state, claimed).await
}

/// Settles a claim by reading the account on its own ([`Claim::settle`]).
async fn settle_stored(state: &AppState, claimed: Claim) -> Result<AuthUser, AppError> {
    match claimed {
        Claim::Settled(user) => Ok(user),
        claimed @ Claim::Session { id, .. } => {
            let row = state
                .db
                .read(move |conn| Ok(db::users::by_id(conn, id)?))
                .await?;
            claimed.settle(row.as_ref())
        }
    }
}

/// Who a request says it is, once everything that needs no database is
/// checked: [`authenticate`] in two halves, for a read that settles a
/// person's claim in the same statement as its own data (the loop view,
/// `workflows::loops::get`).
#[derive(Debug)]
pub enum Claim {
    /// A person's session token, its signature and expiry checked: the
    /// account as stored now decides the rest ([`Claim::settle`]).
    Session { id: db::UserId, epoch: i64 },
    /// Decided already: a service token, or the caller the idempotency
    /// middleware authenticated earlier in this request.
    Settled(AuthUser),
}

impl Claim {
    /// A session holds while its account is active and its password or
    /// email has not been changed by an operator since it began (which
    /// moves the epoch on): deactivation takes effect at once. `row` is
    /// the account as read now, `None` if it is gone.
    pub fn settle(self, row: Option<&UserRow>) -> Result<AuthUser, AppError> {
        match self {
            Claim::Settled(user) => Ok(user),
            Claim::Session { epoch, .. } => match row {
                Some(row) if row.active && i64::from(row.session_epoch) == epoch => {
                    Ok(AuthUser::from_row(row))
                }
                _ => Err(AppError::Unauthorized("invalid_token")),
            },
        }
    }
}

/// The first half of [`authenticate`]: a session token's signature (the
/// token proves identity; the stored row, read by the caller, decides
/// whether the account may still act), or a service token resolved whole.
pub async fn claim(state: &AppState, credentials: Credentials) -> Result<Claim, AppError> {
    let Credentials { token, requirement } = credentials;
    let token = token?;
    if token.starts_with(SERVICE_TOKEN_PREFIX) {
        return service_token(state, TokenCredential::Secret(token), requirement)
            .await
            .map(Claim::Settled);
    }
    if let Some(client) = state.keys.verify_client(&token) {
        // Our own signature vouches for the id; one that is not an id is a
        // token we did not issue.
        let id = client
            .sub
            .parse()
            .map_err(|_| AppError::Unauthorized("invalid_token"))?;
        let credential = TokenCredential::Client {
            id,
            scope: client.scope,
        };
        return service_token(state, credential, requirement)
            .await
            .map(Claim::Settled);
    }
    let claims = state
        .keys
        .verify(&token)
        .ok_or(AppError::Unauthorized("invalid_token"))?;
    // Our own signature vouches for the subject; one that is not an id is
    // a token we did not issue.
    let id = claims
        .sub
        .parse()
        .map_err(|_| AppError::Unauthorized("invalid_token"))?;
    Ok(Claim::Session {
        id,
        epoch: claims.sep,
    })
}

/// The caller as [`authenticate`] found them earlier in this request, for
/// the same operation; the extractor then does not ask twice.
#[derive(Clone)]
pub struct Authenticated(pub AuthUser);

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let claimed = Claim::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let claimed = claimed.await?;
            let state =
                state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            settle_stored(&state, claimed).await
        })
    }
}

/// The first half of the [`AuthUser`] extractor: leaves a person's account
/// to be read by the handler's own statement ([`Claim::settle`]).
impl FromRequest for Claim {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(Authenticated(user)) = req.extensions().get::<Authenticated>() {
            let user = user.clone();
            return Box::pin(async move { Ok(Claim::Settled(user)) });
        }
        let credentials = Credentials::of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            claim(&state, credentials).await
        })
    }
}
