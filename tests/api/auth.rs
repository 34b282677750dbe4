use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn login_right_wrong_unknown_inactive(app: TestApp) {
    let (status, body) = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);

    // Email is case-insensitive.
    let (status, _) = app.login(&ADMIN_EMAIL.to_uppercase(), PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    assert_problem(
        &app.login(ADMIN_EMAIL, "wrong password!!").await,
        401,
        "invalid_credentials",
    );
    assert_problem(
        &app.login("nobody@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    );

    let member = app.user("Mia Member", "member", false).await;
    let admin = app.admin().await;
    let (status, _) = app
        .patch(
            &format!("/users/{}", member.id),
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_problem(
        &app.login(&member.email, PASSWORD).await,
        401,
        "invalid_credentials",
    );
    // Their existing access token stops working at once, and so does refresh.
    assert_problem(&app.get("/me", &member).await, 401, "invalid_token");
    let refreshed = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": member.refresh_token})),
        )
        .await;
    assert_eq!(refreshed.0, StatusCode::UNAUTHORIZED);
}
both_backends!(login_outcomes, login_right_wrong_unknown_inactive);

fn forge(claims: serde_json::Value, secret: &[u8]) -> String {
    bar_raiser::auth::tokens::install_jwt_crypto();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn bad_tokens_are_401(app: TestApp) {
    let admin = app.admin().await;
    let now = chrono::Utc::now().timestamp();
    let sub = admin.id.to_string();
    let real_secret = b"test-secret-test-secret-test-secret!";

    let expired = forge(
        json!({"sub": sub, "role": "admin", "iat": now - 7200, "exp": now - 3600, "typ": "access"}),
        real_secret,
    );
    let other_key = forge(
        json!({"sub": sub, "role": "admin", "iat": now, "exp": now + 600, "typ": "access"}),
        b"some-other-secret-some-other-secret",
    );
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": sub, "role": "admin", "iat": now, "exp": now + 600, "typ": "access"})
            .to_string(),
    );
    let alg_none = format!("{header}.{payload}.");
    let parts: Vec<&str> = admin.token.split('.').collect();
    let tampered_payload = URL_SAFE_NO_PAD.encode(json!({"sub": uuid::Uuid::new_v4().to_string(), "role": "admin", "iat": now, "exp": now + 600, "typ": "access"}).to_string());
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    let unknown_user = forge(
        json!({"sub": uuid::Uuid::new_v4().to_string(), "role": "admin", "iat": now, "exp": now + 600, "typ": "access"}),
        real_secret,
    );

    for token in [
        expired,
        other_key,
        alg_none,
        tampered,
        unknown_user,
        "garbage".into(),
        "a.b.c".into(),
    ] {
        assert_problem(
            &app.call(Method::GET, "/me", Some(&token), None).await,
            401,
            "invalid_token",
        );
    }
    assert_problem(
        &app.call(Method::GET, "/me", None, None).await,
        401,
        "missing_token",
    );

    // Malformed and oversized Authorization headers.
    for value in [
        "Basic abc".to_string(),
        "Bearer".into(),
        "Bearer ".into(),
        format!("Bearer {}", "a".repeat(10_000)),
    ] {
        let resp = app
            .client
            .get(app.url("/me"))
            .header("Authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
}
both_backends!(token_rejections, bad_tokens_are_401);

async fn refresh_rotates_and_reuse_revokes_the_family(app: TestApp) {
    let s = app.admin().await;
    let refresh = |t: String| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/auth/refresh",
                None,
                Some(json!({"refresh_token": t})),
            )
            .await
        }
    };
    let (status, first) = refresh(s.refresh_token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let second_token = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_token, s.refresh_token);
    // The new access token works.
    let (status, _) = app
        .call(Method::GET, "/me", first["access_token"].as_str(), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Presenting the first (rotated) token again: reuse, family revoked.
    assert_problem(
        &refresh(s.refresh_token.clone()).await,
        401,
        "refresh_token_reused",
    );
    // ...so the legitimately rotated one is dead too.
    assert_problem(&refresh(second_token).await, 401, "refresh_token_reused");

    // Another session (another family) is untouched.
    let other = app.admin().await;
    let (status, _) = refresh(other.refresh_token.clone()).await;
    assert_eq!(status, StatusCode::OK);

    assert_problem(
        &refresh("not-a-token".into()).await,
        401,
        "invalid_refresh_token",
    );

    // Logout kills the family.
    let third = app.admin().await;
    let (status, _) = app
        .post(
            "/auth/logout",
            &third,
            json!({"refresh_token": third.refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(third.refresh_token.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
}
both_backends!(
    refresh_rotation,
    refresh_rotates_and_reuse_revokes_the_family
);

async fn failed_logins_are_throttled(app: TestApp) {
    let member = app.user("Tess Target", "member", false).await;
    for _ in 0..5 {
        assert_problem(
            &app.login(&member.email, "wrong password!!").await,
            401,
            "invalid_credentials",
        );
    }
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": member.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    // Other accounts are unaffected.
    assert_eq!(app.login(ADMIN_EMAIL, PASSWORD).await.0, StatusCode::OK);
    // Unknown emails are throttled the same way, so the answer does not
    // reveal which emails exist.
    for _ in 0..5 {
        app.login("ghost@example.com", "wrong password!!").await;
    }
    assert_problem(
        &app.login("ghost@example.com", "wrong password!!").await,
        429,
        "too_many_requests",
    );
}
both_backends!(throttling, failed_logins_are_throttled);
