//! Events of feedback: quick votes, drafts, seals, addenda, reads (the read
//! log's chain events), excuses, and the loop becoming ready for its debrief.
//!
//! Payloads hold ids, hashes, times, revisions and operators' reasons;
//! never a rating, evidence, vote or summary (those are only ever hashed).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Action, Chain, Effects, Mail};
use crate::domain::audit::timestamp;
use crate::domain::proof::{self, FeedbackDigests, ReadFacts};
use crate::domain::{ReadVia, feedback::sha256_hex};
use crate::notify::webhooks::{FeedbackSealedData, LoopEventData, Payload};
use crate::notify::{LoopRef, Notice, Recipient};

pub const DRAFT_SAVED: Action = Action {
    name: "feedback.draft_saved",
    shows: &["revision"],
};
pub const SEALED: Action = Action {
    name: proof::action::SEALED,
    shows: &["feedback_id", "content_sha256", "sealed_at", "digests"],
};
pub const ADDENDUM_ADDED: Action = Action {
    name: proof::action::ADDENDUM,
    shows: &["addendum_id", "feedback_id", "receipt", "text_sha256"],
};
pub const READ: Action = Action {
    name: proof::action::READ,
    shows: &[
        "read_id",
        "feedback_id",
        "reader_id",
        "via",
        "receipt",
        "reason",
    ],
};
pub const BREAK_GLASS_READ: Action = Action {
    name: proof::action::BREAK_GLASS_READ,
    shows: &[
        "read_id",
        "feedback_id",
        "reader_id",
        "via",
        "receipt",
        "reason",
    ],
};
pub const INTERVIEW_EXCUSED: Action = Action {
    name: "interview.excused",
    shows: &["reason"],
};

/// A quick vote committed: when, and a salted receipt, never the vote.
pub const QUICK_VOTE_COMMITTED: Action = Action {
    name: proof::action::QUICK_VOTE,
    shows: &["quick_vote_id", "committed_at", "receipt"],
};

pub const ACTIONS: &[&Action] = &[
    &QUICK_VOTE_COMMITTED,
    &DRAFT_SAVED,
    &SEALED,
    &ADDENDUM_ADDED,
    &READ,
    &BREAK_GLASS_READ,
    &INTERVIEW_EXCUSED,
];

/// What an addendum's chain entry proves of its text.
#[derive(Debug)]
pub enum AddendumProof {
    /// Salted receipt of id, time and text.
    Receipt(String),
    /// Feedback sealed before receipts were salted keeps the plain digest.
    Plain { text: String },
}

#[derive(Debug)]
pub enum FeedbackEvent {
    /// A quick vote was committed (issue 17). The chain holds its salted
    /// receipt (`proof::quick_vote_receipt`), so the vote stays unreadable
    /// in the trail and `verify` proves the row unchanged.
    QuickVoteCommitted {
        loop_id: Uuid,
        interview: Uuid,
        quick_vote: Uuid,
        committed_at: DateTime<Utc>,
        receipt: String,
    },
    /// A draft was written or changed; `revision` is its new one.
    DraftSaved {
        loop_id: Uuid,
        interview: Uuid,
        revision: i32,
    },
    Sealed {
        loop_id: Uuid,
        interview: Uuid,
        feedback: Uuid,
        content_sha256: String,
        sealed_at: DateTime<Utc>,
        digests: FeedbackDigests,
    },
    AddendumAdded {
        loop_id: Uuid,
        interview: Uuid,
        addendum: Uuid,
        feedback: Uuid,
        proof: AddendumProof,
    },
    /// A logged read of someone else's feedback (its read-log row's chain
    /// event, with a receipt of the row).
    Read { loop_id: Uuid, read: ReadFacts },
    /// The loop's Bar Raiser hears of a break-glass read.
    BreakGlassNoticed {
        to: Vec<Recipient>,
        about: LoopRef,
        interview: Uuid,
        admin: String,
    },
    InterviewExcused {
        loop_id: Uuid,
        interview: Uuid,
        reason: String,
    },
    /// Nothing is outstanding any more: subscribers, the Bar Raiser and the
    /// hiring manager hear that the debrief can open (mail once).
    ReadyForDebrief {
        loop_id: Uuid,
        to: Vec<Recipient>,
        about: LoopRef,
    },
}

impl FeedbackEvent {
    pub fn effects(self) -> Effects {
        let on_loop = |loop_id: Uuid, action, subject: String, payload: Value| {
            Effects::audit(Chain::Loop(loop_id), action, Some(subject), payload)
        };
        match self {
            FeedbackEvent::QuickVoteCommitted {
                loop_id,
                interview,
                quick_vote,
                committed_at,
                receipt,
            } => on_loop(
                loop_id,
                &QUICK_VOTE_COMMITTED,
                interview.to_string(),
                json!({
                    "quick_vote_id": quick_vote,
                    "committed_at": timestamp(committed_at),
                    "receipt": receipt,
                }),
            ),
            FeedbackEvent::DraftSaved {
                loop_id,
                interview,
                revision,
            } => on_loop(
                loop_id,
                &DRAFT_SAVED,
                interview.to_string(),
                json!({ "revision": revision }),
            ),
            FeedbackEvent::Sealed {
                loop_id,
                interview,
                feedback,
                content_sha256,
                sealed_at,
                digests,
            } => on_loop(
                loop_id,
                &SEALED,
                interview.to_string(),
                json!({
                    "feedback_id": feedback,
                    "content_sha256": content_sha256,
                    "sealed_at": timestamp(sealed_at),
                    "digests": digests,
                }),
            )
            .webhook(Payload::FeedbackSealed(FeedbackSealedData {
                loop_id,
                interview_id: interview,
                sealed_at,
                content_sha256,
            })),
            FeedbackEvent::AddendumAdded {
                loop_id,
                interview,
                addendum,
                feedback,
                proof,
            } => {
                let mut payload = json!({ "addendum_id": addendum, "feedback_id": feedback });
                match proof {
                    AddendumProof::Receipt(r) => payload["receipt"] = r.into(),
                    AddendumProof::Plain { text } => {
                        payload["text_sha256"] = sha256_hex(&text).into()
                    }
                }
                on_loop(loop_id, &ADDENDUM_ADDED, interview.to_string(), payload)
            }
            FeedbackEvent::Read { loop_id, read } => {
                let action = if read.via == ReadVia::BreakGlass {
                    &BREAK_GLASS_READ
                } else {
                    &READ
                };
                let mut payload = json!({
                    "read_id": read.id,
                    "feedback_id": read.feedback_id,
                    "reader_id": read.reader,
                    "via": read.via,
                    "receipt": proof::read_receipt(&read),
                });
                if let Some(reason) = &read.reason {
                    payload["reason"] = reason.as_str().into();
                }
                on_loop(loop_id, action, read.feedback_id.to_string(), payload)
            }
            FeedbackEvent::BreakGlassNoticed {
                to,
                about,
                interview,
                admin,
            } => Effects::default().mail(Mail::Loop {
                to,
                about,
                notice: Notice::BreakGlassRead {
                    interview_id: interview,
                    admin,
                },
                once: None,
            }),
            FeedbackEvent::InterviewExcused {
                loop_id,
                interview,
                reason,
            } => on_loop(
                loop_id,
                &INTERVIEW_EXCUSED,
                interview.to_string(),
                json!({ "reason": reason }),
            ),
            FeedbackEvent::ReadyForDebrief { loop_id, to, about } => Effects::default()
                .webhook(Payload::LoopReadyForDebrief(LoopEventData { loop_id }))
                .mail(Mail::Loop {
                    to,
                    about,
                    notice: Notice::DebriefReady,
                    once: Some(format!("debrief_ready:{loop_id}")),
                }),
        }
    }
}
