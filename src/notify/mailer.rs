//! Turns an outbox row into a MIME message and hands it to lettre: over SMTP
//! when `BAR_RAISER_SMTP_URL` is set, else as an `.eml` file in the mail
//! directory, so a fresh install loses nothing and shows what it would send.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::models::OutboxRow;

/// The `Message-ID` of an outbox message: the same on every attempt, so a
/// retry after an unclear failure is recognisable downstream.
pub fn message_id(outbox_id: &str) -> String {
    format!("<{outbox_id}@bar-raiser>")
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The message cannot be built (e.g. an unparsable address): no retry
    /// will change that.
    Unsendable(String),
    /// The transport failed; `permanent` when the server said 5xx.
    Failed { permanent: bool, message: String },
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Unsendable(m) => write!(f, "unsendable: {m}"),
            SendError::Failed {
                permanent: true,
                message,
            } => write!(f, "permanent: {message}"),
            SendError::Failed { message, .. } => write!(f, "transient: {message}"),
        }
    }
}

enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        shown_as: String,
    },
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    send_timeout: Duration,
}

impl Mailer {
    /// SMTP when `smtp_url` is given (lettre's URL form), else files in
    /// `mail_dir`, created if missing. `send_timeout` bounds one whole
    /// delivery, connection included.
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        mail_dir: &Path,
        send_timeout: Duration,
    ) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("BAR_RAISER_MAIL_FROM {from:?} is not a mail address"))?;
        let transport = match smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let shown_as = crate::db::redact(url);
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .with_context(|| format!("BAR_RAISER_SMTP_URL {shown_as} is not usable"))?
                    .timeout(Some(send_timeout))
                    .build();
                Transport::Smtp {
                    transport,
                    shown_as,
                }
            }
            None => {
                std::fs::create_dir_all(mail_dir).with_context(|| {
                    format!("cannot create the mail directory {}", mail_dir.display())
                })?;
                Transport::Files {
                    transport: AsyncFileTransport::new(mail_dir),
                    dir: mail_dir.to_path_buf(),
                }
            }
        };
        Ok(Mailer {
            transport,
            from,
            send_timeout,
        })
    }

    /// Where mail goes, for the log (no credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp { shown_as, .. } => format!("SMTP {shown_as}"),
            Transport::Files { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    /// Delivers one outbox message.
    pub async fn send(&self, row: &OutboxRow) -> Result<(), SendError> {
        let message = compose(&self.from, row).map_err(SendError::Unsendable)?;
        let sent = match &self.transport {
            Transport::Smtp { transport, .. } => {
                tokio::time::timeout(self.send_timeout, transport.send(message))
                    .await
                    .map(|r| {
                        r.map(drop).map_err(|e| SendError::Failed {
                            permanent: e.is_permanent(),
                            message: one_line(&e.to_string()),
                        })
                    })
            }
            Transport::Files { transport, .. } => {
                tokio::time::timeout(self.send_timeout, transport.send(message))
                    .await
                    .map(|r| {
                        r.map(drop).map_err(|e| SendError::Failed {
                            permanent: false,
                            message: one_line(&e.to_string()),
                        })
                    })
            }
        };
        sent.unwrap_or_else(|_| {
            Err(SendError::Failed {
                permanent: false,
                message: format!("no answer within {:?}", self.send_timeout),
            })
        })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The MIME message for an outbox row: plain text and HTML alternatives,
/// a stable `Message-ID`. A row with a calendar invitation (RFC 6047) is
/// `multipart/mixed`: the alternatives plus `text/calendar; method=…`,
/// then the same object as the attachment `invite.ics`.
pub fn compose(from: &Mailbox, row: &OutboxRow) -> Result<Message, String> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| format!("recipient {:?}: {e}", row.recipient))?;
    let filled = super::templates::fill(row);
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(filled.subject)
        .message_id(Some(message_id(&row.id)));
    let body = match &row.calendar {
        None => MultiPart::alternative_plain_html(filled.text, filled.html),
        Some(json) => {
            let (method, ics) = calendar(from, row, json)?;
            let inline = ContentType::parse(&format!(
                "text/calendar; method={}; charset=UTF-8",
                method.as_str()
            ))
            .map_err(|e| e.to_string())?;
            let attached = ContentType::parse(&format!(
                "application/ics; method={}; name=\"invite.ics\"",
                method.as_str()
            ))
            .map_err(|e| e.to_string())?;
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(filled.text))
                        .singlepart(SinglePart::html(filled.html))
                        .singlepart(SinglePart::builder().header(inline).body(ics.clone())),
                )
                .singlepart(Attachment::new("invite.ics".to_string()).body(ics, attached))
        }
    };
    builder.multipart(body).map_err(|e| e.to_string())
}

/// The iCalendar object of a row's invitation, naming the row's candidate,
/// stamped when the row was queued (the same on every attempt).
fn calendar(
    from: &Mailbox,
    row: &OutboxRow,
    json: &str,
) -> Result<(crate::domain::ical::Method, String), String> {
    let stored: super::invite::Stored =
        serde_json::from_str(json).map_err(|e| format!("calendar invitation: {e}"))?;
    let sender = crate::domain::ical::Party {
        email: from.email.to_string(),
        name: from.name.clone().unwrap_or_else(|| "bar-raiser".into()),
    };
    let candidate = row.candidate_name.as_deref().unwrap_or_default();
    super::invite::render(
        &stored,
        candidate,
        crate::db::from_db(row.created_at),
        &sender,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recipient: &str) -> OutboxRow {
        let at = chrono::Utc::now().naive_utc();
        OutboxRow {
            id: "0190e0b2-0000-7000-8000-000000000001".into(),
            kind: crate::db::outbox::Kind::Email,
            dedupe_key: None,
            recipient: recipient.into(),
            subject: "Feedback due soon: Jo — Engineer".into(),
            body_text: "Hello,\n\nplain\n".into(),
            body_html: "<p>html</p>".into(),
            loop_id: None,
            status: crate::db::outbox::Status::Pending,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            created_at: at,
            delivered_at: None,
            candidate_name: None,
            calendar: None,
        }
    }

    #[test]
    fn messages_carry_a_stable_id_and_both_bodies() {
        let from: Mailbox = "Bar Raiser <br@example.com>".parse().unwrap();
        let raw = String::from_utf8(compose(&from, &row("ann@example.com")).unwrap().formatted())
            .unwrap();
        assert!(
            raw.contains("Message-ID: <0190e0b2-0000-7000-8000-000000000001@bar-raiser>"),
            "{raw}"
        );
        assert!(raw.contains("To: ann@example.com"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
    }

    #[test]
    fn a_bad_recipient_is_unsendable_not_retried() {
        let from: Mailbox = "br@example.com".parse().unwrap();
        assert!(compose(&from, &row("not an address")).is_err());
    }

    #[test]
    fn configuration_errors_name_the_setting_without_secrets() {
        let dir = std::env::temp_dir();
        let e = Mailer::new(None, "nobody", &dir, Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("BAR_RAISER_MAIL_FROM"));
        let e = Mailer::new(
            Some("ftp://user:hunter2@mail.example.com"),
            "a@example.com",
            &dir,
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        let shown = format!("{e:#}");
        assert!(shown.contains("BAR_RAISER_SMTP_URL"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
