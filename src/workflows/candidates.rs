//! Candidates, for recruiters and admins. Erasing one removes its personal
//! data everywhere it is kept (the record, queued and sent mail, stored
//! replays) and keeps the loops, feedback and audit chains.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pagination::{Page, PageRequest};
use super::preconditions::{IfMatch, Tagged};
use super::{Actor, AppState};
use crate::db::{self, CandidateId, catalog::CandidateChanges, models::CandidateRow};
use crate::domain::candidates::{self as rules, ERASED_NAME, Fields};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, catalog::CatalogEvent};

#[derive(Debug, Serialize, ToSchema)]
pub struct Candidate {
    pub id: Uuid,
    /// `Erased candidate` once erased.
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub links: Vec<String>,
    pub notes: Option<String>,
    pub erased: bool,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CandidateRow> for Candidate {
    fn from(r: CandidateRow) -> Self {
        Candidate {
            id: r.id.into(),
            name: r.name,
            email: r.email,
            phone: r.phone,
            links: serde_json::from_str(&r.links).unwrap_or_default(),
            notes: r.notes,
            erased: r.erased_at.is_some(),
            erased_at: r.erased_at.map(db::from_db),
            created_by: r.created_by.into(),
            created_at: db::from_db(r.created_at),
            updated_at: db::from_db(r.updated_at),
        }
    }
}

fn tagged(row: CandidateRow) -> Tagged<Candidate> {
    Tagged::at(row.updated_at, Candidate::from(row))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCandidate {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    #[schema(max_length = 254, format = IdnEmail)]
    pub email: String,
    #[schema(max_length = 50, pattern = r"^[^\u0000]*$")]
    pub phone: Option<String>,
    /// Profiles and portfolios, at most 20, each 1 to 2000 characters.
    #[serde(default)]
    #[schema(max_items = 20, inline, value_type = Vec<CandidateLink>)]
    pub links: Vec<String>,
    #[schema(max_length = 20000, pattern = r"^[^\u0000]*$")]
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCandidate {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    #[schema(max_length = 254, format = IdnEmail)]
    pub email: Option<String>,
    #[schema(max_length = 50, pattern = r"^[^\u0000]*$")]
    pub phone: Option<String>,
    /// Replaces the list: at most 20, each 1 to 2000 characters.
    #[schema(max_items = 20, inline, value_type = Option<Vec<CandidateLink>>)]
    pub links: Option<Vec<String>>,
    #[schema(max_length = 20000, pattern = r"^[^\u0000]*$")]
    pub notes: Option<String>,
}

/// One of a candidate's links, as the schema states it (the field is a
/// plain `String`; `domain::candidates` holds the rule).
#[derive(ToSchema)]
#[schema(
    min_length = 1,
    max_length = 2000,
    pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
)]
#[allow(dead_code)]
pub struct CandidateLink(String);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn check(fields: Fields<'_>) -> AppResult<()> {
    let errors: Vec<FieldError> = rules::problems(fields)
        .into_iter()
        .map(FieldError::from)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn duplicate(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => {
            AppError::conflict("candidate_exists", "a candidate with this email exists")
        }
        other => other,
    }
}

fn links_json(links: &[String]) -> AppResult<String> {
    Ok(serde_json::to_string(links).map_err(anyhow::Error::from)?)
}

pub async fn create(state: &AppState, me: &Actor, req: CreateCandidate) -> AppResult<Candidate> {
    me.require_recruiter_or_admin()?;
    check(Fields {
        name: Some(&req.name),
        email: Some(&req.email),
        phone: req.phone.as_deref(),
        links: Some(&req.links),
        notes: req.notes.as_deref(),
    })?;
    let (by, me) = (me.by(state), me.id);
    let row = state
        .db
        .write(move |conn| {
            let at = db::to_db(db::now());
            let row = CandidateRow {
                id: CandidateId::random(),
                name: req.name.trim().to_string(),
                email: Some(req.email.trim().to_string()),
                email_lower: Some(req.email.trim().to_lowercase()),
                phone: req.phone.clone(),
                links: links_json(&req.links)?,
                notes: req.notes.clone(),
                erased_at: None,
                erased_by: None,
                created_by: me,
                created_at: at,
                updated_at: at,
            };
            db::catalog::insert_candidate(conn, &row).map_err(duplicate)?;
            let candidate = row.id.into();
            events::record(conn, &by, CatalogEvent::CandidateCreated { candidate })?;
            Ok(row)
        })
        .await?;
    Ok(Candidate::from(row))
}

/// Candidates, newest first.
pub async fn list(state: &AppState, me: &Actor, q: CandidateQuery) -> AppResult<Page<Candidate>> {
    me.require_recruiter_or_admin()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::catalog::candidate_page(conn, p.after(), p.fetch())?))
        .await?;
    Ok(Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id),
        Candidate::from,
    ))
}

pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<Tagged<Candidate>> {
    me.require_recruiter_or_admin()?;
    let id = CandidateId::from(id);
    let row = state
        .db
        .run(move |conn| db::catalog::candidate(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(tagged(row))
}

/// Corrects a candidate's details (not once erased).
pub async fn update(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
    req: UpdateCandidate,
) -> AppResult<Tagged<Candidate>> {
    me.require_recruiter_or_admin()?;
    check(Fields {
        name: req.name.as_deref(),
        email: req.email.as_deref(),
        phone: req.phone.as_deref(),
        links: req.links.as_deref(),
        notes: req.notes.as_deref(),
    })?;
    let by = me.by(state);
    let key = CandidateId::from(id);
    let row = state
        .db
        .write(move |conn| {
            let existing = db::catalog::candidate(conn, key)?.ok_or(AppError::NotFound)?;
            if_match.check(existing.updated_at)?;
            if existing.erased_at.is_some() {
                return Err(AppError::conflict(
                    "candidate_erased",
                    "an erased candidate cannot be edited",
                ));
            }
            let changes = CandidateChanges {
                name: req.name.as_ref().map(|n| n.trim().to_string()),
                email: req.email.as_ref().map(|e| Some(e.trim().to_string())),
                email_lower: req.email.as_ref().map(|e| Some(e.trim().to_lowercase())),
                phone: req.phone.clone().map(Some),
                links: req.links.as_deref().map(links_json).transpose()?,
                notes: req.notes.clone().map(Some),
                updated_at: Some(db::to_db(db::now())),
                ..Default::default()
            };
            let row = db::catalog::update_candidate(conn, key, &changes).map_err(duplicate)?;
            let fields = [
                ("name", req.name.is_some()),
                ("email", req.email.is_some()),
                ("phone", req.phone.is_some()),
                ("links", req.links.is_some()),
                ("notes", req.notes.is_some()),
            ]
            .into_iter()
            .filter_map(|(f, c)| c.then_some(f))
            .collect();
            events::record(
                conn,
                &by,
                CatalogEvent::CandidateUpdated {
                    candidate: id,
                    fields,
                },
            )?;
            Ok(row)
        })
        .await?;
    Ok(tagged(row))
}

/// Erases a candidate's personal data: name, email, phone, links and notes
/// become a tombstone, also in queued and sent mail and stored replays.
/// Erasing twice is harmless.
pub async fn erase(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
) -> AppResult<Tagged<Candidate>> {
    me.require_recruiter_or_admin()?;
    let (by, me) = (me.by(state), me.id);
    let key = CandidateId::from(id);
    let row = state
        .db
        .write(move |conn| {
            let existing = db::catalog::candidate(conn, key)?.ok_or(AppError::NotFound)?;
            if_match.check(existing.updated_at)?;
            if existing.erased_at.is_some() {
                return Ok(existing);
            }
            let at = db::to_db(db::now());
            let changes = CandidateChanges {
                name: Some(ERASED_NAME.into()),
                email: Some(None),
                email_lower: Some(None),
                phone: Some(None),
                links: Some("[]".into()),
                notes: Some(None),
                erased_at: Some(Some(at)),
                erased_by: Some(Some(me)),
                updated_at: Some(at),
            };
            let row = db::catalog::update_candidate(conn, key, &changes)?;
            db::outbox::redact_candidate(conn, &id.to_string(), &existing.name, ERASED_NAME)?;
            db::idempotency::forget_mentions(conn, &id.to_string())?;
            events::record(conn, &by, CatalogEvent::CandidateErased { candidate: id })?;
            Ok(row)
        })
        .await?;
    Ok(tagged(row))
}
