//! Settings that change what the server does at its edge: CORS (off unless
//! origins are listed) and the JWT secret (refused when too short).

use bar_raiser::app::AppState;
use bar_raiser::config::{Config, Secret};
use reqwest::{Method, StatusCode};

use crate::helpers::*;

const HR_TOOL: &str = "https://hr.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/loops"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn cors_is_off_unless_origins_are_listed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let resp = app
        .client
        .get(app.url("/competencies"))
        .header("origin", HR_TOOL)
        .send()
        .await
        .unwrap();
    assert!(
        !resp.headers().contains_key("access-control-allow-origin"),
        "no CORS headers by default: {:?}",
        resp.headers()
    );
    let resp = preflight(&app, HR_TOOL).await;
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

#[actix_web::test]
async fn cors_admits_the_listed_origins_only() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec![HR_TOOL.to_string(), " ".to_string()];
    })
    .await
    .unwrap();

    let resp = preflight(&app, HR_TOOL).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], HR_TOOL);
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.contains(name), "{name} missing from {allowed}");
    }

    // A real request from the tool sees its answer and the headers it needs.
    let admin = app.admin().await;
    let resp = app
        .client
        .get(app.url("/competencies"))
        .header("origin", HR_TOOL)
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], HR_TOOL);
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    // Any other origin is not admitted.
    let resp = preflight(&app, "https://evil.example").await;
    assert!(
        !resp.headers().contains_key("access-control-allow-origin"),
        "{:?}",
        resp.headers()
    );
    let resp = app
        .client
        .get(app.url("/competencies"))
        .header("origin", "https://evil.example")
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

#[actix_web::test]
async fn a_short_jwt_secret_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("short.db").display());
    let mut config = Config::for_database(&url);
    config.jwt_secret = Some(Secret::new("only-31-bytes-long-secret-12345"));
    assert_eq!(config.jwt_secret.as_ref().unwrap().expose().len(), 31);
    let err = match AppState::init(config).await {
        Ok(_) => panic!("a 31-byte secret was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("at least 32 bytes"), "{err}");

    // 32 bytes is enough.
    let mut config = Config::for_database(&url);
    config.jwt_secret = Some(Secret::new("exactly-32-bytes-long-secret-123"));
    assert_eq!(config.jwt_secret.as_ref().unwrap().expose().len(), 32);
    assert!(AppState::init(config).await.is_ok());
}
