//! The tamper-evident audit chain: each event's hash covers the previous
//! event's hash and the event's own canonical JSON, so editing, deleting or
//! reordering any stored event breaks verification from that event on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::feedback::sha256_hex;

/// The `prev_hash` of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Timestamps inside hashed content: RFC 3339, UTC, microseconds (what both
/// databases store exactly).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub chain: String,
    pub seq: i32,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub subject_id: Option<String>,
    /// JSON text, hashed as stored.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Canonical<'a> {
    action: &'a str,
    actor_id: Option<String>,
    chain: &'a str,
    created_at: String,
    id: String,
    payload: &'a str,
    seq: i32,
    subject_id: Option<&'a str>,
}

/// The hash an event must carry, given the previous hash.
pub fn event_hash(prev_hash: &str, e: &Event) -> String {
    let canonical = Canonical {
        action: &e.action,
        actor_id: e.actor_id.map(|a| a.to_string()),
        chain: &e.chain,
        created_at: timestamp(e.created_at),
        id: e.id.to_string(),
        payload: &e.payload,
        seq: e.seq,
        subject_id: e.subject_id.as_deref(),
    };
    let json = serde_json::to_string(&canonical).expect("plain struct serialises");
    sha256_hex(&format!("{prev_hash}{json}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub valid: bool,
    pub events_checked: usize,
    /// The first event that fails, when one does.
    pub first_invalid_event: Option<Uuid>,
    /// Sequence number where the chain breaks.
    pub first_invalid_seq: Option<i32>,
    pub reason: Option<String>,
}

/// Verifies `events` (ordered by `seq`) against the chain's head
/// (`last_seq`, `last_hash`), which catches a deleted tail too.
pub fn verify(events: &[Event], head: (i32, &str)) -> Verification {
    let mut prev = GENESIS.to_string();
    for (n, e) in events.iter().enumerate() {
        let expected_seq = n as i32 + 1;
        let fail = |reason: String| Verification {
            valid: false,
            events_checked: n + 1,
            first_invalid_event: Some(e.id),
            first_invalid_seq: Some(expected_seq),
            reason: Some(reason),
        };
        if e.seq != expected_seq {
            return fail(format!("event {expected_seq} is missing"));
        }
        if e.prev_hash != prev {
            return fail("previous-hash link broken".into());
        }
        if event_hash(&prev, e) != e.hash {
            return fail("content does not match its hash".into());
        }
        prev = e.hash.clone();
    }
    let (last_seq, last_hash) = head;
    if last_seq != events.len() as i32 || last_hash != prev {
        return Verification {
            valid: false,
            events_checked: events.len(),
            first_invalid_event: None,
            first_invalid_seq: Some(events.len() as i32 + 1),
            reason: Some(format!(
                "chain head says {last_seq} events, {} found",
                events.len()
            )),
        };
    }
    Verification {
        valid: true,
        events_checked: events.len(),
        first_invalid_event: None,
        first_invalid_seq: None,
        reason: None,
    }
}

/// Who may read and verify a loop's trail, among those who see the loop:
/// admins, the loop's recruiter and its Bar Raiser.
pub fn may_audit(admin: bool, recruiter: bool, bar_raiser: bool) -> Result<(), &'static str> {
    if admin || recruiter || bar_raiser {
        Ok(())
    } else {
        Err("not_loop_auditor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn auditors_are_admins_the_recruiter_and_the_bar_raiser() {
        let cases = [
            ((true, false, false), true),
            ((false, true, false), true),
            ((false, false, true), true),
            ((true, true, true), true),
            ((false, false, false), false),
        ];
        for ((admin, recruiter, bar_raiser), allowed) in cases {
            assert_eq!(
                may_audit(admin, recruiter, bar_raiser).is_ok(),
                allowed,
                "{admin} {recruiter} {bar_raiser}"
            );
        }
        assert_eq!(may_audit(false, false, false), Err("not_loop_auditor"));
    }

    fn chain(n: i32) -> Vec<Event> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = Event {
                    id: Uuid::from_u128(seq as u128),
                    chain: "loop-1".into(),
                    seq,
                    actor_id: Some(Uuid::from_u128(99)),
                    action: "feedback.sealed".into(),
                    subject_id: Some("x".into()),
                    payload: format!(r#"{{"n":{seq}}}"#),
                    created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, seq as u32).unwrap(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = event_hash(&prev, &e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(events: &[Event]) -> (i32, String) {
        (
            events.len() as i32,
            events
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or(GENESIS.into()),
        )
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(5);
        let (s, h) = head(&events);
        let v = verify(&events, (s, &h));
        assert!(v.valid);
        assert_eq!(v.events_checked, 5);
        assert!(verify(&[], (0, GENESIS)).valid);
    }

    #[test]
    fn an_edit_is_caught_at_that_event() {
        let mut events = chain(5);
        let (s, h) = head(&events);
        events[2].payload = r#"{"n":42}"#.into();
        let v = verify(&events, (s, &h));
        assert!(!v.valid);
        assert_eq!(v.first_invalid_event, Some(events[2].id));
        assert_eq!(v.first_invalid_seq, Some(3));
    }

    #[test]
    fn a_deletion_is_caught_in_the_middle_and_at_the_tail() {
        let events = chain(5);
        let (s, h) = head(&events);
        let mut middle = events.clone();
        middle.remove(1);
        let v = verify(&middle, (s, &h));
        assert!(!v.valid);
        assert_eq!(v.first_invalid_seq, Some(2));
        let tail = &events[..4];
        let v = verify(tail, (s, &h));
        assert!(!v.valid);
        assert_eq!(v.first_invalid_seq, Some(5));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut events = chain(3);
        let (s, h) = head(&events);
        events[0].payload = "{}".into();
        events[0].hash = event_hash(GENESIS, &events[0]);
        let v = verify(&events, (s, &h));
        assert_eq!(v.first_invalid_seq, Some(2));
    }
}
