//! The database failing under the service: PostgreSQL killing the pool's
//! connections, PostgreSQL unreachable (a loopback TCP proxy of this test's
//! own that it cuts and restores; the shared server is never stopped), a
//! read-only database, a full disk, and the outbox worker when the
//! database refuses to record a delivery.

use bar_raiser::db::outbox::Status as OutboxStatus;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web;
use bar_raiser::db::models::OutboxRow;
use bar_raiser::db::outbox::{self as queue, Status};
use bar_raiser::notify::{self, LoopRef, Notice, Recipient, worker};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, Session, TestApp, assert_problem, postgres_admin_url};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn sleep(d: Duration) {
    actix_web::rt::time::sleep(d).await;
}

/// The test database's name, from its URL.
fn database_name(app: &TestApp) -> String {
    let tail = app.database_url.rsplit('/').next().unwrap();
    tail.split('?').next().unwrap().to_string()
}

/// Runs SQL on the shared server's admin database.
async fn admin_sql(statement: String) {
    let admin = postgres_admin_url().expect("PostgreSQL configured");
    web::block(move || {
        let mut c = PgConnection::establish(&admin).expect("admin connection");
        diesel::sql_query(statement)
            .execute(&mut c)
            .expect("admin SQL");
    })
    .await
    .unwrap();
}

/// Ends every server process of this test's own database (and only
/// those), as a PostgreSQL restart would.
async fn terminate_backends(app: &TestApp) {
    let name = database_name(app);
    admin_sql(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .await;
}

/// Status, problem body and `Retry-After` of one request; a request the
/// server holds longer than `patience` fails the test (the pool must not
/// wait out its timeout while the database is gone).
async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    s: &Session,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let patience = Duration::from_secs(5);
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&s.token)
        .timeout(patience);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer within {patience:?}: {e}"));
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value, retry_after)
}

/// A 503 `unavailable` with a `Retry-After`.
#[track_caller]
fn assert_unavailable(got: &(StatusCode, Value, Option<String>)) {
    assert_problem(&(got.0, got.1.clone()), 503, "unavailable");
    assert!(got.2.is_some(), "503 without Retry-After");
}

/// Several connections in the pool, each used.
async fn warm(app: &TestApp, s: &Session) {
    let calls = (0..8).map(|_| app.get("/me", s));
    for (status, body) in futures_util::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

// --- stale connections ------------------------------------------------------

/// PostgreSQL ends every pooled connection (a restart does the same); once
/// the pool has sat idle a moment, as it does while a server restarts, no
/// request is served a dead connection.
#[actix_web::test]
async fn connections_the_server_ended_are_never_lent_out() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = app.admin().await;
    warm(&app, &admin).await;
    terminate_backends(&app).await;
    sleep(ms(1200)).await;
    for n in 0..20 {
        let (status, body, _) = request(&app, Method::GET, "/me", &admin, None).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "request {n} after the restart: {body}"
        );
    }
    let (status, _, _) = request(&app, Method::GET, "/readyz", &admin, None).await;
    assert_eq!(status, StatusCode::OK);
}

/// Right after the server ended the pool's connections, a request that
/// still meets a dead one gets 503 `unavailable` with `Retry-After`, never
/// 500; the dead connection is dropped and the others are checked, so the
/// pool recovers at once.
#[actix_web::test]
async fn a_connection_lost_under_a_request_is_503_and_dropped() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = app.admin().await;
    warm(&app, &admin).await;
    terminate_backends(&app).await;
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.push(request(&app, Method::GET, "/me", &admin, None).await);
    }
    let failed: Vec<_> = answers.iter().filter(|a| a.0 != StatusCode::OK).collect();
    for a in &failed {
        assert_unavailable(a);
    }
    assert!(
        failed.len() <= 1,
        "{} of 20 requests failed on dead connections: {:?}",
        failed.len(),
        failed.iter().map(|a| &a.1).collect::<Vec<_>>()
    );
    assert!(answers[1..].iter().all(|a| a.0 == StatusCode::OK));
}

// --- an unreachable database ------------------------------------------------

/// A loopback TCP proxy in front of the shared PostgreSQL server that the
/// test can cut (every connection reset, the port closed: as a stopped
/// server) and restore.
struct Proxy {
    port: u16,
    state: Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    up: AtomicBool,
    listening: AtomicBool,
    quit: AtomicBool,
    conns: Mutex<Vec<TcpStream>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Proxy {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let state = Arc::new(ProxyState::default());
        state.up.store(true, Ordering::SeqCst);
        let st = state.clone();
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            while !st.quit.load(Ordering::SeqCst) {
                if !st.up.load(Ordering::SeqCst) {
                    listener = None;
                    st.listening.store(false, Ordering::SeqCst);
                    std::thread::sleep(ms(10));
                    continue;
                }
                let l = listener.get_or_insert_with(|| {
                    let l = TcpListener::bind(("127.0.0.1", port)).expect("proxy port");
                    l.set_nonblocking(true).unwrap();
                    l
                });
                st.listening.store(true, Ordering::SeqCst);
                match l.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(target) else {
                            continue;
                        };
                        let mut conns = st.conns.lock().unwrap();
                        conns.push(client.try_clone().unwrap());
                        conns.push(server.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                        pipe(server, client);
                    }
                    Err(_) => std::thread::sleep(ms(5)),
                }
            }
        });
        let proxy = Proxy { port, state };
        proxy.wait_listening(true);
        proxy
    }

    fn wait_listening(&self, want: bool) {
        while self.state.listening.load(Ordering::SeqCst) != want {
            std::thread::sleep(ms(5));
        }
    }

    /// The server is gone: connections reset, connects refused.
    fn down(&self) {
        self.state.up.store(false, Ordering::SeqCst);
        self.wait_listening(false);
        for c in self.state.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    fn up(&self) {
        self.state.up.store(true, Ordering::SeqCst);
        self.wait_listening(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.state.quit.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `postgres://user@host:port/db?q` with `host:port` replaced.
fn via(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, path) = rest.split_once('/').unwrap();
    let user = auth.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}/{path}",
        user.unwrap_or_default()
    )
}

/// Where the shared server listens, from its URL.
fn server_address(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let auth = rest.split('/').next().unwrap();
    let host = auth.rsplit('@').next().unwrap();
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    let host = host.replace("localhost", "127.0.0.1");
    host.parse().expect("host:port of the test server")
}

/// PostgreSQL stopped: every request answers 503 `unavailable` with
/// `Retry-After` without waiting out the pool's timeout (each request here
/// gives up after 5 s; the pool's wait for a busy connection is 15 s), and
/// `/readyz` too; once the server is back, requests succeed again without
/// a restart of the service.
#[actix_web::test]
async fn a_stopped_database_fails_fast_and_recovers() {
    let Some(admin_url) = postgres_admin_url() else {
        eprintln!("skipped: PostgreSQL case needs BAR_RAISER_TEST_POSTGRES_URL");
        return;
    };
    let proxy = Proxy::start(server_address(&admin_url));
    let port = proxy.port;
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |c| {
        c.db.database_url = via(&c.db.database_url, port);
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    warm(&app, &admin).await;

    proxy.down();
    for _ in 0..10 {
        assert_unavailable(&request(&app, Method::GET, "/me", &admin, None).await);
    }
    let candidate = json!({"name": "Outage Candidate", "email": "outage@candidates.example"});
    assert_unavailable(
        &request(
            &app,
            Method::POST,
            "/candidates",
            &admin,
            Some(candidate.clone()),
        )
        .await,
    );
    assert_unavailable(&request(&app, Method::GET, "/readyz", &admin, None).await);

    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, _) = request(&app, Method::GET, "/readyz", &admin, None).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never ready again after the outage"
        );
        sleep(ms(100)).await;
    }
    for _ in 0..5 {
        let (status, body, _) = request(&app, Method::GET, "/me", &admin, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body, _) =
        request(&app, Method::POST, "/candidates", &admin, Some(candidate)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

// --- read-only database, full disk ------------------------------------------

/// A PostgreSQL database that accepts no writes (as a standby, or with
/// `default_transaction_read_only`): writes are 503 `unavailable` with
/// `Retry-After`, reads go on.
#[actix_web::test]
async fn a_read_only_database_is_503_for_writes() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = app.admin().await;
    let name = database_name(&app);
    admin_sql(format!(
        "ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"
    ))
    .await;
    terminate_backends(&app).await;
    sleep(ms(1200)).await;
    let candidate = json!({"name": "Read Only", "email": "ro@candidates.example"});
    let got = request(
        &app,
        Method::POST,
        "/candidates",
        &admin,
        Some(candidate.clone()),
    )
    .await;
    assert_unavailable(&got);
    let (status, _, _) = request(&app, Method::GET, "/me", &admin, None).await;
    assert_eq!(status, StatusCode::OK, "reads go on");

    admin_sql(format!(
        "ALTER DATABASE \"{name}\" RESET default_transaction_read_only"
    ))
    .await;
    terminate_backends(&app).await;
    sleep(ms(1200)).await;
    let (status, body, _) =
        request(&app, Method::POST, "/candidates", &admin, Some(candidate)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Makes inserts into `candidates` fail with the driver's message for a
/// full disk (SQLite's SQLITE_FULL text; PostgreSQL's SQLSTATE 53100 with
/// the ENOSPC text it quotes), or for a read-only SQLite file. A real full
/// disk is filled in tests/faults/run.sh.
async fn refuse_candidates(app: &TestApp, message: &str) {
    match app.backend {
        Backend::Sqlite => {
            app.sql(format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON candidates \
                 BEGIN SELECT RAISE(ABORT, '{message}'); END"
            ))
            .await
        }
        Backend::Postgres => {
            app.sql(format!(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'disk_full'; END $$"
            ))
            .await;
            app.sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON candidates \
                 FOR EACH ROW EXECUTE FUNCTION refuse()"
                    .into(),
            )
            .await
        }
    }
}

async fn a_full_disk_is_507_with_retry_after(app: TestApp) {
    let admin = app.admin().await;
    let message = match app.backend {
        Backend::Sqlite => "database or disk is full",
        Backend::Postgres => "could not extend file \"base/1/2\": No space left on device",
    };
    refuse_candidates(&app, message).await;
    let candidate = json!({"name": "Full Disk", "email": "full@candidates.example"});
    let got = request(&app, Method::POST, "/candidates", &admin, Some(candidate)).await;
    assert_problem(&(got.0, got.1.clone()), 507, "insufficient_storage");
    assert!(got.2.is_some(), "507 without Retry-After");
    let (status, _, _) = request(&app, Method::GET, "/me", &admin, None).await;
    assert_eq!(status, StatusCode::OK, "reads go on");
}
crate::both_backends!(full_disk, a_full_disk_is_507_with_retry_after);

/// SQLite's read-only refusal (a read-only file or mount) is 503.
#[actix_web::test]
async fn a_read_only_sqlite_file_is_503_for_writes() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let admin = app.admin().await;
    refuse_candidates(&app, "attempt to write a readonly database").await;
    let candidate = json!({"name": "Read Only", "email": "ro@candidates.example"});
    assert_unavailable(&request(&app, Method::POST, "/candidates", &admin, Some(candidate)).await);
}

// --- the outbox when outcomes cannot be recorded ------------------------------

async fn outbox_rows(app: &TestApp) -> Vec<OutboxRow> {
    app.state
        .db
        .run(|c| {
            Ok(queue::list(
                c,
                &[Status::Pending, Status::Delivered, Status::Dead],
                100,
            )?)
        })
        .await
        .unwrap()
}

fn eml_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count()
    })
}

/// Makes recording a delivery fail as a full disk would, on this backend.
async fn refuse_delivery_records(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            app.sql(
                "CREATE TRIGGER refuse_outcome BEFORE UPDATE OF status ON outbox \
                 WHEN NEW.status = 'delivered' \
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                    .into(),
            )
            .await
        }
        Backend::Postgres => {
            app.sql(
                "CREATE FUNCTION refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.status = 'delivered' THEN \
                 RAISE EXCEPTION 'could not extend file: No space left on device' \
                 USING ERRCODE = 'disk_full'; END IF; RETURN NEW; END $$"
                    .into(),
            )
            .await;
            app.sql(
                "CREATE TRIGGER refuse_outcome BEFORE UPDATE ON outbox \
                 FOR EACH ROW EXECUTE FUNCTION refuse_outcome()"
                    .into(),
            )
            .await
        }
    }
}

/// A message is sent; recording that it went fails (the disk is full) for
/// several leases. It is not sent again: the worker keeps the outcome,
/// backs off, and records it once the database takes writes again.
async fn an_unrecorded_delivery_is_not_sent_again(app: TestApp) {
    let mail = tempfile::tempdir().unwrap();
    let mut config = app.state.config.clone();
    config.mail_dir = mail.path().to_path_buf();
    config.worker.lease = Duration::from_secs(2);
    config.worker.poll_interval = ms(50);
    config.worker.retry_base = ms(100);

    let about = LoopRef {
        id: Uuid::new_v4(),
        candidate: "Jane Roe".into(),
        position: "Staff Engineer".into(),
    };
    let to = vec![Recipient {
        email: "ann@example.com".into(),
        name: "Ann".into(),
    }];
    let url = config.public_url.clone();
    app.state
        .db
        .write(move |c| notify::enqueue(c, &url, &to, &about, &Notice::DebriefReady, None))
        .await
        .unwrap();
    refuse_delivery_records(&app).await;

    let w = worker::start(app.state.db.clone(), &config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while eml_files(mail.path()) == 0 {
        assert!(Instant::now() < deadline, "the message was never sent");
        sleep(ms(50)).await;
    }
    // Three leases go by while the outcome cannot be recorded.
    sleep(Duration::from_secs(7)).await;
    assert_eq!(
        eml_files(mail.path()),
        1,
        "sent again while its outcome could not be recorded"
    );
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, OutboxStatus::Pending);
    assert_eq!(
        rows[0].attempts, 1,
        "the attempt was recorded before the send"
    );

    // The disk has room again: the delivery is recorded, nothing resent.
    match app.backend {
        Backend::Sqlite => app.sql("DROP TRIGGER refuse_outcome".into()).await,
        Backend::Postgres => {
            app.sql("DROP TRIGGER refuse_outcome ON outbox".into())
                .await
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox_rows(&app).await;
        if rows[0].status == OutboxStatus::Delivered {
            assert_eq!(rows[0].attempts, 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery was never recorded: {rows:?}"
        );
        sleep(ms(100)).await;
    }
    let stats = w.shutdown().await;
    assert_eq!(stats.delivered, 1);
    assert_eq!(eml_files(mail.path()), 1, "sent twice");
}
crate::both_backends!(
    unrecorded_delivery,
    an_unrecorded_delivery_is_not_sent_again
);
