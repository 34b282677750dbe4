//! Webhooks end to end: a receiver on loopback in this process gets every
//! event of a loop, signed by the Standard Webhooks scheme; a failing
//! receiver gets each event once after it recovers, under one `webhook-id`;
//! a rotated secret signs beside the new one until its grace period ends; a
//! secret from before the scheme keeps its old contract until rotated; who
//! may register webhooks and where they may point. (`tests/webhooks/run.sh`
//! verifies real deliveries with the reference Python library.)

use bar_raiser::db::outbox::{Kind as OutboxKind, Status as OutboxStatus};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bar_raiser::notify::worker;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::both_backends;
use crate::helpers::*;

/// Runs a test body on SQLite and on PostgreSQL, as two tests, with
/// webhooks to loopback allowed and a quick worker: the receiver lives on
/// 127.0.0.1.
macro_rules! with_loopback_webhooks {
    ($name:ident, $body:path) => {
        with_loopback_webhooks!($name, $body, Duration::from_secs(24 * 3600));
    };
    ($name:ident, $body:path, $grace:expr) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let mail = tempfile::tempdir().unwrap();
                if let Some(app) = spawn_with_grace(Backend::Sqlite, &mail, $grace).await {
                    $body(app).await;
                }
            }
            #[actix_web::test]
            #[cfg_attr(
                not(test_postgres),
                ignore = "PostgreSQL: set BAR_RAISER_TEST_POSTGRES_URL to a server where the user may create databases"
            )]
            async fn postgres() {
                let mail = tempfile::tempdir().unwrap();
                if let Some(app) = spawn_with_grace(Backend::Postgres, &mail, $grace).await {
                    $body(app).await;
                }
            }
        }
    };
}

async fn spawn_with_grace(
    backend: Backend,
    mail: &tempfile::TempDir,
    grace: Duration,
) -> Option<TestApp> {
    let dir = mail.path().to_path_buf();
    TestApp::spawn_with(backend, move |c| {
        c.webhook_allow_private = true;
        c.webhook_secret_grace = grace;
        c.mail_dir = dir;
        c.worker.poll_interval = Duration::from_millis(50);
        c.worker.retry_base = Duration::from_millis(100);
    })
    .await
}

/// One request as the receiver saw it, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    event: String,
    /// The Standard Webhooks headers.
    id: String,
    timestamp: String,
    signature: String,
    /// The legacy headers, empty when absent.
    legacy_delivery: String,
    legacy_signature: String,
    body: String,
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Answer 500 to this many requests before answering 204.
    fail_next: u32,
}

/// A webhook receiver on 127.0.0.1:0 that records every request.
struct Receiver {
    url: String,
    log: Arc<Mutex<Log>>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start(fail_first: u32) -> Receiver {
        let log = Arc::new(Mutex::new(Log {
            requests: Vec::new(),
            fail_next: fail_first,
        }));
        let shared = web::Data::from(log.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(record))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/bar-raiser"),
            log,
            server: handle,
        }
    }

    fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().requests.clone()
    }

    fn delivered(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.answered < 300)
            .collect()
    }

    /// Waits until `n` requests were answered 2xx.
    async fn until_delivered(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.delivered();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} deliveries arrived: {:#?}",
                got.len(),
                self.requests()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(req: HttpRequest, body: web::Bytes, log: web::Data<Mutex<Log>>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut log = log.lock().unwrap();
    let answered = if log.fail_next > 0 {
        log.fail_next -= 1;
        500
    } else {
        204
    };
    log.requests.push(Received {
        event: header("x-barraiser-event"),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        legacy_delivery: header("x-barraiser-delivery"),
        legacy_signature: header("x-barraiser-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

/// The key of a Standard Webhooks secret: the base64 after `whsec_`.
fn key_of(secret: &str) -> Vec<u8> {
    BASE64
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64 after whsec_")
}

/// Verifies a delivery by the Standard Webhooks scheme under `key`, as the
/// reference libraries do without the clock check (tests compare against
/// recorded requests): one `v1,` signature of `{id}.{timestamp}.{body}`
/// must match.
fn verifies_with_key(key: &[u8], r: &Received, body: &str) -> bool {
    r.signature.split(' ').any(|sig| {
        let Some(b64) = sig.strip_prefix("v1,") else {
            return false;
        };
        let Ok(given) = BASE64.decode(b64) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{}.{}.{body}", r.id, r.timestamp).as_bytes());
        mac.verify_slice(&given).is_ok()
    })
}

fn verifies(secret: &str, r: &Received) -> bool {
    verifies_with_key(&key_of(secret), r, &r.body)
}

/// Verifies the legacy `X-BarRaiser-Signature` (`t=…,v1=<hex>` over
/// `{t}.{body}`, the secret's text as the key).
fn legacy_verifies(secret: &str, r: &Received) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in r.legacy_signature.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Ok(given) = hex::decode(v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", r.body).as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The specification's example secret (24 bytes).
const GIVEN_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Another well-formed secret.
const OTHER_SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u";

async fn register(app: &TestApp, s: &Session, url: &str, events: &[&str]) -> (String, String) {
    let (status, body) = app
        .post(
            "/webhooks",
            s,
            json!({"url": url, "event_types": events, "secret": GIVEN_SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["webhook"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

const ALL_EVENTS: [&str; 8] = [
    "loop.scheduled",
    "feedback.sealed",
    "loop.ready_for_debrief",
    "debrief.opened",
    "decision.recorded",
    "decision.vetoed",
    "decision.final",
    "candidate.erased",
];

async fn every_event_of_a_loop_arrives_signed(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let setup = app.draft_loop().await;
    let cast = &setup.cast;
    let (_, secret) = register(&app, &cast.admin, &receiver.url, &ALL_EVENTS).await;
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");

    let (status, body) = app.post(&lp("/schedule"), &cast.recruiter, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let (status, body) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "Strong delivery throughout."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rationale = "Below the bar on Ownership and Dive Deep in three of five interviews; the hire would lower the bar.";
    let (status, body) = app
        .post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": rationale}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .delete(
            &format!("/candidates/{}", setup.candidate_id),
            &cast.recruiter,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let voters = cast.voters().len();
    let got = receiver.until_delivered(7 + voters).await;
    worker.shutdown().await;

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &got {
        *counts.entry(r.event.as_str()).or_default() += 1;
        assert!(verifies(&secret, r), "bad signature: {r:?}");
        assert_eq!(r.signature.split(' ').count(), 1, "one key: {r:?}");
        assert!(r.timestamp.parse::<i64>().is_ok(), "{r:?}");
        assert!(
            r.legacy_signature.is_empty() && r.legacy_delivery.is_empty(),
            "no legacy headers for a standard secret: {r:?}"
        );
        let body = r.json();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["data", "timestamp", "type"], "{body}");
        assert_eq!(body["type"], r.event.as_str());
        assert!(body["timestamp"].is_string(), "{body}");
    }
    let expected: BTreeMap<&str, usize> = ALL_EVENTS
        .iter()
        .map(|e| (*e, if *e == "feedback.sealed" { voters } else { 1 }))
        .collect();
    assert_eq!(counts, expected);
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "webhook-id is unique per event");

    let one = |event: &str| got.iter().find(|r| r.event == event).unwrap().json();
    let loop_id = setup.loop_id.to_string();
    let sealed = one("feedback.sealed");
    assert_eq!(sealed["data"]["loop_id"], loop_id.as_str());
    assert!(sealed["data"]["content_sha256"].is_string());
    let data_keys: Vec<&String> = sealed["data"].as_object().unwrap().keys().collect();
    assert_eq!(
        data_keys,
        ["content_sha256", "interview_id", "loop_id", "sealed_at"],
        "no feedback content in a webhook"
    );
    assert_eq!(
        one("decision.final")["data"],
        json!({"loop_id": loop_id, "outcome": "no_hire", "vetoed": true})
    );
    assert_eq!(
        one("candidate.erased")["data"],
        json!({"candidate_id": setup.candidate_id.to_string()})
    );
    // Nothing personal travels: no address in any body.
    assert!(got.iter().all(|r| !r.body.contains('@')));

    // A tampered body, id or timestamp, or another secret, fails.
    let r = &got[0];
    let tampered = r.body.replacen("loop", "l00p", 1);
    assert_ne!(tampered, r.body);
    assert!(!verifies_with_key(&key_of(&secret), r, &tampered));
    let mut moved = r.clone();
    moved.timestamp = (r.timestamp.parse::<i64>().unwrap() + 1).to_string();
    assert!(!verifies(&secret, &moved));
    let mut renamed = r.clone();
    renamed.id = got[1].id.clone();
    assert!(!verifies(&secret, &renamed));
    assert!(!verifies(OTHER_SECRET, r));
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(full_loop, every_event_of_a_loop_arrives_signed);

async fn a_failing_receiver_gets_each_event_once(app: TestApp) {
    let receiver = Receiver::start(3).await;
    let setup = app.draft_loop().await;
    let cast = &setup.cast;
    let (_, secret) = register(
        &app,
        &cast.admin,
        &receiver.url,
        &[
            "loop.scheduled",
            "feedback.sealed",
            "loop.ready_for_debrief",
        ],
    )
    .await;
    let (status, body) = app
        .post(
            &format!("/loops/{}/schedule", setup.loop_id),
            &cast.recruiter,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "strong_hire")
            .await;
    }
    let expected = 2 + cast.voters().len();
    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");
    let got = receiver.until_delivered(expected).await;
    // Give a duplicate the chance to show up before stopping.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    worker.shutdown().await;

    let all = receiver.requests();
    assert_eq!(all.iter().filter(|r| r.answered == 500).count(), 3);
    let got_again = receiver.delivered();
    assert_eq!(
        got_again.len(),
        expected,
        "each event exactly once: {all:#?}"
    );
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected);
    // The failed attempts were retried under the same webhook-id, with the
    // same body, each attempt signed for its own timestamp.
    for failed in all.iter().filter(|r| r.answered == 500) {
        assert!(
            got.iter()
                .any(|r| r.id == failed.id && r.body == failed.body),
            "{failed:?} never delivered"
        );
        assert!(verifies(&secret, failed), "{failed:?}");
    }
    assert!(got.iter().all(|r| verifies(&secret, r)));
    let rows = app
        .state
        .db
        .run(|c| {
            Ok(bar_raiser::db::outbox::list(
                c,
                &[
                    bar_raiser::db::outbox::Status::Pending,
                    bar_raiser::db::outbox::Status::Delivered,
                    bar_raiser::db::outbox::Status::Dead,
                ],
                10_000,
            )?)
        })
        .await
        .unwrap();
    let hooks: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == OutboxKind::Webhook)
        .collect();
    assert_eq!(hooks.len(), expected);
    assert!(
        hooks.iter().all(|r| r.status == OutboxStatus::Delivered),
        "{hooks:#?}"
    );
    assert_eq!(
        hooks.iter().map(|r| r.attempts).sum::<i32>() as usize,
        expected + 3
    );
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(failing_receiver, a_failing_receiver_gets_each_event_once);

async fn who_may_register_and_where(app: TestApp) {
    let admin = app.admin().await;
    let member = app.user("Mo Member", "member", false).await;
    let recruiter = app.user("Rae Recruiter", "recruiter", false).await;
    let public = "https://hooks.example.com/bar-raiser";

    // Loopback and private targets are refused without the server's flag.
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/",
    ] {
        let got = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": url, "event_types": ["loop.scheduled"]}),
            )
            .await;
        assert_problem(&got, 422, "validation_failed");
        assert_eq!(got.1["errors"][0]["field"], "url", "{url}");
    }
    assert_problem(
        &app.post(
            "/webhooks",
            &admin,
            json!({"url": "ftp://example.com/", "event_types": ["loop.scheduled"]}),
        )
        .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            "/webhooks",
            &admin,
            json!({"url": public, "event_types": []}),
        )
        .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            "/webhooks",
            &admin,
            json!({"url": public, "event_types": ["loop.exploded"]}),
        )
        .await,
        422,
        "invalid_body",
    );
    assert_problem(
        &app.post(
            "/webhooks",
            &admin,
            json!({"url": public, "event_types": ["loop.scheduled"], "secret": "short"}),
        )
        .await,
        422,
        "validation_failed",
    );

    // People other than admins may not manage webhooks.
    for s in [&member, &recruiter] {
        assert_problem(
            &app.post(
                "/webhooks",
                s,
                json!({"url": public, "event_types": ["loop.scheduled"]}),
            )
            .await,
            403,
            "admin_only",
        );
        assert_problem(&app.get("/webhooks", s).await, 403, "admin_only");
    }

    // A secret not in the Standard Webhooks form is refused.
    for secret in [
        "a-shared-secret-of-some-length",
        "whsec_c2hvcnQ=",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw_Z7xHs3TdkQ",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        let got = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": public, "event_types": ["loop.scheduled"], "secret": secret}),
            )
            .await;
        assert_problem(&got, 422, "validation_failed");
        assert_eq!(got.1["errors"][0]["field"], "secret", "{secret}");
    }

    // An admin: the generated secret is shown once, never listed.
    let (status, created) = app
        .post(
            "/webhooks",
            &admin,
            json!({"url": public, "event_types": ["decision.final", "loop.scheduled", "decision.final"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(key_of(secret).len(), 32, "{secret}");
    assert_eq!(created["webhook"]["legacy_secret"], false);
    assert_eq!(
        created["webhook"]["event_types"],
        json!(["loop.scheduled", "decision.final"])
    );
    let id = created["webhook"]["id"].as_str().unwrap();
    let (status, list) = app.get("/webhooks", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    let (status, one) = app.get(&format!("/webhooks/{id}"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["url"], public);
    assert!(one.get("secret").is_none());

    // Service tokens: only with webhooks:manage.
    let (status, t) = app
        .post(
            "/tokens",
            &admin,
            json!({"name": "reader", "scopes": ["loops:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let without = t["secret"].as_str().unwrap().to_string();
    let (status, t) = app
        .post(
            "/tokens",
            &admin,
            json!({"name": "hooks", "scopes": ["webhooks:manage"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let with = t["secret"].as_str().unwrap().to_string();
    let body = json!({"url": public, "event_types": ["candidate.erased"]});
    for (method, path, body) in [
        (Method::POST, "/webhooks".to_string(), Some(body.clone())),
        (Method::GET, "/webhooks".to_string(), None),
        (Method::GET, format!("/webhooks/{id}"), None),
        (Method::DELETE, format!("/webhooks/{id}"), None),
    ] {
        assert_problem(
            &app.call(method, &path, Some(&without), body).await,
            403,
            "insufficient_scope",
        );
    }
    let (status, made) = app
        .call(Method::POST, "/webhooks", Some(&with), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/webhooks/{id}"),
            Some(&with),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_problem(
        &app.get(&format!("/webhooks/{id}"), &admin).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.delete(&format!("/webhooks/{id}"), &admin).await,
        404,
        "not_found",
    );
    let (_, list) = app.get("/webhooks", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
both_backends!(registration, who_may_register_and_where);

/// This machine's own name: not `localhost`, yet it resolves to a loopback
/// or private address through /etc/hosts on the machines tests run on.
fn own_host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the kernel's host name")
        .trim()
        .to_string();
    let addrs: Vec<std::net::IpAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(&*name, 80))
        .map(|a| a.map(|a| a.ip()).collect())
        .unwrap_or_default();
    assert!(
        !addrs.is_empty()
            && addrs
                .iter()
                .all(|ip| !bar_raiser::domain::addresses::is_global(*ip)),
        "test precondition: {name} resolves only to non-public addresses ({addrs:?})"
    );
    name
}

async fn targets_outside_global_unicast_are_refused(app: TestApp) {
    let admin = app.admin().await;
    let own = own_host_name();
    for url in [
        // The examples of issue 14, each accepted before.
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
        // Teredo, documentation, benchmarking, unique-local, NAT64 local use.
        "http://[2001:0:808:808::80ff:fffe]/",
        "http://[2001:db8::1]/",
        "http://192.0.2.1/",
        "http://[fd00::1]/",
        "http://[64:ff9b:1::a:b]/",
        // Spelled as a number: still 127.0.0.1.
        "http://2130706433:9000/",
        "http://localhost/hook",
        // A name that resolves only to a refused address.
        &format!("http://{own}:9000/hook"),
    ] {
        let got = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": url, "event_types": ["loop.scheduled"]}),
            )
            .await;
        assert_problem(&got, 422, "validation_failed");
        let errors = got.1["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{url}: {errors:?}");
        assert_eq!(errors[0]["field"], "url", "{url}");
        assert_eq!(errors[0]["code"], "target_not_global", "{url}: {errors:?}");
    }
    let got = app
        .post(
            "/webhooks",
            &admin,
            json!({"url": format!("http://{own}/"), "event_types": ["loop.scheduled"]}),
        )
        .await;
    let message = got.1["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("{own} resolves only to refused addresses")),
        "{message}"
    );
    let got = app
        .post(
            "/webhooks",
            &admin,
            json!({"url": "gopher://example.com/", "event_types": ["loop.scheduled"]}),
        )
        .await;
    assert_problem(&got, 422, "validation_failed");
    assert_eq!(got.1["errors"][0]["code"], "invalid_url");
    // Public addresses, literal or wrapped, and names that do not resolve
    // here (delivery resolves them again) are accepted.
    for url in [
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://[64:ff9b::808:808]/hook",
        "https://[2002:808:808::1]/hook",
        "https://hooks.example.com/bar-raiser",
    ] {
        let (status, body) = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": url, "event_types": ["loop.scheduled"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{url}: {body}");
    }
}
both_backends!(refused_targets, targets_outside_global_unicast_are_refused);

/// Waits until the only webhook delivery in the outbox is settled.
async fn settled_webhook_row(app: &TestApp) -> bar_raiser::db::models::OutboxRow {
    use bar_raiser::db::outbox::{self, Status};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = app
            .state
            .db
            .run(|c| {
                Ok(outbox::list(
                    c,
                    &[Status::Pending, Status::Delivered, Status::Dead],
                    1000,
                )?)
            })
            .await
            .unwrap();
        let hooks: Vec<_> = rows
            .into_iter()
            .filter(|r| r.kind == OutboxKind::Webhook)
            .collect();
        assert_eq!(hooks.len(), 1, "{hooks:#?}");
        if hooks[0].status != OutboxStatus::Pending {
            return hooks[0].clone();
        }
        assert!(Instant::now() < deadline, "never settled: {hooks:#?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_name_resolving_to_loopback_is_never_connected_to(app: TestApp) {
    // Registered while loopback was allowed (the app under test allows it);
    // the worker below runs with the default: loopback refused.
    let receiver = Receiver::start(0).await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let url = format!("http://localhost:{port}/hooks/bar-raiser");
    let setup = app.draft_loop().await;
    let cast = &setup.cast;
    register(&app, &cast.admin, &url, &["loop.scheduled"]).await;
    let (status, body) = app
        .post(
            &format!("/loops/{}/schedule", setup.loop_id),
            &cast.recruiter,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut strict = app.state.config.clone();
    strict.webhook_allow_private = false;
    let worker = worker::start(app.state.db.clone(), &strict).expect("worker");
    let row = settled_webhook_row(&app).await;
    worker.shutdown().await;
    assert_eq!(row.status, OutboxStatus::Dead, "{row:#?}");
    assert_eq!(row.attempts, 1, "a refused target is not retried");
    let error = row.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("localhost resolves only to refused addresses: ")
            && error.contains(" is Loopback"),
        "{error}"
    );
    assert!(receiver.requests().is_empty(), "{:#?}", receiver.requests());

    // The receiver was reachable all along: requeued, the same delivery
    // arrives once loopback is allowed again.
    let id = row.id.clone();
    app.state
        .db
        .run(move |c| Ok(bar_raiser::db::outbox::requeue_dead(c, Some(&[id]))?))
        .await
        .unwrap();
    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");
    let got = receiver.until_delivered(1).await;
    worker.shutdown().await;
    assert_eq!(got[0].id, row.id);
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(
    loopback_never_connected,
    a_name_resolving_to_loopback_is_never_connected_to
);

/// Erases a fresh candidate: one `candidate.erased` for every subscriber.
async fn erase_one(app: &TestApp, recruiter: &Session) {
    let id = app.candidate(recruiter, "Erasable Person").await;
    let (status, body) = app.delete(&format!("/candidates/{id}"), recruiter).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn rotate(app: &TestApp, admin: &Session, id: &str) -> (String, Value) {
    let (status, body) = app
        .post(&format!("/webhooks/{id}/rotate-secret"), admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (body["secret"].as_str().unwrap().to_string(), body)
}

async fn a_rotated_secret_signs_beside_the_new_one(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let admin = app.admin().await;
    let recruiter = app.user("Rae Recruiter", "recruiter", false).await;
    let (id, first) = register(&app, &admin, &receiver.url, &["candidate.erased"]).await;
    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");
    erase_one(&app, &recruiter).await;
    let got = receiver.until_delivered(1).await;
    assert_eq!(got[0].signature.split(' ').count(), 1, "{:?}", got[0]);
    assert!(verifies(&first, &got[0]));

    // Only admins rotate; an unknown webhook is 404.
    assert_problem(
        &app.post(
            &format!("/webhooks/{id}/rotate-secret"),
            &recruiter,
            json!({}),
        )
        .await,
        403,
        "admin_only",
    );
    assert_problem(
        &app.post(
            &format!("/webhooks/{}/rotate-secret", uuid::Uuid::new_v4()),
            &admin,
            json!({}),
        )
        .await,
        404,
        "not_found",
    );

    let (second, rotated) = rotate(&app, &admin, &id).await;
    assert_ne!(second, first);
    assert_eq!(key_of(&second).len(), 32, "{second}");
    let hook = &rotated["webhook"];
    assert_eq!(hook["id"], id.as_str());
    assert_eq!(hook["legacy_secret"], false);
    let rotated_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(hook["secret_rotated_at"].clone()).unwrap();
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(hook["previous_secret_expires_at"].clone()).unwrap();
    assert_eq!(until - rotated_at, chrono::Duration::hours(24), "{hook}");
    // The new secret is never shown again.
    let (_, one) = app.get(&format!("/webhooks/{id}"), &admin).await;
    assert!(!one.to_string().contains(&second));
    assert_eq!(
        one["previous_secret_expires_at"],
        hook["previous_secret_expires_at"]
    );

    // Within the grace period both secrets sign, the new one first.
    erase_one(&app, &recruiter).await;
    let got = receiver.until_delivered(2).await;
    let r = &got[1];
    let sigs: Vec<&str> = r.signature.split(' ').collect();
    assert_eq!(sigs.len(), 2, "{r:?}");
    assert!(verifies(&second, r), "the new secret: {r:?}");
    assert!(verifies(&first, r), "the previous secret: {r:?}");
    let only = |n: usize| Received {
        signature: sigs[n].to_string(),
        ..r.clone()
    };
    assert!(verifies(&second, &only(0)) && !verifies(&first, &only(0)));
    assert!(verifies(&first, &only(1)) && !verifies(&second, &only(1)));

    // Rotating again drops the first secret at once.
    let (third, _) = rotate(&app, &admin, &id).await;
    erase_one(&app, &recruiter).await;
    let got = receiver.until_delivered(3).await;
    worker.shutdown().await;
    let r = &got[2];
    assert!(verifies(&third, r) && verifies(&second, r), "{r:?}");
    assert!(!verifies(&first, r), "{r:?}");
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(rotation, a_rotated_secret_signs_beside_the_new_one);

async fn the_previous_secret_stops_after_its_grace(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let admin = app.admin().await;
    let recruiter = app.user("Rae Recruiter", "recruiter", false).await;
    let (id, first) = register(&app, &admin, &receiver.url, &["candidate.erased"]).await;
    let (second, rotated) = rotate(&app, &admin, &id).await;
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(rotated["webhook"]["previous_secret_expires_at"].clone()).unwrap();
    // Wait out the grace period (one second here), then cause a delivery.
    while chrono::Utc::now() <= until {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    erase_one(&app, &recruiter).await;
    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");
    let got = receiver.until_delivered(1).await;
    worker.shutdown().await;
    let r = &got[0];
    assert_eq!(r.signature.split(' ').count(), 1, "{r:?}");
    assert!(verifies(&second, r), "{r:?}");
    assert!(
        !verifies(&first, r),
        "the expired secret still signs: {r:?}"
    );
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(
    grace_expiry,
    the_previous_secret_stops_after_its_grace,
    Duration::from_secs(1)
);

/// Puts the webhooks table back as it was before Standard Webhooks (the
/// migration reverted), adds a webhook the old way, and migrates again.
async fn a_webhook_from_before(app: &TestApp, url: &str, secret: &str, by: uuid::Uuid) -> String {
    use diesel::RunQueryDsl;
    let id = uuid::Uuid::new_v4().to_string();
    let (url, secret, key) = (url.to_string(), secret.to_string(), id.clone());
    app.remigrate_from("20261130001900", move |conn| {
        diesel::sql_query(format!(
            "INSERT INTO webhooks (id, url, event_types, secret, created_by, created_at) \
             VALUES ('{key}', '{url}', 'candidate.erased', '{secret}', '{by}', '2026-11-30 12:00:00')"
        ))
        .execute(conn)
        .unwrap();
    })
    .await;
    id
}

async fn a_secret_from_before_keeps_its_contract_until_rotated(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let admin = app.admin().await;
    let recruiter = app.user("Rae Recruiter", "recruiter", false).await;
    // A secret of the old kind: any text, which was the key as written.
    let old = "whsec_an-old-secret_of-the-former-kind";
    let id = a_webhook_from_before(&app, &receiver.url, old, admin.id).await;
    let (_, one) = app.get(&format!("/webhooks/{id}"), &admin).await;
    assert_eq!(one["legacy_secret"], true, "{one}");

    let worker = worker::start(app.state.db.clone(), &app.state.config).expect("worker");
    erase_one(&app, &recruiter).await;
    let got = receiver.until_delivered(1).await;
    let r = &got[0];
    // What its receiver verified before: the old body and headers...
    let body = r.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["data", "event", "occurred_at"], "{body}");
    assert_eq!(body["event"], "candidate.erased");
    assert!(legacy_verifies(old, r), "{r:?}");
    assert_eq!(r.legacy_delivery, r.id);
    // ...and the standard headers, keyed by the same text.
    assert!(verifies_with_key(old.as_bytes(), r, &r.body), "{r:?}");

    // Rotating moves it to the standard scheme; the old key signs on
    // during the grace period, the old headers and body are gone.
    let (new, rotated) = rotate(&app, &admin, &id).await;
    assert_eq!(rotated["webhook"]["legacy_secret"], false);
    erase_one(&app, &recruiter).await;
    let got = receiver.until_delivered(2).await;
    worker.shutdown().await;
    let r = &got[1];
    assert!(
        r.legacy_signature.is_empty() && r.legacy_delivery.is_empty(),
        "{r:?}"
    );
    assert_eq!(r.json()["type"], "candidate.erased");
    assert!(verifies(&new, r), "{r:?}");
    assert!(verifies_with_key(old.as_bytes(), r, &r.body), "{r:?}");
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(
    legacy_secret,
    a_secret_from_before_keeps_its_contract_until_rotated
);
