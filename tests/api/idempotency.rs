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

/// Every stored idempotency record, every text column joined: what a
/// reader of the table could learn.
async fn stored_rows(app: &TestApp) -> Vec<(String, Option<i32>, String, Option<String>)> {
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        use bar_raiser::db::schema::idempotency_keys as k;
        use diesel::prelude::*;
        let mut conn = db.conn().unwrap();
        k::table
            .select((
                k::key,
                k::status,
                k::caller,
                k::request_sha256,
                k::response_headers,
                k::response_body,
                k::authz,
                k::reread_path,
            ))
            .load::<(
                String,
                Option<i32>,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            )>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|(key, status, caller, sha, headers, body, authz, reread)| {
                let all = [
                    Some(caller),
                    Some(sha),
                    headers,
                    body,
                    authz,
                    reread.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
                (key, status, all, reread)
            })
            .collect()
    })
    .await
    .unwrap()
}

async fn audit_actions(app: &TestApp, action: &str) -> usize {
    let db = app.state.db.clone();
    let action = action.to_string();
    actix_web::web::block(move || {
        use bar_raiser::db::schema::audit_events as e;
        use diesel::prelude::*;
        let mut conn = db.conn().unwrap();
        e::table
            .filter(e::action.eq(action))
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap() as usize
    })
    .await
    .unwrap()
}

fn as_session(secret: &str) -> Session {
    Session {
        id: uuid::Uuid::nil(),
        email: String::new(),
        token: secret.to_string(),
        refresh_token: String::new(),
    }
}

/// Observed item 5 of issue 13: a deactivated admin replayed a stored
/// break-glass answer and read the content again, unaudited.
async fn break_glass_is_never_replayed(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let author = &cast.interviewers[0];
    let interview = setup.interview_of(author);
    app.draft_and_seal(author, interview, "inclined_to_hire")
        .await;
    let second_admin = app.user("Bea Admin", "admin", false).await;
    let path = format!("/interviews/{interview}/feedback/break-glass");
    let body = json!({"reason": "legal hold review requested by counsel"});
    let first = app
        .post_keyed(&path, &second_admin, "glass-1", body.clone())
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body["summary"].is_string(), "{}", first.body);
    assert!(stored_rows(&app).await.iter().all(|r| r.0 != "glass-1"));
    // A retry is another audited read, not a copy of the first.
    let retry = app
        .post_keyed(&path, &second_admin, "glass-1", body.clone())
        .await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert!(!retry.replayed);
    assert_eq!(audit_actions(&app, "feedback.break_glass_read").await, 2);
    // Deactivated: 401, and there is no stored answer to fall back on.
    let (status, _) = app
        .patch(
            &format!("/users/{}", second_admin.id),
            &cast.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = app.post_keyed(&path, &second_admin, "glass-1", body).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    assert!(!after.replayed);
    assert!(after.body.get("summary").is_none());
    assert!(stored_rows(&app).await.iter().all(|r| r.0 != "glass-1"));
    assert_eq!(audit_actions(&app, "feedback.break_glass_read").await, 2);
}
both_backends!(break_glass_replay, break_glass_is_never_replayed);

/// Observed item 5: `POST /tokens` kept the `brt_` secret in clear for 24
/// hours and replayed it after revocation; webhook secrets likewise.
async fn secrets_are_kept_nowhere_and_revoked_tokens_replay_nothing(app: TestApp) {
    let admin = app.admin().await;
    let created = app
        .post_keyed(
            "/tokens",
            &admin,
            "mint-1",
            json!({"name": "ATS", "scopes": ["candidates:write", "candidates:read"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    let token_id = created.body["token"]["id"].as_str().unwrap().to_string();
    let hook = app
        .post_keyed(
            "/webhooks",
            &admin,
            "hook-1",
            json!({"url": "https://hooks.example.com/ats", "event_types": ["loop.scheduled"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let hook_secret = hook.body["secret"].as_str().unwrap().to_string();
    let hook_id = hook.body["webhook"]["id"].as_str().unwrap().to_string();

    // The token works: its own keyed request is stored and replayed.
    let tool = as_session(&secret);
    let made = app
        .post_keyed(
            "/candidates",
            &tool,
            "cand-1",
            candidate("ats@retry.example"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let again = app
        .post_keyed(
            "/candidates",
            &tool,
            "cand-1",
            candidate("ats@retry.example"),
        )
        .await;
    assert!(again.replayed);
    assert_eq!(again.body, made.body);

    // Retries of the mint and the registration: a 409 naming what was
    // created, never the secret.
    for (path, key, body, id) in [
        (
            "/tokens",
            "mint-1",
            json!({"name": "ATS", "scopes": ["candidates:write", "candidates:read"]}),
            &token_id,
        ),
        (
            "/webhooks",
            "hook-1",
            json!({"url": "https://hooks.example.com/ats", "event_types": ["loop.scheduled"]}),
            &hook_id,
        ),
    ] {
        let retry = app.post_keyed(path, &admin, key, body).await;
        assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.body);
        assert!(retry.replayed);
        assert_eq!(retry.body["code"], "secret_not_replayable");
        assert_eq!(retry.body["errors"][0]["field"], "id");
        assert_eq!(&retry.body["errors"][0]["message"], id.as_str());
        assert!(!retry.body.to_string().contains(&secret));
        assert!(!retry.body.to_string().contains(&hook_secret));
    }

    // Revoked: the token's replay is a 401, not the stored 201.
    let (status, _) = app.delete(&format!("/tokens/{token_id}"), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let revoked = app
        .post_keyed(
            "/candidates",
            &tool,
            "cand-1",
            candidate("ats@retry.example"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{}", revoked.body);
    assert!(!revoked.replayed);
    let retry = app
        .post_keyed(
            "/tokens",
            &admin,
            "mint-1",
            json!({"name": "ATS", "scopes": ["candidates:write", "candidates:read"]}),
        )
        .await;
    assert_eq!(retry.body["code"], "secret_not_replayable");

    // No row of the table holds either secret, or any service-token or
    // webhook secret at all.
    let rows = stored_rows(&app).await;
    assert!(rows.iter().any(|r| r.0 == "mint-1" && r.1 == Some(409)));
    for (key, _, text, _) in &rows {
        for needle in [secret.as_str(), hook_secret.as_str(), "brt_", "whsec_"] {
            assert!(!text.contains(needle), "{key} holds {needle}: {text}");
        }
    }
}
both_backends!(
    secret_replays,
    secrets_are_kept_nowhere_and_revoked_tokens_replay_nothing
);

/// A right lost since the first answer: the retry gets what a fresh
/// request gets (a demoted admin creating a user: 403), not the stored 201.
async fn a_demoted_admin_replays_nothing(app: TestApp) {
    let admin = app.admin().await;
    let second = app.user("Bea Admin", "admin", false).await;
    let body = json!({"email": "made@retry.example", "name": "Made", "password": PASSWORD, "role": "member"});
    let first = app
        .post_keyed("/users", &second, "user-1", body.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app
        .post_keyed("/users", &second, "user-1", body.clone())
        .await;
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    let (status, _) = app
        .patch(
            &format!("/users/{}", second.id),
            &admin,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let demoted = app
        .post_keyed("/users", &second, "user-1", body.clone())
        .await;
    assert_eq!(demoted.status.as_u16(), 403, "{}", demoted.body);
    assert_eq!(demoted.body["code"], "admin_only");
    assert!(!demoted.replayed);
    // That answer is now the stored one, under the new rights.
    let stored = app.post_keyed("/users", &second, "user-1", body).await;
    assert_eq!(stored.status.as_u16(), 403);
    assert!(stored.replayed);
}
both_backends!(demoted_replay, a_demoted_admin_replays_nothing);

/// Sealing answers with the sealed feedback: the store keeps its status
/// only, and a replay reads the feedback again with the caller's rights now.
async fn a_seal_replays_as_a_fresh_read(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let author = &cast.interviewers[0];
    let interview = setup.interview_of(author);
    let (status, body) = app.draft(author, interview, "inclined_to_hire").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = format!("/interviews/{interview}/feedback/seal");
    let first = app.post_keyed(&path, author, "seal-1", json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["state"], "sealed");
    let summary = first.body["summary"].as_str().unwrap().to_string();
    let again = app.post_keyed(&path, author, "seal-1", json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(again.replayed);
    let (_, read) = app
        .get(&format!("/interviews/{interview}/feedback"), author)
        .await;
    assert_eq!(again.body, read, "the replay is the read of the feedback");
    let rows = stored_rows(&app).await;
    let row = rows.iter().find(|r| r.0 == "seal-1").expect("stored");
    assert_eq!(row.1, Some(200));
    assert_eq!(
        row.3.as_deref(),
        Some(format!("/api/v1/interviews/{interview}/feedback").as_str())
    );
    assert!(!row.2.contains(&summary), "no content stored: {}", row.2);

    // Addenda: done once; a retry learns which, never the text.
    let addenda = format!("/interviews/{interview}/feedback/addenda");
    let text = json!({"text": "One more thing I should have written down."});
    let added = app
        .post_keyed(&addenda, author, "add-1", text.clone())
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let retry = app.post_keyed(&addenda, author, "add-1", text).await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.body);
    assert!(retry.replayed);
    assert_eq!(retry.body["code"], "content_not_replayable");
    assert_eq!(retry.body["errors"][0]["message"], added.body["id"]);
    let (_, read) = app
        .get(&format!("/interviews/{interview}/feedback"), author)
        .await;
    assert_eq!(read["addenda"].as_array().map(Vec::len), Some(1), "{read}");
    for (key, _, stored, _) in stored_rows(&app).await {
        assert!(!stored.contains("One more thing"), "{key}: {stored}");
    }

    // Deactivated: the replay is a 401, no feedback.
    let (status, _) = app
        .patch(
            &format!("/users/{}", author.id),
            &cast.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = app.post_keyed(&path, author, "seal-1", json!({})).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    assert!(after.body.get("summary").is_none());
}
both_backends!(seal_replay, a_seal_replays_as_a_fresh_read);
