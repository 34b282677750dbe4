//! Events of the Bar Raiser program (issue 17): each transition of a
//! person's program state goes to the organisation's chain, emits its
//! webhook (`bar_raiser.enrolled`, `.certified`, `.lapsed`) and mails the
//! trainee and the mentor. A mentor's sign-off goes to the loop's chain.

use serde_json::json;
use uuid::Uuid;

use super::{Action, Chain, Effects, Mail};
use crate::domain::{ProgramState, SignOffOutcome};
use crate::notify::webhooks::{BarRaiserProgramData, Payload};
use crate::notify::{Notice, Recipient};

pub const ENROLLED: Action = Action {
    name: "bar_raiser.enrolled",
    shows: &["user_id", "mentor_id", "program_state"],
};
pub const CERTIFIED: Action = Action {
    name: "bar_raiser.certified",
    shows: &["user_id", "mentor_id", "program_state"],
};
pub const REACTIVATED: Action = Action {
    name: "bar_raiser.reactivated",
    shows: &["user_id", "mentor_id", "program_state", "reason"],
};
pub const LAPSED: Action = Action {
    name: "bar_raiser.lapsed",
    shows: &["user_id", "mentor_id", "program_state", "last_served_at"],
};
pub const SIGNED_OFF: Action = Action {
    name: "bar_raiser.signed_off",
    shows: &[
        "user_id",
        "mentor_id",
        "sign_off_id",
        "outcome",
        "assessment_sha256",
    ],
};

pub const ACTIONS: &[&Action] = &[&ENROLLED, &CERTIFIED, &REACTIVATED, &LAPSED, &SIGNED_OFF];

/// Who a transition is about and who hears of it.
#[derive(Debug, Clone)]
pub struct People {
    pub user: Uuid,
    pub mentor: Option<Uuid>,
    /// The trainee's name, for the mail.
    pub name: String,
    /// The trainee and the mentor, when there is one.
    pub to: Vec<Recipient>,
}

#[derive(Debug)]
pub enum ProgramEvent {
    Enrolled(People),
    /// After training (by an admin or, with auto-certification, the system).
    Certified(People),
    /// An admin re-activated a lapsed Bar Raiser.
    Reactivated {
        people: People,
        reason: String,
    },
    Lapsed {
        people: People,
        last_served_at: Option<String>,
    },
    SignedOff {
        people: People,
        loop_id: Uuid,
        sign_off: Uuid,
        outcome: SignOffOutcome,
        assessment_sha256: String,
    },
}

fn data(p: &People, state: ProgramState) -> BarRaiserProgramData {
    BarRaiserProgramData {
        transition_id: Uuid::now_v7(),
        user_id: p.user,
        state,
        mentor_id: p.mentor,
    }
}

fn mail(p: &People, step: &'static str, detail: Option<String>) -> Mail {
    Mail::Personal {
        to: p.to.clone(),
        notice: Notice::BarRaiserProgram {
            step,
            trainee: p.name.clone(),
            detail,
        },
    }
}

impl ProgramEvent {
    pub fn effects(self) -> Effects {
        let org = |action, p: &People, state: ProgramState, extra: serde_json::Value| {
            let mut payload = json!({
                "user_id": p.user.to_string(),
                "mentor_id": p.mentor.map(|m| m.to_string()),
                "program_state": state,
            });
            if let (Some(map), serde_json::Value::Object(more)) = (payload.as_object_mut(), extra) {
                map.extend(more);
            }
            Effects::audit(Chain::Org, action, Some(p.user.to_string()), payload)
        };
        match self {
            ProgramEvent::Enrolled(p) => org(&ENROLLED, &p, ProgramState::InTraining, json!({}))
                .webhook(Payload::BarRaiserEnrolled(data(
                    &p,
                    ProgramState::InTraining,
                )))
                .mail(mail(&p, "enrolled", None)),
            ProgramEvent::Certified(p) => org(&CERTIFIED, &p, ProgramState::Certified, json!({}))
                .webhook(Payload::BarRaiserCertified(data(
                    &p,
                    ProgramState::Certified,
                )))
                .mail(mail(&p, "certified", None)),
            ProgramEvent::Reactivated { people, reason } => org(
                &REACTIVATED,
                &people,
                ProgramState::Certified,
                json!({ "reason": reason }),
            )
            .webhook(Payload::BarRaiserCertified(data(
                &people,
                ProgramState::Certified,
            )))
            .mail(mail(&people, "reactivated", None)),
            ProgramEvent::Lapsed {
                people,
                last_served_at,
            } => org(
                &LAPSED,
                &people,
                ProgramState::Lapsed,
                json!({ "last_served_at": last_served_at }),
            )
            .webhook(Payload::BarRaiserLapsed(data(
                &people,
                ProgramState::Lapsed,
            )))
            .mail(mail(&people, "lapsed", None)),
            ProgramEvent::SignedOff {
                people,
                loop_id,
                sign_off,
                outcome,
                assessment_sha256,
            } => Effects::audit(
                Chain::Loop(loop_id),
                &SIGNED_OFF,
                Some(sign_off.to_string()),
                json!({
                    "user_id": people.user.to_string(),
                    "mentor_id": people.mentor.map(|m| m.to_string()),
                    "sign_off_id": sign_off.to_string(),
                    "outcome": outcome,
                    "assessment_sha256": assessment_sha256,
                }),
            )
            .mail(mail(&people, "signed_off", Some(outcome.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> People {
        People {
            user: Uuid::from_u128(1),
            mentor: Some(Uuid::from_u128(2)),
            name: "Tess Trainee".into(),
            to: vec![
                Recipient {
                    email: "tess@example.com".into(),
                    name: "Tess Trainee".into(),
                },
                Recipient {
                    email: "mo@example.com".into(),
                    name: "Mo Mentor".into(),
                },
            ],
        }
    }

    #[test]
    fn every_transition_is_audited_webhooked_and_mailed_to_both() {
        let cases = [
            (ProgramEvent::Enrolled(people()), "bar_raiser.enrolled"),
            (ProgramEvent::Certified(people()), "bar_raiser.certified"),
            (
                ProgramEvent::Reactivated {
                    people: people(),
                    reason: "back from leave".into(),
                },
                "bar_raiser.certified",
            ),
            (
                ProgramEvent::Lapsed {
                    people: people(),
                    last_served_at: None,
                },
                "bar_raiser.lapsed",
            ),
        ];
        for (event, webhook) in cases {
            let e = event.effects();
            assert_eq!(e.audit.len(), 1);
            assert!(matches!(e.audit[0].chain, Chain::Org));
            assert_eq!(e.webhooks.len(), 1);
            assert_eq!(e.webhooks[0].event_type().as_str(), webhook);
            assert!(matches!(&e.mail[..], [Mail::Personal { to, .. }] if to.len() == 2));
        }
    }

    #[test]
    fn a_sign_off_goes_to_the_loops_chain_without_its_text() {
        let loop_id = Uuid::from_u128(9);
        let e = ProgramEvent::SignedOff {
            people: people(),
            loop_id,
            sign_off: Uuid::from_u128(10),
            outcome: SignOffOutcome::Pass,
            assessment_sha256: "ab".repeat(32),
        }
        .effects();
        assert!(matches!(e.audit[0].chain, Chain::Loop(id) if id == loop_id));
        assert!(e.audit[0].payload.get("assessment").is_none());
        assert!(e.webhooks.is_empty());
    }
}
