//! Bounded queues: a full SQLite writer queue or password-thread queue is
//! answered 503 `overloaded` with `Retry-After` at once, and every write of
//! the server waits in that one queue (none goes around it).
//!
//! The queues are filled deterministically: a job that holds the worker
//! (and, for the writer, SQLite's write lock) until released, then one job
//! in a queue of length 1. No timing is asserted.

use std::future::Future;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

/// Polls `f` once: the job is in the queue once this returns (both queues
/// take a job synchronously), and its answer is not awaited.
fn submit<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = std::pin::pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// A job that says when it started and then waits to be released.
fn holder() -> (
    impl FnOnce() + Send + 'static,
    mpsc::Receiver<()>,
    mpsc::Sender<()>,
) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let job = move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(Duration::from_secs(60));
    };
    (job, started, release)
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

fn assert_overloaded(got: &(StatusCode, Option<String>, Value)) {
    assert_eq!(got.0, StatusCode::SERVICE_UNAVAILABLE, "{}", got.2);
    assert_eq!(got.2["code"], "overloaded", "{}", got.2);
    assert_eq!(got.1.as_deref(), Some("1"), "Retry-After");
}

/// SQLite only: PostgreSQL's writers run side by side on the pool, with no
/// writer queue to fill.
#[actix_web::test]
async fn a_full_writer_queue_answers_503_and_no_write_goes_around_it() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.write_queue = 1).await else {
        return;
    };
    let admin = app.admin().await;
    let (status, body) = app
        .post(
            "/tokens",
            &admin,
            json!({"name": "tool", "scopes": ["users:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["secret"].as_str().unwrap().to_string();

    // The writer holds SQLite's write lock (a write transaction) until
    // released; one more write fills the queue.
    let (job, started, release) = holder();
    assert!(
        submit(app.state.db.write(move |_| {
            job();
            Ok(())
        }))
        .is_pending()
    );
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(submit(app.state.db.write(|_| Ok(()))).is_pending());

    // A write is refused at once.
    let create = json!({"name": "Queued Candidate", "email": "q@example.com"});
    assert_overloaded(
        &send(
            &app,
            Method::POST,
            "/candidates",
            &admin.token,
            &[],
            Some(create.clone()),
        )
        .await,
    );
    // The Idempotency-Key claim is a write through the same queue (around
    // it, it would wait for the lock and fail after busy_timeout).
    assert_overloaded(
        &send(
            &app,
            Method::POST,
            "/candidates",
            &admin.token,
            &[("Idempotency-Key", "k-1")],
            Some(create.clone()),
        )
        .await,
    );
    // A service token's "last used" mark waits for a later request instead
    // of failing the read or writing around the writer.
    let (status, _, body) = send(&app, Method::GET, "/users", &secret, &[], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Reads go on.
    assert_eq!(app.get("/candidates", &admin).await.0, StatusCode::OK);

    release.send(()).unwrap();
    // Once the queue has drained, writes are taken again.
    while app.state.db.write(|_| Ok(())).await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, _, body) = send(
        &app,
        Method::POST,
        "/candidates",
        &admin.token,
        &[("Idempotency-Key", "k-1")],
        Some(create),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn a_full_password_queue_answers_503(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.password_queue = 1).await else {
        return;
    };
    let admin = app.admin().await;
    // Every password thread held, then one job waiting.
    let passwords = &app.state.passwords;
    let mut releases = Vec::new();
    for _ in 0..passwords.threads() {
        let (job, started, release) = holder();
        assert!(submit(passwords.run(job)).is_pending());
        started.recv_timeout(Duration::from_secs(30)).unwrap();
        releases.push(release);
    }
    assert!(submit(passwords.run(|| ())).is_pending());

    // Refused before it is counted: no statement at all.
    let before = app.state.db.counts().statements;
    let got = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_problem(&got, 503, "overloaded");
    assert_eq!(
        app.state.db.counts().statements,
        before,
        "a sign-in refused as overloaded ran statements"
    );
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    // Setting a password hashes: refused the same way.
    let (status, body) = app
        .post(
            "/users",
            &admin,
            json!({"email": "new@example.com", "name": "New Person", "role": "member", "password": PASSWORD}),
        )
        .await;
    assert_problem(&(status, body), 503, "overloaded");
    // Requests that need no password go on.
    assert_eq!(app.get("/users", &admin).await.0, StatusCode::OK);

    for r in releases {
        r.send(()).unwrap();
    }
    while passwords.run(|| ()).await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.login(ADMIN_EMAIL, PASSWORD).await.0, StatusCode::OK);
}
both_backends!(
    full_password_queue,
    backend => super::a_full_password_queue_answers_503
);
