//! Notifications end to end: the outbox, the worker, lettre over a real SMTP
//! server on loopback (see `smtp.rs`), the file transport, the `worker`,
//! `outbox` and `serve` commands, reminders, and what mail may not say.

use bar_raiser::db::outbox::Status as OutboxStatus;
use std::collections::{BTreeSet, HashMap};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use actix_web::web;
use bar_raiser::config::Config;
use bar_raiser::db::models::OutboxRow;
use bar_raiser::db::outbox::{self as queue, Status};
use bar_raiser::db::{self, Db};
use bar_raiser::notify::{self, LoopRef, Notice, Recipient, reminders, worker};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::smtp::{Mail, SmtpServer, by_message_id, free_port};

const PUBLIC_URL: &str = "https://hiring.example.com";
const FROM: &str = "Bar Raiser <noreply@hiring.example.com>";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Settings for a test worker: quick polls and retries, this SMTP server.
fn fast(c: &mut Config, smtp: Option<&SmtpServer>) {
    c.smtp_url = smtp.map(|s| bar_raiser::config::Secret::new(s.url()));
    c.public_url = PUBLIC_URL.into();
    c.mail_from = FROM.into();
    c.worker.poll_interval = ms(50);
    c.worker.retry_base = ms(100);
}

async fn spawn(backend: Backend, smtp: Option<&SmtpServer>) -> Option<TestApp> {
    TestApp::spawn_with(backend, |c| fast(c, smtp)).await
}

fn someone(email: &str) -> Recipient {
    Recipient {
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
    }
}

fn a_loop() -> LoopRef {
    LoopRef {
        id: Uuid::new_v4(),
        candidate: "Jane O'Roe".into(),
        position: "Staff Engineer".into(),
    }
}

/// Queues one notice in its own transaction, as a handler would.
async fn queue(app: &TestApp, to: &[&str], about: &LoopRef, notice: Notice) {
    let to: Vec<Recipient> = to.iter().map(|e| someone(e)).collect();
    let url = app.state.config.public_url.clone();
    let about = about.clone();
    app.state
        .db
        .write(move |c| notify::enqueue(c, &url, &to, &about, &notice, None))
        .await
        .expect("enqueue");
}

/// Queues `n` messages to n people; returns the `Message-ID`s they will carry.
async fn queue_many(app: &TestApp, n: usize) -> BTreeSet<String> {
    let about = a_loop();
    for i in 0..n {
        queue(
            app,
            &[&format!("person{i}@example.com")],
            &about,
            Notice::DebriefReady,
        )
        .await;
    }
    let ids: BTreeSet<String> = outbox(app)
        .await
        .iter()
        .map(|r| notify::mailer::message_id(&r.id))
        .collect();
    assert_eq!(ids.len(), n);
    ids
}

async fn outbox(app: &TestApp) -> Vec<OutboxRow> {
    app.state
        .db
        .run(|c| {
            Ok(queue::list(
                c,
                &[Status::Pending, Status::Delivered, Status::Dead],
                10_000,
            )?)
        })
        .await
        .unwrap()
}

/// Waits until the outbox satisfies `done`, or fails saying `what`.
async fn outbox_until(
    app: &TestApp,
    what: &str,
    within: Duration,
    done: impl Fn(&[OutboxRow]) -> bool,
) -> Vec<OutboxRow> {
    let deadline = Instant::now() + within;
    loop {
        let rows = outbox(app).await;
        if done(&rows) {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "outbox never reached: {what}; rows: {:#?}",
            rows.iter()
                .map(|r| (&r.recipient, &r.status, r.attempts, &r.last_error))
                .collect::<Vec<_>>()
        );
        actix_web::rt::time::sleep(ms(50)).await;
    }
}

fn all_delivered(rows: &[OutboxRow]) -> bool {
    !rows.is_empty() && rows.iter().all(|r| r.status == OutboxStatus::Delivered)
}

fn start_worker(app: &TestApp) -> worker::WorkerHandle {
    worker::start(app.state.db.clone(), &app.state.config).expect("worker")
}

fn mail_to<'a>(mails: &'a [Mail], email: &str) -> &'a Mail {
    mails
        .iter()
        .find(|m| m.rcpt_tos == [email])
        .unwrap_or_else(|| panic!("no mail to {email}"))
}

// --- delivery ---------------------------------------------------------------

async fn messages_arrive_with_recipients_subjects_and_links(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = spawn(backend, Some(&smtp)).await else {
        return;
    };
    let about = a_loop();
    let interview = Uuid::new_v4();
    queue(
        &app,
        &["ann@example.com"],
        &about,
        Notice::InterviewAssigned {
            interview_id: interview,
            starts_at: Utc::now(),
            competencies: vec!["Ownership".into(), "Dive Deep".into()],
        },
    )
    .await;
    queue(
        &app,
        &["ben@example.com", "cleo@example.com"],
        &about,
        Notice::DebriefOpened,
    )
    .await;
    let rows = outbox(&app).await;
    let w = start_worker(&app);

    let mails = smtp.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 3);
    let ann = mail_to(&mails, "ann@example.com");
    assert_eq!(
        ann.subject,
        "Interview assigned: Jane O'Roe — Staff Engineer"
    );
    assert_eq!(ann.to, "ann@example.com");
    assert!(
        ann.from.contains("noreply@hiring.example.com"),
        "{}",
        ann.from
    );
    assert_eq!(ann.mail_from, "noreply@hiring.example.com");
    let link = format!("{PUBLIC_URL}/api/v1/interviews/{interview}/feedback");
    let text = ann.text.as_deref().unwrap();
    let html = ann.html.as_deref().unwrap();
    assert!(
        text.contains(&link) && text.contains("Jane O'Roe"),
        "{text}"
    );
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(html.contains("Jane O&#39;Roe"), "names are escaped: {html}");
    let row = rows
        .iter()
        .find(|r| r.recipient == "ann@example.com")
        .unwrap();
    assert_eq!(ann.message_id, format!("<{}@bar-raiser>", row.id));

    let debrief = format!("{PUBLIC_URL}/api/v1/loops/{}/debrief", about.id);
    for who in ["ben@example.com", "cleo@example.com"] {
        let m = mail_to(&mails, who);
        assert_eq!(m.subject, "Debrief open: Jane O'Roe — Staff Engineer");
        assert!(m.text.as_deref().unwrap().contains(&debrief));
    }

    let rows = outbox_until(
        &app,
        "all delivered",
        Duration::from_secs(10),
        all_delivered,
    )
    .await;
    assert!(
        rows.iter()
            .all(|r| r.attempts == 1 && r.delivered_at.is_some())
    );
    let stats = w.shutdown().await;
    assert_eq!(stats.delivered, 3);
    assert_eq!(smtp.received().len(), 3, "nothing is sent twice");
}
both_backends!(messages_arrive_with_recipients_subjects_and_links, backend => super::messages_arrive_with_recipients_subjects_and_links);

// --- faults -----------------------------------------------------------------

async fn an_smtp_outage_delays_mail_but_loses_none(backend: Backend) {
    let Some(mut smtp) = SmtpServer::not_running() else {
        return;
    };
    let Some(app) = spawn(backend, Some(&smtp)).await else {
        return;
    };
    let w = start_worker(&app);
    // Actions keep succeeding while the server is down: enqueue never
    // touches the network.
    let expected = queue_many(&app, 12).await;
    outbox_until(
        &app,
        "every message tried twice and still pending",
        Duration::from_secs(20),
        |rows| {
            rows.len() == 12
                && rows.iter().all(|r| {
                    r.status == OutboxStatus::Pending && r.attempts >= 2 && r.last_error.is_some()
                })
        },
    )
    .await;

    smtp.run();
    outbox_until(
        &app,
        "all delivered",
        Duration::from_secs(30),
        all_delivered,
    )
    .await;
    actix_web::rt::time::sleep(ms(300)).await;
    let mails = smtp.received();
    let seen = by_message_id(&mails);
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.values().all(|&n| n == 1), "sent twice: {seen:?}");
    assert_eq!(mails.len(), 12);
    w.shutdown().await;
}
both_backends!(an_smtp_outage_delays_mail_but_loses_none, backend => super::an_smtp_outage_delays_mail_but_loses_none);

async fn a_rejected_message_ends_dead_and_can_be_requeued(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    smtp.reject_all(true);
    let Some(app) = TestApp::spawn_with(backend, |c| {
        fast(c, Some(&smtp));
        c.worker.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let w = start_worker(&app);
    queue(&app, &["gone@example.com"], &a_loop(), Notice::DebriefReady).await;
    let rows = outbox_until(&app, "dead", Duration::from_secs(20), |rows| {
        rows.iter().all(|r| r.status == OutboxStatus::Dead)
    })
    .await;
    let dead = &rows[0];
    assert_eq!(dead.attempts, 3, "dead after exactly the retry limit");
    let error = dead.last_error.as_deref().unwrap();
    assert!(
        error.contains("permanent") && error.contains("550"),
        "{error}"
    );
    assert!(smtp.received().is_empty());

    // `bar-raiser outbox` shows it and requeues it.
    let listed = cli(&app, &["outbox"]);
    assert!(
        listed.contains(&dead.id) && listed.contains("dead"),
        "{listed}"
    );
    assert!(listed.contains("550"), "the last error is shown: {listed}");
    smtp.reject_all(false);
    let requeued = cli(&app, &["outbox", "requeue", &dead.id]);
    assert!(requeued.contains("1 message(s) requeued"), "{requeued}");

    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0].message_id, notify::mailer::message_id(&dead.id));
    let rows = outbox_until(&app, "delivered", Duration::from_secs(10), all_delivered).await;
    assert_eq!(
        rows[0].attempts, 1,
        "a requeued message gets a fresh budget"
    );
    let stats = w.shutdown().await;
    assert_eq!((stats.dead, stats.delivered), (1, 1));
}
both_backends!(a_rejected_message_ends_dead_and_can_be_requeued, backend => super::a_rejected_message_ends_dead_and_can_be_requeued);

#[actix_web::test]
async fn requeue_refuses_what_is_not_dead() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    queue(&app, &["x@example.com"], &a_loop(), Notice::DebriefReady).await;
    let id = outbox(&app).await[0].id.clone();
    let out = bin()
        .args(["outbox", "requeue", &id])
        .env("BAR_RAISER_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 message(s) requeued"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not dead"));
}

// --- several workers, restarts ---------------------------------------------

async fn two_workers_share_one_outbox(backend: Backend) {
    let Some(smtp) = SmtpServer::start_with_delay(0.03) else {
        return;
    };
    let Some(app) = TestApp::spawn_with(backend, |c| {
        fast(c, Some(&smtp));
        c.worker.batch_size = 4;
    })
    .await
    else {
        return;
    };
    let expected = queue_many(&app, 40).await;
    // Two pools, as two instances would have.
    let url = app.database_url.clone();
    let other = web::block(move || Db::connect(&url, 4))
        .await
        .unwrap()
        .unwrap();
    let settings = worker::WorkerSettings::from_config(&app.state.config);
    let smtp_url = smtp.url();
    let mailer = || {
        notify::mailer::Mailer::new(
            Some(smtp_url.as_str()),
            FROM,
            std::path::Path::new("."),
            settings.send_timeout(),
        )
        .unwrap()
    };
    let a = worker::spawn(app.state.db.clone(), mailer(), settings.clone());
    let b = worker::spawn(other, mailer(), settings.clone());

    outbox_until(
        &app,
        "all delivered",
        Duration::from_secs(60),
        all_delivered,
    )
    .await;
    let (a, b) = (a.shutdown().await, b.shutdown().await);
    let mails = smtp.received();
    let seen = by_message_id(&mails);
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "none missing"
    );
    assert!(seen.values().all(|&n| n == 1), "none twice: {seen:?}");
    assert_eq!(a.delivered + b.delivered, 40);
    assert!(
        a.delivered > 0 && b.delivered > 0,
        "both workers took part: {a:?} {b:?}"
    );
}
both_backends!(two_workers_share_one_outbox, backend => super::two_workers_share_one_outbox);

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bar-raiser"));
    for (k, _) in std::env::vars() {
        if k.starts_with("BAR_RAISER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("BAR_RAISER_LOG", "warn");
    cmd
}

/// Runs a `bar-raiser` command against the test database; its stdout.
fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = bin()
        .args(args)
        .env("BAR_RAISER_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bar-raiser {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `bar-raiser worker` on the test database as a separate process.
fn worker_process(app: &TestApp, smtp: &SmtpServer) -> Child {
    bin()
        .arg("worker")
        .env("BAR_RAISER_DATABASE_URL", &app.database_url)
        .env("BAR_RAISER_SMTP_URL", smtp.url())
        .env("BAR_RAISER_MAIL_FROM", FROM)
        .env("BAR_RAISER_PUBLIC_URL", PUBLIC_URL)
        .env("BAR_RAISER_WORKER_POLL_INTERVAL", "1s")
        .env("BAR_RAISER_WORKER_BATCH_SIZE", "5")
        .env("BAR_RAISER_OUTBOX_LEASE", "4s")
        .stdin(Stdio::null())
        .spawn()
        .expect("start bar-raiser worker")
}

fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {within:?}");
        }
        std::thread::sleep(ms(20));
    }
}

fn terminate(child: &mut Child) -> ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    wait_exit(child, Duration::from_secs(15))
}

async fn a_killed_worker_loses_nothing(backend: Backend) {
    let Some(smtp) = SmtpServer::start_with_delay(0.15) else {
        return;
    };
    let Some(app) = spawn(backend, Some(&smtp)).await else {
        return;
    };
    let expected = queue_many(&app, 12).await;
    let mut first = worker_process(&app, &smtp);
    smtp.wait_for(3, Duration::from_secs(30)).await;
    first.kill().unwrap(); // SIGKILL: no chance to tidy up
    first.wait().unwrap();
    let rows = outbox(&app).await;
    assert!(
        rows.iter().any(|r| r.status == OutboxStatus::Pending),
        "killed before the end"
    );

    let mut second = worker_process(&app, &smtp);
    outbox_until(
        &app,
        "all delivered",
        Duration::from_secs(60),
        all_delivered,
    )
    .await;
    assert!(terminate(&mut second).success());
    actix_web::rt::time::sleep(ms(300)).await;
    let seen = by_message_id(&smtp.received());
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "none lost"
    );
    // At least once: only the message in flight at the kill may come twice,
    // and then with the same Message-ID.
    let twice = seen.values().filter(|&&n| n > 1).count();
    assert!(twice <= 1 && seen.values().all(|&n| n <= 2), "{seen:?}");
}
both_backends!(a_killed_worker_loses_nothing, backend => super::a_killed_worker_loses_nothing);

async fn sigterm_finishes_the_message_in_flight(backend: Backend) {
    let Some(smtp) = SmtpServer::start_with_delay(0.5) else {
        return;
    };
    let Some(app) = spawn(backend, Some(&smtp)).await else {
        return;
    };
    queue_many(&app, 6).await;
    let mut w = worker_process(&app, &smtp);
    smtp.wait_for(1, Duration::from_secs(30)).await;
    // The second message is now being held by the server for half a second.
    assert!(terminate(&mut w).success(), "clean exit");
    let rows = outbox(&app).await;
    let delivered = rows
        .iter()
        .filter(|r| r.status == OutboxStatus::Delivered)
        .count();
    assert_eq!(
        smtp.received().len(),
        delivered,
        "the message in flight was finished and recorded"
    );
    assert!(delivered < 6, "stopped early");
    assert!(
        rows.iter()
            .filter(|r| r.status == OutboxStatus::Pending)
            .all(|r| r.lease_until.is_none() && r.attempts == 0),
        "the rest is given back at once: {rows:#?}"
    );
}
both_backends!(sigterm_finishes_the_message_in_flight, backend => super::sigterm_finishes_the_message_in_flight);

// --- the file transport, through `serve` ------------------------------------

#[actix_web::test]
async fn serve_without_smtp_writes_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("br.db").display());
    let mail_dir = dir.path().join("mail");
    let url = database_url.clone();
    let id = web::block(move || {
        let db = Db::connect(&url, 1).unwrap();
        db.migrate().unwrap();
        let mut conn = db.conn().unwrap();
        db::write_tx(&mut conn, |c| {
            notify::enqueue(
                c,
                PUBLIC_URL,
                &[someone("ann@example.com")],
                &a_loop(),
                &Notice::DebriefReady,
                None,
            )
        })
        .unwrap();
        queue::list(&mut conn, &[Status::Pending], 10).unwrap()[0]
            .id
            .clone()
    })
    .await
    .unwrap();

    let mut serve = bin()
        .arg("serve")
        // The first admin's generated password file lands here, not in the
        // checkout (where a second run would find it and refuse).
        .current_dir(dir.path())
        .env("BAR_RAISER_DATABASE_URL", &database_url)
        .env("BAR_RAISER_BIND", format!("127.0.0.1:{}", free_port()))
        .env("BAR_RAISER_MAIL_DIR", &mail_dir)
        .env("BAR_RAISER_WORKER_POLL_INTERVAL", "1s")
        .env("BAR_RAISER_WORKERS", "1")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let eml = loop {
        let found = std::fs::read_dir(&mail_dir).ok().and_then(|d| {
            d.map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "eml"))
        });
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "no .eml file in {mail_dir:?}");
        actix_web::rt::time::sleep(ms(100)).await;
    };
    // SIGTERM: the server stops gracefully and so does its worker.
    assert!(terminate(&mut serve).success());
    let raw = std::fs::read_to_string(eml).unwrap();
    assert!(
        raw.contains(&format!("Message-ID: <{id}@bar-raiser>")),
        "{raw}"
    );
    assert!(raw.contains("To: ann@example.com"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    let db = Db::connect(&database_url, 1).unwrap();
    let rows = queue::list(&mut db.conn().unwrap(), &[Status::Delivered], 10).unwrap();
    assert_eq!(rows.len(), 1, "marked delivered");
}

// --- reminders --------------------------------------------------------------

fn ts(t: DateTime<Utc>) -> String {
    format!("'{}'", t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f"))
}

/// People, one loop and its interviews, written straight to the tables (the
/// loop API is not what is under test here).
struct World {
    loop_id: String,
    people: HashMap<&'static str, (String, String)>,
    interviews: HashMap<&'static str, String>,
}

impl World {
    fn email(&self, who: &str) -> &str {
        &self.people[who].1
    }
    fn id(&self, who: &str) -> &str {
        &self.people[who].0
    }
}

async fn person(app: &TestApp, world: &mut World, name: &'static str) {
    let id = Uuid::new_v4().to_string();
    let email = format!("{name}@example.com");
    app.sql(format!(
        "INSERT INTO users (id, email, email_lower, name, password_hash, role, bar_raiser_certified, active, created_at, updated_at) \
         VALUES ('{id}', '{email}', '{email}', '{name}', 'x', 'member', TRUE, TRUE, {now}, {now})",
        now = ts(Utc::now())
    ))
    .await;
    world.people.insert(name, (id, email));
}

async fn loop_row(app: &TestApp, world: &World, state: &str) -> String {
    let now = ts(Utc::now());
    let candidate = Uuid::new_v4().to_string();
    app.sql(format!(
        "INSERT INTO candidates (id, name, links, created_by, created_at, updated_at) \
         VALUES ('{candidate}', 'Jane O''Roe', '[]', '{}', {now}, {now})",
        world.id("rita")
    ))
    .await;
    let id = Uuid::new_v4().to_string();
    app.sql(format!(
        "INSERT INTO loops (id, candidate_id, position, level, hiring_manager_id, bar_raiser_id, recruiter_id, \
         feedback_due_hours, state, created_by, created_at, updated_at, version) \
         VALUES ('{id}', '{candidate}', 'Staff Engineer', 'L6', '{}', '{}', '{}', 24, '{state}', '{}', {now}, {now}, 0)",
        world.id("hank"),
        world.id("bria"),
        world.id("rita"),
        world.id("rita"),
    ))
    .await;
    id
}

/// An interview of `who` in `loop_id`, 60 minutes long, due (24 h after it
/// ends) at `due_at`.
async fn interview(
    app: &TestApp,
    world: &mut World,
    loop_id: &str,
    who: &'static str,
    role: &str,
    due_at: DateTime<Utc>,
) -> String {
    let id = Uuid::new_v4().to_string();
    let starts = due_at - chrono::Duration::hours(25);
    app.sql(format!(
        "INSERT INTO interviews (id, loop_id, interviewer_id, loop_role, starts_at, duration_minutes, created_at, updated_at) \
         VALUES ('{id}', '{loop_id}', '{}', '{role}', {}, 60, {now}, {now})",
        world.id(who),
        ts(starts),
        now = ts(Utc::now())
    ))
    .await;
    world.interviews.insert(who, id.clone());
    id
}

/// Feedback by `who`, with content that must never appear in mail.
async fn feedback(app: &TestApp, world: &World, who: &str, state: &str) {
    let now = ts(Utc::now());
    let id = Uuid::new_v4().to_string();
    let sealed = if state == "sealed" {
        now.clone()
    } else {
        "NULL".into()
    };
    app.sql(format!(
        "INSERT INTO feedback (id, interview_id, loop_id, author_id, state, vote, summary, revision, created_at, updated_at, sealed_at) \
         VALUES ('{id}', '{}', '{}', '{}', '{state}', 'strong_no_hire', 'SECRET-SUMMARY-{who}', 1, {now}, {now}, {sealed})",
        world.interviews[who],
        world.loop_id,
        world.id(who),
    ))
    .await;
    let competency = Uuid::new_v4().to_string();
    app.sql(format!(
        "INSERT INTO competencies (id, name, description, retired, created_at, updated_at) \
         VALUES ('{competency}', 'Test competency {competency}', 'd', FALSE, {now}, {now})"
    ))
    .await;
    app.sql(format!(
        "INSERT INTO feedback_ratings (feedback_id, competency_id, rating, evidence) \
         VALUES ('{id}', '{competency}', 1, 'SECRET-EVIDENCE-{who}')"
    ))
    .await;
    if state == "sealed" {
        app.sql(format!(
            "INSERT INTO feedback_addenda (id, feedback_id, author_id, text, created_at) \
             VALUES ('{}', '{id}', '{}', 'SECRET-ADDENDUM-{who}', {now})",
            Uuid::new_v4(),
            world.id(who)
        ))
        .await;
    }
}

/// A scheduled loop whose interviews stand at every point of the reminder
/// schedule at `now`, plus a draft loop that must stay silent.
async fn reminder_world(app: &TestApp, now: DateTime<Utc>) -> World {
    let mut world = World {
        loop_id: String::new(),
        people: HashMap::new(),
        interviews: HashMap::new(),
    };
    for name in [
        "ann", "ben", "cleo", "dan", "eve", "fay", "gus", "hal", "ivy", "bria", "rita", "hank",
    ] {
        person(app, &mut world, name).await;
    }
    let h = chrono::Duration::hours;
    let l = loop_row(app, &world, "scheduled").await;
    world.loop_id = l.clone();
    interview(app, &mut world, &l, "ann", "interviewer", now + h(2)).await; // due soon
    interview(app, &mut world, &l, "ben", "interviewer", now - h(1)).await; // overdue
    interview(app, &mut world, &l, "cleo", "interviewer", now - h(30)).await; // + recruiter
    interview(app, &mut world, &l, "dan", "interviewer", now - h(50)).await; // + Bar Raiser
    interview(app, &mut world, &l, "eve", "interviewer", now - h(50)).await;
    feedback(app, &world, "eve", "sealed").await; // sealed: silent
    interview(app, &mut world, &l, "fay", "interviewer", now - h(50)).await;
    app.sql(format!(
        "UPDATE interviews SET excused_at = {}, excused_by = '{}', excuse_reason = 'ill' WHERE id = '{}'",
        ts(now),
        world.id("bria"),
        world.interviews["fay"]
    ))
    .await; // excused: silent
    interview(app, &mut world, &l, "gus", "interviewer", now + h(10)).await; // not yet
    interview(app, &mut world, &l, "hal", "shadow", now - h(50)).await; // shadow: no escalation
    interview(app, &mut world, &l, "bria", "interviewer", now - h(50)).await; // the Bar Raiser herself
    feedback(app, &world, "dan", "draft").await;
    let draft = loop_row(app, &world, "draft").await;
    interview(app, &mut world, &draft, "ivy", "interviewer", now - h(50)).await; // draft loop: silent
    world
}

async fn queue_reminders(app: &TestApp, at: DateTime<Utc>) -> usize {
    queue_reminders_paged(app, at, reminders::LOOP_PAGE).await
}

/// As the worker's scan, reading `page` scheduled loops at a time.
async fn queue_reminders_paged(app: &TestApp, at: DateTime<Utc>, page: i64) -> usize {
    reminders::queue_due_paged(
        &app.state.db,
        PUBLIC_URL,
        at,
        bar_raiser::domain::quickvote::DEFAULT_WINDOW_MINUTES,
        page,
    )
    .await
    .unwrap()
}

/// (recipient, dedupe key without the recipient) of every queued reminder.
async fn reminder_rows(app: &TestApp, world: &World) -> BTreeSet<(String, String)> {
    let names: HashMap<&str, &str> = world
        .interviews
        .iter()
        .map(|(k, v)| (v.as_str(), *k))
        .collect();
    outbox(app)
        .await
        .into_iter()
        .map(|r| {
            let key = r.dedupe_key.unwrap();
            let mut parts = key.split(':');
            let (stage, interview) = (parts.next().unwrap(), parts.next().unwrap());
            let who = r.recipient.split('@').next().unwrap().to_string();
            (who, format!("{stage}:{}", names[interview]))
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// What the first scan of [`reminder_world`] queues, (recipient, key).
fn first_reminders() -> BTreeSet<(String, String)> {
    pairs(&[
        ("ann", "due_soon:ann"),
        ("ben", "overdue:ben"),
        ("cleo", "overdue:cleo"),
        ("rita", "overdue_recruiter:cleo"),
        ("dan", "overdue:dan"),
        ("rita", "overdue_recruiter:dan"),
        ("bria", "overdue_bar_raiser:dan"),
        ("hal", "overdue:hal"),
        ("bria", "overdue:bria"),
        ("rita", "overdue_recruiter:bria"),
    ])
}

async fn reminders_go_out_once_each_on_schedule(backend: Backend) {
    let Some(app) = spawn(backend, None).await else {
        return;
    };
    let now = db::now();
    let world = reminder_world(&app, now).await;

    assert_eq!(queue_reminders(&app, now).await, 10);
    let first = first_reminders();
    assert_eq!(reminder_rows(&app, &world).await, first);

    // Once each: a second scan adds nothing.
    assert_eq!(queue_reminders(&app, now).await, 0);

    // A day later, each moves one step on.
    assert_eq!(
        queue_reminders(&app, now + chrono::Duration::hours(25)).await,
        4
    );
    let mut later = first.clone();
    later.extend(pairs(&[
        ("ann", "overdue:ann"),
        ("rita", "overdue_recruiter:ben"),
        ("bria", "overdue_bar_raiser:cleo"),
        ("gus", "overdue:gus"),
    ]));
    assert_eq!(reminder_rows(&app, &world).await, later);

    let rows = outbox(&app).await;
    let soon = rows
        .iter()
        .find(|r| r.dedupe_key.as_deref().unwrap().starts_with("due_soon:"))
        .unwrap();
    assert_eq!(soon.recipient, world.email("ann"));
    assert_eq!(
        notify::templates::fill(soon).subject,
        "Feedback due soon: Jane O'Roe — Staff Engineer"
    );
    assert!(soon.body_text.contains(&format!(
        "{PUBLIC_URL}/api/v1/interviews/{}/feedback",
        world.interviews["ann"]
    )));
    let escalated = rows
        .iter()
        .find(|r| {
            r.dedupe_key
                .as_deref()
                .unwrap()
                .starts_with("overdue_recruiter:")
        })
        .unwrap();
    assert_eq!(
        notify::templates::fill(escalated).subject,
        "Feedback overdue: Jane O'Roe — Staff Engineer"
    );
    assert!(
        escalated.body_text.contains(&format!(
            "{PUBLIC_URL}/api/v1/loops/{}/feedback",
            world.loop_id
        )),
        "escalations link to the status list, not to content: {}",
        escalated.body_text
    );
}
both_backends!(reminders_go_out_once_each_on_schedule, backend => super::reminders_go_out_once_each_on_schedule);

/// The scan reads a page of scheduled loops at a time (its memory is one
/// page's, however many are open): pages of one loop over five scheduled
/// loops (one of them empty, ties on `starts_at` within the first) queue
/// exactly what one page of all does, and a second pass nothing.
///
/// On a whole second, so that [`ts`] stores `…:SS.000000` where diesel
/// writes `…:SS`: an earlier scan keyed its pages on `starts_at`, and
/// SQLite, comparing timestamps as text, handed the same page back for
/// ever (a CI run hung here when the clock fell on a whole millisecond).
/// The scan must end whatever spelling the store holds.
async fn reminders_paged_like_unpaged(backend: Backend) {
    let Some(app) = spawn(backend, None).await else {
        return;
    };
    let now = chrono::SubsecRound::trunc_subsecs(db::now(), 0);
    let mut world = reminder_world(&app, now).await;
    let mut expected = first_reminders();
    for who in ["kim", "lou", "max"] {
        person(&app, &mut world, who).await;
        let l = loop_row(&app, &world, "scheduled").await;
        interview(
            &app,
            &mut world,
            &l,
            who,
            "interviewer",
            now - chrono::Duration::hours(1),
        )
        .await;
        expected.insert((who.to_string(), format!("overdue:{who}")));
    }
    loop_row(&app, &world, "scheduled").await; // no interviews
    let queued = queue_reminders_paged(&app, now, 1).await;
    assert_eq!(queued, 13);
    assert_eq!(reminder_rows(&app, &world).await, expected);
    assert_eq!(queue_reminders(&app, now).await, 0, "queued twice");
}
both_backends!(reminders_paged, backend => super::reminders_paged_like_unpaged);

/// The scan reads without a lock, then queues in a transaction of its own:
/// feedback sealed and an interview excused between the two get no
/// reminder, because the queueing reads its interviews again.
async fn reminders_honour_writes_after_the_read(backend: Backend) {
    let Some(app) = spawn(backend, None).await else {
        return;
    };
    let now = db::now();
    let world = reminder_world(&app, now).await;
    let page = app
        .state
        .db
        .run(move |c| {
            reminders::due_in_page(
                c,
                now,
                bar_raiser::domain::quickvote::DEFAULT_WINDOW_MINUTES,
                None,
                reminders::LOOP_PAGE,
            )
        })
        .await
        .unwrap();
    assert_eq!(page.due.len(), 6, "ann, ben, cleo, dan, hal, bria");
    assert!(page.next.is_none());
    feedback(&app, &world, "ben", "sealed").await;
    app.sql(format!(
        "UPDATE interviews SET excused_at = {}, excused_by = '{}', excuse_reason = 'ill' WHERE id = '{}'",
        ts(now),
        world.id("bria"),
        world.interviews["cleo"]
    ))
    .await;
    let queued = app
        .state
        .db
        .write(move |c| {
            reminders::queue_for(
                c,
                &page.due,
                PUBLIC_URL,
                now,
                bar_raiser::domain::quickvote::DEFAULT_WINDOW_MINUTES,
            )
        })
        .await
        .unwrap();
    let mut expected = first_reminders();
    expected.retain(|(_, key)| !key.ends_with(":ben") && !key.ends_with(":cleo"));
    assert_eq!(queued, expected.len());
    assert_eq!(reminder_rows(&app, &world).await, expected);
}
both_backends!(reminders_after_the_read, backend => super::reminders_honour_writes_after_the_read);

async fn the_worker_queues_and_delivers_reminders(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = spawn(backend, Some(&smtp)).await else {
        return;
    };
    let world = reminder_world(&app, db::now()).await;
    let w = start_worker(&app);
    let mails = smtp.wait_for(10, Duration::from_secs(30)).await;
    let stats = w.shutdown().await;
    assert_eq!(stats.reminders, 10);
    let ann = mail_to(&mails, world.email("ann"));
    assert_eq!(
        ann.subject,
        "Feedback due soon: Jane O'Roe — Staff Engineer"
    );
    assert!(
        ann.text
            .as_deref()
            .unwrap()
            .contains(&world.interviews["ann"])
    );
    // Restarted, it sends nothing new.
    let w = start_worker(&app);
    actix_web::rt::time::sleep(ms(500)).await;
    assert_eq!(w.shutdown().await, worker::Stats::default());
    assert_eq!(smtp.received().len(), 10);
}
both_backends!(the_worker_queues_and_delivers_reminders, backend => super::the_worker_queues_and_delivers_reminders);

// --- independence -----------------------------------------------------------

/// Mail about a loop full of feedback never carries any of it: not the
/// summaries, evidence, addenda or votes of draft or sealed feedback, in
/// any message the worker or the templates produce.
async fn mail_never_carries_feedback_content(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn(backend, smtp.as_ref()).await else {
        return;
    };
    let now = db::now();
    let world = reminder_world(&app, now).await;
    feedback(&app, &world, "ann", "draft").await;
    feedback(&app, &world, "ben", "sealed").await;
    app.sql(format!(
        "INSERT INTO debrief_votes (loop_id, voter_id, vote, rationale, created_at, updated_at) \
         VALUES ('{}', '{}', 'inclined_to_hire', 'SECRET-RATIONALE', {n}, {n})",
        world.loop_id,
        world.id("ben"),
        n = ts(now)
    ))
    .await;

    // Every reminder stage for every unsealed interview...
    queue_reminders(&app, now + chrono::Duration::days(5)).await;
    // ...and every notice, about this loop, to everyone in it.
    let about = LoopRef {
        id: world.loop_id.parse().unwrap(),
        candidate: "Jane O'Roe".into(),
        position: "Staff Engineer".into(),
    };
    let interview: Uuid = world.interviews["ben"].parse().unwrap();
    let everyone: Vec<&str> = ["ann", "ben", "bria", "rita", "hank"]
        .iter()
        .map(|p| world.email(p))
        .collect();
    for notice in [
        Notice::InterviewAssigned {
            interview_id: interview,
            starts_at: now,
            competencies: vec!["Ownership".into()],
        },
        Notice::InterviewChanged {
            interview_id: interview,
            starts_at: now,
            competencies: vec!["Ownership".into()],
        },
        Notice::InterviewRemoved {
            interview_id: interview,
        },
        Notice::FeedbackDueSoon {
            interview_id: interview,
            due_at: now,
        },
        Notice::YourFeedbackOverdue {
            interview_id: interview,
            due_at: now,
        },
        Notice::FeedbackOverdue {
            interview_id: interview,
            due_at: now,
            interviewer: "ben".into(),
        },
        Notice::DebriefReady,
        Notice::DebriefOpened,
        Notice::DecisionRecorded {
            outcome: "hire".into(),
        },
        Notice::DecisionConcurred,
        Notice::DecisionVetoed,
        Notice::BreakGlassRead {
            interview_id: interview,
            admin: "Ada Admin".into(),
        },
        Notice::LoopCancelled {
            reason: "position closed".into(),
        },
    ] {
        queue(&app, &everyone, &about, notice).await;
    }

    let forbidden = [
        "SECRET",
        "strong_no_hire",
        "strong no hire",
        "inclined",
        "Test competency",
    ];
    let rows = outbox(&app).await;
    assert!(rows.len() > 60, "{} messages", rows.len());
    for r in &rows {
        for f in forbidden {
            for part in [&r.subject, &r.body_text, &r.body_html] {
                assert!(!part.contains(f), "{f:?} leaked into mail: {part}");
            }
        }
    }
    // And what actually goes over the wire, decoded.
    if let Some(smtp) = &smtp {
        let w = start_worker(&app);
        let mails = smtp.wait_for(rows.len(), Duration::from_secs(60)).await;
        w.shutdown().await;
        for m in &mails {
            let all = format!(
                "{}{}{}{}",
                m.subject,
                m.text.as_deref().unwrap_or(""),
                m.html.as_deref().unwrap_or(""),
                m.raw
            );
            for f in forbidden {
                assert!(!all.contains(f), "{f:?} leaked into delivered mail: {all}");
            }
        }
    }
}
both_backends!(mail_never_carries_feedback_content, backend => super::mail_never_carries_feedback_content);

// --- erasure ----------------------------------------------------------------

/// Erasing a candidate called "Al" rewrites their name and nothing else:
/// not the interviewer Alan Always, not "Always-on Platform", in queued
/// mail, in the stored copies, and in what goes over the wire.
async fn erasure_rewrites_exactly_the_candidate_name(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn(backend, smtp.as_ref()).await else {
        return;
    };
    let setup = app.scheduled_loop().await;
    let rec = &setup.cast.recruiter;
    let id = setup.candidate_id;
    let (status, body) = app
        .patch(
            &format!("/candidates/{id}"),
            rec,
            serde_json::json!({"name": "Al"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let about = LoopRef {
        id: setup.loop_id,
        candidate: "Al".into(),
        position: "Always-on Platform".into(),
    };
    let alan = Recipient {
        email: "alan@example.com".into(),
        name: "Alan Always".into(),
    };
    let url = app.state.config.public_url.clone();
    let notice = Notice::FeedbackOverdue {
        interview_id: setup.interview_of(&setup.cast.interviewers[0]),
        due_at: Utc::now(),
        interviewer: "Alan Always".into(),
    };
    let a = about.clone();
    app.state
        .db
        .write(move |c| notify::enqueue(c, &url, &[alan], &a, &notice, None))
        .await
        .unwrap();
    let queued = outbox(&app).await;
    let before = queued
        .iter()
        .find(|r| r.recipient == "alan@example.com")
        .unwrap();
    let shown = notify::templates::fill(before);
    assert_eq!(shown.subject, "Feedback overdue: Al — Always-on Platform");
    assert!(
        shown
            .text
            .contains("Feedback from Alan Always on Al was due"),
        "{}",
        shown.text
    );

    let (status, body) = app.delete(&format!("/candidates/{id}"), rec).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");

    let rows = outbox(&app).await;
    let mine = rows
        .iter()
        .find(|r| r.recipient == "alan@example.com")
        .unwrap();
    let shown = notify::templates::fill(mine);
    assert_eq!(
        shown.subject,
        "Feedback overdue: Erased candidate — Always-on Platform"
    );
    assert!(
        shown.text.starts_with("Hello Alan Always,"),
        "{}",
        shown.text
    );
    assert!(
        shown
            .text
            .contains("Feedback from Alan Always on Erased candidate was due"),
        "{}",
        shown.text
    );
    assert!(shown.html.contains("Hello Alan Always,"), "{}", shown.html);
    // The loop's other mail (queued when it was scheduled, under the name
    // it had then) names the tombstone too, and nobody else changed.
    let loop_id = setup.loop_id.to_string();
    for r in rows
        .iter()
        .filter(|r| r.loop_id.as_deref() == Some(loop_id.as_str()))
    {
        let shown = notify::templates::fill(r);
        for part in [&shown.subject, &shown.text, &shown.html] {
            assert!(!part.contains("Casey"), "old name survived: {part}");
            assert!(part.contains("Erased candidate"), "{part}");
        }
    }
    // No copy of the name is left in the stored rows.
    let everything = app.dump_text_columns().await;
    assert!(!everything.contains("Casey Candidate"));

    // What goes over the wire.
    if let Some(smtp) = &smtp {
        let w = start_worker(&app);
        let mails = smtp.wait_for(rows.len(), Duration::from_secs(60)).await;
        w.shutdown().await;
        let m = mail_to(&mails, "alan@example.com");
        assert_eq!(
            m.subject,
            "Feedback overdue: Erased candidate — Always-on Platform"
        );
        let text = m.text.as_deref().unwrap();
        assert!(text.starts_with("Hello Alan Always,"), "{text}");
        assert!(
            text.contains("Feedback from Alan Always on Erased candidate was due"),
            "{text}"
        );
        for m in &mails {
            assert!(
                !m.raw.contains('\u{FDD0}'),
                "a placeholder went out: {}",
                m.raw
            );
            assert!(!m.raw.contains("Casey"), "{}", m.raw);
        }
    }
}
both_backends!(erasure_rewrites_exactly, backend => super::erasure_rewrites_exactly_the_candidate_name);

// --- refused writes ---------------------------------------------------------

/// The `Message-ID`s of the `.eml` files in `dir`, with how often each came.
fn sent_files(dir: &std::path::Path) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_default()
            .trim()
            .to_string();
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

/// One write of the worker's cycle, and how a test makes the database refuse
/// it as a full disk would (SQLite's SQLITE_FULL text; PostgreSQL's SQLSTATE
/// 53100 with the ENOSPC text it quotes).
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Taking messages under a lease.
    Claim,
    /// Counting the attempt before the send.
    Attempt,
    /// Recording that the message went.
    Outcome,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Claim => "refuse_claim",
            Step::Attempt => "refuse_attempt",
            Step::Outcome => "refuse_outcome",
        }
    }

    /// The rows' change that this step makes, as an SQL condition.
    fn condition(self) -> &'static str {
        match self {
            Step::Claim => "NEW.lease_until IS NOT NULL AND OLD.lease_until IS NULL",
            Step::Attempt => "NEW.attempts > OLD.attempts",
            Step::Outcome => "NEW.status = 'delivered'",
        }
    }

    async fn refuse(self, app: &TestApp) {
        let (name, when) = (self.name(), self.condition());
        match app.backend {
            Backend::Sqlite => {
                app.sql(format!(
                    "CREATE TRIGGER {name} BEFORE UPDATE ON outbox WHEN {when} \
                     BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                ))
                .await
            }
            Backend::Postgres => {
                app.sql(format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF {when} THEN \
                     RAISE EXCEPTION 'could not extend file: No space left on device' \
                     USING ERRCODE = 'disk_full'; END IF; RETURN NEW; END $$"
                ))
                .await;
                app.sql(format!(
                    "CREATE TRIGGER {name} BEFORE UPDATE ON outbox \
                     FOR EACH ROW EXECUTE FUNCTION {name}()"
                ))
                .await
            }
        }
    }

    async fn allow(self, app: &TestApp) {
        let name = self.name();
        match app.backend {
            Backend::Sqlite => app.sql(format!("DROP TRIGGER {name}")).await,
            Backend::Postgres => {
                app.sql(format!("DROP TRIGGER {name} ON outbox")).await;
                app.sql(format!("DROP FUNCTION {name}()")).await
            }
        }
    }
}

/// Each write of the worker's cycle in turn is refused (a full disk) for
/// several leases while mail waits, then accepted again: the worker makes no
/// progress it cannot record, sends nothing twice, and delivers everything
/// soon after the database takes writes again — whichever write was refused.
async fn the_worker_recovers_from_each_refused_write(backend: Backend) {
    let mail = tempfile::tempdir().unwrap();
    let dir = mail.path().to_path_buf();
    let Some(app) = TestApp::spawn_with(backend, |c| {
        fast(c, None);
        c.mail_dir = dir;
        c.worker.lease = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    let w = start_worker(&app);
    let mut expected = BTreeSet::new();
    for step in [Step::Claim, Step::Attempt, Step::Outcome] {
        step.refuse(&app).await;
        let before: BTreeSet<String> = outbox(&app).await.into_iter().map(|r| r.id).collect();
        let about = a_loop();
        for i in 0..3 {
            queue(
                &app,
                &[&format!("{}-{i}@example.com", step.name())],
                &about,
                Notice::DebriefReady,
            )
            .await;
        }
        let new: Vec<String> = outbox(&app)
            .await
            .into_iter()
            .map(|r| r.id)
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(new.len(), 3);
        expected.extend(new.iter().map(|id| notify::mailer::message_id(id)));

        // Three leases go by while the database refuses this write.
        actix_web::rt::time::sleep(Duration::from_secs(6)).await;
        let rows = outbox(&app).await;
        let waiting: Vec<&OutboxRow> = rows.iter().filter(|r| new.contains(&r.id)).collect();
        assert!(
            waiting.iter().all(|r| r.status == OutboxStatus::Pending),
            "{step:?} refused, yet recorded: {waiting:#?}"
        );
        let sent = sent_files(mail.path());
        let sent_now = new
            .iter()
            .filter(|id| sent.contains_key(&notify::mailer::message_id(id)))
            .count();
        match step {
            // Nothing goes out unless its attempt is on record.
            Step::Claim | Step::Attempt => {
                assert_eq!(sent_now, 0, "{step:?} refused, yet sent");
                assert!(waiting.iter().all(|r| r.attempts == 0), "{waiting:#?}");
            }
            // One went; its outcome is kept, nothing else is sent meanwhile.
            Step::Outcome => assert_eq!(sent_now, 1, "sent while an outcome was held"),
        }

        step.allow(&app).await;
        let allowed = Instant::now();
        let rows = outbox_until(&app, "all delivered", Duration::from_secs(40), |rows| {
            rows.iter()
                .filter(|r| new.contains(&r.id))
                .all(|r| r.status == OutboxStatus::Delivered)
        })
        .await;
        eprintln!(
            "{backend:?}, {step:?} refused for 6 s: all delivered {:.1} s after the database took writes again",
            allowed.elapsed().as_secs_f64()
        );
        for r in rows.iter().filter(|r| new.contains(&r.id)) {
            assert_eq!(r.attempts, 1, "{step:?}: {r:#?}");
        }
    }
    let stats = w.shutdown().await;
    assert_eq!(stats.delivered, 9);
    let sent = sent_files(mail.path());
    assert_eq!(
        sent.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "lost or stray mail"
    );
    assert!(sent.values().all(|&n| n == 1), "sent twice: {sent:?}");
}
both_backends!(refused_writes, backend => super::the_worker_recovers_from_each_refused_write);

/// SQLite's writer stays busy (a queue of writes ahead of every one of the
/// worker's) for longer than half a lease: the worker still delivers. Its
/// lease starts when the claim runs, not when the claim was queued, so the
/// wait in the queue does not make every claimed message too late to send.
#[actix_web::test]
async fn a_busy_writer_does_not_starve_the_worker() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let mail = tempfile::tempdir().unwrap();
    let dir = mail.path().to_path_buf();
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        fast(c, None);
        c.mail_dir = dir;
        c.worker.lease = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    let ids = queue_many(&app, 2).await;
    // Six writers, each 250 ms of work after another: every write that
    // joins the queue waits about 1.5 s, more than half the 2 s lease.
    let busy = Arc::new(AtomicBool::new(true));
    let fillers: Vec<_> = (0..6)
        .map(|_| {
            let (db, busy) = (app.state.db.clone(), busy.clone());
            actix_web::rt::spawn(async move {
                while busy.load(Ordering::Relaxed) {
                    let _ = db
                        .write_patiently(|_| {
                            std::thread::sleep(ms(250));
                            Ok(())
                        })
                        .await;
                }
            })
        })
        .collect();
    actix_web::rt::time::sleep(ms(500)).await;
    let w = start_worker(&app);
    let rows = outbox_until(
        &app,
        "all delivered while the writer is busy",
        Duration::from_secs(45),
        all_delivered,
    )
    .await;
    busy.store(false, Ordering::Relaxed);
    for f in fillers {
        let _ = f.await;
    }
    assert!(rows.iter().all(|r| r.attempts == 1), "{rows:#?}");
    w.shutdown().await;
    let sent = sent_files(mail.path());
    assert_eq!(sent.keys().cloned().collect::<BTreeSet<_>>(), ids);
    assert!(sent.values().all(|&n| n == 1), "sent twice: {sent:?}");
}
