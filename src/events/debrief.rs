//! Events of the debrief: it opens, votes are cast and revealed, the hiring
//! manager decides, the Bar Raiser concurs or vetoes. Every one goes to the
//! loop's chain; votes and rationales reach it only as salted receipts.

use serde_json::json;
use uuid::Uuid;

use super::{Action, Chain, Effects, Mail};
use crate::domain::proof::action;
use crate::domain::{Outcome, Verdict};
use crate::notify::webhooks::{DecisionFinalData, DecisionRecordedData, LoopEventData, Payload};
use crate::notify::{LoopRef, Notice, Recipient};

pub const DEBRIEF_OPENED: Action = Action {
    name: "debrief.opened",
    shows: &[],
};
pub const VOTE_CAST: Action = Action {
    name: action::VOTE,
    shows: &["voter_id", "receipt"],
};
pub const VOTES_REVEALED: Action = Action {
    name: "debrief.votes_revealed",
    shows: &[],
};
pub const DECISION_RECORDED: Action = Action {
    name: action::DECISION,
    shows: &["outcome", "recycle", "receipt"],
};
pub const DECISION_VETOED: Action = Action {
    name: action::VETO,
    shows: &["final_outcome", "receipt"],
};
pub const DECISION_CONCURRED: Action = Action {
    name: action::CONCUR,
    shows: &["final_outcome", "receipt"],
};

pub const ACTIONS: &[&Action] = &[
    &DEBRIEF_OPENED,
    &VOTE_CAST,
    &VOTES_REVEALED,
    &DECISION_RECORDED,
    &DECISION_VETOED,
    &DECISION_CONCURRED,
];

/// Who hears of an event by mail, about which loop.
#[derive(Debug)]
pub struct Audience {
    pub to: Vec<Recipient>,
    pub about: LoopRef,
}

impl Audience {
    fn hear(self, notice: Notice) -> Mail {
        Mail::Loop {
            to: self.to,
            about: self.about,
            notice,
            once: None,
        }
    }
}

#[derive(Debug)]
pub enum DebriefEvent {
    /// The Bar Raiser opened the debrief; `audience`: the participants and
    /// the loop's recruiter.
    Opened {
        loop_id: Uuid,
        audience: Audience,
    },
    /// `receipt`: the salted receipt of the vote, never the vote.
    VoteCast {
        loop_id: Uuid,
        voter: Uuid,
        receipt: String,
    },
    VotesRevealed {
        loop_id: Uuid,
    },
    /// The hiring manager decided; `is_final` when nothing waits for the Bar
    /// Raiser (a `no_hire`). `audience`: hiring manager, recruiter, Bar Raiser.
    DecisionRecorded {
        loop_id: Uuid,
        outcome: Outcome,
        recycle: bool,
        receipt: String,
        is_final: bool,
        audience: Audience,
    },
    /// The Bar Raiser concurred or vetoed; the outcome is final.
    Verdict {
        loop_id: Uuid,
        verdict: Verdict,
        final_outcome: Outcome,
        receipt: String,
        audience: Audience,
    },
}

impl DebriefEvent {
    pub fn effects(self) -> Effects {
        let entry = |loop_id: Uuid, action, payload| {
            Effects::audit(
                Chain::Loop(loop_id),
                action,
                Some(loop_id.to_string()),
                payload,
            )
        };
        let decision_final = |loop_id: Uuid, outcome: Outcome, vetoed: bool| {
            Payload::DecisionFinal(DecisionFinalData {
                loop_id,
                outcome,
                vetoed,
            })
        };
        match self {
            DebriefEvent::Opened { loop_id, audience } => {
                entry(loop_id, &DEBRIEF_OPENED, json!({}))
                    .webhook(Payload::DebriefOpened(LoopEventData { loop_id }))
                    .mail(audience.hear(Notice::DebriefOpened))
            }
            DebriefEvent::VoteCast {
                loop_id,
                voter,
                receipt,
            } => entry(
                loop_id,
                &VOTE_CAST,
                json!({"voter_id": voter, "receipt": receipt}),
            ),
            DebriefEvent::VotesRevealed { loop_id } => entry(loop_id, &VOTES_REVEALED, json!({})),
            DebriefEvent::DecisionRecorded {
                loop_id,
                outcome,
                recycle,
                receipt,
                is_final,
                audience,
            } => {
                let mut effects = entry(
                    loop_id,
                    &DECISION_RECORDED,
                    json!({"outcome": outcome, "recycle": recycle, "receipt": receipt}),
                )
                .webhook(Payload::DecisionRecorded(DecisionRecordedData {
                    loop_id,
                    outcome,
                }))
                .mail(audience.hear(Notice::DecisionRecorded {
                    outcome: outcome.as_str().into(),
                }));
                if is_final {
                    effects = effects.webhook(decision_final(loop_id, outcome, false));
                }
                effects
            }
            DebriefEvent::Verdict {
                loop_id,
                verdict,
                final_outcome,
                receipt,
                audience,
            } => {
                let (action, notice) = match verdict {
                    Verdict::Veto => (&DECISION_VETOED, Notice::DecisionVetoed),
                    Verdict::Concur => (&DECISION_CONCURRED, Notice::DecisionConcurred),
                };
                let vetoed = verdict == Verdict::Veto;
                let mut effects = entry(
                    loop_id,
                    action,
                    json!({"final_outcome": final_outcome, "receipt": receipt}),
                );
                if vetoed {
                    effects = effects.webhook(Payload::DecisionVetoed(LoopEventData { loop_id }));
                }
                effects
                    .webhook(decision_final(loop_id, final_outcome, vetoed))
                    .mail(audience.hear(notice))
            }
        }
    }
}
