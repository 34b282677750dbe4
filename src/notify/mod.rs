//! Notifications: messages are rendered and written to the outbox in the
//! same transaction as the change that causes them; a worker delivers them
//! ([`worker`]) through lettre ([`mailer`]), retrying with backoff
//! ([`retry`]), and queues feedback reminders itself ([`reminders`]).
//! Webhook events go through the same outbox and worker ([`webhooks`]).
//!
//! Bodies name the loop, the candidate and a link, never feedback content:
//! mail must not become a side channel around the independence rules.

pub mod cli;
pub mod invite;
pub mod mailer;
pub mod reminders;
pub mod retry;
pub mod templates;
pub mod webhooks;
pub mod worker;

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
    /// To the loop's recruiter: the identity provider deactivated an
    /// interviewer of theirs whose interview is still open.
    InterviewerDeactivated {
        interviewer: String,
        interview_id: Uuid,
        starts_at: DateTime<Utc>,
    },
    /// The loop requires a quick vote and the interview has just ended.
    QuickVoteDue {
        interview_id: Uuid,
        closes_at: DateTime<Utc>,
    },
    /// To the interviewer whose feedback is late.
    YourFeedbackOverdue {
        interview_id: Uuid,
        due_at: DateTime<Utc>,
    },
    /// To the recruiter or Bar Raiser about someone else's late feedback.
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
    /// To a person whose password or email an operator (an admin, or a
    /// service token acting for one) changed; about their account, not a
    /// loop. What changed, by whom, when: never the new password.
    AccountChangedByOperator {
        operator: String,
        changed: Vec<String>,
        at: DateTime<Utc>,
    },
    /// To a trainee and their mentor: a step of the Bar Raiser program
    /// (issue 17); `step` is `enrolled`, `signed_off`, `certified`,
    /// `lapsed` or `reactivated`. About a person, not a loop.
    BarRaiserProgram {
        step: &'static str,
        trainee: String,
        /// For a sign-off: its outcome.
        detail: Option<String>,
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
    enqueue_new(conn, public_url, to, about, notice, dedupe_key).map(drop)
}

/// Queues a message about the recipient's own account (no loop), in the
/// caller's transaction.
pub fn enqueue_personal(
    conn: &mut DbConn,
    public_url: &str,
    to: &[Recipient],
    notice: &Notice,
) -> AppResult<()> {
    for r in to {
        let msg = templates::render_personal(public_url, r, notice);
        db::outbox::insert(
            conn,
            &r.email,
            &msg.subject,
            &msg.text,
            &msg.html,
            None,
            None,
            None,
        )?;
    }
    Ok(())
}

/// Renders `notice` for `to` and queues it with the calendar invitation
/// `invite` (an iTIP `REQUEST` or `CANCEL`), in the caller's transaction.
/// The candidate's name is kept apart, as in [`enqueue_new`].
pub fn enqueue_invite(
    conn: &mut DbConn,
    public_url: &str,
    to: &Recipient,
    about: &LoopRef,
    notice: &Notice,
    invite: &invite::Invite,
) -> AppResult<()> {
    let placeholder = LoopRef {
        candidate: templates::CANDIDATE.into(),
        ..about.clone()
    };
    let msg = templates::render(public_url, to, &placeholder, notice);
    let calendar = invite::stored(public_url, to, about, invite);
    let calendar = serde_json::to_string(&calendar)
        .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("calendar JSON: {e}")))?;
    db::outbox::insert_invite(
        conn,
        &to.email,
        (&msg.subject, &msg.text, &msg.html),
        &about.id.to_string(),
        &about.candidate,
        &calendar,
    )?;
    Ok(())
}

/// [`enqueue`], returning how many messages were actually queued (fewer
/// than recipients when some were deduplicated).
pub(crate) fn enqueue_new(
    conn: &mut DbConn,
    public_url: &str,
    to: &[Recipient],
    about: &LoopRef,
    notice: &Notice,
    dedupe_key: Option<&str>,
) -> AppResult<usize> {
    let mut queued = 0;
    // The name is kept in a field of its own and shown through a
    // placeholder, so erasure can rewrite exactly it (`templates::fill`).
    let placeholder = LoopRef {
        candidate: templates::CANDIDATE.into(),
        ..about.clone()
    };
    for r in to {
        let msg = templates::render(public_url, r, &placeholder, notice);
        let key = dedupe_key.map(|k| format!("{k}:{}", r.email.to_lowercase()));
        let inserted = db::outbox::insert(
            conn,
            &r.email,
            &msg.subject,
            &msg.text,
            &msg.html,
            Some(&about.id.to_string()),
            key.as_deref(),
            Some(&about.candidate),
        )?;
        queued += usize::from(inserted);
    }
    Ok(queued)
}
