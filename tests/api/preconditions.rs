//! Lost updates: every changeable resource's GET carries an `ETag`, and its
//! PATCH/DELETE honours `If-Match` (RFC 9110 §13.1.1): a stale or bogus
//! tag is 412 `precondition_failed` and changes nothing; the current tag or
//! `*` goes through.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    s: &Session,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&s.token);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer { status, etag, body }
}

async fn etag_of(app: &TestApp, path: &str, s: &Session) -> String {
    let got = send(app, Method::GET, path, s, None, None).await;
    assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.body);
    let tag = got.etag.unwrap_or_else(|| panic!("{path}: no ETag"));
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    tag
}

fn refused(got: &Answer, what: &str) {
    assert_eq!(
        got.status,
        StatusCode::PRECONDITION_FAILED,
        "{what}: {}",
        got.body
    );
    assert_eq!(got.body["code"], "precondition_failed", "{what}");
}

/// The PATCH rules for one resource: a bogus tag and a stale one are
/// refused and change nothing; the current tag and `*` go through.
async fn patch_honours_if_match(
    app: &TestApp,
    path: &str,
    s: &Session,
    field: &str,
    values: [Value; 3],
) {
    let [first, second, third] = values;
    let original = etag_of(app, path, s).await;
    let before = send(app, Method::GET, path, s, None, None).await.body;

    refused(
        &send(
            app,
            Method::PATCH,
            path,
            s,
            Some("\"bogus\""),
            Some(json!({ field: first })),
        )
        .await,
        path,
    );
    // Weak tags never match (strong comparison).
    refused(
        &send(
            app,
            Method::PATCH,
            path,
            s,
            Some(&format!("W/{original}")),
            Some(json!({ field: first })),
        )
        .await,
        path,
    );
    assert_eq!(
        send(app, Method::GET, path, s, None, None).await.body[field],
        before[field],
        "{path}: a refused PATCH changed it"
    );

    let got = send(
        app,
        Method::PATCH,
        path,
        s,
        Some(&format!("\"other\", {original}")),
        Some(json!({ field: first.clone() })),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.body);
    let current = etag_of(app, path, s).await;
    assert_ne!(current, original, "{path}: the tag did not change");

    // The other writer still holds the original tag: its update is lost
    // no more, it is refused.
    refused(
        &send(
            app,
            Method::PATCH,
            path,
            s,
            Some(&original),
            Some(json!({ field: second })),
        )
        .await,
        path,
    );
    assert_eq!(
        send(app, Method::GET, path, s, None, None).await.body[field],
        first,
        "{path}"
    );
    let got = send(
        app,
        Method::PATCH,
        path,
        s,
        Some("*"),
        Some(json!({ field: third })),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.body);
}

async fn every_resource_honours_if_match(app: TestApp) {
    let setup = app.draft_loop().await;
    let admin = &setup.cast.admin;
    let rec = &setup.cast.recruiter;

    // Candidate: PATCH and DELETE (erasure).
    let c = format!("/candidates/{}", setup.candidate_id);
    patch_honours_if_match(
        &app,
        &c,
        rec,
        "name",
        [json!("Casey One"), json!("Casey Two"), json!("Casey Three")],
    )
    .await;
    refused(
        &send(&app, Method::DELETE, &c, rec, Some("\"bogus\""), None).await,
        "erase",
    );
    let tag = etag_of(&app, &c, rec).await;
    let got = send(&app, Method::DELETE, &c, rec, Some(&tag), None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["erased"], true);

    // Loop.
    let l = format!("/loops/{}", setup.loop_id);
    patch_honours_if_match(
        &app,
        &l,
        rec,
        "position",
        [json!("Staff Engineer"), json!("Principal"), json!("Lead")],
    )
    .await;

    // Interview: PATCH and DELETE.
    let i = format!(
        "/interviews/{}",
        setup.interview_of(&setup.cast.interviewers[0])
    );
    patch_honours_if_match(
        &app,
        &i,
        rec,
        "duration_minutes",
        [json!(45), json!(50), json!(55)],
    )
    .await;
    refused(
        &send(&app, Method::DELETE, &i, rec, Some("\"bogus\""), None).await,
        "remove interview",
    );
    let tag = etag_of(&app, &i, rec).await;
    let got = send(&app, Method::DELETE, &i, rec, Some(&tag), None).await;
    assert_eq!(got.status, StatusCode::NO_CONTENT, "{}", got.body);

    // User.
    let u = format!("/users/{}", setup.cast.outsider.id);
    patch_honours_if_match(
        &app,
        &u,
        admin,
        "name",
        [json!("Olga One"), json!("Olga Two"), json!("Olga Three")],
    )
    .await;

    // Competency: no single GET; its PATCH answers with the tag.
    let comp = format!("/competencies/{}", setup.competencies[0]);
    let first = send(
        &app,
        Method::PATCH,
        &comp,
        admin,
        None,
        Some(json!({"description": "First"})),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let tag = first.etag.expect("competency PATCH carries an ETag");
    refused(
        &send(
            &app,
            Method::PATCH,
            &comp,
            admin,
            Some("\"bogus\""),
            Some(json!({"description": "Bogus"})),
        )
        .await,
        "competency",
    );
    let second = send(
        &app,
        Method::PATCH,
        &comp,
        admin,
        Some(&tag),
        Some(json!({"description": "Second"})),
    )
    .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    refused(
        &send(
            &app,
            Method::PATCH,
            &comp,
            admin,
            Some(&tag),
            Some(json!({"description": "Lost"})),
        )
        .await,
        "stale competency tag",
    );

    // Webhook: GET and DELETE.
    let (status, hook) = app
        .post(
            "/webhooks",
            admin,
            json!({"url": "https://hooks.example.com/in", "event_types": ["loop.scheduled"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let w = format!("/webhooks/{}", hook["webhook"]["id"].as_str().unwrap());
    let tag = etag_of(&app, &w, admin).await;
    refused(
        &send(&app, Method::DELETE, &w, admin, Some("\"bogus\""), None).await,
        "webhook",
    );
    let got = send(&app, Method::DELETE, &w, admin, Some(&tag), None).await;
    assert_eq!(got.status, StatusCode::NO_CONTENT, "{}", got.body);
}
both_backends!(if_match, every_resource_honours_if_match);
