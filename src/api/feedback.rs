//! Structured feedback: drafting, sealing, addenda, reads under the
//! independence rules, break-glass and excusing. Every read decision comes
//! from `domain::visibility`; nothing here decides who may read.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::loops::LoopBundle;
use crate::db::models::{AddendumRow, FeedbackRow, InterviewRow, RatingRow, ReadRow};
use crate::db::{self, DbConn, loops::InterviewChanges};
use crate::domain::feedback::{self as rules, Content, RatingEntry};
use crate::domain::{
    FeedbackState, InterviewRole, LoopState, Rating, ReadVia, Refusal, StoredFeedbackState, Vote,
    lifecycle, visibility,
};
use crate::domain::{progress, proof};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::webhooks::{self, EventType};
use crate::notify::{self, Notice};
use crate::workflows::views::{self, CompetencyRef, Names, Person};

pub const BREAK_GLASS_REASON_MIN: usize = 20;
const REASON_MAX: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub competency_id: Uuid,
    /// 1 (far below the bar) to 4 (raises the bar).
    #[schema(minimum = 1, maximum = 4)]
    pub rating: Option<i64>,
    /// What the candidate said and did; at least 100 characters to seal.
    pub evidence: Option<String>,
}

/// A draft: partial is fine until it is sealed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftFeedback {
    #[serde(default)]
    pub ratings: Vec<RatingInput>,
    pub vote: Option<Vote>,
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumInput {
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    pub competency: CompetencyRef,
    pub rating: Option<i32>,
    pub evidence: Option<String>,
}

/// A correction written after sealing; the sealed text never changes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Addendum {
    pub id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// One interview's feedback with its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feedback {
    pub id: Uuid,
    pub interview_id: Uuid,
    pub loop_id: Uuid,
    pub author: Person,
    pub loop_role: InterviewRole,
    pub state: StoredFeedbackState,
    pub ratings: Vec<RatingView>,
    pub vote: Option<Vote>,
    pub summary: Option<String>,
    /// Increases with every saved change to the draft.
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
    /// SHA-256 of the canonical JSON of the sealed content: the receipt.
    pub content_sha256: Option<String>,
    /// Written after the seal, oldest first.
    pub addenda: Vec<Addendum>,
}

/// One interview in the loop listing: status always, content only where
/// the independence rules allow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackEntry {
    pub interview_id: Uuid,
    pub interviewer: Person,
    pub loop_role: InterviewRole,
    pub feedback_state: FeedbackState,
    pub sealed_at: Option<DateTime<Utc>>,
    /// Present when the caller may read it.
    pub feedback: Option<Feedback>,
    /// Why the content is withheld (`seal_own_feedback_first`, …).
    pub withheld: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoopFeedback {
    pub loop_id: Uuid,
    pub state: LoopState,
    pub items: Vec<FeedbackEntry>,
}

fn etag(row: &FeedbackRow) -> String {
    format!("\"r{}\"", row.revision)
}

fn with_etag(row: &FeedbackRow, body: &Feedback) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row)))
        .json(body)
}

/// Builds feedback views for `rows`, loading their ratings and addenda in
/// two queries.
pub fn feedback_views(
    conn: &mut DbConn,
    b: &LoopBundle,
    names: &Names,
    rows: &[&FeedbackRow],
) -> AppResult<HashMap<String, Feedback>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut ratings = db::feedback::loop_ratings(conn, &b.row.id, &ids)?;
    if rows.iter().any(|r| r.sealed_at.is_some()) {
        let recorded = db::audit::seal_receipts(conn, &[b.row.id.as_str()])?;
        for row in rows.iter().filter(|r| r.sealed_at.is_some()) {
            let rs = ratings.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            check_receipt(row, rs, recorded.get(&row.id))?;
        }
    }
    let mut addenda = db::feedback::loop_addenda(conn, &b.row.id, &ids)?;
    let mut out = HashMap::new();
    for row in rows {
        let interview = b.interview(&row.interview_id).ok_or(AppError::NotFound)?;
        let order = b.competencies_of(&row.interview_id);
        let mut rs = ratings.remove(&row.id).unwrap_or_default();
        rs.sort_by_key(|r| {
            order
                .iter()
                .position(|c| *c == r.competency_id)
                .unwrap_or(usize::MAX)
        });
        out.insert(
            row.interview_id.clone(),
            Feedback {
                id: db::uuid(&row.id),
                interview_id: db::uuid(&row.interview_id),
                loop_id: db::uuid(&row.loop_id),
                author: names.person(&row.author_id),
                loop_role: db::parse_enum(&interview.loop_role)?,
                state: db::parse_enum(&row.state)?,
                ratings: rs
                    .into_iter()
                    .map(|r| RatingView {
                        competency: names.competency(&r.competency_id),
                        rating: r.rating,
                        evidence: r.evidence,
                    })
                    .collect(),
                vote: row.vote.as_deref().map(db::parse_enum).transpose()?,
                summary: row.summary.clone(),
                revision: row.revision,
                updated_at: db::from_db(row.updated_at),
                sealed_at: row.sealed_at.map(db::from_db),
                content_sha256: row.content_sha256.clone(),
                addenda: addenda
                    .remove(&row.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| Addendum {
                        id: db::uuid(&a.id),
                        text: a.text,
                        created_at: db::from_db(a.created_at),
                    })
                    .collect(),
            },
        );
    }
    Ok(out)
}

fn one_view(conn: &mut DbConn, b: &LoopBundle, row: &FeedbackRow) -> AppResult<Feedback> {
    let names = Names::load(conn, b)?;
    feedback_views(conn, b, &names, &[row])?
        .remove(&row.interview_id)
        .ok_or(AppError::NotFound)
}

/// A sealed feedback row and its ratings as the proof sees them.
pub fn sealed_facts(row: &FeedbackRow, ratings: &[RatingRow]) -> AppResult<proof::SealedFeedback> {
    Ok(proof::SealedFeedback {
        id: db::parse_uuid(&row.id)?,
        interview_id: db::parse_uuid(&row.interview_id)?,
        author: db::parse_uuid(&row.author_id)?,
        content: Content {
            ratings: ratings
                .iter()
                .map(|r| {
                    Ok(RatingEntry {
                        competency_id: db::parse_uuid(&r.competency_id)?,
                        rating: r.rating.and_then(|v| Rating::new(i64::from(v))),
                        evidence: r.evidence.clone(),
                    })
                })
                .collect::<AppResult<_>>()?,
            vote: row.vote.as_deref().map(db::parse_enum).transpose()?,
            summary: row.summary.clone(),
        },
        sealed_at: db::from_db(row.sealed_at.unwrap_or(row.updated_at)),
        content_sha256: row.content_sha256.clone().unwrap_or_default(),
        salt: row.receipt_salt.clone(),
    })
}

/// Rule 8 at read time: sealed content is served only while the rows still
/// match the receipt its seal recorded in the audit chain; otherwise the
/// read is refused (409 `feedback_integrity_failed`), never served as sealed.
pub fn check_receipt(
    row: &FeedbackRow,
    ratings: &[RatingRow],
    recorded: Option<&String>,
) -> AppResult<()> {
    let facts = sealed_facts(row, ratings)?;
    let now = facts.recomputed();
    if recorded == Some(&now) && facts.content_sha256 == now {
        return Ok(());
    }
    tracing::error!(
        feedback_id = %row.id,
        loop_id = %row.loop_id,
        "sealed feedback no longer matches its receipt; read refused"
    );
    Err(AppError::conflict(
        "feedback_integrity_failed",
        format!(
            "the stored content of the feedback of interview {} no longer matches the receipt \
             recorded when it was sealed; it is withheld (see GET /api/v1/loops/{}/audit/verify)",
            row.interview_id, row.loop_id
        ),
    ))
}

/// The stored content of a feedback, as the domain sees it.
fn content_of(conn: &mut DbConn, row: &FeedbackRow) -> AppResult<Content> {
    let ratings = db::feedback::ratings(conn, &[row.id.as_str()])?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(Content {
        ratings: ratings
            .into_iter()
            .map(|r| RatingEntry {
                competency_id: db::uuid(&r.competency_id),
                rating: r.rating.and_then(|v| Rating::new(i64::from(v))),
                evidence: r.evidence,
            })
            .collect(),
        vote: row.vote.as_deref().map(db::parse_enum).transpose()?,
        summary: row.summary.clone(),
    })
}

fn stored_state(row: Option<&FeedbackRow>) -> AppResult<Option<StoredFeedbackState>> {
    row.map(|r| db::parse_enum(&r.state)).transpose()
}

/// The interview and its loop (locked when `lock`).
fn interview_and_loop(
    conn: &mut DbConn,
    interview_id: &str,
    lock: bool,
) -> AppResult<(InterviewRow, LoopBundle)> {
    let interview = db::loops::interview(conn, interview_id)?.ok_or(AppError::NotFound)?;
    let b = if lock {
        db::loops::lock_bundle(conn, &interview.loop_id)?
    } else {
        db::loops::bundle(conn, &interview.loop_id)?
    }
    .ok_or(AppError::NotFound)?;
    Ok((interview, b))
}

/// Only the interviewer writes an interview's feedback. Someone who cannot
/// see the loop at all learns nothing, not even that it exists (404).
fn require_author(b: &LoopBundle, interview: &InterviewRow, me: &AuthUser) -> AppResult<()> {
    views::require_visible(b, me)?;
    if interview.interviewer_id == me.id.to_string() {
        Ok(())
    } else {
        Err(AppError::forbidden("not_the_interviewer"))
    }
}

fn debrief_opened(b: &LoopBundle) -> bool {
    b.row.debrief_opened_at.is_some()
}

pub fn log_read(
    conn: &mut DbConn,
    row: &FeedbackRow,
    reader: Uuid,
    via: ReadVia,
    reason: Option<&str>,
) -> AppResult<()> {
    db::feedback::record_read(
        conn,
        &ReadRow {
            id: Uuid::now_v7().to_string(),
            feedback_id: row.id.clone(),
            loop_id: row.loop_id.clone(),
            reader_id: reader.to_string(),
            via: via.as_str().into(),
            reason: reason.map(str::to_string),
            read_at: db::to_db(db::now()),
        },
    )
}

/// After a seal or an excuse: when nothing is outstanding any more, the Bar
/// Raiser and hiring manager hear that the debrief can open (once).
/// `b` is the loop as it stands after the change.
fn announce_if_ready(conn: &mut DbConn, public_url: &str, b: &LoopBundle) -> AppResult<()> {
    let loop_id = &b.row.id;
    let p = progress::loop_progress(views::state_of(b)?, &views::all_facts(b)?);
    if p.ready_for_debrief {
        webhooks::emit(
            conn,
            EventType::LoopReadyForDebrief,
            serde_json::json!({"loop_id": loop_id}),
        )?;
        let names = Names::load(conn, b)?;
        let to: Vec<_> = [&b.row.bar_raiser_id, &b.row.hiring_manager_id]
            .into_iter()
            .filter_map(|id| names.recipient(id))
            .collect();
        notify::enqueue(
            conn,
            public_url,
            &to,
            &names.loop_ref(b),
            &Notice::DebriefReady,
            Some(&format!("debrief_ready:{loop_id}")),
        )?;
    }
    Ok(())
}

/// Parses a draft into domain content; bad ratings are field errors.
fn parse_draft(req: &DraftFeedback) -> Result<Content, AppError> {
    let mut errors = Vec::new();
    let ratings = req
        .ratings
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let rating = match r.rating {
                None => None,
                Some(v) => match Rating::new(v) {
                    Some(rt) => Some(rt),
                    None => {
                        errors.push(FieldError::new(
                            format!("ratings[{n}].rating"),
                            "a rating is 1, 2, 3 or 4",
                        ));
                        None
                    }
                },
            };
            if r.evidence.as_deref().is_some_and(|e| e.contains('\0')) {
                errors.push(FieldError::new(
                    format!("ratings[{n}].evidence"),
                    "must not contain NUL",
                ));
            }
            RatingEntry {
                competency_id: r.competency_id,
                rating,
                evidence: r.evidence.clone(),
            }
        })
        .collect();
    if req.summary.as_deref().is_some_and(|s| s.contains('\0')) {
        errors.push(FieldError::new("summary", "must not contain NUL"));
    }
    if errors.is_empty() {
        Ok(Content {
            ratings,
            vote: req.vote,
            summary: req.summary.clone(),
        })
    } else {
        Err(AppError::validation(errors))
    }
}

/// Read one feedback. Its author always may; others only as the
/// independence rules allow, and every such read is logged.
#[utoipa::path(
    tag = "feedback",
    operation_id = "get_feedback",
    params(("id" = Uuid, Path, description = "Interview id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback, headers(("ETag" = String, description = "Version for If-Match"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`seal_own_feedback_first`, `joined_after_first_seal` (put on the loop after its first seal: content opens at the debrief), `not_a_participant`, `not_until_debrief`, `feedback_not_sealed`, `break_glass_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interview, one of a loop the caller takes no part in, or no feedback written yet (to its author)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_integrity_failed`: the stored content no longer matches the receipt its seal recorded; withheld", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/interviews/{id}/feedback")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let (row, view, via) = state
        .db
        .read(move |conn| {
            let (interview, b) = interview_and_loop(conn, &id, false)?;
            views::require_visible(&b, &me)?;
            let row = b.feedback.get(&id).cloned();
            let reader = views::reader(&b, &me, Some(&interview.interviewer_id));
            let via = visibility::content_access(
                &reader,
                stored_state(row.as_ref())?,
                views::state_of(&b)?,
                debrief_opened(&b),
            )
            .map_err(AppError::forbidden)?;
            let row = row.ok_or(AppError::NotFound)?;
            let view = one_view(conn, &b, &row)?;
            Ok((row, view, via.map(|v| (v, me.id))))
        })
        .await?;
    if let Some((via, reader)) = via {
        let r = row.clone();
        state
            .db
            .write(move |conn| log_read(conn, &r, reader, via, None))
            .await?;
    }
    Ok(with_etag(&row, &view))
}

/// Save a draft (the interviewer only). Replaces the whole draft; saving
/// the same content again changes nothing. Send `If-Match` with the ETag
/// you read to refuse overwriting a newer version (412).
#[utoipa::path(
    tag = "feedback",
    operation_id = "save_feedback_draft",
    params(
        ("id" = Uuid, Path, description = "Interview id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced"),
    ),
    request_body = DraftFeedback,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sealed, frozen by the debrief, or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/interviews/{id}/feedback")]
pub async fn save_draft(
    state: web::Data<AppState>,
    me: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<DraftFeedback>,
) -> AppResult<HttpResponse> {
    let if_match = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let content = parse_draft(&body)?;
    let id = id.into_inner().to_string();
    let interview_id = id.clone();
    let answer = state
        .db
        .write(move |conn| {
            let (interview, b) = interview_and_loop(conn, &id, true)?;
            require_author(&b, &interview, &me)?;
            lifecycle::write_feedback(views::state_of(&b)?)?;
            let existing = b.feedback.get(&id).cloned();
            rules::may_edit(stored_state(existing.as_ref())?)?;
            if let Some(expected) = &if_match {
                let current = existing.as_ref().map(etag);
                if expected.trim() != "*" && current.as_deref() != Some(expected.trim()) {
                    return Err(AppError::PreconditionFailed);
                }
            }
            let assigned: Vec<Uuid> = b.competencies_of(&id).iter().map(|c| db::uuid(c)).collect();
            let problems = rules::draft_problems(&content, &assigned);
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let at = db::to_db(db::now());
            match existing {
                Some(row) if content_of(conn, &row)? == content => {}
                Some(row) => {
                    db::feedback::update_draft(
                        conn,
                        &row.id,
                        content.vote.map(Vote::as_str),
                        content.summary.as_deref(),
                        row.revision + 1,
                        at,
                    )?;
                    db::feedback::replace_ratings(conn, &row.id, &rating_rows(&row.id, &content))?;
                    db::audit::append(
                        conn,
                        &b.row.id,
                        Some(me.id),
                        "feedback.draft_saved",
                        Some(&id),
                        &serde_json::json!({"revision": row.revision + 1}),
                    )?;
                }
                None => {
                    let row = FeedbackRow {
                        id: Uuid::new_v4().to_string(),
                        interview_id: id.clone(),
                        loop_id: b.row.id.clone(),
                        author_id: me.id.to_string(),
                        state: StoredFeedbackState::Draft.as_str().into(),
                        vote: content.vote.map(|v| v.as_str().to_string()),
                        summary: content.summary.clone(),
                        revision: 1,
                        created_at: at,
                        updated_at: at,
                        sealed_at: None,
                        content_sha256: None,
                        receipt_salt: None,
                    };
                    db::feedback::insert(conn, &row)?;
                    db::feedback::replace_ratings(conn, &row.id, &rating_rows(&row.id, &content))?;
                    db::audit::append(
                        conn,
                        &b.row.id,
                        Some(me.id),
                        "feedback.draft_saved",
                        Some(&id),
                        &serde_json::json!({"revision": 1}),
                    )?;
                }
            }
            if db::one_writer_at_a_time(conn) {
                return Ok(None);
            }
            let b = db::loops::bundle(conn, &b.row.id)?.ok_or(AppError::NotFound)?;
            answer_in_transaction(conn, &b, &id)
        })
        .await?;
    match answer {
        Some((row, view)) => Ok(with_etag(&row, &view)),
        None => own_feedback(&state, interview_id).await,
    }
}

/// The author's feedback, rendered inside the write transaction from the
/// loop at hand — where writers to different loops run side by side
/// (PostgreSQL), so it delays no one and saves reading the loop again. On
/// SQLite every writer waits for this one, so there the answer is read after
/// the commit instead ([`own_feedback`]).
fn answer_in_transaction(
    conn: &mut DbConn,
    b: &LoopBundle,
    interview_id: &str,
) -> AppResult<Option<(FeedbackRow, Feedback)>> {
    if db::one_writer_at_a_time(conn) {
        return Ok(None);
    }
    let row = b
        .feedback
        .get(interview_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let view = one_view(conn, b, &row)?;
    Ok(Some((row, view)))
}

/// The author's own feedback as it stands, with its ETag: the answer to a
/// save or a seal, read after the write committed so the render is not
/// done inside the store's one write lock.
async fn own_feedback(state: &AppState, interview_id: String) -> AppResult<HttpResponse> {
    let (row, view) = state
        .db
        .read(move |conn| {
            let (_, b) = interview_and_loop(conn, &interview_id, false)?;
            let row = b
                .feedback
                .get(&interview_id)
                .cloned()
                .ok_or(AppError::NotFound)?;
            let view = one_view(conn, &b, &row)?;
            Ok((row, view))
        })
        .await?;
    Ok(with_etag(&row, &view))
}

fn rating_rows(feedback_id: &str, content: &Content) -> Vec<RatingRow> {
    content
        .ratings
        .iter()
        .map(|r| RatingRow {
            feedback_id: feedback_id.to_string(),
            competency_id: r.competency_id.to_string(),
            rating: r.rating.map(Rating::get),
            evidence: r.evidence.clone(),
        })
        .collect()
}

/// Seal the feedback (the interviewer only): it never changes again. The
/// answer carries `sealed_at` and `content_sha256`, a receipt to keep.
#[utoipa::path(
    tag = "feedback",
    operation_id = "seal_feedback",
    params(("id" = Uuid, Path, description = "Interview id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_sealed`, `interview_not_started`, `feedback_frozen`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Incomplete: every problem listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/feedback/seal")]
pub async fn seal(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let interview_id = id.clone();
    let answer = state
        .db
        .write(move |conn| {
            let (interview, b) = interview_and_loop(conn, &id, true)?;
            require_author(&b, &interview, &me)?;
            lifecycle::write_feedback(views::state_of(&b)?)?;
            let existing = b.feedback.get(&id).cloned();
            let now = db::now();
            rules::may_seal(stored_state(existing.as_ref())?, db::from_db(interview.starts_at), now)?;
            let content = match &existing {
                Some(row) => content_of(conn, row)?,
                None => Content::default(),
            };
            let assigned: Vec<Uuid> = b.competencies_of(&id).iter().map(|c| db::uuid(c)).collect();
            let problems = rules::seal_problems(&content, &assigned);
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let row = existing.ok_or(AppError::NotFound)?;
            let canonical = rules::canonical_json(db::uuid(&id), me.id, &content, now);
            let sha = rules::sha256_hex(&canonical);
            let salt = proof::new_salt();
            let at = db::to_db(now);
            if !db::feedback::seal(conn, &row.id, at, &sha, &salt)? {
                return Err(AppError::conflict("already_sealed", "this feedback is sealed already"));
            }
            db::audit::append(
                conn,
                &b.row.id,
                Some(me.id),
                proof::action::SEALED,
                Some(&id),
                &serde_json::json!({
                    "feedback_id": row.id,
                    "content_sha256": sha,
                    "sealed_at": crate::domain::audit::timestamp(now),
                    "digests": proof::feedback_digests(&salt, &content),
                }),
            )?;
            webhooks::emit(conn, EventType::FeedbackSealed, serde_json::json!({"loop_id": b.row.id, "interview_id": id, "sealed_at": crate::domain::audit::timestamp(now), "content_sha256": sha}))?;
            // The loop is locked: this seal is its only change since loading,
            // so the bundle is brought up to date here rather than reloaded.
            let row = FeedbackRow {
                state: StoredFeedbackState::Sealed.as_str().into(),
                sealed_at: Some(at),
                content_sha256: Some(sha),
                receipt_salt: Some(salt),
                updated_at: at,
                ..row
            };
            let mut b = b;
            b.feedback.insert(id.clone(), row);
            announce_if_ready(conn, &public_url, &b)?;
            answer_in_transaction(conn, &b, &id)
        })
        .await?;
    match answer {
        Some((row, view)) => Ok(with_etag(&row, &view)),
        None => own_feedback(&state, interview_id.clone()).await,
    }
    .map(super::idempotency::reread(format!(
        "/api/v1/interviews/{interview_id}/feedback"
    )))
}

/// Add an addendum to sealed feedback (its author only). Append-only and
/// time-stamped; the sealed content is untouched.
#[utoipa::path(
    tag = "feedback",
    operation_id = "add_feedback_addendum",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = AddendumInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Addendum),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not sealed yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/feedback/addenda")]
pub async fn add_addendum(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddendumInput>,
) -> AppResult<HttpResponse> {
    let text = body.into_inner().text;
    if let Some(v) = crate::domain::accounts::text_problem("text", &text, rules::TEXT_MAX_CHARS) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let id = id.into_inner().to_string();
    let addendum = state
        .db
        .write(move |conn| {
            let (interview, b) = interview_and_loop(conn, &id, true)?;
            require_author(&b, &interview, &me)?;
            let row = b.feedback.get(&id).ok_or_else(|| AppError::conflict("not_sealed", "seal the feedback before adding addenda"))?;
            if stored_state(Some(row))? != Some(StoredFeedbackState::Sealed) {
                return Err(AppError::conflict("not_sealed", "seal the feedback before adding addenda"));
            }
            let addendum_id = Uuid::now_v7();
            let now = db::now();
            let a = AddendumRow {
                id: addendum_id.to_string(),
                feedback_id: row.id.clone(),
                author_id: me.id.to_string(),
                text: text.clone(),
                created_at: db::to_db(now),
            };
            db::feedback::insert_addendum(conn, &a)?;
            // Feedback sealed before receipts were salted keeps the plain digest.
            let receipt = match &row.receipt_salt {
                Some(salt) => serde_json::json!({"receipt": proof::addendum_receipt(salt, addendum_id, &a.text, now)}),
                None => serde_json::json!({"text_sha256": rules::sha256_hex(&a.text)}),
            };
            let mut payload = serde_json::json!({"addendum_id": a.id, "feedback_id": row.id});
            payload.as_object_mut().expect("an object").extend(receipt.as_object().cloned().unwrap_or_default());
            db::audit::append(conn, &b.row.id, Some(me.id), proof::action::ADDENDUM, Some(&id), &payload)?;
            Ok(Addendum { id: db::uuid(&a.id), text: a.text, created_at: db::from_db(a.created_at) })
        })
        .await?;
    Ok(super::idempotency::ReplayPolicy::content(addendum.id)
        .mark(HttpResponse::Created().json(addendum)))
}

/// Admin break-glass read of sealed feedback, with a reason (at least 20
/// characters). Written to the audit chain and the read log; the loop's Bar
/// Raiser is notified.
#[utoipa::path(
    tag = "feedback",
    operation_id = "break_glass_read",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = ReasonInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing sealed to read", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/feedback/break-glass")]
pub async fn break_glass(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ReasonInput>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let reason = body.into_inner().reason.trim().to_string();
    if reason.chars().count() < BREAK_GLASS_REASON_MIN || reason.chars().count() > REASON_MAX {
        return Err(AppError::validation(vec![FieldError::new(
            "reason",
            format!("a break-glass reason has {BREAK_GLASS_REASON_MIN} to {REASON_MAX} characters"),
        )]));
    }
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let (row, view) = state
        .db
        .write(move |conn| {
            let (_, b) = interview_and_loop(conn, &id, true)?;
            let row = b.feedback.get(&id).cloned();
            let via =
                visibility::break_glass(me.role, stored_state(row.as_ref())?).map_err(|code| {
                    match code {
                        "admin_only" => AppError::forbidden(code),
                        _ => AppError::conflict(
                            code,
                            "only sealed feedback can be read, even through break-glass",
                        ),
                    }
                })?;
            let row = row.ok_or(AppError::NotFound)?;
            // The read log's chain event (`feedback.break_glass_read`) is the audit entry.
            log_read(conn, &row, me.id, via, Some(&reason))?;
            let names = Names::load(conn, &b)?;
            if let Some(to) = names.recipient(&b.row.bar_raiser_id) {
                let notice = Notice::BreakGlassRead {
                    interview_id: db::uuid(&id),
                    admin: me.name.clone(),
                };
                notify::enqueue(conn, &public_url, &[to], &names.loop_ref(&b), &notice, None)?;
            }
            let view = feedback_views(conn, &b, &names, &[&row])?
                .remove(&id)
                .ok_or(AppError::NotFound)?;
            Ok((row, view))
        })
        .await?;
    Ok(super::idempotency::ReplayPolicy::Never.mark(with_etag(&row, &view)))
}

/// Excuse an interview that will never be sealed (the loop's Bar Raiser,
/// before the debrief), with a reason. It then no longer blocks the debrief.
#[utoipa::path(
    tag = "feedback",
    operation_id = "excuse_interview",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = ReasonInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = views::Interview),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sealed already, excused already, or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/excuse")]
pub async fn excuse(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ReasonInput>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().reason;
    if let Some(v) = crate::domain::accounts::text_problem("reason", &reason, REASON_MAX) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let (interview, b) = interview_and_loop(conn, &id, true)?;
            views::require_visible(&b, &me)?;
            lifecycle::excuse(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            match views::facts(&b, &interview)?.feedback_state() {
                FeedbackState::Sealed => {
                    return Err(AppError::conflict(
                        "interview_sealed",
                        "sealed feedback needs no excuse",
                    ));
                }
                FeedbackState::Excused => {
                    return Err(AppError::conflict(
                        "already_excused",
                        "this interview is excused already",
                    ));
                }
                _ => {}
            }
            let at = db::to_db(db::now());
            db::loops::update_interview(
                conn,
                &id,
                &InterviewChanges {
                    excused_at: Some(Some(at)),
                    excused_by: Some(Some(me.id.to_string())),
                    excuse_reason: Some(Some(reason.trim().to_string())),
                    updated_at: Some(at),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &b.row.id,
                Some(me.id),
                "interview.excused",
                Some(&id),
                &serde_json::json!({"reason": reason.trim()}),
            )?;
            let b = db::loops::bundle(conn, &b.row.id)?.ok_or(AppError::NotFound)?;
            announce_if_ready(conn, &public_url, &b)?;
            let names = Names::load(conn, &b)?;
            let i = b.interview(&id).ok_or(AppError::NotFound)?;
            views::interview_view(&b, i, &names, db::now())
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Every feedback of a loop: status for all, content only where the same
/// policy as the single read allows; each content read is logged.
#[utoipa::path(
    tag = "feedback",
    operation_id = "list_loop_feedback",
    params(("id" = Uuid, Path, description = "Loop id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = LoopFeedback),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such loop, or one the caller takes no part in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_integrity_failed`: a sealed feedback no longer matches its receipt", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/feedback")]
pub async fn list_for_loop(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let me_id = me.id;
    let (listing, reads) = state
        .db
        .read(move |conn| {
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &me)?;
            let loop_state = views::state_of(&b)?;
            let names = Names::load(conn, &b)?;
            let mut decisions = Vec::new();
            for i in &b.interviews {
                let row = b.feedback.get(&i.id);
                let reader = views::reader(&b, &me, Some(&i.interviewer_id));
                decisions.push((
                    i,
                    row,
                    visibility::content_access(
                        &reader,
                        stored_state(row)?,
                        loop_state,
                        debrief_opened(&b),
                    ),
                ));
            }
            let readable: Vec<&FeedbackRow> = decisions
                .iter()
                .filter_map(|(_, row, d)| d.is_ok().then_some(*row).flatten())
                .collect();
            let mut views_by_interview = feedback_views(conn, &b, &names, &readable)?;
            let mut reads = Vec::new();
            let mut items = Vec::new();
            for (i, row, decision) in decisions {
                let f = views::facts(&b, i)?;
                let (feedback, withheld) = match (decision, row) {
                    (Ok(via), Some(row)) => {
                        if let Some(via) = via {
                            reads.push((row.clone(), via));
                        }
                        (views_by_interview.remove(&i.id), None)
                    }
                    (Ok(_), None) => (None, None),
                    (Err(code), _) => (None, Some(code.to_string())),
                };
                items.push(FeedbackEntry {
                    interview_id: f.id,
                    interviewer: names.person(&i.interviewer_id),
                    loop_role: f.role,
                    feedback_state: f.feedback_state(),
                    sealed_at: row.and_then(|r| r.sealed_at).map(db::from_db),
                    feedback,
                    withheld,
                });
            }
            Ok((
                LoopFeedback {
                    loop_id: db::uuid(&b.row.id),
                    state: loop_state,
                    items,
                },
                reads,
            ))
        })
        .await?;
    if !reads.is_empty() {
        state
            .db
            .write(move |conn| {
                for (row, via) in &reads {
                    log_read(conn, row, me_id, *via, None)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::Ok().json(listing))
}
