//! `GET /metrics` and W3C trace context: off without its token, refused
//! without the right bearer, and with it the text exposition with bounded
//! labels; `traceparent` carried through or ignored.

use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::*;

const TOKEN: &str = "scrape-me-scrape-me-scrape-me-0123";

/// The value of the sample whose line starts with `series` (name and
/// labels exactly as rendered), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
}

async fn scrape(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().await.unwrap()
}

async fn off_without_its_token(app: TestApp) {
    let got = app.call(Method::GET, "/metrics", None, None).await;
    assert_problem(&got, 404, "not_found");
    // Not a user's token either: there is nothing there at all.
    let admin = app.admin().await;
    let got = app
        .call(Method::GET, "/metrics", Some(&admin.token), None)
        .await;
    assert_problem(&got, 404, "not_found");
}
both_backends!(metrics_off_without_token, off_without_its_token);

async fn only_with_its_token(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.metrics_token = Some(bar_raiser::config::Secret::new(TOKEN));
    })
    .await
    else {
        return;
    };
    let got = app.call(Method::GET, "/metrics", None, None).await;
    assert_problem(&got, 401, "missing_token");
    let got = app.call(Method::GET, "/metrics", Some("wrong"), None).await;
    assert_problem(&got, 401, "invalid_token");
    // An admin's access token is not the metrics token.
    let admin = app.admin().await;
    let got = app
        .call(Method::GET, "/metrics", Some(&admin.token), None)
        .await;
    assert_problem(&got, 401, "invalid_token");

    let before = scrape(&app).await;
    // A user read by id: counted under its route template, not its path.
    let (status, _) = app.get(&format!("/users/{}", admin.id), &admin).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.login(ADMIN_EMAIL, "not the password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let after = scrape(&app).await;

    let users =
        r#"bar_raiser_http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"}"#;
    assert!(
        sample(&after, users).unwrap_or(0.0) >= sample(&before, users).unwrap_or(0.0) + 1.0,
        "{users} did not grow:\n{after}"
    );
    let wrong = r#"bar_raiser_signins_total{outcome="invalid_credentials"}"#;
    assert!(sample(&after, wrong).unwrap() >= sample(&before, wrong).unwrap() + 1.0);
    assert!(sample(&after, r#"bar_raiser_signins_total{outcome="signed_in"}"#).unwrap() >= 1.0);
    for family in [
        "# TYPE bar_raiser_http_request_duration_seconds histogram",
        "# TYPE bar_raiser_db_connections gauge",
        "# TYPE bar_raiser_db_checkout_waits_total counter",
        "# TYPE bar_raiser_password_queue_depth gauge",
        "# TYPE bar_raiser_outbox_messages gauge",
        "# TYPE bar_raiser_outbox_oldest_pending_age_seconds gauge",
        "# TYPE bar_raiser_webhook_deliveries_total counter",
    ] {
        assert!(after.contains(family), "{family} missing:\n{after}");
    }
    assert!(sample(&after, r#"bar_raiser_db_connections_max"#).unwrap() >= 1.0);
    // The writer's queue exists on SQLite only.
    assert_eq!(
        after.contains("bar_raiser_sqlite_write_queue_depth"),
        backend == Backend::Sqlite
    );
    // No id of anything in any label.
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        for word in line.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')) {
            assert!(Uuid::parse_str(word).is_err(), "an id in {line}");
        }
    }
    assert!(!after.contains(&admin.id.to_string()));
}
both_backends!(metrics_with_token, backend => super::only_with_its_token);

async fn trace_context(app: TestApp) {
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("traceparent", incoming)
        .send()
        .await
        .unwrap();
    let echoed = resp.headers()["traceparent"].to_str().unwrap().to_string();
    let parts: Vec<&str> = echoed.split('-').collect();
    assert_eq!(parts.len(), 4, "{echoed}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736", "same trace");
    assert_eq!(parts[2].len(), 16);
    assert_ne!(parts[2], "00f067aa0ba902b7", "our span, not the caller's");
    assert_eq!(parts[3], "01");

    for invalid in [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ] {
        let resp = app
            .client
            .get(app.url("/healthz"))
            .header("traceparent", invalid)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "ignored, not refused");
        assert!(resp.headers().get("traceparent").is_none(), "{invalid}");
    }
}
both_backends!(traceparent, trace_context);
