//! Workflows: one function per command or query of the service. Each takes
//! typed input and the actor, runs its one transaction (through
//! [`crate::db::Db`]), asks [`crate::domain`] what the rules allow, records
//! what happened through [`crate::events`], and returns a typed outcome.
//!
//! The HTTP handlers in [`crate::api`] parse, authenticate, call one
//! workflow and map its outcome to a response; the CLI, the demo, the
//! seeder, the worker and provisioning call the same functions. Nothing here
//! knows HTTP: no actix types, no status codes beyond [`crate::error`]'s.
//! The input and output shapes (with their OpenAPI schemas) are declared
//! beside the workflow that takes or returns them.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod candidates;
pub mod competencies;
pub mod debrief;
pub mod feedback;
pub mod integral;
pub mod interviews;
pub mod loops;
pub mod metrics;
pub mod oauth;
pub mod pagination;
pub mod preconditions;
pub mod program;
pub mod scim;
pub mod scorecards;
pub mod sso;
pub mod tokens;
pub mod users;
pub mod views;
pub mod webhooks;

pub use crate::app::AppState;
/// Who acts: a signed-in person, or a service token acting for an admin.
pub use crate::auth::AuthUser as Actor;
use crate::events::By;

impl Actor {
    /// The actor as recorded on the events of `state`'s service.
    pub fn by(&self, state: &AppState) -> By {
        By {
            actor: Some(self.id.into()),
            public_url: state.config.public_url.clone(),
        }
    }
}
