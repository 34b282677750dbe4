//! Service tokens for HR tooling: admins mint them with scopes; the secret
//! is shown once and stored hashed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::pagination::{Page, PageQuery, PageRequest};
use super::{Actor, AppState};
use crate::auth::{SERVICE_TOKEN_PREFIX, tokens};
use crate::db::{self, tokens::ApiTokenRow};
use crate::domain::accounts;
use crate::domain::scopes::Scope;
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, accounts::AccountEvent};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "ATS sync".
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// When it stops working; never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new token with its secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id.into(),
            name: r.name,
            // Leniently: a scope this version no longer knows is not shown
            // (and grants nothing).
            scopes: r
                .scopes
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
            created_by: r.created_by.into(),
            created_at: db::from_db(r.created_at),
            expires_at: r.expires_at.map(db::from_db),
            revoked_at: r.revoked_at.map(db::from_db),
            last_used_at: r.last_used_at.map(db::from_db),
        }
    }
}

/// Mints a service token (admins, signed in as themselves).
pub async fn create(state: &AppState, me: &Actor, req: CreateToken) -> AppResult<CreatedToken> {
    me.require_admin()?;
    // These answers have never carried a code; the API keeps them so.
    let errors: Vec<FieldError> =
        accounts::token_problems(&req.name, req.scopes.len(), req.expires_at, Utc::now())
            .into_iter()
            .map(|v| match v.field.as_str() {
                "name" => FieldError::from(v),
                _ => FieldError::new(v.field, v.message),
            })
            .collect();
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let secret = format!("{SERVICE_TOKEN_PREFIX}{}", tokens::random_token());
    let mut scopes = req.scopes;
    scopes.sort();
    scopes.dedup();
    let id = Uuid::new_v4();
    let row = ApiTokenRow {
        id: id.into(),
        name: req.name.trim().to_string(),
        token_hash: tokens::token_hash(&secret),
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_by: me.id,
        created_at: db::to_db(db::now()),
        expires_at: req.expires_at.map(db::to_db),
        revoked_at: None,
        last_used_at: None,
    };
    let stored = row.clone();
    let by = me.by(state);
    state
        .db
        .write(move |conn| {
            db::tokens::insert(conn, &stored)?;
            let event = AccountEvent::TokenCreated {
                token: id,
                name: stored.name,
                scopes: stored.scopes,
            };
            events::record(conn, &by, event)
        })
        .await?;
    Ok(CreatedToken {
        token: row.into(),
        secret,
    })
}

/// Service tokens, newest first, with when each was last used.
pub async fn list(state: &AppState, me: &Actor, q: PageQuery) -> AppResult<Page<ApiToken>> {
    me.require_admin()?;
    let page = PageRequest::try_from(&q)?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::tokens::page(conn, p.after(), p.fetch())?))
        .await?;
    Ok(Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id),
        ApiToken::from,
    ))
}

/// One service token (admins); its secret is never shown again.
pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<ApiToken> {
    me.require_admin()?;
    let key = id.into();
    let row = state
        .db
        .read(move |conn| db::tokens::by_id(conn, key)?.ok_or(AppError::NotFound))
        .await?;
    Ok(ApiToken::from(row))
}

/// Revokes a service token: it stops working at once.
pub async fn revoke(state: &AppState, me: &Actor, id: Uuid) -> AppResult<()> {
    me.require_admin()?;
    let by = me.by(state);
    let key = id.into();
    state
        .db
        .write(move |conn| {
            db::tokens::by_id(conn, key)?.ok_or(AppError::NotFound)?;
            db::tokens::revoke(conn, key, db::to_db(db::now()))?;
            events::record(conn, &by, AccountEvent::TokenRevoked { token: id })
        })
        .await
}
