//! Calendar invitations: the interviewer's mail about an interview carries
//! it as an iTIP (RFC 5546) `REQUEST` or `CANCEL` over iMIP (RFC 6047).
//!
//! An event hands over an [`Invite`]; [`stored`] turns it into the
//! structured [`Stored`] form kept in the outbox row's `calendar` column:
//! the candidate's name is not in it, only in the row's `candidate_name`,
//! so erasure rewrites exactly that field. [`render`] writes the iCalendar
//! text at send time with the name filled in.
//!
//! The UID is `interview-<id>@<host of the public URL>`, the same for
//! every message about one interview, whoever holds it; SEQUENCE is the
//! interview's `calendar_sequence`, raised on every change its interviewer
//! is told of and on cancellation. DTSTAMP is when the message was queued.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{LoopRef, Recipient};
use crate::domain::ical::{self, Method, Party};

/// What an event says about one interview's calendar entry.
#[derive(Debug, Clone)]
pub struct Invite {
    pub method: Method,
    pub interview_id: Uuid,
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    /// The loop's recruiter; the sender's address when unknown.
    pub organizer: Option<Recipient>,
    /// The competencies' names.
    pub competencies: Vec<String>,
}

/// An invitation as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// `REQUEST` or `CANCEL`.
    pub method: String,
    pub uid: String,
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub organizer: Option<StoredParty>,
    pub attendee: StoredParty,
    pub position: String,
    pub competencies: Vec<String>,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredParty {
    pub email: String,
    pub name: String,
}

impl From<&Recipient> for StoredParty {
    fn from(r: &Recipient) -> StoredParty {
        StoredParty {
            email: r.email.clone(),
            name: r.name.clone(),
        }
    }
}

impl From<&StoredParty> for Party {
    fn from(p: &StoredParty) -> Party {
        Party {
            email: p.email.clone(),
            name: p.name.clone(),
        }
    }
}

/// The UID of an interview's calendar entry.
pub fn uid(public_url: &str, interview_id: Uuid) -> String {
    let host = reqwest::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "bar-raiser".to_string());
    format!("interview-{interview_id}@{host}")
}

/// The invitation to `to` about `about`, as the outbox keeps it.
pub fn stored(public_url: &str, to: &Recipient, about: &LoopRef, invite: &Invite) -> Stored {
    let base = public_url.trim_end_matches('/');
    let minutes = i64::from(invite.duration_minutes.max(1));
    Stored {
        method: invite.method.as_str().to_string(),
        uid: uid(public_url, invite.interview_id),
        sequence: invite.sequence,
        starts_at: invite.starts_at,
        ends_at: invite.starts_at + chrono::Duration::minutes(minutes),
        organizer: invite.organizer.as_ref().map(StoredParty::from),
        attendee: StoredParty::from(to),
        position: about.position.clone(),
        competencies: invite.competencies.clone(),
        url: format!("{base}/api/v1/interviews/{}/feedback", invite.interview_id),
    }
}

impl Stored {
    pub fn method(&self) -> Result<Method, String> {
        match self.method.as_str() {
            "REQUEST" => Ok(Method::Request),
            "CANCEL" => Ok(Method::Cancel),
            other => Err(format!("unknown calendar method {other:?}")),
        }
    }
}

/// The iCalendar object of a stored invitation, naming `candidate`,
/// stamped `stamp`; `sender` organizes it when the recruiter is unknown.
/// Names, times, position and competencies: never feedback.
pub fn render(
    s: &Stored,
    candidate: &str,
    stamp: DateTime<Utc>,
    sender: &Party,
) -> Result<(Method, String), String> {
    let method = s.method()?;
    let summary = format!("Interview: {candidate} — {}", s.position);
    let description = match method {
        Method::Request => {
            let mut lines = vec![format!(
                "You are interviewing {candidate} for {}.",
                s.position
            )];
            if !s.competencies.is_empty() {
                lines.push(format!("Your competencies: {}.", s.competencies.join(", ")));
            }
            lines
                .push("Write your feedback alone and seal it before reading anyone else's.".into());
            lines.push(s.url.clone());
            lines.join("\n")
        }
        Method::Cancel => format!(
            "This interview with {candidate} for {} is cancelled or no longer yours.",
            s.position
        ),
    };
    let event = ical::Event {
        uid: s.uid.clone(),
        sequence: s.sequence,
        stamp,
        start: s.starts_at,
        end: s.ends_at,
        organizer: s
            .organizer
            .as_ref()
            .map_or_else(|| sender.clone(), Party::from),
        attendee: Party::from(&s.attendee),
        summary,
        description,
        url: Some(s.url.clone()),
    };
    Ok((method, ical::calendar(method, &event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(method: Method) -> Invite {
        Invite {
            method,
            interview_id: Uuid::from_u128(9),
            sequence: 3,
            starts_at: DateTime::parse_from_rfc3339("2026-12-01T09:30:00+01:00")
                .unwrap()
                .with_timezone(&Utc),
            duration_minutes: 45,
            organizer: None,
            competencies: vec!["Dive Deep".into(), "Ownership".into()],
        }
    }

    #[test]
    fn the_uid_names_the_interview_and_the_public_host() {
        let id = Uuid::from_u128(9);
        assert_eq!(
            uid("https://hire.example.com:8443/base/", id),
            format!("interview-{id}@hire.example.com")
        );
        assert_eq!(uid("not a url", id), format!("interview-{id}@bar-raiser"));
    }

    #[test]
    fn the_name_is_filled_in_at_send_time_only() {
        let to = Recipient {
            email: "ivy@example.com".into(),
            name: "Ivy".into(),
        };
        let about = LoopRef {
            id: Uuid::from_u128(1),
            candidate: "Jo Doe".into(),
            position: "Engineer".into(),
        };
        let s = stored(
            "https://hire.example.com",
            &to,
            &about,
            &invite(Method::Request),
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("Jo Doe"), "{json}");
        assert_eq!(s.ends_at - s.starts_at, chrono::Duration::minutes(45));
        let sender = Party {
            email: "br@example.com".into(),
            name: "bar-raiser".into(),
        };
        let (method, ics) = render(&s, "Jo Doe", Utc::now(), &sender).unwrap();
        assert_eq!(method, Method::Request);
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("SUMMARY:Interview: Jo Doe — Engineer"),
            "{ics}"
        );
        assert!(unfolded.contains("DTSTART:20261201T083000Z"), "{ics}");
        assert!(unfolded.contains("DTEND:20261201T091500Z"), "{ics}");
        assert!(unfolded.contains("SEQUENCE:3"), "{ics}");
        assert!(unfolded.contains(":mailto:br@example.com"), "{ics}");
        let (_, erased) = render(&s, "Erased candidate", Utc::now(), &sender).unwrap();
        assert!(!erased.contains("Jo Doe"), "{erased}");
        let c = stored(
            "https://hire.example.com",
            &to,
            &about,
            &invite(Method::Cancel),
        );
        let (method, ics) = render(&c, "Jo Doe", Utc::now(), &sender).unwrap();
        assert_eq!(method, Method::Cancel);
        assert!(ics.contains("STATUS:CANCELLED"), "{ics}");
    }
}
