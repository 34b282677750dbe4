//! Structured feedback: drafting, sealing, addenda, reads under the
//! independence rules, break-glass and excusing. Every read decision comes
//! from `domain::visibility`; nothing here decides who may read.
//!
//! - [`render`]: the feedback as served, and the receipt check every serve of
//!   sealed content passes;
//! - [`write`]: drafts, seals, addenda, excuses;
//! - [`read`]: reads, the loop listing, break-glass, and the read log;
//! - [`quick`]: quick votes (issue 17), committed after the interview and
//!   read exactly where the sealed vote is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::loops::LoopBundle;
use crate::db::models::{FeedbackRow, InterviewRow};
use crate::db::{self, DbConn, InterviewId};
use crate::domain::feedback as rules;
use crate::domain::{FeedbackState, InterviewRole, LoopState, StoredFeedbackState, Vote};
use crate::error::{AppError, AppResult};
use crate::workflows::views::{self, CompetencyRef, Person};

use super::Actor;
use super::preconditions::Tagged;

pub mod quick;
pub mod read;
pub mod render;
pub mod write;

pub use quick::{QuickVote, QuickVoteInput};
pub use read::{break_glass, get, list_for_loop, log_read, record_read};
pub use render::{check_receipt, feedback_views, sealed_facts};
pub use write::{add_addendum, excuse, save_draft, seal};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub competency_id: Uuid,
    /// 1 (far below the bar) to 4 (raises the bar).
    #[schema(minimum = 1, maximum = 4)]
    #[serde(default, deserialize_with = "crate::workflows::integral::opt_i64")]
    pub rating: Option<i64>,
    /// What the candidate said and did; at least 100 characters to seal.
    #[schema(max_length = 20000, pattern = r"^[^\u0000]*$")]
    pub evidence: Option<String>,
}

/// A draft: partial is fine until it is sealed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftFeedback {
    /// Only the interview's competencies, each once.
    #[serde(default)]
    #[schema(max_items = 16)]
    pub ratings: Vec<RatingInput>,
    pub vote: Option<Vote>,
    #[schema(max_length = 20000, pattern = r"^[^\u0000]*$")]
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumInput {
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub reason: String,
}

/// Why content is read before the debrief opens.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassInput {
    /// 20 to 2000 characters, not counting blanks at either end: enough to
    /// say why. Recorded in the audit chain.
    #[schema(
        min_length = 20,
        max_length = 2000,
        pattern = r"^\s*\S[\s\S]{18,}\S\s*$"
    )]
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

/// A feedback as served, tagged with its revision (not its time: a save
/// that changes nothing keeps the tag).
fn tagged(row: &FeedbackRow, body: Feedback) -> Tagged<Feedback> {
    Tagged {
        etag: rules::revision_tag(row.revision),
        body,
    }
}

fn stored_state(row: Option<&FeedbackRow>) -> Option<StoredFeedbackState> {
    row.map(|r| r.state)
}

/// The interview and its loop (locked when `lock`).
fn interview_and_loop(
    conn: &mut DbConn,
    interview_id: InterviewId,
    lock: bool,
) -> AppResult<(InterviewRow, LoopBundle)> {
    let b = db::loops::bundle_of_interview(conn, interview_id, lock)?.ok_or(AppError::NotFound)?;
    let interview = b
        .interview(interview_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((interview, b))
}

/// Only the interviewer writes an interview's feedback. Someone who cannot
/// see the loop at all learns nothing, not even that it exists (404).
fn require_author(b: &LoopBundle, interview: &InterviewRow, me: &Actor) -> AppResult<()> {
    views::require_visible(b, me)?;
    if interview.interviewer_id == me.id {
        Ok(())
    } else {
        Err(AppError::forbidden("not_the_interviewer"))
    }
}

fn debrief_opened(b: &LoopBundle) -> bool {
    b.row.debrief_opened_at.is_some()
}

/// The competencies assigned to an interview, in the loop's order.
fn assigned(b: &LoopBundle, interview_id: InterviewId) -> Vec<Uuid> {
    b.competencies_of(interview_id)
        .iter()
        .map(|c| Uuid::from(*c))
        .collect()
}
