//! Candidates, for recruiters and admins. Deleting one erases its personal
//! data and keeps the loops, feedback and audit chains.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pagination::{Page, PageRequest};
use super::preconditions::{self, IfMatch};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, audit::ORG_CHAIN, catalog::CandidateChanges, models::CandidateRow};
use crate::domain::Violation;
use crate::domain::accounts::{email_problem, text_problem};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::webhooks::{self, EventType};

/// What an erased candidate's name reads as.
pub const ERASED_NAME: &str = "Erased candidate";
const NAME_MAX: usize = 200;
const PHONE_MAX: usize = 50;
const LINKS_MAX: usize = 20;
const LINK_MAX: usize = 2000;
const NOTES_MAX: usize = 20_000;

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
            id: db::uuid(&r.id),
            name: r.name,
            email: r.email,
            phone: r.phone,
            links: serde_json::from_str(&r.links).unwrap_or_default(),
            notes: r.notes,
            erased: r.erased_at.is_some(),
            erased_at: r.erased_at.map(db::from_db),
            created_by: db::uuid(&r.created_by),
            created_at: db::from_db(r.created_at),
            updated_at: db::from_db(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCandidate {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    #[serde(default)]
    pub links: Vec<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCandidate {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub links: Option<Vec<String>>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn bounded(field: &str, value: &Option<String>, max: usize) -> Option<Violation> {
    value.as_deref().and_then(|v| {
        if v.chars().count() > max {
            Some(Violation::new(
                "too_long",
                field,
                format!("at most {max} characters"),
            ))
        } else if v.contains('\0') {
            Some(Violation::new(
                "invalid_characters",
                field,
                "must not contain NUL",
            ))
        } else {
            None
        }
    })
}

fn links_problems(links: &[String]) -> Vec<Violation> {
    let mut v = Vec::new();
    if links.len() > LINKS_MAX {
        v.push(Violation::new(
            "too_many",
            "links",
            format!("at most {LINKS_MAX} links"),
        ));
    }
    for (n, l) in links.iter().enumerate() {
        if l.trim().is_empty() || l.chars().count() > LINK_MAX || l.contains('\0') {
            v.push(Violation::new(
                "invalid_link",
                format!("links[{n}]"),
                format!("1 to {LINK_MAX} characters"),
            ));
        }
    }
    v
}

fn fail_on(violations: Vec<Option<Violation>>, more: Vec<Violation>) -> AppResult<()> {
    let errors: Vec<FieldError> = violations
        .into_iter()
        .flatten()
        .chain(more)
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

/// Record a candidate.
#[utoipa::path(
    tag = "candidates",
    operation_id = "create_candidate",
    request_body = CreateCandidate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Candidate),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A candidate with this email exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/candidates")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateCandidate>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let req = body.into_inner();
    fail_on(
        vec![
            text_problem("name", &req.name, NAME_MAX),
            email_problem("email", req.email.trim()),
            bounded("phone", &req.phone, PHONE_MAX),
            bounded("notes", &req.notes, NOTES_MAX),
        ],
        links_problems(&req.links),
    )?;
    let row = state
        .db
        .write(move |conn| {
            let at = db::to_db(db::now());
            let row = CandidateRow {
                id: Uuid::new_v4().to_string(),
                name: req.name.trim().to_string(),
                email: Some(req.email.trim().to_string()),
                email_lower: Some(req.email.trim().to_lowercase()),
                phone: req.phone.clone(),
                links: serde_json::to_string(&req.links).map_err(anyhow::Error::from)?,
                notes: req.notes.clone(),
                erased_at: None,
                erased_by: None,
                created_by: me.id.to_string(),
                created_at: at,
                updated_at: at,
            };
            db::catalog::insert_candidate(conn, &row).map_err(duplicate)?;
            // Audit payloads never hold personal data: erasure must not have
            // to rewrite the hash chain.
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "candidate.created",
                Some(&row.id),
                &serde_json::json!({}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(Candidate::from(row)))
}

/// List candidates, newest first.
#[utoipa::path(
    tag = "candidates",
    operation_id = "list_candidates",
    params(CandidateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Candidate>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/candidates")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<CandidateQuery>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| {
            Ok(db::catalog::candidate_page(
                conn,
                p.after.clone(),
                p.fetch(),
            )?)
        })
        .await?;
    let page: Page<Candidate> = Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id.clone()),
        Candidate::from,
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Read a candidate.
#[utoipa::path(
    tag = "candidates",
    operation_id = "get_candidate",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Candidate),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/candidates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let id = id.into_inner().to_string();
    let row = state
        .db
        .run(move |conn| db::catalog::candidate(conn, &id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(preconditions::ok(row.updated_at).json(Candidate::from(row)))
}

/// Correct a candidate's details (not once erased).
#[utoipa::path(
    tag = "candidates",
    operation_id = "update_candidate",
    params(("id" = Uuid, Path)),
    request_body = UpdateCandidate,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Candidate),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Erased, or email taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/candidates/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateCandidate>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let req = body.into_inner();
    fail_on(
        vec![
            req.name
                .as_deref()
                .and_then(|n| text_problem("name", n, NAME_MAX)),
            req.email
                .as_deref()
                .and_then(|e| email_problem("email", e.trim())),
            bounded("phone", &req.phone, PHONE_MAX),
            bounded("notes", &req.notes, NOTES_MAX),
        ],
        req.links.as_deref().map(links_problems).unwrap_or_default(),
    )?;
    let id = id.into_inner().to_string();
    let row = state
        .db
        .write(move |conn| {
            let existing = db::catalog::candidate(conn, &id)?.ok_or(AppError::NotFound)?;
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
                links: match &req.links {
                    Some(l) => Some(serde_json::to_string(l).map_err(anyhow::Error::from)?),
                    None => None,
                },
                notes: req.notes.clone().map(Some),
                updated_at: Some(db::to_db(db::now())),
                ..Default::default()
            };
            let row = db::catalog::update_candidate(conn, &id, &changes).map_err(duplicate)?;
            let changed: Vec<&str> = [
                ("name", req.name.is_some()),
                ("email", req.email.is_some()),
                ("phone", req.phone.is_some()),
                ("links", req.links.is_some()),
                ("notes", req.notes.is_some()),
            ]
            .into_iter()
            .filter_map(|(f, c)| c.then_some(f))
            .collect();
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "candidate.updated",
                Some(&id),
                &serde_json::json!({"fields": changed}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(preconditions::ok(row.updated_at).json(Candidate::from(row)))
}

/// Erase a candidate's personal data.
///
/// Name, email, phone, links and notes are replaced by a tombstone (also in
/// queued and sent notification copies); loops, feedback and audit chains
/// stay. Erasing twice is harmless.
#[utoipa::path(
    tag = "candidates",
    operation_id = "erase_candidate",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The erased record", body = Candidate),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/candidates/{id}")]
pub async fn erase(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let id = id.into_inner().to_string();
    let row = state
        .db
        .write(move |conn| {
            let existing = db::catalog::candidate(conn, &id)?.ok_or(AppError::NotFound)?;
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
                erased_by: Some(Some(me.id.to_string())),
                updated_at: Some(at),
            };
            let row = db::catalog::update_candidate(conn, &id, &changes)?;
            db::outbox::redact_candidate(conn, &id, &existing.name, ERASED_NAME)?;
            db::idempotency::forget_mentions(conn, &id)?;
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "candidate.erased",
                Some(&id),
                &serde_json::json!({}),
            )?;
            webhooks::emit(
                conn,
                EventType::CandidateErased,
                serde_json::json!({"candidate_id": id}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(preconditions::ok(row.updated_at).json(Candidate::from(row)))
}
