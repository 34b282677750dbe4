//! Feedback as served, and rule 8 at read time: sealed content is served
//! only while it still matches the receipt its seal recorded.

use std::collections::HashMap;

use crate::db::loops::LoopBundle;
use crate::db::models::{FeedbackRow, RatingRow};
use crate::db::{self, CompetencyId, DbConn, FeedbackId, InterviewId};
use crate::domain::feedback::{Content, RatingEntry};
use crate::domain::{Rating, proof};
use crate::error::{AppError, AppResult};
use crate::workflows::views::{CompetencyRef, Names, Person};

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
        let ratings = ratings.remove(&row.id).unwrap_or_default();
        let view = view_of(b, row, ratings, addenda, names.person(row.author_id), |c| {
            names.competency(c)
        })?;
        out.insert(row.interview_id, view);
    }
    Ok(out)
}

/// One feedback as served, from its row, ratings and addenda.
fn view_of(
    b: &LoopBundle,
    row: &FeedbackRow,
    mut ratings: Vec<RatingRow>,
    addenda: Vec<Addendum>,
    author: Person,
    competency: impl Fn(CompetencyId) -> CompetencyRef,
) -> AppResult<Feedback> {
    let interview = b.interview(row.interview_id).ok_or(AppError::NotFound)?;
    let order = b.competencies_of(row.interview_id);
    ratings.sort_by_key(|r| {
        order
            .iter()
            .position(|c| *c == r.competency_id)
            .unwrap_or(usize::MAX)
    });
    Ok(Feedback {
        id: row.id.into(),
        interview_id: row.interview_id.into(),
        loop_id: row.loop_id.into(),
        author,
        loop_role: interview.loop_role,
        state: row.state,
        ratings: ratings
            .into_iter()
            .map(|r| RatingView {
                competency: competency(r.competency_id),
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
    })
}

/// The author's own feedback as a write of theirs just left it — a draft
/// saved, or a seal — rendered from what the write holds: the row as
/// written, its `ratings` as written, the author (the caller, as the
/// request found them). Only the rated competencies' names are read. It has
/// no addenda: a draft has none, and a seal is older than any addendum.
pub(super) fn own_view(
    conn: &mut DbConn,
    b: &LoopBundle,
    row: &FeedbackRow,
    ratings: Vec<RatingRow>,
    author: Person,
) -> AppResult<Feedback> {
    let ids: Vec<CompetencyId> = ratings.iter().map(|r| r.competency_id).collect();
    let names = db::catalog::competencies_by_ids(conn, &ids)?
        .into_iter()
        .map(|(id, c)| (id, c.name))
        .collect();
    own_view_named(b, row, ratings, &names, author)
}

/// [`own_view`] with the rated competencies' names already read.
pub(super) fn own_view_named(
    b: &LoopBundle,
    row: &FeedbackRow,
    ratings: Vec<RatingRow>,
    names: &HashMap<CompetencyId, String>,
    author: Person,
) -> AppResult<Feedback> {
    view_of(b, row, ratings, Vec::new(), author, |c| CompetencyRef {
        id: c.into(),
        name: names.get(&c).cloned().unwrap_or_default(),
    })
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
        content: content_from(row, ratings),
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

/// The stored ratings of a feedback, and its content as the domain sees it.
pub(super) fn content_of(
    conn: &mut DbConn,
    row: &FeedbackRow,
) -> AppResult<(Vec<RatingRow>, Content)> {
    let ratings = db::feedback::ratings(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    let content = content_from(row, &ratings);
    Ok((ratings, content))
}

/// [`content_of`], with each rated competency's name, in one statement.
pub(super) fn named_content_of(
    conn: &mut DbConn,
    row: &FeedbackRow,
) -> AppResult<(Vec<RatingRow>, HashMap<CompetencyId, String>, Content)> {
    let mut names = HashMap::new();
    let mut ratings = Vec::new();
    for (r, name) in db::feedback::named_ratings(conn, row.id)? {
        names.insert(r.competency_id, name.unwrap_or_default());
        ratings.push(r);
    }
    let content = content_from(row, &ratings);
    Ok((ratings, names, content))
}

/// The content of a feedback row and its ratings, as the domain sees it.
fn content_from(row: &FeedbackRow, ratings: &[RatingRow]) -> Content {
    Content {
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
    }
}
