//! Notifications: messages are rendered and written to the outbox in the
//! same transaction as the change that causes them; a worker delivers them.
//!
//! Bodies name the loop, the candidate and a link, never feedback content:
//! mail must not become a side channel around the independence rules.

pub mod templates;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::AppResult;

/// Who receives a message.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub email: String,
    pub name: String,
}

/// The loop a message is about.
#[derive(Debug, Clone)]
pub struct LoopRef {
    pub id: Uuid,
    pub candidate: String,
    pub position: String,
}

/// What happened. Only ids, names, times and outcomes: no feedback text.
#[derive(Debug, Clone)]
pub enum Notice {
    InterviewAssigned {
        interview_id: Uuid,
        starts_at: DateTime<Utc>,
        competencies: Vec<String>,
    },
    InterviewChanged {
        interview_id: Uuid,
        starts_at: DateTime<Utc>,
        competencies: Vec<String>,
    },
    InterviewRemoved {
        interview_id: Uuid,
    },
    FeedbackDueSoon {
        interview_id: Uuid,
        due_at: DateTime<Utc>,
    },
    FeedbackOverdue {
        interview_id: Uuid,
        due_at: DateTime<Utc>,
        interviewer: String,
    },
    DebriefReady,
    DebriefOpened,
    DecisionRecorded {
        outcome: String,
    },
    DecisionConcurred,
    DecisionVetoed,
    BreakGlassRead {
        interview_id: Uuid,
        admin: String,
    },
    LoopCancelled {
        reason: String,
    },
}

/// Renders `notice` for each recipient and queues it, in the caller's
/// transaction. `dedupe_key`, when given, makes the message once-only
/// (per recipient): a second enqueue with the same key is a no-op.
pub fn enqueue(
    conn: &mut DbConn,
    public_url: &str,
    to: &[Recipient],
    about: &LoopRef,
    notice: &Notice,
    dedupe_key: Option<&str>,
) -> AppResult<()> {
    for r in to {
        let msg = templates::render(public_url, r, about, notice);
        let key = dedupe_key.map(|k| format!("{k}:{}", r.email.to_lowercase()));
        db::outbox::insert(
            conn,
            &r.email,
            &msg.subject,
            &msg.text,
            &msg.html,
            Some(&about.id.to_string()),
            key.as_deref(),
        )?;
    }
    Ok(())
}
