//! Who is calling: password hashing, tokens, and the [`AuthUser`]
//! extractor that every protected handler takes as an argument.

pub mod password;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::{self, models::UserRow};
use crate::domain::AccountRole;
use crate::error::AppError;

/// Longest `Authorization` header considered at all.
const MAX_AUTHORIZATION_LEN: usize = 4096;

/// The signed-in, active caller. Taking it as a handler argument is what
/// makes a route require authentication.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: AccountRole,
    pub bar_raiser_certified: bool,
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

    pub fn from_row(row: &UserRow) -> Result<AuthUser, AppError> {
        Ok(AuthUser {
            id: db::uuid(&row.id),
            email: row.email.clone(),
            name: row.name.clone(),
            role: db::parse_enum(&row.role)?,
            bar_raiser_certified: row.bar_raiser_certified,
        })
    }
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

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state =
                state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            let claims = state
                .keys
                .verify(&token)
                .ok_or(AppError::Unauthorized("invalid_token"))?;
            let user_id = claims.sub;
            // The token proves identity; the stored row decides whether the
            // account may still act (deactivation takes effect at once).
            let row = state
                .db
                .run(move |conn| Ok(db::users::by_id(conn, &user_id)?))
                .await?;
            match row {
                Some(row) if row.active => AuthUser::from_row(&row),
                _ => Err(AppError::Unauthorized("invalid_token")),
            }
        })
    }
}
