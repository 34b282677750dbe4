//! One event mechanism. Everything a workflow changes is recorded as an
//! [`Event`]; [`record`] turns it, in the caller's transaction and from this
//! one place, into
//!
//! - its audit entry, appended to the loop's (or the organisation's) hash
//!   chain,
//! - its webhook deliveries, queued in the outbox for every subscriber,
//! - its mail, rendered and queued in the outbox.
//!
//! Each variant's [`Action`] declares which payload fields a reader of the
//! trail may see ([`Action::shows`]); the audit read path
//! ([`visible_payload`]) shows those and nothing else, and a unit test holds
//! every declaration to the visibility policy of rule 8 (ids, hashes, times,
//! outcomes, operators' reasons: never a vote or anything an interviewer
//! wrote). A handler cannot leak what its event does not declare, and an
//! event cannot declare what the policy forbids.
//!
//! The variants live by area, one file each; [`Event`] gathers them.

pub mod accounts;
pub mod catalog;
pub mod debrief;
pub mod feedback;
pub mod loops;
pub mod program;

use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::domain::proof;
use crate::error::AppResult;
use crate::notify::webhooks::{self, Payload};
use crate::notify::{self, LoopRef, Notice, Recipient};

/// An audit action: its name in the chain and what of its payload a reader
/// of the trail may see.
#[derive(Debug)]
pub struct Action {
    pub name: &'static str,
    /// The payload fields shown when the trail is read; the rest stays in
    /// the chain (it is hashed and verified) but is never served.
    pub shows: &'static [&'static str],
}

/// Which hash chain an entry goes to.
#[derive(Debug, Clone)]
pub enum Chain {
    /// The organisation's: users, competencies, candidates, tokens, webhooks.
    Org,
    /// A loop's own.
    Loop(Uuid),
}

impl Chain {
    pub fn key(&self) -> String {
        match self {
            Chain::Org => db::audit::ORG_CHAIN.to_string(),
            Chain::Loop(id) => id.to_string(),
        }
    }
}

/// The audit entry of an event.
#[derive(Debug)]
pub struct Entry {
    pub chain: Chain,
    pub action: &'static Action,
    pub subject: Option<String>,
    pub payload: Value,
}

/// Mail an event sends.
#[derive(Debug)]
pub enum Mail {
    /// About a loop; `once` makes it once-only per recipient.
    Loop {
        to: Vec<Recipient>,
        about: LoopRef,
        notice: Notice,
        once: Option<String>,
    },
    /// About the recipient's own interview, with its calendar invitation.
    Invite {
        to: Recipient,
        about: LoopRef,
        notice: Notice,
        invite: notify::invite::Invite,
    },
    /// About the recipient's own account.
    Personal { to: Vec<Recipient>, notice: Notice },
}

/// Everything one event does.
#[derive(Debug, Default)]
pub struct Effects {
    pub audit: Vec<Entry>,
    pub webhooks: Vec<Payload>,
    pub mail: Vec<Mail>,
}

impl Effects {
    pub fn audit(
        chain: Chain,
        action: &'static Action,
        subject: Option<String>,
        payload: Value,
    ) -> Self {
        Effects {
            audit: vec![Entry {
                chain,
                action,
                subject,
                payload,
            }],
            ..Effects::default()
        }
    }

    pub fn webhook(mut self, payload: Payload) -> Self {
        self.webhooks.push(payload);
        self
    }

    pub fn mail(mut self, mail: Mail) -> Self {
        self.mail.push(mail);
        self
    }
}

/// Every event the service records, by area.
#[derive(Debug)]
pub enum Event {
    Feedback(feedback::FeedbackEvent),
    Debrief(debrief::DebriefEvent),
    /// Boxed: its interview variants carry whole invitations.
    Loop(Box<loops::LoopEvent>),
    Account(accounts::AccountEvent),
    Catalog(catalog::CatalogEvent),
    Program(program::ProgramEvent),
}

impl Event {
    pub fn effects(self) -> Effects {
        match self {
            Event::Feedback(e) => e.effects(),
            Event::Debrief(e) => e.effects(),
            Event::Loop(e) => (*e).effects(),
            Event::Account(e) => e.effects(),
            Event::Catalog(e) => e.effects(),
            Event::Program(e) => e.effects(),
        }
    }
}

macro_rules! area {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Event {
            fn from(e: $ty) -> Event {
                Event::$variant(e)
            }
        }
    };
}
area!(Feedback, feedback::FeedbackEvent);
area!(Debrief, debrief::DebriefEvent);
area!(Account, accounts::AccountEvent);

impl From<loops::LoopEvent> for Event {
    fn from(e: loops::LoopEvent) -> Event {
        Event::Loop(Box::new(e))
    }
}
area!(Catalog, catalog::CatalogEvent);
area!(Program, program::ProgramEvent);

/// Who records, and where links in mail point.
#[derive(Debug, Clone)]
pub struct By {
    /// The person (or the admin a token acts for); `None` for the system.
    pub actor: Option<Uuid>,
    pub public_url: String,
}

/// Records `event` in the caller's transaction: its audit entries, its
/// webhooks and its mail. The only way anything reaches an audit chain.
pub fn record(conn: &mut DbConn, by: &By, event: impl Into<Event>) -> AppResult<()> {
    let effects = event.into().effects();
    for e in &effects.audit {
        db::audit::append(
            conn,
            &e.chain.key(),
            by.actor,
            e.action.name,
            e.subject.as_deref(),
            &e.payload,
        )?;
    }
    for payload in &effects.webhooks {
        webhooks::emit(conn, payload)?;
    }
    for m in effects.mail {
        match m {
            Mail::Loop {
                to,
                about,
                notice,
                once,
            } => notify::enqueue(conn, &by.public_url, &to, &about, &notice, once.as_deref())?,
            Mail::Invite {
                to,
                about,
                notice,
                invite,
            } => notify::enqueue_invite(conn, &by.public_url, &to, &about, &notice, &invite)?,
            Mail::Personal { to, notice } => {
                notify::enqueue_personal(conn, &by.public_url, &to, &notice)?
            }
        }
    }
    Ok(())
}

/// Every action any event records.
pub fn actions() -> impl Iterator<Item = &'static Action> {
    [
        feedback::ACTIONS,
        debrief::ACTIONS,
        loops::ACTIONS,
        accounts::ACTIONS,
        catalog::ACTIONS,
        program::ACTIONS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// What a reader of the trail sees of a recorded payload: the fields its
/// action declares. Of an action this version does not record (an older
/// version's), the fields the policy allows.
pub fn visible_payload(action: &str, payload: Value) -> Value {
    let declared = actions().find(|a| a.name == action).map(|a| a.shows);
    let shown = |field: &str| match declared {
        Some(shows) => shows.contains(&field),
        None => proof::may_show(field),
    };
    match payload {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(k, _)| shown(k)).collect()),
        _ => Value::Object(Default::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_field_is_one_the_policy_allows() {
        for a in actions() {
            for field in a.shows {
                assert!(
                    proof::may_show(field),
                    "{} declares `{field}`, which rule 8 forbids showing",
                    a.name
                );
            }
        }
    }

    #[test]
    fn action_names_are_unique() {
        let mut names: Vec<&str> = actions().map(|a| a.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "an action is declared twice");
    }

    #[test]
    fn the_trail_shows_only_what_the_action_declares() {
        let a = actions().next().expect("at least one action");
        let mut payload = serde_json::Map::new();
        payload.insert("vote".into(), Value::from("strong_hire"));
        for f in a.shows {
            payload.insert((*f).into(), Value::from("x"));
        }
        let shown = visible_payload(a.name, Value::Object(payload));
        assert!(shown.get("vote").is_none());
        assert_eq!(shown.as_object().map(|m| m.len()), Some(a.shows.len()));
        let legacy = serde_json::json!({"loop_id": "x", "vote": "strong_hire", "rationale": "r"});
        assert_eq!(
            visible_payload("older.action", legacy),
            serde_json::json!({"loop_id": "x"})
        );
    }
}
