//! The competency catalogue: everyone reads it, admins curate it. Retired
//! competencies stay on old loops and cannot be put on new ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::preconditions::{IfMatch, Tagged};
use super::{Actor, AppState};
use crate::db::{self, CompetencyId, catalog::CompetencyChanges, models::CompetencyRow};
use crate::domain::competencies as rules;
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, catalog::CatalogEvent};

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
            id: r.id.into(),
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
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompetency {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
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

fn check(name: Option<&str>, description: Option<&str>) -> AppResult<()> {
    let errors: Vec<FieldError> = rules::problems(name, description)
        .into_iter()
        .map(FieldError::from)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn taken(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => {
            AppError::conflict("name_taken", "a competency with this name exists")
        }
        other => other,
    }
}

/// The catalogue, by name; retired ones only when asked.
pub async fn list(state: &AppState, _me: &Actor, q: CompetencyQuery) -> AppResult<CompetencyList> {
    let include = q.include_retired.unwrap_or(false);
    let rows = state
        .db
        .run(move |conn| Ok(db::catalog::competencies(conn, include)?))
        .await?;
    Ok(CompetencyList {
        items: rows.into_iter().map(Competency::from).collect(),
    })
}

/// One competency, retired or not (anyone signed in). Tagged for
/// `If-Match` on a later change.
pub async fn get(state: &AppState, _me: &Actor, id: Uuid) -> AppResult<Tagged<Competency>> {
    let key = CompetencyId::from(id);
    let row = state
        .db
        .read(move |conn| db::catalog::competency(conn, key)?.ok_or(AppError::NotFound))
        .await?;
    Ok(Tagged::at(row.updated_at, Competency::from(row)))
}

/// Adds a competency (admins).
pub async fn create(state: &AppState, me: &Actor, req: CreateCompetency) -> AppResult<Competency> {
    me.require_admin()?;
    check(Some(&req.name), Some(&req.description))?;
    let by = me.by(state);
    let row = state
        .db
        .write(move |conn| {
            let at = db::to_db(db::now());
            let row = CompetencyRow {
                id: CompetencyId::random(),
                name: req.name.trim().to_string(),
                description: req.description.trim().to_string(),
                retired: false,
                created_at: at,
                updated_at: at,
            };
            db::catalog::insert_competency(conn, &row).map_err(taken)?;
            let event = CatalogEvent::CompetencyCreated {
                competency: row.id.into(),
                name: row.name.clone(),
            };
            events::record(conn, &by, event)?;
            Ok(row)
        })
        .await?;
    Ok(Competency::from(row))
}

/// Renames, describes, retires or restores a competency (admins).
pub async fn update(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
    req: UpdateCompetency,
) -> AppResult<Tagged<Competency>> {
    me.require_admin()?;
    check(req.name.as_deref(), req.description.as_deref())?;
    let by = me.by(state);
    let key = CompetencyId::from(id);
    let row = state
        .db
        .write(move |conn| {
            let current = db::catalog::competency(conn, key)?.ok_or(AppError::NotFound)?;
            if_match.check(current.updated_at)?;
            let changes = CompetencyChanges {
                name: req.name.as_ref().map(|n| n.trim().to_string()),
                description: req.description.as_ref().map(|d| d.trim().to_string()),
                retired: req.retired,
                updated_at: Some(db::to_db(db::now())),
            };
            let row = db::catalog::update_competency(conn, key, &changes).map_err(taken)?;
            // The recorded name is the one asked for, untrimmed, as before.
            let event = CatalogEvent::CompetencyUpdated {
                competency: id,
                name: req.name,
                description_changed: req.description.is_some(),
                retired: req.retired,
            };
            events::record(conn, &by, event)?;
            Ok(row)
        })
        .await?;
    Ok(Tagged::at(row.updated_at, Competency::from(row)))
}
