//! The rules of the Bar Raiser process, as plain functions over plain types.
//!
//! Nothing here knows about HTTP or the database: handlers ask these
//! functions whether an actor may do something and what follows, then
//! persist the answer. Every rule is unit-tested in its module.

pub mod accounts;
pub mod addresses;
pub mod analytics;
pub mod audit;
pub mod candidates;
pub mod competencies;
pub mod composition;
pub mod debrief;
pub mod export;
pub mod feedback;
pub mod ical;
pub mod lifecycle;
pub mod loops;
pub mod oauth;
pub mod program;
pub mod progress;
pub mod proof;
pub mod quickvote;
pub mod reminders;
pub mod scim;
pub mod scopes;
pub mod signin;
pub mod sso;
pub mod types;
pub mod visibility;

pub use types::*;

/// One broken rule, with a stable code and the field or subject it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Violation {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why the domain said no. The error layer maps each kind to one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor may not do this at all (403).
    Forbidden(&'static str),
    /// The actor may, but not in the current state (409).
    Conflict { code: &'static str, detail: String },
    /// The state allows it but blocking items remain, each listed (409).
    Blocked {
        code: &'static str,
        detail: String,
        violations: Vec<Violation>,
    },
    /// The input breaks rules, every one listed (422).
    Invalid(Vec<Violation>),
}

impl Refusal {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Refusal::Conflict {
            code,
            detail: detail.into(),
        }
    }
}
