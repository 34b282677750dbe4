use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::*;

async fn health_and_docs(app: TestApp) {
    let (status, body) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = app.call(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    let resp = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(resp.headers()["location"], "/docs/");
    let resp = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "docs page is Swagger UI");
    // The UI's assets are served locally (vendored), not from a CDN.
    let resp = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let served: Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(
        served, committed,
        "served document differs from openapi/openapi.json"
    );
}
both_backends!(health_docs, health_and_docs);

/// A problem's `type` is an absolute URI whose page describes its code, and
/// the catalogue page lists every code the document's enum does.
async fn problem_types_resolve(app: TestApp) {
    let (status, problem) = app.call(reqwest::Method::GET, "/loops", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let uri = problem["type"].as_str().unwrap();
    let code = problem["code"].as_str().unwrap();
    assert!(
        uri.starts_with("http://") && uri.ends_with(&format!("/problems/{code}")),
        "{uri}"
    );
    // The test server listens on its own port; follow the path there.
    let path = &uri[uri.find("/problems/").unwrap()..];
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(&format!("<code>{code}</code>")) && page.contains("401"),
        "{page}"
    );

    let index = app
        .client
        .get(format!("{}/problems", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.len() > 40);
    for c in codes {
        let c = c.as_str().unwrap();
        assert!(
            index.contains(&format!("href=\"problems/{c}\"")),
            "{c} not on the index"
        );
    }
    let resp = app
        .client
        .get(format!("{}/problems/no_such_code", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
both_backends!(problem_types, problem_types_resolve);

async fn malformed_requests_are_problems(app: TestApp) {
    let admin = app.admin().await;
    let post_raw = |ct: &'static str, body: Vec<u8>| {
        let req = app
            .client
            .post(app.url("/users"))
            .bearer_auth(&admin.token)
            .header("content-type", ct)
            .body(body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            let v: Value = resp.json().await.unwrap();
            (status, v)
        }
    };
    assert_problem(
        &post_raw("application/json", b"{not json".to_vec()).await,
        400,
        "malformed_json",
    );
    assert_problem(
        &post_raw("text/plain", b"{}".to_vec()).await,
        415,
        "unsupported_media_type",
    );
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(70 * 1024));
    assert_problem(
        &post_raw("application/json", big.into_bytes()).await,
        413,
        "payload_too_large",
    );
    assert_problem(
        &post_raw("application/json", vec![b'"', 0xff, 0xfe, b'"']).await,
        400,
        "malformed_json",
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    // Nesting never reaches the parser's depth limit: the shape is refused first.
    assert_problem(
        &post_raw("application/json", deep.into_bytes()).await,
        422,
        "invalid_body",
    );
    let deep_in_field = format!(
        r#"{{"email": {}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        post_raw("application/json", deep_in_field.into_bytes())
            .await
            .0
            .as_u16(),
        400 | 422
    ));

    let wrong_type = post_raw(
        "application/json",
        br#"{"email": 5, "name": "x", "password": "y", "role": "member"}"#.to_vec(),
    )
    .await;
    assert_problem(&wrong_type, 422, "invalid_body");
    let extra = post_raw(
        "application/json",
        br#"{"email": "a@b.co", "name": "x", "password": "a long passphrase", "role": "member", "is_root": true}"#.to_vec(),
    )
    .await;
    assert_problem(&extra, 422, "invalid_body");
    assert_eq!(extra.1["errors"][0]["field"], "is_root");

    let unknown = app
        .call(reqwest::Method::GET, "/no/such/route", None, None)
        .await;
    assert_problem(&unknown, 404, "not_found");
    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(resp.headers()["allow"], "GET");
    let resp = app
        .client
        .delete(app.url("/users"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}
both_backends!(malformed, malformed_requests_are_problems);

async fn response_hygiene(app: TestApp) {
    let admin = app.admin().await;
    let resp = app
        .client
        .get(app.url("/me"))
        .bearer_auth(&admin.token)
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-abc.123");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers().get("server").is_none());
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}
both_backends!(hygiene, response_hygiene);
