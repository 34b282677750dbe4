//! Single sign-on with OpenID Connect, end to end against a real provider:
//! the `oidc-provider` package run by Node (`tests/oidc/provider.mjs`, its
//! dependencies installed by `tests/oidc/install.sh`), on loopback, with its
//! own login and consent pages, which the test fills in as a person would,
//! over HTTP. Nothing of the provider is mocked: the service discovers it,
//! exchanges codes at its token endpoint and checks ID tokens by its keys.
//!
//! Node comes from `BAR_RAISER_TEST_NODE`, else `node`. Without Node or the
//! installed package the cases print `skipped: …` and pass, unless
//! `BAR_RAISER_REQUIRE_OIDC=1` or `CI=true`, which make them fail instead.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bar_raiser::config::{Config, GroupRole, PasswordSignin, Secret};
use bar_raiser::domain::AccountRole;
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

const CLIENT_ID: &str = "bar-raiser-test";
const CLIENT_SECRET: &str = "bar-raiser-test-client-secret";
const FRONTEND: &str = "http://front.example.test/signed-in";

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Node and the installed provider package, or why the case cannot run.
fn node() -> Result<PathBuf, String> {
    let node = std::env::var("BAR_RAISER_TEST_NODE")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"));
    let works = Command::new(&node)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        return Err(format!(
            "single sign-on case needs Node ({} did not run; set BAR_RAISER_TEST_NODE)",
            node.display()
        ));
    }
    if !oidc_dir().join("node_modules/oidc-provider").is_dir() {
        return Err(
            "single sign-on case needs oidc-provider installed: run `bash tests/oidc/install.sh`"
                .into(),
        );
    }
    Ok(node)
}

fn node_or_skip() -> Option<PathBuf> {
    match node() {
        Ok(p) => Some(p),
        Err(why) => {
            let required = std::env::var("BAR_RAISER_REQUIRE_OIDC").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true");
            if required {
                panic!("the OpenID provider is required here (CI) but {why}");
            }
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// A running `tests/oidc/provider.mjs`; stopped when dropped.
struct Provider {
    issuer: String,
    child: Child,
    http: reqwest::Client,
}

impl Provider {
    fn start(node: &Path, redirect_uri: &str) -> Provider {
        let mut child = Command::new(node)
            .arg(oidc_dir().join("provider.mjs"))
            .args(["--port", "0", "--client-id", CLIENT_ID])
            .args(["--client-secret", CLIENT_SECRET])
            .args(["--redirect-uri", redirect_uri])
            .current_dir(oidc_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the OpenID provider");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("ready ") => {
                    break line.trim_start_matches("ready ").trim().to_string();
                }
                Some(Ok(_)) => continue,
                _ => {
                    let _ = child.kill();
                    panic!("the OpenID provider did not start");
                }
            }
        };
        Provider {
            issuer,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// A new signing key (new `kid`) replaces the old one.
    async fn rotate(&self) {
        let r = self
            .http
            .post(format!("{}/__admin/rotate", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }

    /// The provider's clock runs `secs` off.
    async fn clock(&self, secs: i64) {
        let r = self
            .http
            .post(format!("{}/__admin/clock?offset={secs}", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }

    /// The `kid`s the provider publishes.
    async fn kids(&self) -> Vec<String> {
        let jwks: Value = self
            .http
            .get(format!("{}/jwks", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The service and its provider, wired to each other.
pub(crate) struct Sso {
    pub(crate) app: TestApp,
    provider: Provider,
    /// The browser's binding cookie (`name=value`) from the last browser
    /// start, sent with every callback as that browser would.
    binding: std::sync::Mutex<Option<String>>,
}

impl Sso {
    pub(crate) async fn spawn(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Sso> {
        let node = node_or_skip()?;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let callback = format!("http://127.0.0.1:{port}/api/v1/auth/sso/callback");
        let provider = Provider::start(&node, &callback);
        let issuer = provider.issuer.clone();
        let app = TestApp::spawn_on(backend, listener, |c| {
            c.sso.issuer = Some(issuer);
            c.sso.client_id = Some(CLIENT_ID.into());
            c.sso.client_secret = Some(Secret::new(CLIENT_SECRET));
            c.sso.redirect_url = Some(callback);
            c.sso.frontend_url = Some(FRONTEND.into());
            tweak(c);
        })
        .await?;
        Some(Sso {
            app,
            provider,
            binding: std::sync::Mutex::new(None),
        })
    }

    /// An account for one of the provider's people (same email).
    async fn account(&self, login: &str, role: &str) -> Value {
        let admin = self.app.admin().await;
        let (status, body) = self
            .app
            .post(
                "/users",
                &admin,
                json!({"email": format!("{login}@example.com"), "name": login, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A browser sign-in up to the provider's redirect back to the service:
    /// the callback URL, with the provider's `code` and the `state`.
    async fn at_provider(&self, login: &str, edit: impl FnOnce(Url) -> Url) -> String {
        let r = self
            .app
            .client
            .get(self.app.url("/auth/sso/start"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/api/v1/auth/sso",
            "Max-Age=600",
        ] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let pair = cookie.split(';').next().unwrap().to_string();
        assert!(
            pair.starts_with("bar_raiser_sso=") && pair.len() > 30,
            "{pair}"
        );
        *self.binding.lock().unwrap() = Some(pair);
        let to = r.headers()["location"].to_str().unwrap();
        let to = Url::parse(to).unwrap();
        assert!(to.as_str().starts_with(&self.provider.issuer), "{to}");
        let q: BTreeMap<String, String> = to.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["state"].len() >= 22 && q["nonce"].len() >= 22, "{q:?}");
        Browser::new()
            .through_provider(edit(to), &self.app.base, login)
            .await
    }

    /// The service's answer to a callback URL.
    async fn callback(&self, url: &str) -> reqwest::Response {
        let binding = self.binding.lock().unwrap().clone();
        self.callback_with(url, binding.as_deref()).await
    }

    /// The service's answer to a callback URL opened by a browser holding
    /// `cookie` (`name=value`), or none.
    async fn callback_with(&self, url: &str, cookie: Option<&str>) -> reqwest::Response {
        assert!(url.starts_with(&self.app.base), "{url}");
        let mut req = self.app.client.get(url);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// A whole browser sign-in: the front end's one-time code.
    async fn browser_code(&self, login: &str) -> String {
        let url = self.at_provider(login, |u| u).await;
        let r = self.callback(&url).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{:?}", r.text().await);
        one_time_code(&r)
    }

    /// Exchanges a one-time code: status and body.
    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        self.app
            .call(
                Method::POST,
                "/auth/sso/exchange",
                None,
                Some(json!({ "code": code })),
            )
            .await
    }

    /// A whole browser sign-in ending in the service's token pair.
    pub(crate) async fn sign_in(&self, login: &str) -> Value {
        let code = self.browser_code(login).await;
        let (status, body) = self.exchange(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The service's answer to a callback of a sign-in, as problem+json.
    async fn refused(&self, url: &str) -> (StatusCode, Value) {
        let r = self.callback(url).await;
        let status = r.status();
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{status}"
        );
        (status, r.json().await.unwrap())
    }

    /// The `sso.linked` entries of the organisation's audit chain: subject
    /// (the account) and payload.
    async fn links_recorded(&self) -> Vec<(String, Value)> {
        let db = self.app.state.db.clone();
        actix_web::web::block(move || {
            use bar_raiser::db::schema::audit_events;
            use diesel::prelude::*;
            let mut conn = db.conn().unwrap();
            audit_events::table
                .filter(audit_events::action.eq("sso.linked"))
                .select((audit_events::subject_id, audit_events::payload))
                .load::<(Option<String>, String)>(&mut *conn)
                .unwrap()
                .into_iter()
                .map(|(s, p)| (s.unwrap_or_default(), serde_json::from_str(&p).unwrap()))
                .collect()
        })
        .await
        .unwrap()
    }

    async fn me(&self, tokens: &Value) -> Value {
        let (status, me) = self
            .app
            .call(Method::GET, "/me", tokens["access_token"].as_str(), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{me}");
        me
    }
}

fn one_time_code(r: &reqwest::Response) -> String {
    let to = r.headers()["location"].to_str().unwrap();
    let (front, code) = to.split_once("#code=").expect("code in the fragment");
    assert_eq!(front, FRONTEND);
    code.to_string()
}

/// A person's browser at the provider: cookies kept, redirects followed,
/// the login form filled in with `login` and the consent form accepted.
struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn keep_cookies(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || v.to_lowercase().contains("expires=thu, 01 jan 1970") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Follows the provider from the authorization URL until it sends the
    /// browser back to `app_base`: that URL.
    async fn through_provider(mut self, start: Url, app_base: &str, login: &str) -> String {
        let mut next = start;
        let mut form: Option<Vec<(&str, String)>> = None;
        for _ in 0..20 {
            let req = match form.take() {
                Some(fields) => self.http.post(next.clone()).form(&fields),
                None => self.http.get(next.clone()),
            };
            let r = req
                .header("cookie", self.cookie_header())
                .send()
                .await
                .unwrap();
            self.keep_cookies(&r);
            if r.status().is_redirection() {
                let location = r.headers()["location"].to_str().unwrap().to_string();
                let target = next.join(&location).unwrap();
                if target.as_str().starts_with(app_base) {
                    return target.to_string();
                }
                next = target;
                continue;
            }
            let status = r.status();
            let page = r.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "provider page: {page}");
            let action = between(&page, "action=\"", "\"").expect("a form on the page");
            let prompt = between(&page, "name=\"prompt\" value=\"", "\"").expect("a prompt");
            next = next.join(&action.replace("&amp;", "&")).unwrap();
            form = Some(match prompt.as_str() {
                "login" => vec![
                    ("prompt", "login".into()),
                    ("login", login.into()),
                    ("password", "any password".into()),
                ],
                "consent" => vec![("prompt", "consent".into())],
                other => panic!("unexpected provider page `{other}`: {page}"),
            });
        }
        panic!("the provider never sent the browser back");
    }
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_string())
}

fn with_query(url: &str, key: &str, value: &str) -> String {
    let mut u = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == key {
                (k, value.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

// --- 1. a good sign-in -----------------------------------------------------

both_backends!(good_sign_in, backend => super::good_sign_in_body);
async fn good_sign_in_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    let alice = s.account("alice", "member").await;

    // Browser: redirected to the front end with a one-time code, which
    // exchanges for the same token pair password sign-in gives.
    let code = s.browser_code("alice").await;
    let r = s
        .app
        .client
        .post(s.app.url("/auth/sso/exchange"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let me = s.me(&tokens).await;
    assert_eq!(me["id"], alice["id"]);
    assert_eq!(me["email"], "alice@example.com");
    // The link is recorded once, in the organisation's chain.
    let links = s.links_recorded().await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].0, alice["id"].as_str().unwrap());
    assert_eq!(links[0].1["how"], "verified_email");
    assert_eq!(links[0].1["subject"], "alice");
    assert_eq!(links[0].1["issuer"], s.provider.issuer.as_str());
    // The refresh token is the service's own: it rotates like any other.
    let (status, again) = s
        .app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": tokens["refresh_token"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");

    // The command line: JSON with the URL, the code shown as text.
    let (status, started) = s
        .app
        .call(Method::GET, "/auth/sso/start?client=cli", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["expires_in"], 600);
    let url = Url::parse(started["authorization_url"].as_str().unwrap()).unwrap();
    let back = Browser::new()
        .through_provider(url, &s.app.base, "alice")
        .await;
    let r = s.callback(&back).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let page = r.text().await.unwrap();
    let code = page.trim().lines().last().unwrap().trim().to_string();
    let (status, tokens) = s.exchange(&code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(s.me(&tokens).await["id"], alice["id"]);

    // Linked by the subject now: a changed email in the service does not
    // unlink the account.
    let admin = s.app.admin().await;
    let id = alice["id"].as_str().unwrap();
    let (status, body) = s
        .app
        .patch(
            &format!("/users/{id}"),
            &admin,
            json!({"email": "alice.renamed@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tokens = s.sign_in("alice").await;
    assert_eq!(s.me(&tokens).await["email"], "alice.renamed@example.com");
    assert_eq!(s.links_recorded().await.len(), 1, "linked once only");
}

// --- 2. refusals ------------------------------------------------------------

both_backends!(login_csrf, backend => super::login_csrf_body);
/// Login CSRF: Mallory signs in at the provider and sends Alice the
/// callback URL (or has a page of hers open it). In Alice's browser, which
/// did not start that sign-in, it signs nobody in; the browser that
/// started it is the only one it works in, and only once.
async fn login_csrf_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    s.account("rita", "recruiter").await;
    // Alice's own browser has a sign-in of hers under way (her cookie).
    s.at_provider("alice", |u| u).await;
    let alices_cookie = s.binding.lock().unwrap().clone().unwrap();
    // Mallory's sign-in, as rita, up to the callback: the URL she sends.
    let bait = s.at_provider("rita", |u| u).await;
    let mallorys_cookie = s.binding.lock().unwrap().clone().unwrap();
    assert_ne!(alices_cookie, mallorys_cookie);
    let r = s.callback_with(&bait, Some(&alices_cookie)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "sso_state_mismatch", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("another browser"),
        "{p}"
    );
    // Refused once, the sign-in is spent: not even Mallory's browser
    // finishes it now.
    let r = s.callback_with(&bait, Some(&mallorys_cookie)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A browser with no cookie at all (a fresh bait): refused as well.
    let bait = s.at_provider("rita", |u| u).await;
    let r = s.callback_with(&bait, None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "sso_state_mismatch", "{p}");
    // The browser that started a sign-in finishes it.
    let url = s.at_provider("alice", |u| u).await;
    let r = s.callback(&url).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cleared = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("bar_raiser_sso=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let (status, tokens) = s.exchange(&one_time_code(&r)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(s.me(&tokens).await["email"], "alice@example.com");
}

both_backends!(wrong_state, backend => super::wrong_state_body);
async fn wrong_state_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    let url = s.at_provider("alice", |u| u).await;
    let forged = with_query(&url, "state", "not-the-state-of-any-sign-in");
    assert_problem(&s.refused(&forged).await, 400, "sso_state_mismatch");
    let missing = with_query(&url, "state", "");
    assert_problem(&s.refused(&missing).await, 400, "sso_state_mismatch");
    // The real state still works: it was the state that was refused.
    let r = s.callback(&url).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let (status, _) = s.exchange(&one_time_code(&r)).await;
    assert_eq!(status, StatusCode::OK);
}

both_backends!(replayed_code, backend => super::replayed_code_body);
async fn replayed_code_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    let url = s.at_provider("alice", |u| u).await;
    let r = s.callback(&url).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let code = one_time_code(&r);
    // The same callback again: its sign-in is used up.
    assert_problem(&s.refused(&url).await, 400, "sso_state_mismatch");
    // The provider's code under another sign-in's state: the provider
    // refuses it (used already, and the PKCE verifier is another).
    let other = s.at_provider("alice", |u| u).await;
    let provider_code = Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let replay = with_query(&other, "code", &provider_code);
    assert_problem(&s.refused(&replay).await, 400, "sso_code_invalid");
    // The one-time code works once.
    assert_eq!(s.exchange(&code).await.0, StatusCode::OK);
    assert_problem(&s.exchange(&code).await, 400, "sso_code_invalid");
    assert_problem(&s.exchange("made-up").await, 400, "sso_code_invalid");
}

both_backends!(wrong_nonce, backend => super::wrong_nonce_body);
async fn wrong_nonce_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    // The authorization request reaches the provider with another nonce
    // than the service keeps: the ID token names that other nonce.
    let url = s
        .at_provider("alice", |u| {
            Url::parse(&with_query(
                u.as_str(),
                "nonce",
                "a-nonce-of-another-sign-in",
            ))
            .unwrap()
        })
        .await;
    assert_problem(&s.refused(&url).await, 401, "sso_nonce_mismatch");
}

both_backends!(unverified_email, backend => super::unverified_email_body);
async fn unverified_email_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |c| c.sso.jit = true).await else {
        return;
    };
    s.account("uma", "member").await;
    let url = s.at_provider("uma", |u| u).await;
    assert_problem(&s.refused(&url).await, 403, "sso_email_unverified");
    // Nothing was linked: her password still signs her in, SSO still not.
    assert_eq!(
        s.app.login("uma@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    let url = s.at_provider("uma", |u| u).await;
    assert_problem(&s.refused(&url).await, 403, "sso_email_unverified");
}

both_backends!(disabled_account, backend => super::disabled_account_body);
async fn disabled_account_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    let dora = s.account("dora", "member").await;
    // Linked by a first sign-in, then deactivated by an admin.
    s.sign_in("dora").await;
    let url = s.at_provider("dora", |u| u).await;
    let r = s.callback(&url).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let pending = one_time_code(&r);
    let admin = s.app.admin().await;
    let id = dora["id"].as_str().unwrap();
    let (status, body) = s
        .app
        .patch(&format!("/users/{id}"), &admin, json!({"active": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = s.at_provider("dora", |u| u).await;
    assert_problem(&s.refused(&url).await, 403, "account_disabled");
    // A code handed out before the deactivation no longer signs in.
    assert_problem(&s.exchange(&pending).await, 403, "account_disabled");
    // Not linked yet and deactivated: refused the same way.
    let olga = s.account("olga", "member").await;
    let id = olga["id"].as_str().unwrap();
    s.app
        .patch(&format!("/users/{id}"), &admin, json!({"active": false}))
        .await;
    let url = s.at_provider("olga", |u| u).await;
    assert_problem(&s.refused(&url).await, 403, "account_disabled");
}

both_backends!(not_linked_unless_jit, backend => super::not_linked_unless_jit_body);
async fn not_linked_unless_jit_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    let url = s.at_provider("nina", |u| u).await;
    assert_problem(&s.refused(&url).await, 403, "sso_not_linked");
    drop(s);
    let Some(s) = Sso::spawn(backend, |c| c.sso.jit = true).await else {
        return;
    };
    let tokens = s.sign_in("nina").await;
    let me = s.me(&tokens).await;
    assert_eq!(me["email"], "nina@example.com");
    assert_eq!(me["name"], "Nina New");
    assert_eq!(me["role"], "member");
    // The second sign-in finds the same account by its subject.
    assert_eq!(s.me(&s.sign_in("nina").await).await["id"], me["id"]);
    let links = s.links_recorded().await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].0, me["id"].as_str().unwrap());
    assert_eq!(links[0].1["how"], "jit");
}

// --- 3. the provider's keys and clock ---------------------------------------

both_backends!(key_rotation, backend => super::key_rotation_body);
async fn key_rotation_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    s.sign_in("alice").await;
    let before = s.provider.kids().await;
    s.provider.rotate().await;
    let after = s.provider.kids().await;
    assert_eq!(after.len(), 1);
    assert!(!before.contains(&after[0]), "{before:?} {after:?}");
    // Past the refetch rate limit: the service holds only the old key and
    // must fetch the new one to accept the next ID token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let tokens = s.sign_in("alice").await;
    assert_eq!(s.me(&tokens).await["email"], "alice@example.com");
}

both_backends!(expired_id_token, backend => super::expired_id_token_body);
async fn expired_id_token_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |_| {}).await else {
        return;
    };
    s.account("alice", "member").await;
    // The provider's clock an hour behind: its ID tokens (five minutes of
    // life) have expired when they are issued.
    s.provider.clock(-3600).await;
    let url = s.at_provider("alice", |u| u).await;
    assert_problem(&s.refused(&url).await, 401, "sso_token_expired");
    s.provider.clock(0).await;
    s.sign_in("alice").await;
}

// --- 4. password sign-in off, break-glass -----------------------------------

both_backends!(password_off_keeps_break_glass, backend => super::password_off_body);
async fn password_off_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |c| c.password_signin = PasswordSignin::Off).await else {
        return;
    };
    s.account("alice", "member").await;
    assert_problem(
        &s.app.login("alice@example.com", PASSWORD).await,
        403,
        "password_signin_disabled",
    );
    // A wrong password is just that: the policy shows only to the owner.
    assert_problem(
        &s.app.login("alice@example.com", "wrong password!").await,
        401,
        "invalid_credentials",
    );
    // The first admin: break-glass.
    assert_eq!(s.app.login(ADMIN_EMAIL, PASSWORD).await.0, StatusCode::OK);
    // A second admin is not the break-glass one.
    s.account("olga", "admin").await;
    assert_problem(
        &s.app.login("olga@example.com", PASSWORD).await,
        403,
        "password_signin_disabled",
    );
    s.sign_in("alice").await;
}

both_backends!(password_unlinked_only, backend => super::unlinked_only_body);
async fn unlinked_only_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |c| {
        c.password_signin = PasswordSignin::UnlinkedOnly;
    })
    .await
    else {
        return;
    };
    s.account("alice", "member").await;
    assert_eq!(
        s.app.login("alice@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    s.sign_in("alice").await;
    assert_problem(
        &s.app.login("alice@example.com", PASSWORD).await,
        403,
        "password_signin_disabled",
    );
}

// --- 5. a claim gives roles ---------------------------------------------------

both_backends!(claim_roles, backend => super::claim_roles_body);
async fn claim_roles_body(backend: Backend) {
    let Some(s) = Sso::spawn(backend, |c| {
        c.sso.scopes = "openid email profile groups".into();
        c.sso.role_claim = Some("groups".into());
        c.sso.claim_roles = vec![
            GroupRole {
                group: "talent".into(),
                role: AccountRole::Recruiter,
            },
            GroupRole {
                group: "platform-admins".into(),
                role: AccountRole::Admin,
            },
        ];
    })
    .await
    else {
        return;
    };
    s.account("rita", "member").await;
    s.account("olga", "member").await;
    s.account("alice", "recruiter").await;
    let rita = s.sign_in("rita").await;
    assert_eq!(s.me(&rita).await["role"], "recruiter");
    let olga = s.sign_in("olga").await;
    assert_eq!(s.me(&olga).await["role"], "admin");
    // In no mapped group: a member, whatever the account said before.
    let alice = s.sign_in("alice").await;
    assert_eq!(s.me(&alice).await["role"], "member");
}

// --- off -------------------------------------------------------------------

both_backends!(not_configured, not_configured_body);
async fn not_configured_body(app: TestApp) {
    for (method, path, body) in [
        (Method::GET, "/auth/sso/start", None),
        (Method::GET, "/auth/sso/callback?code=a&state=b", None),
        (
            Method::POST,
            "/auth/sso/exchange",
            Some(json!({"code": "a"})),
        ),
    ] {
        let got = app.call(method, path, None, body).await;
        assert_problem(&got, 404, "sso_not_configured");
    }
}
