//! Service tokens for HR tooling: admins mint them with scopes; the secret
//! is shown once and stored hashed.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::idempotency::ReplayPolicy;
use crate::app::AppState;
use crate::auth::{AuthUser, SERVICE_TOKEN_PREFIX, tokens};
use crate::db::{self, audit::ORG_CHAIN, tokens::ApiTokenRow};
use crate::domain::accounts::text_problem;
use crate::domain::scopes::Scope;
use crate::error::{AppError, AppResult, FieldError, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "ATS sync".
    pub name: String,
    /// At least one.
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

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiToken>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: db::uuid(&r.id),
            name: r.name,
            scopes: r
                .scopes
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
            created_by: db::uuid(&r.created_by),
            created_at: db::from_db(r.created_at),
            expires_at: r.expires_at.map(db::from_db),
            revoked_at: r.revoked_at.map(db::from_db),
            last_used_at: r.last_used_at.map(db::from_db),
        }
    }
}

/// Mint a service token (admins, signed in as themselves).
#[utoipa::path(
    tag = "tokens",
    operation_id = "create_token",
    request_body = CreateToken,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_in_progress`: the same request is still running; or a later retry with its `Idempotency-Key`: `secret_not_replayable`, naming the token created first (its secret is never shown again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateToken>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let req = body.into_inner();
    let mut errors: Vec<FieldError> = text_problem("name", &req.name, 200)
        .into_iter()
        .map(FieldError::from)
        .collect();
    if req.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "grant at least one scope"));
    }
    if req.expires_at.is_some_and(|e| e <= Utc::now()) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let secret = format!("{SERVICE_TOKEN_PREFIX}{}", tokens::random_token());
    let mut scopes = req.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let row = ApiTokenRow {
        id: Uuid::new_v4().to_string(),
        name: req.name.trim().to_string(),
        token_hash: tokens::token_hash(&secret),
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_by: me.id.to_string(),
        created_at: db::to_db(db::now()),
        expires_at: req.expires_at.map(db::to_db),
        revoked_at: None,
        last_used_at: None,
    };
    let stored = row.clone();
    state
        .db
        .write(move |conn| {
            db::tokens::insert(conn, &stored)?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "token.created",
                Some(&stored.id),
                &serde_json::json!({"name": stored.name, "scopes": stored.scopes}),
            )
        })
        .await?;
    // The secret is shown once: a retry with the same Idempotency-Key gets
    // a 409 naming the token, never the secret again.
    let policy = ReplayPolicy::secret(&row.id);
    Ok(policy.mark(HttpResponse::Created().json(CreatedToken {
        token: row.into(),
        secret,
    })))
}

/// List service tokens, newest first, with when each was last used.
#[utoipa::path(
    tag = "tokens",
    operation_id = "list_tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TokenList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tokens")]
pub async fn list(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let rows = state.db.run(|conn| Ok(db::tokens::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(TokenList {
        items: rows.into_iter().map(ApiToken::from).collect(),
    }))
}

/// Revoke a service token: it stops working at once.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revoke_token",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            db::tokens::by_id(conn, &id)?.ok_or(AppError::NotFound)?;
            db::tokens::revoke(conn, &id, db::to_db(db::now()))?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "token.revoked",
                Some(&id),
                &serde_json::json!({}),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
