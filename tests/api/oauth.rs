//! OAuth 2.0 client credentials (RFC 6749 §4.4) at `POST /oauth/token`:
//! a service token's id and secret for a short-lived access token.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

async fn mint(app: &TestApp, admin: &Session, scopes: &[&str]) -> (String, String) {
    let (status, body) = app
        .post(
            "/tokens",
            admin,
            json!({"name": "integration platform", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["token"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

fn assert_oauth_error(
    got: &(StatusCode, reqwest::header::HeaderMap, Value),
    status: u16,
    error: &str,
) {
    assert_eq!(got.0.as_u16(), status, "{}", got.2);
    assert_eq!(got.2["error"], error, "{}", got.2);
    assert!(
        got.2["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(got.1["cache-control"], "no-store");
    if status == 401 {
        assert!(
            got.1["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic realm=")
        );
    }
}

async fn issue_and_use(app: TestApp) {
    let admin = app.admin().await;
    let (id, secret) = mint(&app, &admin, &["users:read", "loops:read"]).await;

    // HTTP Basic, no scope asked: every scope the token holds.
    let got = app
        .token_request(
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.2);
    assert_eq!(got.1["cache-control"], "no-store");
    assert_eq!(got.1["pragma"], "no-cache");
    assert_eq!(got.2["token_type"], "Bearer");
    assert_eq!(got.2["scope"], "users:read loops:read");
    assert!(got.2["expires_in"].as_u64().unwrap() > 0);
    assert!(got.2.get("refresh_token").is_none());
    let access = got.2["access_token"].as_str().unwrap().to_string();
    let call = |path: &'static str, token: String| {
        let app = &app;
        async move { app.call(Method::GET, path, Some(&token), None).await }
    };
    assert_eq!(call("/users", access.clone()).await.0, StatusCode::OK);
    assert_eq!(call("/loops", access.clone()).await.0, StatusCode::OK);
    assert_problem(
        &call("/candidates", access.clone()).await,
        403,
        "insufficient_scope",
    );
    // Personal acts and token management stay closed to it.
    assert_problem(
        &app.call(
            Method::POST,
            "/tokens",
            Some(&access),
            Some(json!({"name": "child", "scopes": ["users:read"]})),
        )
        .await,
        403,
        "insufficient_scope",
    );

    // Credentials in the body, a narrower scope: only that one.
    let got = app
        .token_request(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("scope", "loops:read"),
            ],
            None,
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.2);
    assert_eq!(got.2["scope"], "loops:read");
    let narrow = got.2["access_token"].as_str().unwrap().to_string();
    assert_eq!(call("/loops", narrow.clone()).await.0, StatusCode::OK);
    assert_problem(
        &call("/users", narrow.clone()).await,
        403,
        "insufficient_scope",
    );

    // The token's use is noted like the secret's own.
    let (_, t) = app.get(&format!("/tokens/{id}"), &admin).await;
    assert!(t["last_used_at"].is_string(), "{t}");

    // Revoking the service token ends its access tokens at once, and
    // no new one is issued.
    let (status, body) = app.delete(&format!("/tokens/{id}"), &admin).await;
    assert!(status.is_success(), "{status} {body}");
    assert_problem(&call("/users", access.clone()).await, 401, "invalid_token");
    assert_problem(&call("/loops", narrow).await, 401, "invalid_token");
    assert_oauth_error(
        &app.token_request(
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await,
        401,
        "invalid_client",
    );
}
both_backends!(issue_and_use_client_tokens, issue_and_use);

async fn refusals(app: TestApp) {
    let admin = app.admin().await;
    let (id, secret) = mint(&app, &admin, &["users:read"]).await;
    let (other_id, _) = mint(&app, &admin, &["users:read"]).await;
    let grant = ("grant_type", "client_credentials");
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "no grant type",
            vec![],
            Some((&id, &secret)),
            400,
            "invalid_request",
        ),
        (
            "the password grant",
            vec![("grant_type", "password")],
            Some((&id, &secret)),
            400,
            "unsupported_grant_type",
        ),
        (
            "a repeated parameter",
            vec![grant, grant],
            Some((&id, &secret)),
            400,
            "invalid_request",
        ),
        (
            "two ways of authenticating",
            vec![grant, ("client_id", &id), ("client_secret", &secret)],
            Some((&id, &secret)),
            400,
            "invalid_request",
        ),
        ("no credentials", vec![grant], None, 401, "invalid_client"),
        (
            "a wrong secret",
            vec![grant],
            Some((&id, "brt_not-the-secret")),
            401,
            "invalid_client",
        ),
        (
            "another token's id",
            vec![grant],
            Some((&other_id, &secret)),
            401,
            "invalid_client",
        ),
        (
            "an id that is no id",
            vec![grant],
            Some(("ATS", &secret)),
            401,
            "invalid_client",
        ),
        (
            "a scope the token lacks",
            vec![grant, ("scope", "users:read users:write")],
            Some((&id, &secret)),
            400,
            "invalid_scope",
        ),
        (
            "an unknown scope",
            vec![grant, ("scope", "root")],
            Some((&id, &secret)),
            400,
            "invalid_scope",
        ),
    ];
    for (what, form, basic, status, error) in cases {
        let got = app.token_request(&form, basic).await;
        assert_eq!(got.0.as_u16(), status, "{what}: {}", got.2);
        assert_oauth_error(&got, status, error);
    }

    // Not a form, or a bearer token instead of client credentials.
    let json_body = app
        .client
        .post(app.url("/oauth/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let bearer = app
        .client
        .post(app.url("/oauth/token"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::BAD_REQUEST);

    // A person's access token is not a client's, nor the reverse.
    let access = app.client_token(&id, &secret, None).await;
    assert_problem(
        &app.call(
            Method::POST,
            "/auth/logout",
            Some(&access),
            Some(json!({"refresh_token": "not-one"})),
        )
        .await,
        403,
        "insufficient_scope",
    );

    // The token's admin deactivated: its access tokens stop, none is issued.
    let second = app.user("Second Admin", "admin", false).await;
    let (sid, ssecret) = mint(&app, &second, &["users:read"]).await;
    let access = app.client_token(&sid, &ssecret, None).await;
    let (status, body) = app
        .patch(
            &format!("/users/{}", second.id),
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_problem(
        &app.call(Method::GET, "/users", Some(&access), None).await,
        401,
        "invalid_token",
    );
    assert_oauth_error(
        &app.token_request(&[grant], Some((&sid, &ssecret))).await,
        401,
        "invalid_client",
    );
}
both_backends!(client_token_refusals, refusals);
