//! Feedback as served, and rule 8 at read time: sealed content is served
//! only while it still matches the receipt its seal recorded.

use std::collections::HashMap;

use crate::db::loops::LoopBundle;
use crate::db::models::{FeedbackRow, RatingRow};
use crate::db::{self, DbConn, FeedbackId, InterviewId};
use crate::domain::feedback::{Content, RatingEntry};
use crate::domain::{Rating, proof};
use crate::error::{AppError, AppResult};
use crate::workflows::views::Names;

use super::{Addendum, Feedback, RatingView};

/// Builds feedback views for `rows`, loading their ratings and addenda in
/// two queries.
pub fn feedback_views(
    conn: &mut DbConn,
    b: &LoopBundle,
    names: &Names,
    rows: &[&FeedbackRow],
) -> AppResult<HashMap<InterviewId, Feedback>> {
    let ids: Vec<FeedbackId> = rows.iter().map(|r| r.id).collect();
    let mut ratings = db::feedback::loop_ratings(conn, b.row.id, &ids)?;
    if rows.iter().any(|r| r.sealed_at.is_some()) {
        let recorded = db::audit::seal_receipts(conn, &[b.row.id])?;
        for row in rows.iter().filter(|r| r.sealed_at.is_some()) {
            let rs = ratings.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            check_receipt(row, rs, recorded.get(&row.id))?;
        }
    }
    let mut addenda = db::feedback::loop_addenda(conn, b.row.id, &ids)?;
    let mut out = HashMap::new();
    for row in rows {
        let interview = b.interview(row.interview_id).ok_or(AppError::NotFound)?;
        let order = b.competencies_of(row.interview_id);
        let mut rs = ratings.remove(&row.id).unwrap_or_default();
        rs.sort_by_key(|r| {
            order
                .iter()
                .position(|c| *c == r.competency_id)
                .unwrap_or(usize::MAX)
        });
        let addenda = addenda
            .remove(&row.id)
            .unwrap_or_default()
            .into_iter()
            .map(|a| Addendum {
                id: a.id.into(),
                text: a.text,
                created_at: db::from_db(a.created_at),
            })
            .collect();
        out.insert(
            row.interview_id,
            Feedback {
                id: row.id.into(),
                interview_id: row.interview_id.into(),
                loop_id: row.loop_id.into(),
                author: names.person(row.author_id),
                loop_role: interview.loop_role,
                state: row.state,
                ratings: rs
                    .into_iter()
                    .map(|r| RatingView {
                        competency: names.competency(r.competency_id),
                        rating: r.rating,
                        evidence: r.evidence,
                    })
                    .collect(),
                vote: row.vote,
                summary: row.summary.clone(),
                revision: row.revision,
                updated_at: db::from_db(row.updated_at),
                sealed_at: row.sealed_at.map(db::from_db),
                content_sha256: row.content_sha256.clone(),
                addenda,
            },
        );
    }
    Ok(out)
}

/// One feedback of the loop `b`, as served.
pub(super) fn one_view(
    conn: &mut DbConn,
    b: &LoopBundle,
    row: &FeedbackRow,
) -> AppResult<Feedback> {
    let names = Names::load(conn, b)?;
    feedback_views(conn, b, &names, &[row])?
        .remove(&row.interview_id)
        .ok_or(AppError::NotFound)
}

/// A sealed feedback row and its ratings as the proof sees them.
pub fn sealed_facts(row: &FeedbackRow, ratings: &[RatingRow]) -> proof::SealedFeedback {
    proof::SealedFeedback {
        id: row.id.into(),
        interview_id: row.interview_id.into(),
        author: row.author_id.into(),
        content: Content {
            ratings: ratings
                .iter()
                .map(|r| RatingEntry {
                    competency_id: r.competency_id.into(),
                    rating: r.rating.and_then(|v| Rating::new(i64::from(v))),
                    evidence: r.evidence.clone(),
                })
                .collect(),
            vote: row.vote,
            summary: row.summary.clone(),
        },
        sealed_at: db::from_db(row.sealed_at.unwrap_or(row.updated_at)),
        content_sha256: row.content_sha256.clone().unwrap_or_default(),
        salt: row.receipt_salt.clone(),
    }
}

/// Rule 8 at read time: sealed content is served only while the rows still
/// match the receipt its seal recorded in the audit chain; otherwise the
/// read is refused (409 `feedback_integrity_failed`), never served as sealed.
pub fn check_receipt(
    row: &FeedbackRow,
    ratings: &[RatingRow],
    recorded: Option<&String>,
) -> AppResult<()> {
    let facts = sealed_facts(row, ratings);
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
pub(super) fn content_of(conn: &mut DbConn, row: &FeedbackRow) -> AppResult<Content> {
    let ratings = db::feedback::ratings(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(Content {
        ratings: ratings
            .into_iter()
            .map(|r| RatingEntry {
                competency_id: r.competency_id.into(),
                rating: r.rating.and_then(|v| Rating::new(i64::from(v))),
                evidence: r.evidence,
            })
            .collect(),
        vote: row.vote,
        summary: row.summary.clone(),
    })
}
