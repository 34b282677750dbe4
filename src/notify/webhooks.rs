//! Webhooks for HR tooling: events are queued in the outbox (kind
//! `webhook`, one row per subscribed webhook) in the same transaction as the
//! change, and the worker POSTs them, signed, with the same retries as mail.
//!
//! Payloads carry ids, times, outcomes and at most a content hash: like
//! mail, a webhook must not become a side channel around the independence
//! rules, nor keep an erased candidate's personal data.
//!
//! Signature: `X-BarRaiser-Signature: t={unix_ts},v1={hex}` where `hex` is
//! HMAC-SHA256 with the webhook's secret over `"{unix_ts}.{body}"`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::mailer::SendError;
use crate::db::models::OutboxRow;
use crate::db::outbox::Kind;
use crate::db::{self, Db, DbConn};
use crate::domain::types::Outcome;
use crate::error::AppResult;

/// What a webhook can subscribe to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum EventType {
    #[serde(rename = "loop.scheduled")]
    LoopScheduled,
    /// Ids, `sealed_at` and `content_sha256` only, never content.
    #[serde(rename = "feedback.sealed")]
    FeedbackSealed,
    #[serde(rename = "loop.ready_for_debrief")]
    LoopReadyForDebrief,
    #[serde(rename = "debrief.opened")]
    DebriefOpened,
    #[serde(rename = "decision.recorded")]
    DecisionRecorded,
    #[serde(rename = "decision.vetoed")]
    DecisionVetoed,
    /// The outcome is final: a `no_hire` decision, a concurred hire, a veto.
    #[serde(rename = "decision.final")]
    DecisionFinal,
    #[serde(rename = "candidate.erased")]
    CandidateErased,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::LoopScheduled,
        EventType::FeedbackSealed,
        EventType::LoopReadyForDebrief,
        EventType::DebriefOpened,
        EventType::DecisionRecorded,
        EventType::DecisionVetoed,
        EventType::DecisionFinal,
        EventType::CandidateErased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LoopScheduled => "loop.scheduled",
            EventType::FeedbackSealed => "feedback.sealed",
            EventType::LoopReadyForDebrief => "loop.ready_for_debrief",
            EventType::DebriefOpened => "debrief.opened",
            EventType::DecisionRecorded => "decision.recorded",
            EventType::DecisionVetoed => "decision.vetoed",
            EventType::DecisionFinal => "decision.final",
            EventType::CandidateErased => "candidate.erased",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The outbox `recipient` of a delivery to webhook `id`.
pub fn recipient(id: &str) -> String {
    format!("webhook:{id}")
}

/// Queues `event` for every live webhook subscribed to it, in the caller's
/// transaction. `data` names what happened (`loop_id`, `interview_id`, …);
/// the body is `{event, occurred_at, data}`. Each webhook gets an event
/// about one thing at most once.
pub fn emit(conn: &mut DbConn, event: EventType, data: serde_json::Value) -> AppResult<()> {
    let hooks = db::webhooks::live(conn)?;
    let str_of = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let loop_id = str_of("loop_id");
    let about = str_of("interview_id")
        .or_else(|| loop_id.clone())
        .or_else(|| str_of("candidate_id"));
    let body = serde_json::json!({
        "event": event,
        "occurred_at": crate::domain::audit::timestamp(db::now()),
        "data": data,
    })
    .to_string();
    for h in hooks.iter().filter(|h| {
        h.event_types
            .split_whitespace()
            .any(|e| e == event.as_str())
    }) {
        let key = about
            .as_ref()
            .map(|a| format!("webhook:{}:{}:{a}", h.id, event.as_str()));
        db::outbox::insert_kind(
            conn,
            Kind::Webhook,
            &recipient(&h.id),
            event.as_str(),
            &body,
            "",
            loop_id.as_deref(),
            key.as_deref(),
        )?;
    }
    Ok(())
}

/// `decision.final` for a loop whose outcome is now settled.
pub fn emit_final(
    conn: &mut DbConn,
    loop_id: &str,
    outcome: Outcome,
    vetoed: bool,
) -> AppResult<()> {
    emit(
        conn,
        EventType::DecisionFinal,
        serde_json::json!({"loop_id": loop_id, "outcome": outcome, "vetoed": vetoed}),
    )
}

/// The `X-BarRaiser-Signature` value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Loopback, private, link-local and unspecified addresses: targets that
/// would let a webhook reach inside the network the server runs in.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => private_v4(v4),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// The address a URL's host spells, if it is one (`[::1]` included).
fn literal_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

fn private_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
}

/// Checks a webhook target: http or https, a host, and unless
/// `allow_private`, not a loopback or private address nor `localhost`.
/// The message says why not.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, &'static str> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| "must be an absolute URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; the signature authenticates deliveries");
    }
    let host = parsed.host_str().ok_or("must name a host")?;
    let private = match literal_ip(host) {
        Some(ip) => is_private(ip),
        None => {
            let d = host.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err("must not point at a loopback or private address");
    }
    Ok(parsed)
}

/// POSTs webhook deliveries from the outbox.
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl WebhookSender {
    /// `timeout` bounds one whole request. Redirects are not followed: a
    /// redirect could lead past the address check.
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<WebhookSender> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("bar-raiser/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookSender {
            client,
            allow_private,
        })
    }

    /// Delivers one outbox row: 2xx is delivered; any other answer or a
    /// connection error is worth a retry; a deleted webhook or a refused
    /// target is not.
    pub async fn send(&self, db: &Db, row: &OutboxRow) -> Result<(), SendError> {
        let id = row
            .recipient
            .strip_prefix("webhook:")
            .ok_or_else(|| SendError::Unsendable("not a webhook recipient".into()))?
            .to_string();
        let hook = db
            .run(move |c| Ok(db::webhooks::live_by_id(c, &id)?))
            .await
            .map_err(|e| transient(format!("loading the webhook: {e}")))?
            .ok_or_else(|| SendError::Unsendable("the webhook was deleted".into()))?;
        let url = check_url(&hook.url, self.allow_private)
            .map_err(|m| SendError::Unsendable(format!("target URL {m}")))?;
        if !self.allow_private {
            self.check_resolved(&url).await?;
        }
        let ts = chrono::Utc::now().timestamp();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-BarRaiser-Event", &row.subject)
            .header("X-BarRaiser-Delivery", &row.id)
            .header(
                "X-BarRaiser-Signature",
                signature(&hook.secret, ts, &row.body_text),
            )
            .body(row.body_text.clone())
            .send()
            .await
            .map_err(|e| transient(format!("request failed: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(transient(format!("receiver answered HTTP {status}")))
        }
    }

    /// A host name may resolve to a private address even when it looks
    /// public: refuse those too. (The client resolves again when it
    /// connects; this narrows, not closes, a DNS-rebinding window.)
    async fn check_resolved(&self, url: &reqwest::Url) -> Result<(), SendError> {
        let Some(host) = url.host_str().filter(|h| literal_ip(h).is_none()) else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| transient(format!("resolving {host}: {e}")))?;
        for a in addrs {
            if is_private(a.ip()) {
                return Err(SendError::Unsendable(format!(
                    "{host} resolves to a private address"
                )));
            }
        }
        Ok(())
    }
}

fn transient(message: String) -> SendError {
    SendError::Failed {
        permanent: false,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(EventType::parse("loop.cancelled"), None);
    }

    #[test]
    fn signature_is_hmac_over_timestamp_dot_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"s3cret",b"1700000000.{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            signature("s3cret", 1_700_000_000, "{}"),
            "t=1700000000,v1=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
    }

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://127.1.2.3/",
            "http://[::1]/",
            "http://10.0.0.5/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
        ] {
            assert!(check_url(url, false).is_err(), "{url} accepted");
            assert!(check_url(url, true).is_ok(), "{url} refused when allowed");
        }
        for url in [
            "https://hooks.example.com/bar-raiser",
            "http://172.32.0.1/",
            "http://8.8.8.8/",
        ] {
            assert!(check_url(url, false).is_ok(), "{url} refused");
        }
    }

    #[test]
    fn only_http_urls_with_hosts() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com/hook",
            "https://user:pw@example.com/",
            "",
        ] {
            assert!(check_url(url, true).is_err(), "{url} accepted");
        }
    }
}
