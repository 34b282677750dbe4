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

async fn token_answers_are_not_stored(app: TestApp) {
    // RFC 6749 §5.1: a response carrying tokens says `no-store`.
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let body: serde_json::Value = resp.json().await.unwrap();
    let resp = app
        .client
        .post(app.url("/auth/refresh"))
        .json(&json!({"refresh_token": body["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
}
both_backends!(token_answers_no_store, token_answers_are_not_stored);

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn generated_first_admin_password_stays_out_of_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("first.db").display());
    let db = bar_raiser::db::Db::connect(&url, 2).unwrap();
    db.migrate().unwrap();
    let file = dir.path().join("first-admin-password.txt");
    // The JSON log format `serve --log-format json` uses.
    let logs = LogBuffer::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        bar_raiser::bootstrap::first_admin(&db, None, None, &file)
    })
    .unwrap();

    let password = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(password.len() >= 32, "{password:?}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("created the first admin"), "{log}");
    assert!(log.contains("first-admin-password.txt"), "{log}");
    assert!(
        !log.contains(&password),
        "the password reached the log: {log}"
    );
    // It is the admin's password.
    let mut conn = db.conn().unwrap();
    let admin = bar_raiser::db::users::by_email(&mut conn, "admin@localhost.localdomain")
        .unwrap()
        .unwrap();
    assert_eq!(admin.role, bar_raiser::domain::AccountRole::Admin);
    assert!(bar_raiser::auth::password::verify_blocking(
        &password,
        &admin.password_hash
    ));
    drop(conn);
    // A second start finds the admin and leaves the file alone.
    bar_raiser::bootstrap::first_admin(&db, None, None, &file).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), password);
}

/// Signs in at `base` (an app or its twin), saying it forwards for `client`.
async fn login_at(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(client) = forwarded_for {
        req = req.header("x-forwarded-for", client);
    }
    req.send().await.unwrap()
}

/// Runs the futures at once, each on its own task; their outputs in order.
async fn all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let tasks: Vec<_> = futures.map(actix_web::rt::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// A sign-in counter's attempts as stored.
async fn counted(app: &TestApp, key: String) -> Option<i64> {
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        let mut conn = db.conn().unwrap();
        bar_raiser::db::signin::attempts(&mut conn, &key).unwrap()
    })
    .await
    .unwrap()
}

/// Statuses of a burst, counted: (401s, 429s); anything else fails.
#[track_caller]
fn tally(statuses: &[(u16, String)]) -> (usize, usize) {
    for (status, body) in statuses {
        assert!(
            *status == 401 || *status == 429,
            "unexpected {status}: {body}"
        );
    }
    (
        statuses.iter().filter(|(s, _)| *s == 401).count(),
        statuses.iter().filter(|(s, _)| *s == 429).count(),
    )
}

/// Checks the throttling headers of a 429 and returns its Retry-After.
#[track_caller]
fn assert_throttled(resp: &reqwest::Response, scope: &str) -> u64 {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let h = resp.headers();
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert_eq!(
        h["ratelimit"].to_str().unwrap(),
        format!("\"{scope}\";r=0;t={retry}")
    );
    assert!(
        h["ratelimit-policy"]
            .to_str()
            .unwrap()
            .contains("\"account-address\";q=5;w=3600"),
        "{:?}",
        h["ratelimit-policy"]
    );
    retry
}

async fn a_burst_of_guesses_gets_five_evaluated(app: TestApp) {
    let member = app.user("Burst Target", "member", false).await;
    // 30 wrong passwords at once: only the first five are checked.
    let answers = all((0..30).map(|n| {
        let (http, base, email) = (app.client.clone(), app.base.clone(), member.email.clone());
        async move {
            let resp = login_at(
                &http,
                &base,
                &email,
                &format!("wrong guess number {n}"),
                None,
            )
            .await;
            let status = resp.status().as_u16();
            if status == 429 {
                assert_throttled(&resp, "account-address");
            } else {
                assert!(resp.headers().contains_key("ratelimit"));
                assert!(resp.headers().contains_key("ratelimit-policy"));
            }
            (status, resp.text().await.unwrap())
        }
    }))
    .await;
    assert_eq!(tally(&answers), (5, 25), "{answers:?}");
    // Refused attempts were not counted; the five evaluated ones were.
    let key = format!("p:127.0.0.1|{}", member.email);
    assert_eq!(counted(&app, key).await, Some(5));
    assert_eq!(counted(&app, format!("a:{}", member.email)).await, Some(5));
    // The right password from the same address now waits too.
    let resp = login_at(&app.client, &app.base, &member.email, PASSWORD, None).await;
    assert_throttled(&resp, "account-address");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
}
both_backends!(burst, a_burst_of_guesses_gets_five_evaluated);

async fn two_instances_share_the_counts(app: TestApp) {
    let twin = app.twin().await;
    let member = app.user("Twin Target", "member", false).await;
    // Wrong passwords for one account, at once, half through each instance.
    let answers = all((0..30).map(|n| {
        let http = app.client.clone();
        let base = if n % 2 == 0 {
            app.base.clone()
        } else {
            twin.base.clone()
        };
        let email = member.email.clone();
        async move {
            let resp = login_at(&http, &base, &email, "wrong password!!", None).await;
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    }))
    .await;
    // Never 409, none lost: exactly five evaluated across both.
    assert_eq!(tally(&answers), (5, 25), "{answers:?}");
    let key = format!("p:127.0.0.1|{}", member.email);
    assert_eq!(counted(&app, key).await, Some(5));
    // The owner still signs in through either instance from elsewhere? No
    // proxy is trusted here, so from this address both instances refuse.
    let resp = login_at(&app.client, &twin.base, &member.email, PASSWORD, None).await;
    assert_throttled(&resp, "account-address");
}
both_backends!(two_instances, two_instances_share_the_counts);

fn behind_a_proxy(config: &mut bar_raiser::config::Config) {
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

async fn the_owner_signs_in_while_an_attacker_is_throttled(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_a_proxy).await else {
        return;
    };
    let member = app.user("Owner Olga", "member", false).await;
    let attacker = Some("203.0.113.66");
    for n in 0..5 {
        let resp = login_at(
            &app.client,
            &app.base,
            &member.email,
            &format!("guess {n} is wrong"),
            attacker,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = login_at(
        &app.client,
        &app.base,
        &member.email,
        "guess 6 is wrong",
        attacker,
    )
    .await;
    assert_throttled(&resp, "account-address");
    // Even the right password waits, from the attacker's address…
    let resp = login_at(&app.client, &app.base, &member.email, PASSWORD, attacker).await;
    assert_throttled(&resp, "account-address");
    // …but the owner, from their own, signs in at once.
    let owner = Some("198.51.100.7");
    let resp = login_at(&app.client, &app.base, &member.email, PASSWORD, owner).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["ratelimit"].to_str().unwrap(),
        "\"account-address\";r=5;t=3600"
    );
    // The success gave back its attempt: the account counter holds the
    // attacker's five alone, and the owner's pair counter is gone.
    assert_eq!(counted(&app, format!("a:{}", member.email)).await, Some(5));
    assert_eq!(
        counted(&app, format!("p:198.51.100.7|{}", member.email)).await,
        None
    );
    // IPv6 clients are counted by their /64.
    for n in 0..5 {
        let from = format!("2001:db8:7:7::{n}");
        let resp = login_at(
            &app.client,
            &app.base,
            &member.email,
            "still wrong!!",
            Some(&from),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = login_at(
        &app.client,
        &app.base,
        &member.email,
        PASSWORD,
        Some("2001:db8:7:7::ff"),
    )
    .await;
    assert_throttled(&resp, "account-address");
}

mod owner_not_denied {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        the_owner_signs_in_while_an_attacker_is_throttled(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        the_owner_signs_in_while_an_attacker_is_throttled(Backend::Postgres).await;
    }
}

async fn one_address_guessing_across_accounts(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_a_proxy).await else {
        return;
    };
    // One wrong password for each of 60 accounts at once, from one address:
    // 50 are checked, whatever the account.
    let sprayer = "203.0.113.99";
    let answers = all((0..60).map(|n| {
        let (http, base) = (app.client.clone(), app.base.clone());
        async move {
            let resp = login_at(
                &http,
                &base,
                &format!("target{n}@example.com"),
                "Winter2026!!",
                Some(sprayer),
            )
            .await;
            let status = resp.status().as_u16();
            if status == 429 {
                assert_throttled(&resp, "address");
            }
            (status, resp.text().await.unwrap())
        }
    }))
    .await;
    assert_eq!(tally(&answers), (50, 10), "{answers:?}");
    assert_eq!(counted(&app, format!("i:{sprayer}")).await, Some(50));
    // That address waits for any account, even with a right password…
    let resp = login_at(&app.client, &app.base, ADMIN_EMAIL, PASSWORD, Some(sprayer)).await;
    assert_throttled(&resp, "address");
    // …and every other address is untouched.
    let resp = login_at(
        &app.client,
        &app.base,
        ADMIN_EMAIL,
        PASSWORD,
        Some("198.51.100.8"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

mod address_across_accounts {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        one_address_guessing_across_accounts(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        one_address_guessing_across_accounts(Backend::Postgres).await;
    }
}

async fn forwarded_for_is_ignored_from_untrusted_peers(app: TestApp) {
    // No proxy is trusted (the default): a client cannot pick a new address
    // per guess with X-Forwarded-For.
    let member = app.user("Spoof Target", "member", false).await;
    for n in 0..5 {
        let from = format!("203.0.113.{n}");
        let resp = login_at(
            &app.client,
            &app.base,
            &member.email,
            "wrong password!!",
            Some(&from),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = login_at(
        &app.client,
        &app.base,
        &member.email,
        PASSWORD,
        Some("198.51.100.200"),
    )
    .await;
    assert_throttled(&resp, "account-address");
    assert_eq!(
        counted(&app, format!("p:127.0.0.1|{}", member.email)).await,
        Some(5)
    );
}
both_backends!(
    forwarded_for_untrusted,
    forwarded_for_is_ignored_from_untrusted_peers
);

async fn weak_passwords_are_refused_wherever_one_is_set(app: TestApp) {
    let admin = app.admin().await;
    let create = |email: &str, name: &str, password: &str| json!({"email": email, "name": name, "password": password, "role": "member"});
    let field_code = |body: &serde_json::Value| {
        assert_eq!(body["errors"][0]["field"], "password", "{body}");
        body["errors"][0]["code"].as_str().unwrap().to_string()
    };
    // (password, code) on creation, for Nora Quist <nora.quist@example.com>.
    for (password, code) in [
        ("password1234", "password_too_common"),
        ("aaaaaaaaaaaa", "password_repetitive"),
        ("NoraQuist2024!", "password_personal"),
        ("nora.quist99", "password_personal"),
        ("short pass", "password_too_short"),
    ] {
        let (status, body) = app
            .post(
                "/users",
                &admin,
                create("nora.quist@example.com", "Nora Quist", password),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}: {body}"
        );
        assert_eq!(field_code(&body), code, "{password}");
    }
    // A long passphrase passes, even one that mentions the name.
    let (status, body) = app
        .post(
            "/users",
            &admin,
            create(
                "nora.quist@example.com",
                "Nora Quist",
                "Nora sails past seven quiet lighthouses",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    // The same rules on a new password, with the account's name and email.
    for (password, code) in [
        ("password1234", "password_too_common"),
        ("aaaaaaaaaaaa", "password_repetitive"),
        ("quistquist123", "password_personal"),
    ] {
        let (status, body) = app
            .patch(
                &format!("/users/{id}"),
                &admin,
                json!({"password": password}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}: {body}"
        );
        assert_eq!(field_code(&body), code, "{password}");
    }
    let (status, _) = app
        .patch(
            &format!("/users/{id}"),
            &admin,
            json!({"password": "an entirely different passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // create-admin and BAR_RAISER_ADMIN_PASSWORD go through the same rule.
    let db = app.state.db.clone();
    let refused = actix_web::web::block(move || {
        bar_raiser::bootstrap::create_admin(&db, "root@example.com", "Root Admin", "password1234")
    })
    .await
    .unwrap()
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("password: this password is on a list"),
        "{refused}"
    );
}
both_backends!(
    password_rules,
    weak_passwords_are_refused_wherever_one_is_set
);
