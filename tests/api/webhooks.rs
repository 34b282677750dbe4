//! Webhooks end to end: a receiver on loopback in this process gets every
//! event of a loop, signed; a failing receiver gets each event once after
//! it recovers; who may register webhooks and where they may point.

use bar_raiser::db::outbox::{Kind as OutboxKind, Status as OutboxStatus};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bar_raiser::notify::worker;
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
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let mail = tempfile::tempdir().unwrap();
                if let Some(app) = spawn_allowing(Backend::Sqlite, &mail).await {
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
                if let Some(app) = spawn_allowing(Backend::Postgres, &mail).await {
                    $body(app).await;
                }
            }
        }
    };
}

async fn spawn_allowing(backend: Backend, mail: &tempfile::TempDir) -> Option<TestApp> {
    let dir = mail.path().to_path_buf();
    TestApp::spawn_with(backend, move |c| {
        c.webhook_allow_private = true;
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
    delivery: String,
    signature: String,
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
        delivery: header("x-barraiser-delivery"),
        signature: header("x-barraiser-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

/// Verifies `X-BarRaiser-Signature` as a receiver would (see the README),
/// without the replay window: tests compare against recorded requests.
fn verifies(secret: &str, signature: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in signature.split(',') {
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
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

async fn register(app: &TestApp, s: &Session, url: &str, events: &[&str]) -> (String, String) {
    let (status, body) = app
        .post(
            "/webhooks",
            s,
            json!({"url": url, "event_types": events, "secret": "a-shared-secret-of-some-length"}),
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
        assert!(
            verifies(&secret, &r.signature, &r.body),
            "bad signature: {r:?}"
        );
        let body = r.json();
        assert_eq!(body["event"], r.event.as_str());
        assert!(body["occurred_at"].is_string(), "{body}");
    }
    let expected: BTreeMap<&str, usize> = ALL_EVENTS
        .iter()
        .map(|e| (*e, if *e == "feedback.sealed" { voters } else { 1 }))
        .collect();
    assert_eq!(counts, expected);
    let mut ids: Vec<&str> = got.iter().map(|r| r.delivery.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "delivery ids are unique per event");

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

    // A tampered body or a wrong secret fails verification.
    let r = &got[0];
    let tampered = r.body.replacen("loop", "l00p", 1);
    assert_ne!(tampered, r.body);
    assert!(!verifies(&secret, &r.signature, &tampered));
    assert!(!verifies("another-secret-entirely", &r.signature, &r.body));
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
    let mut ids: Vec<&str> = got.iter().map(|r| r.delivery.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected);
    // The failed attempts were retried under the same delivery id.
    for failed in all.iter().filter(|r| r.answered == 500) {
        assert!(
            got.iter()
                .any(|r| r.delivery == failed.delivery && r.body == failed.body),
            "{failed:?} never delivered"
        );
    }
    assert!(got.iter().all(|r| verifies(&secret, &r.signature, &r.body)));
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
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
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
    assert_eq!(got[0].delivery, row.id);
    receiver.server.stop(false).await;
}
with_loopback_webhooks!(
    loopback_never_connected,
    a_name_resolving_to_loopback_is_never_connected_to
);
