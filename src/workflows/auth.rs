//! Sign-in, token refresh and sign-out. The throttling policy is
//! [`crate::domain::signin`]; the counters' atomic statements are
//! [`crate::db::signin`].

use std::net::IpAddr;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Actor, AppState};
use crate::auth::tokens::{Keys, random_token, token_hash};
use crate::config::PasswordSignin;
use crate::db::{
    self, DbConn, RefreshTokenId, TokenFamilyId, UserId, models::RefreshTokenRow, models::UserRow,
    now, signin::Claim, to_db,
};
use crate::domain::{AccountRole, signin};
use crate::error::{AppError, AppResult};

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

/// Where a sign-in comes from: the connection's peer and what proxies
/// said (`X-Forwarded-For`, believed only from a trusted proxy).
#[derive(Debug, Clone)]
pub struct Client {
    pub peer: Option<IpAddr>,
    pub forwarded_for: Vec<String>,
}

/// What a sign-in got.
pub enum Answer {
    SignedIn(TokenPair),
    /// Wrong email or password, or an inactive account.
    Invalid,
    /// Too many attempts: the next is evaluated after this many seconds.
    Refused {
        retry_after_secs: u64,
    },
    /// The right password, but this account signs in through single
    /// sign-on (`BAR_RAISER_PASSWORD_SIGNIN`). Said only after the
    /// password checked out, so it tells a guesser nothing.
    PasswordOff,
}

/// A sign-in's answer and the `RateLimit` value of the counter closest to
/// waiting (or of the one that refused).
pub struct LoginOutcome {
    pub answer: Answer,
    pub rate_limit: String,
}

/// What issues tokens inside a transaction: the signing keys and the
/// refresh tokens' lifetime. Password sign-in and single sign-on
/// (`workflows::sso`) end in the same pair.
pub(crate) struct Issuer {
    keys: Keys,
    refresh_ttl: Duration,
}

impl Issuer {
    pub(crate) fn of(state: &AppState) -> AppResult<Issuer> {
        Ok(Issuer {
            keys: state.keys.clone(),
            refresh_ttl: Duration::from_std(state.config.refresh_token_ttl)
                .map_err(anyhow::Error::from)?,
        })
    }

    /// Issues a refresh token in `family` (a new family at login) and
    /// returns the secret; only its hash is stored.
    fn store_refresh(
        &self,
        conn: &mut DbConn,
        user_id: UserId,
        family: TokenFamilyId,
    ) -> AppResult<String> {
        let token = random_token();
        let at = now();
        db::users::insert_refresh(
            conn,
            &RefreshTokenRow {
                id: RefreshTokenId::random(),
                user_id,
                family_id: family,
                token_hash: token_hash(&token),
                created_at: to_db(at),
                expires_at: to_db(at + self.refresh_ttl),
                rotated_at: None,
                revoked_at: None,
            },
        )?;
        Ok(token)
    }

    /// A new pair for `user` in `family`.
    pub(crate) fn pair(
        &self,
        conn: &mut DbConn,
        user: &UserRow,
        family: TokenFamilyId,
    ) -> AppResult<TokenPair> {
        let refresh_token = self.store_refresh(conn, user.id, family)?;
        Ok(TokenPair {
            access_token: self.keys.issue(
                &user.id.to_string(),
                user.role.as_str(),
                user.session_epoch,
            )?,
            token_type: "Bearer".into(),
            expires_in: self.keys.access_ttl.as_secs(),
            refresh_token,
        })
    }
}

/// Signs in with email and password. Every attempt is counted before its
/// password is checked ([`signin::counters`]); an unknown email takes as
/// long as a wrong password and is counted the same way.
/// Each attempt's outcome is counted for `/metrics`
/// (`bar_raiser_signins_total`).
pub async fn login(state: &AppState, req: LoginRequest, client: Client) -> AppResult<LoginOutcome> {
    let outcome = attempt(state, req, client).await;
    crate::metrics::signin(match &outcome {
        Ok(LoginOutcome {
            answer: Answer::SignedIn(_),
            ..
        }) => "signed_in",
        Ok(LoginOutcome {
            answer: Answer::Invalid | Answer::PasswordOff,
            ..
        })
        | Err(AppError::Unauthorized(_)) => "invalid_credentials",
        Ok(LoginOutcome {
            answer: Answer::Refused { .. },
            ..
        }) => "throttled",
        Err(_) => "error",
    });
    outcome
}

async fn attempt(state: &AppState, req: LoginRequest, client: Client) -> AppResult<LoginOutcome> {
    let LoginRequest { email, password } = req;
    let email_lower = email.trim().to_lowercase();
    if email_lower.len() > 1024 || password.len() > 4096 {
        return Err(AppError::Unauthorized("invalid_credentials"));
    }
    let forwarded: Vec<&str> = client.forwarded_for.iter().map(String::as_str).collect();
    let address = signin::client_address(
        client.peer.unwrap_or(signin::NO_PEER),
        &forwarded,
        &state.config.trusted_proxies,
    );
    // With the password threads' queue full the attempt would be refused
    // after its count was written: refuse it before, at no cost to the
    // store. A sign-in flood then sheds load without a write per attempt
    // (on PostgreSQL a commit each, taken from every other request), and
    // counts nothing: no password was checked.
    if state.passwords.full() {
        return Err(AppError::Overloaded {
            what: "password threads",
        });
    }
    let counters = signin::counters(&email_lower, address);
    let at = now().timestamp_millis();
    let plan = counters.clone();
    // Counted first, in one write: at most the free attempts of a burst get
    // to argon2, however many arrive at once and on whichever instance.
    let (claim, user) = state
        .db
        .write(move |conn| {
            let claim = db::signin::claim(conn, &plan, at)?;
            let user = match claim {
                Claim::Admitted(_) => db::users::by_email(conn, &email_lower)?,
                Claim::Refused { .. } => None,
            };
            Ok((claim, user))
        })
        .await?;
    let taken = match claim {
        Claim::Admitted(taken) => taken,
        Claim::Refused { scope, next_at_ms } => {
            let wait = signin::retry_after_secs(at, next_at_ms);
            return Ok(LoginOutcome {
                answer: Answer::Refused {
                    retry_after_secs: wait as u64,
                },
                rate_limit: signin::refused_header(scope, wait),
            });
        }
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(password, hash).await?;
    let issuer = Issuer::of(state)?;
    let (answer, counts) = match user {
        Some(u) if verified && u.active => {
            let policy = state.config.password_signin;
            let tokens = state
                .db
                .write(move |conn| {
                    db::signin::credit(conn, &counters)?;
                    if !password_allowed(conn, policy, &u)? {
                        return Ok(None);
                    }
                    issuer.pair(conn, &u, TokenFamilyId::random()).map(Some)
                })
                .await?;
            match tokens {
                Some(tokens) => (Answer::SignedIn(tokens), signin::after_success(&taken)),
                None => (Answer::PasswordOff, signin::after_success(&taken)),
            }
        }
        // The failure was counted before the check: nothing to write.
        _ => (Answer::Invalid, taken),
    };
    Ok(LoginOutcome {
        answer,
        rate_limit: signin::admitted_header(&counts),
    })
}

/// Whether `user` may sign in by password under `policy`: the first
/// account, an admin, always may (break-glass).
fn password_allowed(conn: &mut DbConn, policy: PasswordSignin, user: &UserRow) -> AppResult<bool> {
    if policy == PasswordSignin::On {
        return Ok(true);
    }
    let break_glass =
        user.role == AccountRole::Admin && db::sso::first_account(conn)? == Some(user.id);
    let linked = db::sso::is_linked(conn, user.id)?;
    Ok(crate::domain::sso::password_allowed(
        policy,
        linked,
        break_glass,
    ))
}

enum Rotation {
    Issued(TokenPair),
    Refused(&'static str),
}

/// Exchanges a refresh token for a new pair. The old token dies;
/// presenting one already used revokes its whole family.
pub async fn refresh(state: &AppState, refresh_token: &str) -> AppResult<TokenPair> {
    let hash = token_hash(refresh_token.trim());
    let issuer = Issuer::of(state)?;
    // Reuse detection must commit its revocation, so refusals are values
    // here and become errors only after the transaction.
    let outcome = state
        .db
        .write(move |conn| {
            let Some(token) = db::users::refresh_by_hash(conn, &hash)? else {
                return Ok(Rotation::Refused("invalid_refresh_token"));
            };
            if token.rotated_at.is_some() || token.revoked_at.is_some() {
                db::users::revoke_family(conn, token.family_id)?;
                return Ok(Rotation::Refused("refresh_token_reused"));
            }
            if token.expires_at <= to_db(now()) {
                return Ok(Rotation::Refused("refresh_token_expired"));
            }
            let user = match db::users::by_id(conn, token.user_id)? {
                Some(u) if u.active => u,
                _ => {
                    db::users::revoke_family(conn, token.family_id)?;
                    return Ok(Rotation::Refused("invalid_refresh_token"));
                }
            };
            if !db::users::mark_rotated(conn, token.id)? {
                db::users::revoke_family(conn, token.family_id)?;
                return Ok(Rotation::Refused("refresh_token_reused"));
            }
            Ok(Rotation::Issued(issuer.pair(
                conn,
                &user,
                token.family_id,
            )?))
        })
        .await?;
    match outcome {
        Rotation::Issued(p) => Ok(p),
        Rotation::Refused(code) => Err(AppError::Unauthorized(code)),
    }
}

/// Signs out: the refresh token (if it is the actor's own) and its family
/// stop working.
pub async fn logout(state: &AppState, me: &Actor, refresh_token: &str) -> AppResult<()> {
    let hash = token_hash(refresh_token.trim());
    let me = me.id;
    state
        .db
        .write(move |conn| {
            if let Some(token) = db::users::refresh_by_hash(conn, &hash)?
                && token.user_id == me
            {
                db::users::revoke_family(conn, token.family_id)?;
            }
            Ok(())
        })
        .await
}
