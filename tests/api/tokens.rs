use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

async fn mint(
    app: &TestApp,
    admin: &Session,
    scopes: &[&str],
    expires_at: Option<String>,
) -> (String, String) {
    let (status, body) = app
        .post(
            "/tokens",
            admin,
            json!({"name": format!("tool {scopes:?}"), "scopes": scopes, "expires_at": expires_at}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["token"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn as_token(
    app: &TestApp,
    method: Method,
    path: &str,
    secret: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(secret), body).await
}

async fn each_scope_allows_exactly_its_operations(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let admin = &cast.admin;
    let l = format!("/loops/{}", setup.loop_id);
    let interview = setup.interview_of(&cast.interviewers[0]);
    let reads: Vec<(&str, String)> = vec![
        ("users:read", "/users".into()),
        ("candidates:read", "/candidates".into()),
        ("loops:read", l.clone()),
        ("feedback:read", format!("{l}/feedback")),
        ("audit:read", format!("{l}/audit")),
    ];
    for (scope, _) in &reads {
        let (_, secret) = mint(&app, admin, &[scope], None).await;
        for (other, path) in &reads {
            let got = as_token(&app, Method::GET, path, &secret, None).await;
            if other == scope {
                assert_eq!(got.0, StatusCode::OK, "{scope} on {path}: {}", got.1);
            } else {
                assert_problem(&got, 403, "insufficient_scope");
            }
        }
        // Any token may read the catalogue; no token does personal acts.
        assert_eq!(
            as_token(&app, Method::GET, "/competencies", &secret, None)
                .await
                .0,
            StatusCode::OK
        );
        assert_problem(
            &as_token(
                &app,
                Method::POST,
                &format!("/interviews/{interview}/feedback/break-glass"),
                &secret,
                Some(json!({"reason": "automated export of everything"})),
            )
            .await,
            403,
            "insufficient_scope",
        );
        assert_problem(
            &as_token(
                &app,
                Method::POST,
                "/tokens",
                &secret,
                Some(json!({"name": "child", "scopes": ["users:read"]})),
            )
            .await,
            403,
            "insufficient_scope",
        );
    }
    // Writes need the write scope.
    let (_, read_only) = mint(&app, admin, &["candidates:read"], None).await;
    let candidate = json!({"name": "Token Candidate", "email": "token.candidate@example.com"});
    assert_problem(
        &as_token(
            &app,
            Method::POST,
            "/candidates",
            &read_only,
            Some(candidate.clone()),
        )
        .await,
        403,
        "insufficient_scope",
    );
    let (_, writer) = mint(&app, admin, &["candidates:write"], None).await;
    assert_eq!(
        as_token(&app, Method::POST, "/candidates", &writer, Some(candidate))
            .await
            .0,
        StatusCode::CREATED
    );
    // Personal acts stay personal even with every scope.
    let all = [
        "users:read",
        "users:write",
        "candidates:read",
        "candidates:write",
        "loops:read",
        "loops:write",
        "feedback:read",
        "audit:read",
        "webhooks:manage",
    ];
    let (_, everything) = mint(&app, admin, &all, None).await;
    assert_problem(
        &as_token(
            &app,
            Method::PUT,
            &format!("/interviews/{interview}/feedback"),
            &everything,
            Some(json!({})),
        )
        .await,
        403,
        "insufficient_scope",
    );
    assert_problem(
        &as_token(
            &app,
            Method::POST,
            &format!("{l}/debrief"),
            &everything,
            Some(json!({})),
        )
        .await,
        403,
        "insufficient_scope",
    );
    // Scopes are validated.
    assert_problem(
        &app.post("/tokens", admin, json!({"name": "x", "scopes": ["root"]}))
            .await,
        422,
        "invalid_body",
    );
    assert_problem(
        &app.post("/tokens", admin, json!({"name": "x", "scopes": []}))
            .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            "/tokens",
            &cast.recruiter,
            json!({"name": "x", "scopes": ["users:read"]}),
        )
        .await,
        403,
        "admin_only",
    );
}
both_backends!(scopes, each_scope_allows_exactly_its_operations);

async fn expiry_revocation_and_last_use(app: TestApp) {
    let admin = app.admin().await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (_, short_lived) = mint(&app, &admin, &["users:read"], Some(soon)).await;
    assert_eq!(
        as_token(&app, Method::GET, "/users", &short_lived, None)
            .await
            .0,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_problem(
        &as_token(&app, Method::GET, "/users", &short_lived, None).await,
        401,
        "invalid_token",
    );
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    assert_problem(
        &app.post(
            "/tokens",
            &admin,
            json!({"name": "x", "scopes": ["users:read"], "expires_at": past}),
        )
        .await,
        422,
        "validation_failed",
    );

    let (id, secret) = mint(&app, &admin, &["users:read"], None).await;
    assert_eq!(
        as_token(&app, Method::GET, "/users", &secret, None).await.0,
        StatusCode::OK
    );
    let (_, list) = app.get("/tokens", &admin).await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(listed["last_used_at"].is_string(), "{listed}");
    assert!(
        listed.get("secret").is_none() && !list.to_string().contains(&secret),
        "the secret is shown once only"
    );
    assert_eq!(
        app.delete(&format!("/tokens/{id}"), &admin).await.0,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &as_token(&app, Method::GET, "/users", &secret, None).await,
        401,
        "invalid_token",
    );
    assert_problem(
        &as_token(&app, Method::GET, "/users", "brt_not-a-real-token", None).await,
        401,
        "invalid_token",
    );
    // A token dies with its admin's account.
    let other_admin = app.user("Second Admin", "admin", false).await;
    let (_, orphan) = mint(&app, &other_admin, &["users:read"], None).await;
    assert_eq!(
        app.patch(
            &format!("/users/{}", other_admin.id),
            &admin,
            json!({"active": false})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_problem(
        &as_token(&app, Method::GET, "/users", &orphan, None).await,
        401,
        "invalid_token",
    );
}
both_backends!(token_lifecycle, expiry_revocation_and_last_use);

async fn feedback_read_waits_for_the_debrief(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (_, secret) = mint(&app, &cast.admin, &["feedback:read", "loops:read"], None).await;
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let one = format!(
        "/interviews/{}/feedback",
        setup.interview_of(&cast.interviewers[0])
    );
    let all = format!("/loops/{}/feedback", setup.loop_id);
    // Everything is sealed, but the debrief is not open: no content.
    assert_problem(
        &as_token(&app, Method::GET, &one, &secret, None).await,
        403,
        "not_until_debrief",
    );
    let (status, listing) = as_token(&app, Method::GET, &all, &secret, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        listing["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["feedback"].is_null() && e["withheld"] == "not_until_debrief"),
        "{listing}"
    );
    assert_problem(
        &as_token(
            &app,
            Method::GET,
            &format!("/loops/{}/debrief", setup.loop_id),
            &secret,
            None,
        )
        .await,
        409,
        "debrief_not_open",
    );
    assert_eq!(
        app.post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, f) = as_token(&app, Method::GET, &one, &secret, None).await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(f["state"], "sealed");
    let (status, view) = as_token(
        &app,
        Method::GET,
        &format!("/loops/{}/debrief", setup.loop_id),
        &secret,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    // The shadow never sealed: still nothing to read there.
    let shadow = format!("/interviews/{}/feedback", setup.interview_of(&cast.shadow));
    assert_problem(
        &as_token(&app, Method::GET, &shadow, &secret, None).await,
        403,
        "feedback_not_sealed",
    );
}
both_backends!(token_feedback, feedback_read_waits_for_the_debrief);

/// A `users:write` token manages members and recruiters, and nothing above:
/// no admin made or touched, no password set (observed item 4 of issue 13).
async fn users_write_stays_under_the_ceiling(app: TestApp) {
    let admin = app.admin().await;
    let (_, secret) = mint(&app, &admin, &["users:write", "users:read"], None).await;
    let new = |role: &str| json!({"email": format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple()), "name": "Made By Token", "password": PASSWORD, "role": role});
    let member = as_token(&app, Method::POST, "/users", &secret, Some(new("member"))).await;
    assert_eq!(member.0, StatusCode::CREATED, "{}", member.1);
    let recruiter = as_token(
        &app,
        Method::POST,
        "/users",
        &secret,
        Some(new("recruiter")),
    )
    .await;
    assert_eq!(recruiter.0, StatusCode::CREATED, "{}", recruiter.1);
    let minted = new("admin");
    assert_problem(
        &as_token(&app, Method::POST, "/users", &secret, Some(minted.clone())).await,
        403,
        "token_privilege_ceiling",
    );
    // Nothing was created: the would-be admin cannot sign in.
    assert_eq!(
        app.login(minted["email"].as_str().unwrap(), PASSWORD)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    let member_path = format!("/users/{}", member.1["id"].as_str().unwrap());
    let patch = |path: String, body: Value| {
        let secret = secret.clone();
        let app = &app;
        async move { as_token(app, Method::PATCH, &path, &secret, Some(body)).await }
    };
    let ok = patch(
        member_path.clone(),
        json!({"name": "Renamed", "role": "recruiter"}),
    )
    .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["role"], "recruiter");
    for body in [
        json!({"role": "admin"}),
        json!({"password": "a brand new password 123"}),
        json!({"name": "Quiet", "password": "a brand new password 123"}),
    ] {
        assert_problem(
            &patch(member_path.clone(), body.clone()).await,
            403,
            "token_privilege_ceiling",
        );
    }
    let admin_path = format!("/users/{}", admin.id);
    for body in [
        json!({"name": "Renamed Admin"}),
        json!({"password": "a brand new password 123"}),
        json!({"role": "member"}),
        json!({"bar_raiser_certified": true}),
    ] {
        assert_problem(
            &patch(admin_path.clone(), body.clone()).await,
            403,
            "token_privilege_ceiling",
        );
    }
    // Nothing changed: the member is still a recruiter with the old
    // password, the admin still an admin with theirs.
    let (_, m) = app.get(&member_path, &admin).await;
    assert_eq!(m["role"], "recruiter");
    assert_eq!(
        app.login(member.1["email"].as_str().unwrap(), PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
    let (_, a) = app.get(&admin_path, &admin).await;
    assert_eq!(
        (a["role"].as_str(), a["name"].as_str()),
        (Some("admin"), Some("Ada Admin"))
    );
    assert_eq!(app.login(ADMIN_EMAIL, PASSWORD).await.0, StatusCode::OK);
    // A person who is an admin still does all of it.
    let by_person = app.post("/users", &admin, minted).await;
    assert_eq!(by_person.0, StatusCode::CREATED, "{}", by_person.1);
}
both_backends!(token_ceiling, users_write_stays_under_the_ceiling);
