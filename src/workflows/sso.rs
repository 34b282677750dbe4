//! Single sign-on with OpenID Connect: start a sign-in at the configured
//! issuer, take its callback, and hand the person a one-time code that
//! exchanges for the service's own token pair, the very pair password
//! sign-in issues ([`super::auth`]). The protocol is [`crate::auth::oidc`];
//! which account an identity signs in as is [`crate::domain::sso`].

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Issuer, TokenPair};
use super::users::{NewUser, insert};
use crate::auth::oidc::{Identity, Oidc};
use crate::auth::tokens::{random_token, token_hash};
use crate::db::models::{SsoCodeRow, SsoIdentityRow, SsoLoginRow, UserRow};
use crate::db::{self, DbConn, TokenFamilyId, now, to_db};
use crate::domain::AccountRole;
use crate::domain::accounts;
use crate::domain::sso::{self, ClientKind, Found, Step};
use crate::error::{AppError, AppResult};
use crate::events::{self, By, accounts::AccountEvent};

/// `GET /auth/sso/start`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// `browser` (the default): answered with a redirect to the provider,
    /// and the sign-in ends at the front end (`BAR_RAISER_OIDC_FRONTEND_URL`)
    /// with `#code=…`. `cli`: answered with JSON naming the URL to open,
    /// and the sign-in ends on a page showing the one-time code.
    #[param(pattern = "^(browser|cli)$", example = "cli")]
    pub client: Option<String>,
}

/// A sign-in started: where the person signs in at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoStarted {
    /// Open in a browser; it leads back to `/api/v1/auth/sso/callback`.
    #[schema(
        example = "https://login.example.com/authorize?response_type=code&client_id=bar-raiser&state=…&code_challenge=…&code_challenge_method=S256&redirect_uri=…&scope=openid+email+profile&nonce=…"
    )]
    pub authorization_url: String,
    /// Seconds the sign-in may take at the provider.
    #[schema(example = 600)]
    pub expires_in: u64,
}

/// What the provider sends back to `/auth/sso/callback`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The provider's authorization code.
    #[param(max_length = 4096)]
    pub code: Option<String>,
    /// The `state` the sign-in started with.
    #[param(max_length = 256)]
    pub state: Option<String>,
    /// The provider's issuer (RFC 9207), checked when sent.
    #[param(max_length = 2048)]
    pub iss: Option<String>,
    /// Set by the provider when the sign-in failed there.
    #[param(max_length = 256)]
    pub error: Option<String>,
    #[param(max_length = 2048)]
    pub error_description: Option<String>,
    #[param(max_length = 2048)]
    pub session_state: Option<String>,
}

/// `POST /auth/sso/exchange`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoExchange {
    /// The one-time code the sign-in ended with: single use, 60 seconds.
    #[schema(
        example = "q2v7oK3hS1bBzq0lJc3Yx8m0a6cN4rQxv2b1dUeZkTg",
        max_length = 256
    )]
    pub code: String,
}

/// A sign-in started: how to answer, where to send the person, and for a
/// browser the value of the cookie that binds the sign-in to it.
pub struct Started {
    pub kind: ClientKind,
    pub answer: SsoStarted,
    /// Set as the [`sso::BROWSER_COOKIE`] cookie (browser sign-ins only).
    pub browser_binding: Option<String>,
}

/// How a finished sign-in answers its browser.
pub enum Finished {
    /// Redirect here (the front end, with the code in the fragment).
    Redirect(String),
    /// Show this one-time code (command-line sign-in).
    Show { code: String, expires_in: u64 },
}

fn configured(state: &AppState) -> AppResult<&Oidc> {
    state
        .oidc
        .as_ref()
        .ok_or(AppError::NotConfigured("sso_not_configured"))
}

fn bad(code: &'static str, detail: &str) -> AppError {
    AppError::BadRequest {
        code,
        detail: detail.into(),
    }
}

/// Starts a sign-in: a new `state`, `nonce` and PKCE verifier, kept on the
/// server (the state only as a hash) for ten minutes, single use.
///
/// A browser sign-in is also bound to the browser that starts it: a random
/// value set as a cookie, its hash kept with the state, and the callback
/// refused without it (login CSRF: someone else's callback URL, opened in
/// your browser, must not sign you in as them). A command-line sign-in
/// ends on a page showing a code that the person pastes where they started,
/// which binds it the same way.
pub async fn start(state: &AppState, query: StartQuery) -> AppResult<Started> {
    let oidc = configured(state)?;
    let kind = match query.client.as_deref() {
        None => ClientKind::Browser,
        Some(s) => ClientKind::parse(s)
            .ok_or_else(|| AppError::invalid_field("client", "`browser` or `cli`"))?,
    };
    let auth = oidc.authorize().await?;
    let at = now();
    let browser_binding = (kind == ClientKind::Browser).then(random_token);
    let row = SsoLoginRow {
        state_hash: token_hash(&auth.state),
        nonce: auth.nonce,
        pkce_verifier: auth.pkce_verifier,
        client: kind.as_str().into(),
        browser_hash: browser_binding.as_deref().map(token_hash),
        created_at: to_db(at),
        expires_at: to_db(at + Duration::seconds(sso::LOGIN_TTL_SECS)),
    };
    state
        .db
        .write(move |conn| {
            db::sso::purge_expired(conn, to_db(at))?;
            db::sso::insert_login(conn, &row)?;
            Ok(())
        })
        .await?;
    Ok(Started {
        kind,
        answer: SsoStarted {
            authorization_url: auth.url,
            expires_in: sso::LOGIN_TTL_SECS as u64,
        },
        browser_binding,
    })
}

/// Takes the provider's callback: the state must name a pending sign-in
/// (taken at once: a second callback with it is refused), the code is
/// exchanged with the PKCE verifier, the ID token validated against the
/// nonce, and the identity matched to an account ([`sso::step`]).
///
/// `browser_cookie` is the [`sso::BROWSER_COOKIE`] the request brought: a
/// browser sign-in needs the one its start set.
pub async fn callback(
    state: &AppState,
    query: CallbackQuery,
    browser_cookie: Option<String>,
) -> AppResult<Finished> {
    let oidc = configured(state)?;
    if let Some(error) = &query.error {
        tracing::info!(error, description = ?query.error_description, "the provider ended the sign-in");
        return Err(bad(
            "sso_provider_error",
            "the provider ended the sign-in without signing you in; start again",
        ));
    }
    let given = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= sso::MAX_CODE_CHARS)
        .ok_or_else(|| {
            bad(
                "sso_state_mismatch",
                "no sign-in of this service has this state",
            )
        })?;
    let code = query
        .code
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            bad(
                "sso_code_invalid",
                "the callback carries no authorization code",
            )
        })?;
    if let Some(iss) = &query.iss
        && iss != oidc.issuer()
    {
        return Err(bad(
            "sso_state_mismatch",
            "the callback comes from another issuer",
        ));
    }
    let hash = token_hash(given);
    let at = now();
    let pending = state
        .db
        .write(move |conn| Ok(db::sso::take_login(conn, &hash)?))
        .await?
        .filter(|p| p.expires_at > to_db(at))
        .ok_or_else(|| {
            bad(
                "sso_state_mismatch",
                "no pending sign-in has this state (unknown, used already, or older than ten minutes); start again",
            )
        })?;
    if !sso::same_browser(
        pending.browser_hash.as_deref(),
        browser_cookie.as_deref().map(token_hash).as_deref(),
    ) {
        return Err(bad(
            "sso_state_mismatch",
            "this sign-in was started in another browser (or its cookie was blocked); start again here",
        ));
    }
    let identity = oidc
        .finish(&code, &pending.nonce, &pending.pkce_verifier)
        .await?;
    let user = account_for(state, identity).await?;
    let code = random_token();
    let row = SsoCodeRow {
        code_hash: token_hash(&code),
        user_id: user.id,
        created_at: to_db(at),
        expires_at: to_db(now() + Duration::seconds(sso::CODE_TTL_SECS)),
    };
    state
        .db
        .write(move |conn| Ok(db::sso::insert_code(conn, &row)?))
        .await?;
    let kind = ClientKind::parse(&pending.client).unwrap_or(ClientKind::Cli);
    Ok(match (kind, &state.config.sso.frontend_url) {
        (ClientKind::Browser, Some(front)) => Finished::Redirect(format!("{front}#code={code}")),
        _ => Finished::Show {
            code,
            expires_in: sso::CODE_TTL_SECS as u64,
        },
    })
}

/// What a sign-in's identity comes to inside the transaction.
enum Matched {
    User(Box<UserRow>),
    Refused(&'static str),
    /// Just-in-time creation needs a password hash (a random secret
    /// nobody holds): hash one outside the transaction and come back.
    NeedsHash,
}

/// The account `identity` signs in as, linked, created or re-roled as the
/// rules say; refused with the rule's problem code.
async fn account_for(state: &AppState, identity: Identity) -> AppResult<UserRow> {
    let mut hash: Option<String> = None;
    for _ in 0..2 {
        let (id, h) = (identity.clone(), hash.clone());
        let cfg = Settings::of(state);
        let matched = state
            .db
            .write(move |conn| match_account(conn, &cfg, &id, h))
            .await?;
        match matched {
            Matched::User(u) => return Ok(*u),
            Matched::Refused(code) => return Err(refusal(code)),
            Matched::NeedsHash => hash = Some(state.passwords.hash(random_token()).await?),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "just-in-time account not created"
    )))
}

fn refusal(code: &'static str) -> AppError {
    let detail = match code {
        "account_disabled" => "this account is deactivated; ask an admin",
        "sso_email_unverified" => {
            "the provider has not verified this email, so it cannot be linked to an account"
        }
        "sso_not_linked" => {
            "no account is linked to this identity and none can be: ask an admin to create your account"
        }
        _ => "single sign-on refused",
    };
    AppError::Forbidden {
        code,
        detail: detail.into(),
    }
}

/// The settings a sign-in's matching reads.
#[derive(Clone)]
struct Settings {
    jit: bool,
    role_claim: Option<String>,
    claim_roles: Vec<(String, AccountRole)>,
    scim_maps_roles: bool,
    public_url: String,
}

impl Settings {
    fn of(state: &AppState) -> Settings {
        let sso = &state.config.sso;
        Settings {
            jit: sso.jit,
            role_claim: sso.role_claim.clone().filter(|c| !c.trim().is_empty()),
            claim_roles: sso
                .claim_roles
                .iter()
                .map(|g| (g.group.clone(), g.role))
                .collect(),
            scim_maps_roles: !state.config.scim_group_roles.is_empty(),
            public_url: state.config.public_url.clone(),
        }
    }
}

fn match_account(
    conn: &mut DbConn,
    cfg: &Settings,
    id: &Identity,
    hash: Option<String>,
) -> AppResult<Matched> {
    let at = to_db(now());
    let linked = db::sso::linked(conn, &id.issuer, &id.subject)?;
    let by_email = match (&linked, &id.email) {
        (None, Some(email)) => db::users::by_email(conn, &email.trim().to_lowercase())?,
        _ => None,
    };
    let found = match (&linked, &by_email) {
        (Some(u), _) => Found::Linked { active: u.active },
        (None, Some(u)) => Found::SameEmail {
            active: u.active,
            taken: db::sso::has_identity_at(conn, &id.issuer, u.id)?,
        },
        (None, None) => Found::Nobody,
    };
    let system = By {
        actor: None,
        public_url: cfg.public_url.clone(),
    };
    let values = sso::claim_values(cfg.role_claim.as_ref().and_then(|c| id.claims.get(c)));
    let user = match sso::step(found, id.email_verified, cfg.jit) {
        Step::Refuse(code) => return Ok(Matched::Refused(code)),
        Step::SignIn => linked.expect("linked"),
        Step::LinkThenSignIn => {
            let user = by_email.expect("found by email");
            link(conn, &system, id, &user, at, "verified_email")?;
            user
        }
        Step::CreateThenSignIn => {
            let Some(password_hash) = hash else {
                return Ok(Matched::NeedsHash);
            };
            let email = id.email.clone().unwrap_or_default();
            let name = id
                .name
                .clone()
                .filter(|n| accounts::text_problem("name", n, accounts::NAME_MAX_CHARS).is_none())
                .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
            if accounts::email_problem("email", &email).is_some()
                || accounts::text_problem("name", &name, accounts::NAME_MAX_CHARS).is_some()
            {
                return Ok(Matched::Refused("sso_not_linked"));
            }
            let role =
                sso::role_from_claim(&values, &cfg.claim_roles, cfg.role_claim.is_some(), false)
                    .unwrap_or(AccountRole::Member);
            let user = insert(
                conn,
                &system,
                NewUser {
                    email: &email,
                    name: &name,
                    password_hash,
                    role,
                    bar_raiser_certified: false,
                    active: true,
                },
            )?;
            link(conn, &system, id, &user, at, "jit")?;
            user
        }
    };
    let scim_decides = cfg.scim_maps_roles && db::sso::provisioned(conn, user.id)?;
    let role = sso::role_from_claim(
        &values,
        &cfg.claim_roles,
        cfg.role_claim.is_some(),
        scim_decides,
    );
    match role {
        Some(role) if role != user.role => {
            let user = super::users::set_role(conn, &system, user.id, role)?;
            Ok(Matched::User(Box::new(user)))
        }
        _ => Ok(Matched::User(Box::new(user))),
    }
}

/// Links the identity to the account, once, and records it in the
/// organisation's chain (`sso.linked`).
fn link(
    conn: &mut DbConn,
    by: &By,
    id: &Identity,
    user: &UserRow,
    at: chrono::NaiveDateTime,
    how: &'static str,
) -> AppResult<()> {
    db::sso::link(
        conn,
        &SsoIdentityRow {
            issuer: id.issuer.clone(),
            subject: id.subject.clone(),
            user_id: user.id,
            linked_at: at,
        },
    )?;
    events::record(
        conn,
        by,
        AccountEvent::SsoLinked {
            user: user.id.into(),
            issuer: id.issuer.clone(),
            subject: id.subject.clone(),
            how,
        },
    )?;
    Ok(())
}

/// Exchanges a one-time code for the service's token pair. The code dies
/// at its first use, and after sixty seconds.
pub async fn exchange(state: &AppState, req: SsoExchange) -> AppResult<TokenPair> {
    configured(state)?;
    let code = req.code.trim().to_string();
    if code.is_empty() || code.len() > sso::MAX_CODE_CHARS {
        return Err(bad("sso_code_invalid", "no sign-in has this code"));
    }
    let hash = token_hash(&code);
    let issuer = Issuer::of(state)?;
    let outcome = state
        .db
        .write(move |conn| {
            let at = to_db(now());
            let Some(row) = db::sso::take_code(conn, &hash)? else {
                return Ok(Err("sso_code_invalid"));
            };
            if row.expires_at <= at {
                return Ok(Err("sso_code_invalid"));
            }
            match db::users::by_id(conn, row.user_id)? {
                Some(u) if u.active => issuer.pair(conn, &u, TokenFamilyId::random()).map(Ok),
                _ => Ok(Err("account_disabled")),
            }
        })
        .await?;
    outcome.map_err(|code| match code {
        "account_disabled" => refusal(code),
        _ => bad(
            "sso_code_invalid",
            "no sign-in has this code (unknown, used already, or older than sixty seconds); sign in again",
        ),
    })
}
