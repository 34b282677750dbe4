//! Events of the organisation's catalogue: candidates and competencies.
//! Their payloads never hold personal data, so erasure never has to
//! rewrite a hash chain.

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Action, Chain, Effects};
use crate::notify::webhooks::{CandidateErasedData, Payload};

pub const CANDIDATE_CREATED: Action = Action {
    name: "candidate.created",
    shows: &[],
};
pub const CANDIDATE_UPDATED: Action = Action {
    name: "candidate.updated",
    shows: &[],
};
pub const CANDIDATE_ERASED: Action = Action {
    name: "candidate.erased",
    shows: &[],
};
pub const COMPETENCY_CREATED: Action = Action {
    name: "competency.created",
    shows: &[],
};
pub const COMPETENCY_UPDATED: Action = Action {
    name: "competency.updated",
    shows: &[],
};

pub const ACTIONS: &[&Action] = &[
    &CANDIDATE_CREATED,
    &CANDIDATE_UPDATED,
    &CANDIDATE_ERASED,
    &COMPETENCY_CREATED,
    &COMPETENCY_UPDATED,
];

#[derive(Debug)]
pub enum CatalogEvent {
    CandidateCreated {
        candidate: Uuid,
    },
    /// `fields`: the names of the fields the change touched.
    CandidateUpdated {
        candidate: Uuid,
        fields: Vec<&'static str>,
    },
    CandidateErased {
        candidate: Uuid,
    },
    CompetencyCreated {
        competency: Uuid,
        name: String,
    },
    CompetencyUpdated {
        competency: Uuid,
        name: Option<String>,
        description_changed: bool,
        retired: Option<bool>,
    },
}

impl CatalogEvent {
    pub fn effects(self) -> Effects {
        let org = |action, subject: Uuid, payload: Value| {
            Effects::audit(Chain::Org, action, Some(subject.to_string()), payload)
        };
        match self {
            CatalogEvent::CandidateCreated { candidate } => {
                org(&CANDIDATE_CREATED, candidate, json!({}))
            }
            CatalogEvent::CandidateUpdated { candidate, fields } => {
                org(&CANDIDATE_UPDATED, candidate, json!({ "fields": fields }))
            }
            CatalogEvent::CandidateErased { candidate } => {
                org(&CANDIDATE_ERASED, candidate, json!({})).webhook(Payload::CandidateErased(
                    CandidateErasedData {
                        candidate_id: candidate,
                    },
                ))
            }
            CatalogEvent::CompetencyCreated { competency, name } => {
                org(&COMPETENCY_CREATED, competency, json!({ "name": name }))
            }
            CatalogEvent::CompetencyUpdated {
                competency,
                name,
                description_changed,
                retired,
            } => org(
                &COMPETENCY_UPDATED,
                competency,
                json!({ "name": name, "description_changed": description_changed, "retired": retired }),
            ),
        }
    }
}
