//! The competency catalogue: everyone reads it, admins curate it. Retired
//! competencies stay on old loops and cannot be put on new ones.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, audit::ORG_CHAIN, catalog::CompetencyChanges, models::CompetencyRow};
use crate::domain::accounts::text_problem;
use crate::error::{AppError, AppResult, FieldError, Problem};

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;

#[derive(Debug, Serialize, ToSchema)]
pub struct Competency {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub retired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CompetencyRow> for Competency {
    fn from(r: CompetencyRow) -> Self {
        Competency {
            id: db::uuid(&r.id),
            name: r.name,
            description: r.description,
            retired: r.retired,
            created_at: db::from_db(r.created_at),
            updated_at: db::from_db(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompetency {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompetency {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `true` retires it: it stays on existing loops, cannot be added to new ones.
    pub retired: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompetencyQuery {
    /// Include retired competencies (default false).
    pub include_retired: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetencyList {
    pub items: Vec<Competency>,
}

fn taken(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => {
            AppError::conflict("name_taken", "a competency with this name exists")
        }
        other => other,
    }
}

/// The catalogue, by name.
#[utoipa::path(
    tag = "competencies",
    operation_id = "list_competencies",
    params(CompetencyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CompetencyList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/competencies")]
pub async fn list(
    state: web::Data<AppState>,
    _me: AuthUser,
    q: web::Query<CompetencyQuery>,
) -> AppResult<HttpResponse> {
    let include = q.include_retired.unwrap_or(false);
    let rows = state
        .db
        .run(move |conn| Ok(db::catalog::competencies(conn, include)?))
        .await?;
    Ok(HttpResponse::Ok().json(CompetencyList {
        items: rows.into_iter().map(Competency::from).collect(),
    }))
}

/// Add a competency (admins).
#[utoipa::path(
    tag = "competencies",
    operation_id = "create_competency",
    request_body = CreateCompetency,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Competency),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/competencies")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateCompetency>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let req = body.into_inner();
    let errors: Vec<FieldError> = [
        text_problem("name", &req.name, NAME_MAX),
        text_problem("description", &req.description, DESCRIPTION_MAX),
    ]
    .into_iter()
    .flatten()
    .map(FieldError::from)
    .collect();
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let row = state
        .db
        .write(move |conn| {
            let at = db::to_db(db::now());
            let row = CompetencyRow {
                id: Uuid::new_v4().to_string(),
                name: req.name.trim().to_string(),
                description: req.description.trim().to_string(),
                retired: false,
                created_at: at,
                updated_at: at,
            };
            db::catalog::insert_competency(conn, &row).map_err(taken)?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "competency.created",
                Some(&row.id),
                &serde_json::json!({"name": row.name}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(Competency::from(row)))
}

/// Rename, describe, retire or restore a competency (admins).
#[utoipa::path(
    tag = "competencies",
    operation_id = "update_competency",
    params(("id" = Uuid, Path)),
    request_body = UpdateCompetency,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Competency),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/competencies/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: super::preconditions::IfMatch,
    body: web::Json<UpdateCompetency>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let req = body.into_inner();
    let errors: Vec<FieldError> = [
        req.name
            .as_deref()
            .and_then(|n| text_problem("name", n, NAME_MAX)),
        req.description
            .as_deref()
            .and_then(|d| text_problem("description", d, DESCRIPTION_MAX)),
    ]
    .into_iter()
    .flatten()
    .map(FieldError::from)
    .collect();
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let id = id.into_inner().to_string();
    let row = state
        .db
        .write(move |conn| {
            let current = db::catalog::competency(conn, &id)?.ok_or(AppError::NotFound)?;
            if_match.check(current.updated_at)?;
            let changes = CompetencyChanges {
                name: req.name.as_ref().map(|n| n.trim().to_string()),
                description: req.description.as_ref().map(|d| d.trim().to_string()),
                retired: req.retired,
                updated_at: Some(db::to_db(db::now())),
            };
            let row = db::catalog::update_competency(conn, &id, &changes).map_err(taken)?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "competency.updated",
                Some(&id),
                &serde_json::json!({"name": req.name, "description_changed": req.description.is_some(), "retired": req.retired}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(super::preconditions::ok(row.updated_at).json(Competency::from(row)))
}
