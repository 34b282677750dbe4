//! Spawns the real app on a real database per test: a temporary SQLite file,
//! or a fresh PostgreSQL database made from `BAR_RAISER_TEST_POSTGRES_URL`.

use std::net::TcpListener;

use actix_web::web;
use bar_raiser::app::{self, AppState};
use bar_raiser::config::{Config, Secret};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN_EMAIL: &str = "admin@example.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite and on PostgreSQL, as two tests. The body
/// takes a spawned `TestApp`, or with `backend =>` the `Backend` (for
/// bodies that spawn their own app with settings of their own).
///
/// The PostgreSQL case is reported as *ignored*, with the reason, when
/// `BAR_RAISER_TEST_POSTGRES_URL` was not set when the tests were built
/// (`build.rs` sets the `test_postgres` cfg).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, backend => $body:path) => {
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                $body($crate::helpers::Backend::Sqlite).await;
            }
            #[actix_web::test]
            #[cfg_attr(
                not(test_postgres),
                ignore = "PostgreSQL: set BAR_RAISER_TEST_POSTGRES_URL to a server where the user may create databases"
            )]
            async fn postgres() {
                $body($crate::helpers::Backend::Postgres).await;
            }
        }
    };
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                if let Some(app) =
                    $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await
                {
                    $body(app).await;
                }
            }
            #[actix_web::test]
            #[cfg_attr(
                not(test_postgres),
                ignore = "PostgreSQL: set BAR_RAISER_TEST_POSTGRES_URL to a server where the user may create databases"
            )]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await
                {
                    $body(app).await;
                }
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: web::Data<AppState>,
    pub backend: Backend,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
    server: actix_web::dev::ServerHandle,
    /// When set, [`TestApp::user`] provisions people through SCIM with
    /// this service token (see [`TestApp::provision_people`]).
    scim: std::sync::Mutex<Option<String>>,
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("BAR_RAISER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("BAR_RAISER_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("BAR_RAISER_REQUIRE_POSTGRES=1 but BAR_RAISER_TEST_POSTGRES_URL is not set");
            }
            None
        }
    }
}

fn with_database(url: &str, db: &str) -> String {
    let (head, tail) = url.rsplit_once('/').expect("postgres URL has a path");
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}/{db}{query}")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a tweaked configuration. `None` only for PostgreSQL when
    /// no server is configured: the test then says it was skipped.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::spawn_on(backend, listener, tweak).await
    }

    /// Spawns on `listener`, bound beforehand so that the configuration can
    /// name the app's own address (a single sign-on redirect URL).
    pub async fn spawn_on(
        backend: Backend,
        listener: TcpListener,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let (database_url, dir, pg) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let Some(admin) = postgres_admin_url() else {
                    eprintln!("skipped: PostgreSQL case needs BAR_RAISER_TEST_POSTGRES_URL");
                    return None;
                };
                let name = format!("br_test_{}", Uuid::new_v4().simple());
                let admin2 = admin.clone();
                let name2 = name.clone();
                web::block(move || {
                    let mut c = PgConnection::establish(&admin2)
                        .expect("connect to the test PostgreSQL server");
                    diesel::sql_query(format!("CREATE DATABASE \"{name2}\""))
                        .execute(&mut c)
                        .expect("create test database");
                })
                .await
                .unwrap();
                (with_database(&admin, &name), None, Some((admin, name)))
            }
        };
        let mut config = Config::for_database(&database_url);
        config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret!"));
        config.db.db_pool_size = Some(8);
        tweak(&mut config);
        let state = AppState::init(config).await.expect("app state");
        let st = state.clone();
        web::block(move || {
            bar_raiser::bootstrap::create_admin(&st.db, ADMIN_EMAIL, "Ada Admin", PASSWORD)
        })
        .await
        .unwrap()
        .expect("first admin");
        let port = listener.local_addr().unwrap().port();
        let server = app::serve(listener, state.clone(), Some(2)).expect("server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // The server closes a kept-alive connection after 5 s idle;
                // reusing one it is closing fails with IncompleteMessage on a
                // loaded machine. Let the client drop idle ones first.
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            state,
            backend,
            database_url,
            scim: std::sync::Mutex::new(None),
            _dir: dir,
            pg,
            server: handle,
        })
    }

    /// `path` is under `/api/v1` unless it names an absolute route.
    pub fn url(&self, path: &str) -> String {
        const ABSOLUTE: [&str; 9] = [
            "/healthz",
            "/oauth/",
            "/readyz",
            "/metrics",
            "/docs",
            "/api-docs",
            "/api/",
            "/problems",
            "/scim/",
        ];
        if ABSOLUTE.iter().any(|p| path.starts_with(p)) {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v1{}", self.base, path)
        }
    }

    /// Sends a JSON request; `path` is under `/api/v1` unless absolute.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// `POST /oauth/token` with `form` (sent as
    /// `application/x-www-form-urlencoded`) and, if given, HTTP Basic
    /// client credentials: the status, headers and JSON body.
    pub async fn token_request(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode_form(k), encode_form(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = self
            .client
            .post(self.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(encode_form(id), Some(encode_form(secret)));
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// An access token for the service token `id` by the client
    /// credentials grant, with `scope` or all the token holds.
    pub async fn client_token(&self, id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (status, _, body) = self.token_request(&form, Some((id, secret))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str, s: &Session) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(&s.token), None).await
    }
    pub async fn post(&self, path: &str, s: &Session, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&s.token), Some(body))
            .await
    }
    pub async fn put(&self, path: &str, s: &Session, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(&s.token), Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, s: &Session, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(&s.token), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str, s: &Session) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(&s.token), None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn session(&self, email: &str) -> Session {
        let (status, body) = self.login(email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        let token = body["access_token"].as_str().unwrap().to_string();
        let (_, me) = self.call(Method::GET, "/me", Some(&token), None).await;
        Session {
            id: me["id"].as_str().unwrap().parse().unwrap(),
            email: email.to_string(),
            token,
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.session(ADMIN_EMAIL).await
    }

    /// From now on, [`TestApp::user`] creates people as an identity
    /// provider would: through SCIM with a `scim` token of the admin's,
    /// then the admin gives them their role and a password.
    pub async fn provision_people(&self) {
        let admin = self.admin().await;
        let (status, body) = self
            .post(
                "/tokens",
                &admin,
                json!({"name": "identity provider", "scopes": ["scim"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        *self.scim.lock().unwrap() = Some(body["secret"].as_str().unwrap().to_string());
    }

    /// Creates a user through the API (as the admin), or provisions them
    /// through SCIM after [`TestApp::provision_people`], and signs them in.
    pub async fn user(&self, name: &str, role: &str, certified: bool) -> Session {
        let admin = self.admin().await;
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase().replace(' ', "."),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        let scim = self.scim.lock().unwrap().clone();
        if let Some(token) = scim {
            let person =
                json!({"userName": email, "displayName": name, "emails": [{"value": email}]});
            let (status, body) = self
                .call(Method::POST, "/scim/v2/Users", Some(&token), Some(person))
                .await;
            assert_eq!(status, StatusCode::CREATED, "provision user: {body}");
            let id = body["id"].as_str().unwrap();
            let (status, body) = self
                .patch(
                    &format!("/users/{id}"),
                    &admin,
                    json!({"password": PASSWORD, "role": role, "bar_raiser_certified": certified}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "set up provisioned user: {body}");
            return self.session(&email).await;
        }
        let (status, body) = self
            .post(
                "/users",
                &admin,
                json!({"email": email, "name": name, "password": PASSWORD, "role": role, "bar_raiser_certified": certified}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create user: {body}");
        self.session(&email).await
    }

    /// Runs raw SQL against the test database (for tamper tests).
    pub async fn sql(&self, statement: String) {
        let db = self.state.db.clone();
        web::block(move || {
            let mut conn = db.conn().unwrap();
            diesel::sql_query(statement).execute(&mut *conn).unwrap();
        })
        .await
        .unwrap();
    }
}

/// A second instance of the app on the same database, as another process
/// behind the same load balancer would be: its own state, pool and server.
pub struct Twin {
    pub base: String,
    server: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn twin(&self) -> Twin {
        self.twin_with(|_| {}).await
    }

    /// A second instance with settings of its own.
    pub async fn twin_with(&self, tweak: impl FnOnce(&mut Config)) -> Twin {
        let mut config = self.state.config.clone();
        tweak(&mut config);
        let state = AppState::init(config).await.expect("second app state");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = app::serve(listener, state, Some(2)).expect("second server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Twin {
            base: format!("http://127.0.0.1:{port}"),
            server: handle,
        }
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        let handle = self.server.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.server.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
        if let Some((admin, name)) = self.pg.take() {
            // Best effort: a leftover database is harmless, a panic in drop is not.
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = PgConnection::establish(&admin) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut c);
                }
            })
            .join();
        }
    }
}

/// Asserts a problem+json answer with this status and code.
#[track_caller]
pub fn assert_problem(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "unexpected status; body: {}", got.1);
    assert_eq!(got.1["code"], code, "unexpected code; body: {}", got.1);
    assert_eq!(got.1["status"], status);
}

impl TestApp {
    /// Recipients of every queued or sent message.
    pub async fn outbox_recipients(&self) -> Vec<String> {
        let db = self.state.db.clone();
        web::block(move || {
            use bar_raiser::db::schema::outbox;
            use diesel::prelude::*;
            let mut conn = db.conn().unwrap();
            outbox::table
                .select(outbox::recipient)
                .load::<String>(&mut *conn)
                .unwrap()
        })
        .await
        .unwrap()
    }

    /// The candidate's stored row, as text.
    pub async fn candidate_row(&self, id: Uuid) -> String {
        let db = self.state.db.clone();
        web::block(move || {
            let mut conn = db.conn().unwrap();
            format!(
                "{:?}",
                bar_raiser::db::catalog::candidate(&mut conn, id.into()).unwrap()
            )
        })
        .await
        .unwrap()
    }

    /// Every text column of every table that could hold personal data.
    pub async fn dump_text_columns(&self) -> String {
        let db = self.state.db.clone();
        web::block(move || {
            use bar_raiser::db::schema::{audit_events, candidates, loops, outbox};
            use diesel::prelude::*;
            let mut conn = db.conn().unwrap();
            let mut all = String::new();
            for (a, b) in candidates::table
                .select((candidates::name, candidates::links))
                .load::<(String, String)>(&mut *conn)
                .unwrap()
            {
                all.push_str(&a);
                all.push_str(&b);
            }
            for (a, b, c, d, e) in outbox::table
                .select((
                    outbox::subject,
                    outbox::body_text,
                    outbox::body_html,
                    outbox::candidate_name,
                    outbox::calendar,
                ))
                .load::<(String, String, String, Option<String>, Option<String>)>(&mut *conn)
                .unwrap()
            {
                all.push_str(&a);
                all.push_str(&b);
                all.push_str(&c);
                all.push_str(&d.unwrap_or_default());
                all.push_str(&e.unwrap_or_default());
            }
            for p in audit_events::table
                .select(audit_events::payload)
                .load::<String>(&mut *conn)
                .unwrap()
            {
                all.push_str(&p);
            }
            for p in loops::table
                .select(loops::position)
                .load::<String>(&mut *conn)
                .unwrap()
            {
                all.push_str(&p);
            }
            all
        })
        .await
        .unwrap()
    }
}

/// application/x-www-form-urlencoded encoding of one component.
pub fn encode_form(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl TestApp {
    /// Reverts the migrations down to and including `version` (as
    /// `20261201000700`), runs `between` on the database as it was before
    /// that migration, and migrates again: a database upgraded through it.
    pub async fn remigrate_from(
        &self,
        version: &'static str,
        between: impl FnOnce(&mut bar_raiser::db::DbConn) + Send + 'static,
    ) {
        use bar_raiser::db::DbConn;
        use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
        const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
        const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
        fn back_to_before<C: MigrationHarness<B>, B: diesel::backend::Backend>(
            c: &mut C,
            m: fn() -> EmbeddedMigrations,
            version: &str,
        ) {
            loop {
                let applied = c.applied_migrations().unwrap();
                let last = applied.iter().max().unwrap().to_string();
                c.revert_last_migration(m()).unwrap();
                if last == version {
                    return;
                }
            }
        }
        let db = self.state.db.clone();
        web::block(move || {
            let mut conn = db.conn().unwrap();
            match &mut *conn {
                DbConn::Sqlite(c) => back_to_before(c, || SQLITE, version),
                DbConn::Postgres(c) => back_to_before(c, || POSTGRES, version),
            }
            between(&mut conn);
            match &mut *conn {
                DbConn::Sqlite(c) => drop(c.run_pending_migrations(SQLITE).unwrap()),
                DbConn::Postgres(c) => drop(c.run_pending_migrations(POSTGRES).unwrap()),
            }
        })
        .await
        .unwrap();
    }
}
