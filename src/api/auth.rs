//! Sign-in, token refresh and sign-out.

use actix_web::{HttpResponse, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::auth::tokens::{random_token, token_hash};
use crate::db::{self, DbConn, models::RefreshTokenRow, models::UserRow, now, to_db};
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
/// Repeated failures for one email lock it for a while (429 with
/// `Retry-After`). An unknown email takes as long as a wrong password.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password, or inactive account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    let email_lower = email.trim().to_lowercase();
    if email_lower.len() > 1024 || password.len() > 4096 {
        return Err(AppError::Unauthorized("invalid_credentials"));
    }
    let key = email_lower.clone();
    let user = state
        .db
        .run(move |conn| {
            if let Some(secs) = db::users::locked_for(conn, &key, now())? {
                return Err(AppError::TooManyRequests {
                    retry_after_secs: secs,
                });
            }
            Ok(db::users::by_email(conn, &key)?)
        })
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(password, hash).await?;
    let st = state.clone();
    let outcome = state
        .db
        .write(move |conn| match user {
            Some(u) if verified && u.active => {
                db::users::clear_failures(conn, &email_lower)?;
                let family = Uuid::new_v4().to_string();
                let refresh = store_refresh(conn, &st, &u.id, &family)?;
                Ok(Some(pair(&st, &u, refresh)?))
            }
            _ => {
                db::users::record_failure(conn, &email_lower, now())?;
                Ok(None)
            }
        })
        .await?;
    match outcome {
        Some(tokens) => Ok(HttpResponse::Ok().json(tokens)),
        None => Err(AppError::Unauthorized("invalid_credentials")),
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
        (status = 200, description = "A new pair", body = TokenPair),
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
        Rotation::Issued(p) => Ok(HttpResponse::Ok().json(p)),
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
