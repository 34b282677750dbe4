//! `Idempotency-Key`: a retried POST answers the first response and does
//! the work once; keys are per caller and bound to one request.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

struct Answer {
    status: StatusCode,
    body: Value,
    replayed: bool,
}

impl TestApp {
    async fn post_keyed(&self, path: &str, s: &Session, key: &str, body: Value) -> Answer {
        let resp = self
            .client
            .post(self.url(path))
            .bearer_auth(&s.token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let replayed = resp
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let text = resp.text().await.unwrap();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            replayed,
        }
    }

    /// Candidates whose email is `email`, as the recruiter lists them.
    async fn candidates_with_email(&self, s: &Session, email: &str) -> usize {
        let (status, page) = self.get("/candidates?limit=200", s).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["email"] == email)
            .count()
    }
}

fn candidate(email: &str) -> Value {
    json!({"name": "Retry Candidate", "email": email, "links": ["https://example.com/cv"]})
}

async fn a_retry_returns_the_first_response_and_creates_nothing_new(app: TestApp) {
    let rec = app.user("Rae Recruiter", "recruiter", false).await;
    let first = app
        .post_keyed(
            "/candidates",
            &rec,
            "create-casey-1",
            candidate("casey@retry.example"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(!first.replayed);
    // Key order and whitespace do not make a different request.
    let again = app
        .post_keyed(
            "/candidates",
            &rec,
            "create-casey-1",
            json!({"links": ["https://example.com/cv"], "email": "casey@retry.example", "name": "Retry Candidate"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert!(again.replayed);
    assert_eq!(again.body, first.body, "the very same response");
    assert_eq!(
        app.candidates_with_email(&rec, "casey@retry.example").await,
        1
    );

    // Same key, different body: refused, nothing created.
    let other = app
        .post_keyed(
            "/candidates",
            &rec,
            "create-casey-1",
            candidate("other@retry.example"),
        )
        .await;
    assert_eq!(other.status.as_u16(), 422, "{}", other.body);
    assert_eq!(other.body["code"], "idempotency_key_reused");
    assert_eq!(
        app.candidates_with_email(&rec, "other@retry.example").await,
        0
    );
    // Same key and body on another path is another request too.
    let elsewhere = app
        .post_keyed(
            "/competencies",
            &rec,
            "create-casey-1",
            candidate("casey@retry.example"),
        )
        .await;
    assert_eq!(elsewhere.body["code"], "idempotency_key_reused");

    // A stored error is replayed like any answer: the first 409 stands.
    let dup = app
        .post_keyed(
            "/candidates",
            &rec,
            "dup-1",
            candidate("casey@retry.example"),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    let dup_again = app
        .post_keyed(
            "/candidates",
            &rec,
            "dup-1",
            candidate("casey@retry.example"),
        )
        .await;
    assert_eq!(
        (dup_again.status, dup_again.replayed),
        (StatusCode::CONFLICT, true)
    );
    assert_eq!(dup_again.body, dup.body);
}
both_backends!(
    retry_replays,
    a_retry_returns_the_first_response_and_creates_nothing_new
);

async fn keys_belong_to_their_caller(app: TestApp) {
    let rae = app.user("Rae Recruiter", "recruiter", false).await;
    let otto = app.user("Otto Recruiter", "recruiter", false).await;
    let a = app
        .post_keyed(
            "/candidates",
            &rae,
            "shared-key",
            candidate("a@caller.example"),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Otto's "shared-key" is his own: a different body is no reuse ...
    let b = app
        .post_keyed(
            "/candidates",
            &otto,
            "shared-key",
            candidate("b@caller.example"),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    assert_ne!(a.body["id"], b.body["id"]);
    assert!(!b.replayed);
    // ... and the same body is not Rae's answer replayed: it really runs
    // (and meets the unique email).
    let c = app
        .post_keyed(
            "/candidates",
            &otto,
            "another-key",
            candidate("a@caller.example"),
        )
        .await;
    assert_eq!(c.status, StatusCode::CONFLICT, "{}", c.body);
    assert!(!c.replayed);
    // A new session of the same person is the same caller.
    let rae_again = app.session(&rae.email).await;
    let d = app
        .post_keyed(
            "/candidates",
            &rae_again,
            "shared-key",
            candidate("a@caller.example"),
        )
        .await;
    assert_eq!((d.status, d.replayed), (StatusCode::CREATED, true));
    assert_eq!(d.body["id"], a.body["id"]);
}
both_backends!(per_caller, keys_belong_to_their_caller);

async fn without_the_header_nothing_changes(app: TestApp) {
    let rec = app.user("Rae Recruiter", "recruiter", false).await;
    let (status, first) = app
        .post("/candidates", &rec, candidate("plain@retry.example"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_problem(
        &app.post("/candidates", &rec, candidate("plain@retry.example"))
            .await,
        409,
        "candidate_exists",
    );
    let (status, second) = app
        .post("/candidates", &rec, candidate("plain2@retry.example"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(first["id"], second["id"]);
}
both_backends!(no_header, without_the_header_nothing_changes);

async fn keys_are_bounded(app: TestApp) {
    let rec = app.user("Rae Recruiter", "recruiter", false).await;
    for bad in [String::new(), "k".repeat(256)] {
        let a = app
            .post_keyed(
                "/candidates",
                &rec,
                &bad,
                candidate("bounded@retry.example"),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        assert_eq!(a.body["code"], "invalid_idempotency_key");
    }
    assert_eq!(
        app.candidates_with_email(&rec, "bounded@retry.example")
            .await,
        0
    );
    let ok = app
        .post_keyed(
            "/candidates",
            &rec,
            &"k".repeat(255),
            candidate("bounded@retry.example"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
}
both_backends!(bounded_keys, keys_are_bounded);

async fn concurrent_duplicates_do_the_work_once(app: TestApp) {
    let rec = app.user("Rae Recruiter", "recruiter", false).await;
    let answers = futures_util::future::join_all((0..6).map(|_| {
        app.post_keyed(
            "/candidates",
            &rec,
            "burst",
            candidate("burst@retry.example"),
        )
    }))
    .await;
    let created: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    assert!(
        created
            .iter()
            .all(|a| a.body["id"] == created[0].body["id"])
    );
    for a in &answers {
        assert!(
            a.status == StatusCode::CREATED
                || (a.status == StatusCode::CONFLICT
                    && a.body["code"] == "idempotency_in_progress"),
            "{} {}",
            a.status,
            a.body
        );
    }
    assert_eq!(
        app.candidates_with_email(&rec, "burst@retry.example").await,
        1
    );
}
both_backends!(concurrent, concurrent_duplicates_do_the_work_once);

async fn in_flight_expired_and_erased(app: TestApp) {
    let rec = app.user("Rae Recruiter", "recruiter", false).await;
    // A first request still running (its claim is in place, no answer yet).
    let body = candidate("inflight@retry.example");
    let sha = bar_raiser::api::idempotency::fingerprint(
        &actix_web::http::Method::POST,
        "/api/v1/candidates",
        body.to_string().as_bytes(),
    );
    app.sql(format!(
        "INSERT INTO idempotency_keys (caller, key, request_sha256, created_at, locked_until) \
         VALUES ('user:{}', 'running', '{sha}', '2999-01-01 00:00:00', '2999-01-01 00:00:00')",
        rec.id
    ))
    .await;
    let a = app
        .post_keyed("/candidates", &rec, "running", body.clone())
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(a.body["code"], "idempotency_in_progress");
    assert_eq!(
        app.candidates_with_email(&rec, "inflight@retry.example")
            .await,
        0
    );
    // The same with its lease run out (its server died): the retry runs.
    app.sql("UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00', locked_until = '2000-01-01 00:00:00' WHERE key = 'running'".into())
        .await;
    let b = app
        .post_keyed("/candidates", &rec, "running", body.clone())
        .await;
    assert_eq!(
        (b.status, b.replayed),
        (StatusCode::CREATED, false),
        "{}",
        b.body
    );

    // Older than 24 hours: forgotten, the key is free for a new request.
    let first = app
        .post_keyed("/candidates", &rec, "old", candidate("old1@retry.example"))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.sql(
        "UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00' WHERE key = 'old'".into(),
    )
    .await;
    let second = app
        .post_keyed("/candidates", &rec, "old", candidate("old2@retry.example"))
        .await;
    assert_eq!(
        (second.status, second.replayed),
        (StatusCode::CREATED, false),
        "{}",
        second.body
    );

    // Erasing a candidate also forgets stored answers that carry their data.
    let id = second.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.delete(&format!("/candidates/{id}"), &rec).await.0,
        StatusCode::OK
    );
    let replay = app
        .post_keyed("/candidates", &rec, "old", candidate("old2@retry.example"))
        .await;
    assert!(!replay.replayed, "{}", replay.body);
    assert_ne!(replay.body["id"], id.as_str());
}
both_backends!(in_flight_and_expiry, in_flight_expired_and_erased);
