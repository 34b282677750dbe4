//! Quick votes (issue 17): committing one within the window after the
//! interview, and reading it exactly where the sealed vote may be read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::models::QuickVoteRow;
use crate::db::{self, InterviewId, QuickVoteId};
use crate::domain::quickvote::{self as rules, Attempt, Refused};
use crate::domain::{Vote, lifecycle, proof, visibility};
use crate::error::{AppError, AppResult};
use crate::events::{self, feedback::FeedbackEvent};
use crate::workflows::views;
use crate::workflows::{Actor, AppState};

use super::read::log_read;
use super::write::announce_if_ready;
use super::{debrief_opened, interview_and_loop, require_author, stored_state};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickVoteInput {
    pub vote: Vote,
}

/// A quick vote as committed: never changed afterwards.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickVote {
    pub id: Uuid,
    pub interview_id: Uuid,
    pub loop_id: Uuid,
    pub voter_id: Uuid,
    pub vote: Vote,
    pub committed_at: DateTime<Utc>,
    /// The salted receipt the audit chain holds (`quick_vote.committed`);
    /// `verify` recomputes it from the row.
    pub receipt: String,
}

/// The row as the proof sees it.
pub fn stored(row: &QuickVoteRow) -> proof::StoredQuickVote {
    proof::StoredQuickVote {
        id: row.id.into(),
        interview_id: row.interview_id.into(),
        voter: row.voter_id.into(),
        vote: row.vote,
        committed_at: db::from_db(row.committed_at),
        salt: row.receipt_salt.clone(),
    }
}

fn view(row: &QuickVoteRow) -> QuickVote {
    QuickVote {
        id: row.id.into(),
        interview_id: row.interview_id.into(),
        loop_id: row.loop_id.into(),
        voter_id: row.voter_id.into(),
        vote: row.vote,
        committed_at: db::from_db(row.committed_at),
        receipt: proof::quick_vote_receipt(&stored(row)),
    }
}

fn refused(r: Refused) -> AppError {
    let code = r.code();
    let unprocessable = |detail: String| AppError::Validation {
        code,
        detail,
        errors: Vec::new(),
    };
    match r {
        Refused::NotVoting => AppError::forbidden(code),
        Refused::AlreadyCommitted => {
            AppError::conflict(code, "this interview has its quick vote; it never changes")
        }
        Refused::FeedbackSealed => AppError::conflict(
            code,
            "the feedback is sealed; a quick vote comes before the seal",
        ),
        Refused::Off => unprocessable("this loop takes no quick votes".into()),
        Refused::TooEarly { opens_at } => unprocessable(format!(
            "the interview has not ended; its quick vote opens at {}",
            opens_at.to_rfc3339()
        )),
        Refused::Closed { closed_at } => unprocessable(format!(
            "the quick vote closed at {}; write and seal the feedback instead",
            closed_at.to_rfc3339()
        )),
    }
}

/// Commits the interviewer's quick vote: once, within the window after the
/// interview ends, before the feedback is sealed. The chain records a salted
/// receipt, never the vote.
pub async fn commit(
    state: &AppState,
    me: &Actor,
    interview: Uuid,
    req: QuickVoteInput,
) -> AppResult<QuickVote> {
    let id = InterviewId::from(interview);
    let window_minutes = state.config.quick_vote_window_minutes;
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, true)?;
            require_author(&b, &interview_row, &me)?;
            lifecycle::write_feedback(b.row.state)?;
            let facts = views::facts(&b, &interview_row);
            let now = db::now();
            let attempt = Attempt {
                mode: b.row.quick_vote,
                role: facts.role,
                feedback: facts.feedback,
                committed: b.quick_votes.contains_key(&id),
                ends_at: facts.ends_at(),
                window_minutes,
            };
            rules::may_commit(&attempt, now).map_err(refused)?;
            let row = QuickVoteRow {
                id: QuickVoteId::from(Uuid::now_v7()),
                interview_id: id,
                loop_id: b.row.id,
                voter_id: me.id,
                vote: req.vote,
                committed_at: db::to_db(now),
                receipt_salt: proof::new_salt(),
            };
            db::quick_votes::insert(conn, &row)?;
            let answer = view(&row);
            let event = FeedbackEvent::QuickVoteCommitted {
                loop_id: b.row.id.into(),
                interview,
                quick_vote: answer.id,
                committed_at: answer.committed_at,
                receipt: answer.receipt.clone(),
            };
            events::record(conn, &by, event)?;
            // In a loop that requires quick votes, this one may have been
            // the last thing keeping the debrief shut.
            let mut b = b;
            b.quick_votes.insert(id, row);
            announce_if_ready(conn, &by, &b)?;
            Ok(answer)
        })
        .await
}

/// An interview's quick vote: to its author always; to anyone else exactly
/// when they may read the interview's sealed feedback
/// (`visibility::quick_vote_access`), and then logged as a read of it.
pub async fn get(state: &AppState, me: &Actor, interview: Uuid) -> AppResult<QuickVote> {
    let id = InterviewId::from(interview);
    let reader = me.clone();
    let (answer, read) = state
        .db
        .read(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, false)?;
            views::require_visible(&b, &reader)?;
            let feedback = b.feedback.get(&id).cloned();
            let who = views::reader(&b, &reader, Some(interview_row.interviewer_id));
            let via = visibility::quick_vote_access(
                &who,
                stored_state(feedback.as_ref()),
                b.row.state,
                debrief_opened(&b),
            )
            .map_err(AppError::forbidden)?;
            let row = b.quick_votes.get(&id).ok_or(AppError::NotFound)?;
            let read = match (via, feedback) {
                (Some(via), Some(f)) => Some((f, via)),
                _ => None,
            };
            Ok((view(row), read))
        })
        .await?;
    if let Some((f, via)) = read {
        let reader = me.id;
        state
            .db
            .write(move |conn| log_read(conn, &f, reader, via, None))
            .await?;
    }
    Ok(answer)
}
