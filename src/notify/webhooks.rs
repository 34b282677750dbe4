//! Webhooks for HR tooling: events are queued in the outbox (kind
//! `webhook`, one row per subscribed webhook) in the same transaction as the
//! change, and the worker POSTs them, signed, with the same retries as mail.
//!
//! Payloads carry ids, times, outcomes and at most a content hash: like
//! mail, a webhook must not become a side channel around the independence
//! rules, nor keep an erased candidate's personal data.
//!
//! Deliveries follow the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>), so its libraries verify them:
//!
//! - the body is `{"type", "timestamp", "data"}`;
//! - `webhook-id` is the delivery's id, the same on every retry;
//! - `webhook-timestamp` is the attempt's time in Unix seconds;
//! - `webhook-signature` is a space-separated list of `v1,{base64}`, each
//!   the HMAC-SHA256 of `"{id}.{timestamp}.{body}"` under one key: the
//!   secret's, and during the grace period after a rotation, the previous
//!   secret's too;
//! - a secret is `whsec_` followed by the base64 of its key (32 random
//!   bytes when the server makes it).
//!
//! Webhooks whose secret predates this scheme (stored as `legacy:` + the
//! secret, whose text was the key) keep the old contract until their secret
//! is rotated: the `{"event", "occurred_at", "data"}` body and the
//! `X-BarRaiser-Delivery` and `X-BarRaiser-Signature` headers
//! (`t={unix_ts},v1={hex}`, HMAC-SHA256 over `"{unix_ts}.{body}"`), beside
//! the standard headers signed with the same key. Every delivery also says
//! its type in `X-BarRaiser-Event`, for routing without reading the body.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize, Serializer};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use super::mailer::SendError;
use crate::db::models::OutboxRow;
use crate::db::outbox::Kind;
use crate::db::webhooks::WebhookRow;
use crate::db::{self, Db, DbConn};
use crate::domain::{Outcome, accounts, addresses};
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
    #[serde(rename = "bar_raiser.enrolled")]
    BarRaiserEnrolled,
    #[serde(rename = "bar_raiser.certified")]
    BarRaiserCertified,
    #[serde(rename = "bar_raiser.lapsed")]
    BarRaiserLapsed,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::LoopScheduled,
        EventType::FeedbackSealed,
        EventType::LoopReadyForDebrief,
        EventType::DebriefOpened,
        EventType::DecisionRecorded,
        EventType::DecisionVetoed,
        EventType::DecisionFinal,
        EventType::CandidateErased,
        EventType::BarRaiserEnrolled,
        EventType::BarRaiserCertified,
        EventType::BarRaiserLapsed,
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
            EventType::BarRaiserEnrolled => "bar_raiser.enrolled",
            EventType::BarRaiserCertified => "bar_raiser.certified",
            EventType::BarRaiserLapsed => "bar_raiser.lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// When it is sent, for the OpenAPI `webhooks` section.
    pub fn description(self) -> &'static str {
        match self {
            EventType::LoopScheduled => {
                "A loop was scheduled: its composition passed and interviewers were told."
            }
            EventType::FeedbackSealed => {
                "An interviewer sealed their feedback. Ids, the seal time and the \
                 content's SHA-256 only: never a rating, a vote or a word of the content."
            }
            EventType::LoopReadyForDebrief => {
                "Every voting interview of the loop is sealed or excused: the Bar Raiser \
                 may open the debrief."
            }
            EventType::DebriefOpened => "The Bar Raiser opened the loop's debrief.",
            EventType::DecisionRecorded => "The hiring manager recorded the decision.",
            EventType::DecisionVetoed => "The Bar Raiser vetoed a hire decision.",
            EventType::DecisionFinal => {
                "The outcome is final: a `no_hire` decision, a hire the Bar Raiser \
                 concurred with, or a veto."
            }
            EventType::CandidateErased => {
                "A candidate's personal data was erased; drop what you keep about them."
            }
            EventType::BarRaiserEnrolled => {
                "A person entered Bar Raiser training (the program's `in_training`)."
            }
            EventType::BarRaiserCertified => {
                "A person became a certified Bar Raiser: certified after training, or \
                 re-activated by an admin after a lapse."
            }
            EventType::BarRaiserLapsed => {
                "A certified Bar Raiser lapsed: no loop served as Bar Raiser for the \
                 configured period."
            }
        }
    }

    /// The name of its `data` schema in the OpenAPI components.
    pub fn data_schema(self) -> &'static str {
        match self {
            EventType::LoopScheduled => "LoopScheduledData",
            EventType::FeedbackSealed => "FeedbackSealedData",
            EventType::LoopReadyForDebrief
            | EventType::DebriefOpened
            | EventType::DecisionVetoed => "LoopEventData",
            EventType::DecisionRecorded => "DecisionRecordedData",
            EventType::DecisionFinal => "DecisionFinalData",
            EventType::CandidateErased => "CandidateErasedData",
            EventType::BarRaiserEnrolled
            | EventType::BarRaiserCertified
            | EventType::BarRaiserLapsed => "BarRaiserProgramData",
        }
    }
}

fn audit_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::domain::audit::timestamp(*t))
}

/// `data` of `loop.scheduled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoopScheduledData {
    pub loop_id: Uuid,
    pub candidate_id: Uuid,
}

/// `data` of `feedback.sealed`: never the content, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedbackSealedData {
    pub loop_id: Uuid,
    pub interview_id: Uuid,
    #[serde(serialize_with = "audit_time")]
    pub sealed_at: DateTime<Utc>,
    /// The `content_sha256` receipt the sealing interviewer got.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub content_sha256: String,
}

/// `data` of `loop.ready_for_debrief`, `debrief.opened` and
/// `decision.vetoed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoopEventData {
    pub loop_id: Uuid,
}

/// `data` of `decision.recorded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionRecordedData {
    pub loop_id: Uuid,
    pub outcome: Outcome,
}

/// `data` of `decision.final`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionFinalData {
    pub loop_id: Uuid,
    /// `no_hire` after a veto.
    pub outcome: Outcome,
    pub vetoed: bool,
}

/// `data` of `candidate.erased`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CandidateErasedData {
    pub candidate_id: Uuid,
}

/// `data` of `bar_raiser.enrolled`, `.certified` and `.lapsed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BarRaiserProgramData {
    /// This transition's own id: a person certified again after a lapse is
    /// a new event, not a repeat.
    pub transition_id: Uuid,
    pub user_id: Uuid,
    /// The program state the person is in now.
    pub state: crate::domain::ProgramState,
    /// The mentor, when the person has one.
    pub mentor_id: Option<Uuid>,
}

/// What happened, as one delivery tells it: its type and its `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    LoopScheduled(LoopScheduledData),
    FeedbackSealed(FeedbackSealedData),
    LoopReadyForDebrief(LoopEventData),
    DebriefOpened(LoopEventData),
    DecisionRecorded(DecisionRecordedData),
    DecisionVetoed(LoopEventData),
    DecisionFinal(DecisionFinalData),
    CandidateErased(CandidateErasedData),
    BarRaiserEnrolled(BarRaiserProgramData),
    BarRaiserCertified(BarRaiserProgramData),
    BarRaiserLapsed(BarRaiserProgramData),
}

impl Payload {
    pub fn event_type(&self) -> EventType {
        match self {
            Payload::LoopScheduled(_) => EventType::LoopScheduled,
            Payload::FeedbackSealed(_) => EventType::FeedbackSealed,
            Payload::LoopReadyForDebrief(_) => EventType::LoopReadyForDebrief,
            Payload::DebriefOpened(_) => EventType::DebriefOpened,
            Payload::DecisionRecorded(_) => EventType::DecisionRecorded,
            Payload::DecisionVetoed(_) => EventType::DecisionVetoed,
            Payload::DecisionFinal(_) => EventType::DecisionFinal,
            Payload::CandidateErased(_) => EventType::CandidateErased,
            Payload::BarRaiserEnrolled(_) => EventType::BarRaiserEnrolled,
            Payload::BarRaiserCertified(_) => EventType::BarRaiserCertified,
            Payload::BarRaiserLapsed(_) => EventType::BarRaiserLapsed,
        }
    }

    /// The body's `data`.
    pub fn data(&self) -> serde_json::Value {
        let v = match self {
            Payload::LoopScheduled(d) => serde_json::to_value(d),
            Payload::FeedbackSealed(d) => serde_json::to_value(d),
            Payload::LoopReadyForDebrief(d)
            | Payload::DebriefOpened(d)
            | Payload::DecisionVetoed(d) => serde_json::to_value(d),
            Payload::DecisionRecorded(d) => serde_json::to_value(d),
            Payload::DecisionFinal(d) => serde_json::to_value(d),
            Payload::CandidateErased(d) => serde_json::to_value(d),
            Payload::BarRaiserEnrolled(d)
            | Payload::BarRaiserCertified(d)
            | Payload::BarRaiserLapsed(d) => serde_json::to_value(d),
        };
        v.expect("plain structs serialize")
    }

    /// The thing it is about, so each webhook hears of it once.
    fn about(&self) -> Uuid {
        match self {
            Payload::LoopScheduled(d) => d.loop_id,
            Payload::FeedbackSealed(d) => d.interview_id,
            Payload::LoopReadyForDebrief(d)
            | Payload::DebriefOpened(d)
            | Payload::DecisionVetoed(d) => d.loop_id,
            Payload::DecisionRecorded(d) => d.loop_id,
            Payload::DecisionFinal(d) => d.loop_id,
            Payload::CandidateErased(d) => d.candidate_id,
            Payload::BarRaiserEnrolled(d)
            | Payload::BarRaiserCertified(d)
            | Payload::BarRaiserLapsed(d) => d.transition_id,
        }
    }

    fn loop_id(&self) -> Option<Uuid> {
        match self {
            Payload::LoopScheduled(d) => Some(d.loop_id),
            Payload::FeedbackSealed(d) => Some(d.loop_id),
            Payload::LoopReadyForDebrief(d)
            | Payload::DebriefOpened(d)
            | Payload::DecisionVetoed(d) => Some(d.loop_id),
            Payload::DecisionRecorded(d) => Some(d.loop_id),
            Payload::DecisionFinal(d) => Some(d.loop_id),
            Payload::CandidateErased(_)
            | Payload::BarRaiserEnrolled(_)
            | Payload::BarRaiserCertified(_)
            | Payload::BarRaiserLapsed(_) => None,
        }
    }

    /// The body a webhook gets: the Standard Webhooks shape, or the shape
    /// from before it for a webhook still on a legacy secret.
    pub fn body(&self, occurred_at: DateTime<Utc>, legacy: bool) -> String {
        let (kind, time) = if legacy {
            ("event", "occurred_at")
        } else {
            ("type", "timestamp")
        };
        let mut body = serde_json::Map::new();
        body.insert(kind.into(), self.event_type().as_str().into());
        body.insert(
            time.into(),
            crate::domain::audit::timestamp(occurred_at).into(),
        );
        body.insert("data".into(), self.data());
        serde_json::Value::Object(body).to_string()
    }
}

/// The outbox `recipient` of a delivery to webhook `id`.
pub fn recipient(id: impl std::fmt::Display) -> String {
    format!("webhook:{id}")
}

/// How a secret from before Standard Webhooks is stored: this prefix and
/// the secret, whose UTF-8 text was the HMAC key.
pub const LEGACY_PREFIX: &str = "legacy:";

/// The key a stored secret signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningKey {
    /// `whsec_` + base64: the decoded bytes.
    Standard(Vec<u8>),
    /// A secret from before Standard Webhooks: its text.
    Legacy(String),
}

impl SigningKey {
    /// The key of a stored secret. One that is neither `legacy:` nor a
    /// standard secret (none is written so) is treated as legacy, which is
    /// how it signed before.
    pub fn from_stored(stored: &str) -> SigningKey {
        if let Some(text) = stored.strip_prefix(LEGACY_PREFIX) {
            return SigningKey::Legacy(text.to_string());
        }
        match accounts::webhook_secret_key(stored) {
            Some(key) => SigningKey::Standard(key),
            None => SigningKey::Legacy(stored.to_string()),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            SigningKey::Standard(k) => k,
            SigningKey::Legacy(text) => text.as_bytes(),
        }
    }

    pub fn is_legacy(&self) -> bool {
        matches!(self, SigningKey::Legacy(_))
    }
}

/// A fresh secret: `whsec_` + the base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{}{}", accounts::WEBHOOK_SECRET_PREFIX, BASE64.encode(key))
}

/// The keys that sign a delivery to `hook` at `now`: its secret's, then
/// the previous secret's until that expires.
pub fn signing_keys(hook: &WebhookRow, now: NaiveDateTime) -> Vec<SigningKey> {
    let mut keys = vec![SigningKey::from_stored(&hook.secret)];
    if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_secret_expires_at)
        && now < until
    {
        keys.push(SigningKey::from_stored(previous));
    }
    keys
}

/// Queues `payload` for every live webhook subscribed to its type, in the
/// caller's transaction. Each webhook gets an event about one thing at most
/// once.
pub fn emit(conn: &mut DbConn, payload: &Payload) -> AppResult<()> {
    let event = payload.event_type();
    let hooks = db::webhooks::live(conn)?;
    let occurred_at = db::now();
    let loop_id = payload.loop_id().map(|l| l.to_string());
    let about = payload.about();
    for h in hooks.iter().filter(|h| {
        h.event_types
            .split_whitespace()
            .any(|e| e == event.as_str())
    }) {
        let legacy = SigningKey::from_stored(&h.secret).is_legacy();
        let key = format!("webhook:{}:{}:{about}", h.id, event.as_str());
        db::outbox::insert_kind(
            conn,
            Kind::Webhook,
            &recipient(h.id),
            event.as_str(),
            &payload.body(occurred_at, legacy),
            "",
            loop_id.as_deref(),
            Some(&key),
        )?;
    }
    Ok(())
}

/// One `v1,{base64}` signature of the Standard Webhooks scheme: HMAC-SHA256
/// under `key` of `"{msg_id}.{timestamp}.{body}"`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` value: one signature per key, space-separated.
pub fn signature_header(keys: &[SigningKey], msg_id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|k| sign(k.bytes(), msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The legacy `X-BarRaiser-Signature` value for `body` sent at `timestamp`.
pub fn legacy_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A refused webhook target: a stable code and, for people, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRefusal {
    /// `invalid_url`, or `target_not_global` for an address outside global
    /// unicast (`src/domain/addresses.rs`).
    pub code: &'static str,
    pub message: String,
}

impl TargetRefusal {
    fn invalid(message: &str) -> TargetRefusal {
        TargetRefusal {
            code: "invalid_url",
            message: message.to_string(),
        }
    }

    fn not_global(message: String) -> TargetRefusal {
        TargetRefusal {
            code: "target_not_global",
            message,
        }
    }
}

impl std::fmt::Display for TargetRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The URL's host as an address, when it spells one (`[::1]`, and any
/// form the URL parser normalises, like `http://2130706433/`).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// `localhost` and its subdomains (RFC 6761 §6.3): loopback by definition,
/// whatever a resolver says.
fn is_localhost_name(url: &reqwest::Url) -> bool {
    if literal_ip(url).is_some() {
        return false;
    }
    let d = url
        .host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// The shape of a target: an absolute http or https URL with a host and no
/// credentials. Says nothing about where the host is.
fn parse_target(url: &str) -> Result<reqwest::Url, TargetRefusal> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|_| TargetRefusal::invalid("must be an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetRefusal::invalid("must be an http or https URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetRefusal::invalid(
            "must not carry credentials; the signature authenticates deliveries",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TargetRefusal::invalid("must name a host"));
    }
    Ok(parsed)
}

/// A literal address in the URL must be global unicast.
fn vet_literal(url: &reqwest::Url) -> Result<(), TargetRefusal> {
    match literal_ip(url).map(addresses::vet) {
        Some(Err(refused)) => Err(TargetRefusal::not_global(format!(
            "must point at a public address: {refused}"
        ))),
        _ => Ok(()),
    }
}

/// Checks a webhook target without resolving it: http or https, a host,
/// and unless `allow_private`, neither a literal address outside global
/// unicast nor `localhost`. Registration also resolves the host
/// ([`resolve_public`]); delivery connects only through [`PublicResolver`].
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, TargetRefusal> {
    let parsed = parse_target(url)?;
    if !allow_private {
        vet_literal(&parsed)?;
        if is_localhost_name(&parsed) {
            return Err(TargetRefusal::not_global(
                "must point at a public address: localhost is loopback".into(),
            ));
        }
    }
    Ok(parsed)
}

/// Why a host name gave no address to connect to.
#[derive(Debug)]
pub enum ResolveError {
    /// The lookup itself failed (no such name, no resolver): worth a retry.
    Lookup { host: String, error: std::io::Error },
    /// Every address the name has is refused: the first one says why.
    NothingPublic {
        host: String,
        refused: Vec<addresses::Refused>,
    },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Lookup { host, error } => write!(f, "resolving {host}: {error}"),
            ResolveError::NothingPublic { host, refused } => {
                write!(f, "{host} resolves only to refused addresses")?;
                for (i, r) in refused.iter().enumerate() {
                    write!(f, "{}{r}", if i == 0 { ": " } else { "; " })?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// The addresses among `addrs` that may be connected to; an error naming
/// each refused one when none may.
pub fn keep_public(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for a in addrs {
        match addresses::vet(a.ip()) {
            Ok(()) => kept.push(a),
            Err(r) if !refused.contains(&r) => refused.push(r),
            Err(_) => {}
        }
    }
    if kept.is_empty() {
        return Err(ResolveError::NothingPublic {
            host: host.to_string(),
            refused,
        });
    }
    Ok(kept)
}

/// Resolves `host` and keeps only its global unicast addresses.
pub async fn resolve_public(host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| ResolveError::Lookup {
            host: host.to_string(),
            error,
        })?;
    keep_public(host, addrs)
}

/// The webhook client's only resolver: the addresses it hands the client
/// are the ones it vetted, so the address checked is the address connected
/// to (no second lookup for DNS rebinding to slip into). Literal addresses
/// never reach a resolver; [`WebhookSender::send`] vets those itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the client puts the URL's port on what it gets back.
            let addrs = resolve_public(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// POSTs webhook deliveries from the outbox.
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl WebhookSender {
    /// `timeout` bounds one whole request. Redirects are not followed (a
    /// redirect could lead past the address check), no proxy from the
    /// environment is used (the proxy, not this server, would pick the
    /// address), and unless `allow_private` every host name is resolved by
    /// [`PublicResolver`].
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<WebhookSender> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("bar-raiser/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicResolver));
        }
        Ok(WebhookSender {
            client: builder.build()?,
            allow_private,
        })
    }

    /// Delivers one outbox row: 2xx is delivered; any other answer or a
    /// connection error is worth a retry; a deleted webhook or a refused
    /// target is not.
    pub async fn send(&self, db: &Db, row: &OutboxRow) -> Result<(), SendError> {
        let id: db::WebhookId = row
            .recipient
            .strip_prefix("webhook:")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| SendError::Unsendable("not a webhook recipient".into()))?;
        let hook = db
            .run(move |c| Ok(db::webhooks::live_by_id(c, id)?))
            .await
            .map_err(|e| transient(format!("loading the webhook: {e}")))?
            .ok_or_else(|| SendError::Unsendable("the webhook was deleted".into()))?;
        // Names are judged by what they resolve to, in PublicResolver.
        let url = parse_target(&hook.url)
            .and_then(|u| {
                if self.allow_private {
                    Ok(u)
                } else {
                    vet_literal(&u).map(|()| u)
                }
            })
            .map_err(|m| SendError::Unsendable(format!("target URL {m}")))?;
        let now = chrono::Utc::now();
        let ts = now.timestamp();
        let keys = signing_keys(&hook, now.naive_utc());
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &row.id)
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                signature_header(&keys, &row.id, ts, &row.body_text),
            )
            .header("X-BarRaiser-Event", &row.subject);
        if let SigningKey::Legacy(secret) = &keys[0] {
            request = request.header("X-BarRaiser-Delivery", &row.id).header(
                "X-BarRaiser-Signature",
                legacy_signature(secret, ts, &row.body_text),
            );
        }
        let response = request
            .body(row.body_text.clone())
            .send()
            .await
            .map_err(request_failed)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(transient(format!("receiver answered HTTP {status}")))
        }
    }
}

/// A failed request; a host with no public address is not retried, and the
/// recorded error says which addresses were refused.
fn request_failed(e: reqwest::Error) -> SendError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        match err.downcast_ref::<ResolveError>() {
            Some(refused @ ResolveError::NothingPublic { .. }) => {
                return SendError::Unsendable(format!("target {refused}"));
            }
            Some(lookup @ ResolveError::Lookup { .. }) => {
                return transient(lookup.to_string());
            }
            None => source = err.source(),
        }
    }
    transient(format!("request failed: {e}"))
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
    fn legacy_signature_is_hmac_over_timestamp_dot_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"s3cret",b"1700000000.{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            legacy_signature("s3cret", 1_700_000_000, "{}"),
            "t=1700000000,v1=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
    }

    #[test]
    fn standard_signature_is_base64_hmac_over_id_dot_timestamp_dot_body() {
        // The specification's example secret and message, signed by the
        // reference library (standardwebhooks 1.1.0 from PyPI):
        //   Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").sign(
        //     "msg_p5jXN8AQM9LWM0D4loKWxJek",
        //     datetime.fromtimestamp(1614265330, tz=timezone.utc), body)
        let key = accounts::webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn stored_secrets_sign_with_their_key() {
        let standard = generate_secret();
        assert!(standard.starts_with("whsec_"), "{standard}");
        let SigningKey::Standard(key) = SigningKey::from_stored(&standard) else {
            panic!("{standard} is not standard");
        };
        assert_eq!(key.len(), 32);
        assert_ne!(generate_secret(), standard);
        // Made before this scheme: the text is the key, whatever its shape.
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let legacy = SigningKey::from_stored(&format!("{LEGACY_PREFIX}{old}"));
        assert_eq!(legacy, SigningKey::Legacy(old.into()));
        assert_eq!(legacy.bytes(), old.as_bytes());
        assert!(SigningKey::from_stored("a-shared-secret-of-some-length").is_legacy());
    }

    #[test]
    fn the_previous_secret_signs_until_it_expires() {
        let now = Utc::now().naive_utc();
        let mut hook = WebhookRow {
            id: Uuid::from_u128(1).into(),
            url: "https://x.example".into(),
            event_types: "loop.scheduled".into(),
            secret: generate_secret(),
            created_by: Uuid::from_u128(2).into(),
            created_at: now,
            deleted_at: None,
            previous_secret: Some(format!("{LEGACY_PREFIX}old-secret-text")),
            previous_secret_expires_at: Some(now + chrono::Duration::seconds(1)),
            secret_rotated_at: Some(now),
        };
        let keys = signing_keys(&hook, now);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1], SigningKey::Legacy("old-secret-text".into()));
        let header = signature_header(&keys, "msg", 1, "{}");
        assert_eq!(header.split(' ').count(), 2, "{header}");
        assert!(header.split(' ').all(|s| s.starts_with("v1,")));
        assert_eq!(
            signing_keys(&hook, now + chrono::Duration::seconds(1)).len(),
            1
        );
        hook.previous_secret_expires_at = None;
        assert_eq!(signing_keys(&hook, now).len(), 1);
    }

    #[test]
    fn bodies_follow_the_standard_shape_unless_legacy() {
        let p = Payload::DecisionFinal(DecisionFinalData {
            loop_id: Uuid::from_u128(1),
            outcome: Outcome::NoHire,
            vetoed: true,
        });
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 12, 0, 0).unwrap();
        let body: serde_json::Value = serde_json::from_str(&p.body(at, false)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "decision.final",
                "timestamp": "2026-11-30T12:00:00.000000Z",
                "data": {"loop_id": Uuid::from_u128(1), "outcome": "no_hire", "vetoed": true},
            })
        );
        let old: serde_json::Value = serde_json::from_str(&p.body(at, true)).unwrap();
        assert_eq!(old["event"], "decision.final");
        assert_eq!(old["occurred_at"], "2026-11-30T12:00:00.000000Z");
        assert_eq!(old["data"], body["data"]);
        for e in EventType::ALL {
            assert!(!e.description().is_empty() && !e.data_schema().is_empty());
        }
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
    fn literal_addresses_outside_global_unicast_are_refused_with_a_code() {
        for url in [
            "http://100.64.0.1/",
            "http://198.18.0.1/",
            "http://0.1.2.3/",
            "http://255.255.255.255/",
            "http://224.0.0.1/",
            "http://[::127.0.0.1]/",
            "http://[::a9fe:a9fe]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            // Spellings the URL parser turns into 127.0.0.1.
            "http://2130706433/",
            "http://0x7f.1/",
        ] {
            let refused = check_url(url, false).expect_err(url);
            assert_eq!(refused.code, "target_not_global", "{url}");
            assert!(check_url(url, true).is_ok(), "{url} refused when allowed");
        }
        assert_eq!(
            check_url("http://[64:ff9b::a9fe:a9fe]/", false)
                .unwrap_err()
                .message,
            "must point at a public address: 64:ff9b::a9fe:a9fe embeds 169.254.169.254, \
             which is Link Local (169.254.0.0/16, RFC 3927)"
        );
        for url in [
            "http://[2606:4700:4700::1111]/",
            "https://[2002:808:808::1]:8443/",
        ] {
            assert!(check_url(url, false).is_ok(), "{url} refused");
        }
    }

    #[test]
    fn only_public_resolved_addresses_are_kept() {
        let sa = |s: &str| -> SocketAddr { s.parse().unwrap() };
        assert_eq!(
            keep_public(
                "mixed.example",
                [
                    sa("127.0.0.1:0"),
                    sa("8.8.8.8:0"),
                    sa("[::1]:0"),
                    sa("[2606:4700::1]:0")
                ]
            )
            .unwrap(),
            [sa("8.8.8.8:0"), sa("[2606:4700::1]:0")]
        );
        let none = keep_public(
            "inside.example",
            [sa("10.0.0.1:0"), sa("169.254.169.254:0"), sa("10.0.0.1:0")],
        )
        .unwrap_err();
        assert_eq!(
            none.to_string(),
            "inside.example resolves only to refused addresses: \
             10.0.0.1 is Private-Use (10.0.0.0/8, RFC 1918); \
             169.254.169.254 is Link Local (169.254.0.0/16, RFC 3927)"
        );
    }

    #[tokio::test]
    async fn the_client_resolver_hands_out_no_loopback_address() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let Err(e) = PublicResolver.resolve(name).await else {
            panic!("localhost resolved to a permitted address");
        };
        let e = e.downcast::<ResolveError>().expect("a ResolveError");
        assert!(matches!(*e, ResolveError::NothingPublic { .. }), "{e}");
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
            let refused = check_url(url, true).expect_err(url);
            assert_eq!(refused.code, "invalid_url", "{url}");
        }
    }
}
