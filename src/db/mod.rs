//! Storage: one diesel code base over SQLite and PostgreSQL.
//!
//! The backend is chosen here from the URL scheme (never by diesel's own
//! dispatch, which hides libpq's errors and can create a SQLite file named
//! like a mistyped Postgres URL). Each query module takes `&mut DbConn` and
//! returns `QueryResult`/`AppResult`; handlers reach the pool only through
//! [`Db::run`], which moves the work onto the blocking pool.
//!
//! Every write of the running server goes through [`Db::write`] (a
//! transaction) or [`Db::write_each`] (statements that commit one by one),
//! so that on SQLite it runs on the one writer thread, in arrival order:
//! request handlers, the Idempotency-Key records, the service tokens' "last
//! used" mark and the notification worker alike. [`Db::run`] and
//! [`Db::read`] are for reads only. The exceptions write on a connection of
//! their own, where SQLite's `busy_timeout` makes them wait for the lock:
//! migrations, the generated signing secret and the first admin
//! (`app`, `bootstrap`) and the demo data, all before the server accepts a
//! request; and the command-line tools (`migrate`, `create-admin`, `outbox`,
//! `bench` seeding), which run in a process of their own and so could not
//! reach a server's writer anyway.
//!
//! Lookups by key use `get_result`, not `first`: `first` adds `LIMIT ?`, and
//! SQLite re-prepares a cached statement whenever a parameter its planner
//! read (LIMIT's is one) is bound again — on every call (see BENCHMARKS.md).

pub mod analytics;
pub mod audit;
#[cfg(feature = "tools")]
pub mod bench;
pub mod catalog;
pub mod census;
pub mod export;
pub mod feedback;
pub mod idempotency;
pub mod kept;
pub mod loops;
mod migrations;
pub mod models;
pub mod outbox;
pub mod program;
pub mod quick_votes;
pub mod schema;
pub mod scim;
pub mod signin;
pub mod sso;
pub mod tokens;
pub mod types;
pub mod users;
pub mod webhooks;

pub use types::{
    AddendumId, AuditEventId, CandidateId, CompetencyId, FeedbackId, InterviewId, LoopId,
    QuickVoteId, ReadId, RefreshTokenId, ScimGroupId, SignOffId, TokenFamilyId, TokenId, UserId,
    WebhookId,
};

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web;
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where to connect, parsed from the URL by scheme.
#[derive(Clone)]
pub struct Target {
    pub backend: Backend,
    /// libpq URL or SQLite file path.
    location: String,
    /// What this target's connections have run.
    census: std::sync::Arc<census::Census>,
}

impl Target {
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        let (scheme, rest) = url.split_once("://").with_context(|| {
            format!(
                "database URL {:?} has no scheme; use sqlite://PATH or postgres://…",
                redact(url)
            )
        })?;
        match scheme {
            "postgres" | "postgresql" => Ok(Target {
                backend: Backend::Postgres,
                location: url.to_string(),
                census: Default::default(),
            }),
            "sqlite" => {
                if rest.is_empty() {
                    bail!(
                        "sqlite URL needs a path: sqlite://bar-raiser.db or sqlite:///abs/path.db"
                    );
                }
                Ok(Target {
                    backend: Backend::Sqlite,
                    location: rest.to_string(),
                    census: Default::default(),
                })
            }
            other => {
                bail!("unsupported database URL scheme {other:?}; use sqlite:// or postgres://")
            }
        }
    }

    fn establish(&self) -> anyhow::Result<DbConn> {
        let mut conn = self.open()?;
        conn.set_instrumentation(census::Probe::new(self.census.clone()));
        Ok(conn)
    }

    fn open(&self) -> anyhow::Result<DbConn> {
        match self.backend {
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.location).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot connect to PostgreSQL at {}: {}",
                        redact(&self.location),
                        one_line(&e.to_string())
                    )
                })?;
                c.batch_execute("SET TIME ZONE 'UTC'")?;
                Ok(DbConn::Postgres(c))
            }
            Backend::Sqlite => {
                let path = std::path::Path::new(&self.location);
                if let Some(dir) = path.parent()
                    && !dir.as_os_str().is_empty()
                    && !dir.is_dir()
                {
                    bail!(
                        "cannot open SQLite database {}: directory {} does not exist",
                        self.location,
                        dir.display()
                    );
                }
                let mut c = SqliteConnection::establish(&self.location).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot open SQLite database {}: {}",
                        self.location,
                        one_line(&e.to_string())
                    )
                })?;
                // busy_timeout first: switching to WAL itself may wait for a lock.
                c.batch_execute(
                    "PRAGMA busy_timeout = 15000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }
}

/// Hides the password of a `postgres://user:pass@host` URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a database failure is answered: not a bug of ours, but the
/// database (or its disk) refusing work for now. See [`fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection to the server is gone (restart, crash, network).
    ConnectionLost,
    /// The database accepts no writes (a read-only file or mount, a standby,
    /// `default_transaction_read_only`).
    ReadOnly,
    /// The disk under the database is full (SQLITE_FULL; PostgreSQL's
    /// "No space left on device", SQLSTATE 53100).
    DiskFull,
    /// SQLite's lock was held longer than `busy_timeout`.
    Busy,
}

impl Fault {
    pub fn describe(self) -> &'static str {
        match self {
            Fault::ConnectionLost => "the connection to the database was lost",
            Fault::ReadOnly => "the database is read-only",
            Fault::DiskFull => "the database's disk is full",
            Fault::Busy => "the database stayed locked",
        }
    }
}

/// Classifies a diesel error as a [`Fault`] of the database, or `None` for
/// an ordinary error (a bug, a constraint, no row). The one place where
/// driver errors are recognised; `AppError` maps the result to HTTP.
///
/// diesel reports lost PostgreSQL connections as their own kinds; the rest
/// is known only by the driver's message (diesel exposes neither SQLite's
/// result code nor PostgreSQL's SQLSTATE for these), which both drivers
/// keep stable: SQLite's `sqlite3_errstr` texts, and the operating system's
/// ENOSPC text that PostgreSQL quotes.
pub fn fault(e: &diesel::result::Error) -> Option<Fault> {
    use diesel::result::{DatabaseErrorKind as K, Error};
    match e {
        Error::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => Some(Fault::ConnectionLost),
        Error::DatabaseError(K::ReadOnlyTransaction, _) => Some(Fault::ReadOnly),
        Error::DatabaseError(_, info) => {
            let m = info.message();
            if m.contains("database or disk is full") || m.contains("No space left on device") {
                Some(Fault::DiskFull)
            } else if m.contains("attempt to write a readonly database")
                || m.contains("read-only transaction")
            {
                Some(Fault::ReadOnly)
            } else if m.contains("database is locked") {
                Some(Fault::Busy)
            } else if m.contains("terminating connection")
                || m.contains("server closed the connection")
                || m.contains("no connection to the server")
            {
                Some(Fault::ConnectionLost)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether `e` means the connection it came from is unusable.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    fault(e) == Some(Fault::ConnectionLost)
}

/// A connection left idle this long is pinged before it is lent out: the
/// server may have restarted meanwhile. Busy connections are not pinged.
const PING_IF_IDLE: Duration = Duration::from_secs(1);
/// After a failed connect, checkouts fail at once for this long instead of
/// waiting for a server that just refused (see [`Db::checkout`]).
const CIRCUIT_OPEN_FOR: Duration = Duration::from_secs(1);
/// The longest a request waits for a connection while the server answers
/// (all connections busy).
const CHECKOUT_WAIT: Duration = Duration::from_secs(15);
/// The slices of that wait, between looks at the circuit.
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);
/// Seconds a client is asked to wait (`Retry-After`) while the database is
/// unavailable.
pub const RETRY_AFTER_SECS: u64 = 2;

/// What the pool has learnt about the server lately.
#[derive(Default)]
struct Health {
    /// When a connect last failed, and why; cleared by a good connect.
    failed_connect: Mutex<Option<(Instant, String)>>,
    /// When a lent-out connection was last found dead: every connection
    /// not used successfully since then is pinged before reuse.
    lost_at: Mutex<Option<Instant>>,
}

impl Health {
    /// The reason of a connect that failed less than [`CIRCUIT_OPEN_FOR`]
    /// ago.
    fn open_circuit(&self) -> Option<String> {
        let failed = self
            .failed_connect
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        failed
            .as_ref()
            .filter(|(at, _)| at.elapsed() < CIRCUIT_OPEN_FOR)
            .map(|(_, why)| why.clone())
    }
}

pub struct Manager {
    target: Target,
    health: std::sync::Arc<Health>,
}

fn probe(conn: &mut DbConn) -> Option<&mut census::Probe> {
    conn.instrumentation().downcast_mut::<census::Probe>()
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let result = self.target.establish();
        let mut failed = self
            .health
            .failed_connect
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(conn) => {
                if failed.take().is_some() {
                    tracing::info!("the database accepts connections again");
                }
                Ok(conn)
            }
            Err(e) => {
                let why = e.to_string();
                if failed.is_none() {
                    tracing::warn!(error = %why, "cannot connect to the database");
                }
                *failed = Some((Instant::now(), why.clone()));
                Err(diesel::ConnectionError::BadConnection(why))
            }
        }
    }

    /// Pings a PostgreSQL connection that has been idle a while, or that
    /// predates a connection found dead (a server restart kills them all),
    /// so a request never gets a connection the server has closed. SQLite's
    /// in-process connections are never pinged.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        if matches!(conn, DbConn::Sqlite(_)) {
            return Ok(());
        }
        let lost_at = *self
            .health
            .lost_at
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let Some(p) = probe(conn) else {
            return ping(conn).map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()));
        };
        if p.lost {
            return Err(diesel::ConnectionError::BadConnection(
                "connection lost".into(),
            ));
        }
        let fresh = p.last_ok.elapsed() < PING_IF_IDLE && lost_at.is_none_or(|at| p.last_ok > at);
        if fresh {
            return Ok(());
        }
        p.quiet = true;
        let result = ping(conn);
        if let Some(p) = probe(conn) {
            p.quiet = false;
        }
        result.map_err(|e| diesel::ConnectionError::BadConnection(one_line(&e.to_string())))
    }

    /// Dropped rather than lent out again:
    ///
    /// - a connection still inside a transaction — a write that panicked
    ///   half-way: the next borrower's transaction would otherwise become a
    ///   savepoint inside one that never commits, and its acknowledged
    ///   writes would be lost;
    /// - a connection whose server went away (diesel reported a closed
    ///   connection on one of its statements); the others are then pinged
    ///   before their next use ([`Manager::is_valid`]).
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if probe(conn).is_some_and(|p| p.lost) {
            *self
                .health
                .lost_at
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            return true;
        }
        <<DbConn as Connection>::TransactionManager as TransactionManager<DbConn>>::is_broken_transaction_manager(conn)
    }
}

/// The connection pool and its backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    pub backend: Backend,
    /// What the pool knows of the server's state (see [`checkout`]).
    health: std::sync::Arc<Health>,
    /// SQLite's one writer (see [`Db::write`]); `None` on PostgreSQL.
    writer: Option<tokio::sync::mpsc::Sender<WriteJob>>,
    census: std::sync::Arc<census::Census>,
}

impl Db {
    /// Connects (failing fast with the driver's own message), runs nothing.
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        Self::connect_with(url, pool_size, DEFAULT_WRITE_QUEUE)
    }

    /// As [`Db::connect`], with room for `write_queue` writes waiting for
    /// SQLite's writer (see [`Db::write`]).
    pub fn connect_with(url: &str, pool_size: u32, write_queue: usize) -> anyhow::Result<Db> {
        let target = Target::parse(url)?;
        // One direct connection first: a wrong URL fails now, in one line,
        // instead of after the pool's timeout.
        drop(target.establish()?);
        let backend = target.backend;
        let census = target.census.clone();
        // r2d2 retries a failed connect in the background, backing off up
        // to half its connection timeout: 2 s keeps a recovered server in
        // use within a second. Requests wait longer than that for a busy
        // pool (CHECKOUT_WAIT, in Db::checkout).
        let health = std::sync::Arc::new(Health::default());
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(2))
            .test_on_check_out(true)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(Manager {
                target,
                health: health.clone(),
            });
        let writer = (backend == Backend::Sqlite)
            .then(|| spawn_writer(pool.clone(), health.clone(), write_queue.max(1)));
        Ok(Db {
            pool,
            health,
            backend,
            writer,
            census,
        })
    }

    /// Statements run so far by this pool's connections (see [`census`]).
    pub fn counts(&self) -> census::Counts {
        self.census.counts()
    }

    /// The pool right now: connections open, of them idle, and the most
    /// it opens.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections, self.pool.max_size())
    }

    /// SQLite's writer queue right now: writes waiting, and room for them;
    /// `None` on PostgreSQL, which has no such queue.
    pub fn write_queue(&self) -> Option<(usize, usize)> {
        self.writer
            .as_ref()
            .map(|w| (w.max_capacity() - w.capacity(), w.max_capacity()))
    }

    pub fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, AppError> {
        checkout(&self.pool, &self.health)
    }

    /// Applies pending embedded migrations.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = checkout(&self.pool, &self.health).context("getting a connection")?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Postgres(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied)
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let health = self.health.clone();
        // The caller's span (the request's id) follows the work onto the
        // blocking thread, so its statements log under that request.
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let mut conn = checkout(&pool, &health)?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs a short read: on SQLite, on the caller's thread when a
    /// connection is free at once; otherwise as [`Db::run`].
    ///
    /// A read of an indexed handful of rows from SQLite is in-process work
    /// of tens of microseconds that WAL never makes wait for a writer;
    /// handing it to the blocking pool and back cost more than the read (two
    /// thread wake-ups, a sixth of a loop view's time). PostgreSQL reads
    /// cross the network and always go to the blocking pool. Only for
    /// bounded reads: one loop, one person, one feedback — never a listing.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            // As on the blocking pool, a panic is a 500, not a dead worker.
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut conn)))
                .unwrap_or_else(|_| {
                    Err(AppError::Internal(anyhow::anyhow!(
                        "database read panicked"
                    )))
                });
        }
        self.run(f).await
    }

    /// Runs `f` inside a write transaction.
    ///
    /// SQLite admits one writer at a time and makes the others poll for the
    /// lock, sleeping up to 100 ms between tries: unfair (a request could
    /// wait past its client's timeout while later ones went through) and
    /// idle while they sleep. So its write transactions run on one thread of
    /// their own, in arrival order, back to back: under load no wake-up and
    /// no hand-over between two of them, and the callers wait without
    /// holding a thread or a connection. PostgreSQL's writers run side by
    /// side on the blocking pool and queue on row locks.
    ///
    /// The writer's queue is bounded (`BAR_RAISER_WRITE_QUEUE`): when it is
    /// full the write is refused at once with 503 `overloaded` and
    /// `Retry-After`, never queued without limit. PostgreSQL's writes are
    /// bounded by the pool instead.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer_job(move |conn| write_tx(conn, f), Admission::RefuseWhenFull)
            .await
    }

    /// Runs `f` as a writer without a transaction around it: each statement
    /// commits on its own, or `f` opens transactions of its own (with
    /// [`write_tx`]). For work where a failed statement must not abort the
    /// rest (an INSERT that may hit a unique key, which on PostgreSQL would
    /// poison an enclosing transaction) and for the notification worker's
    /// steps, which open their own. On SQLite it still runs on the writer
    /// thread, in its turn, like every write.
    pub async fn write_each<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer_job(f, Admission::RefuseWhenFull).await
    }

    /// As [`Db::write_each`], but waits for room in a full queue instead of
    /// being refused: for the notification worker, whose writes are few,
    /// paced by itself and must not be dropped (a delivery's outcome that
    /// went unrecorded would send the message again).
    pub async fn write_patiently<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer_job(f, Admission::WaitForRoom).await
    }

    async fn writer_job<T, F>(&self, f: F, admission: Admission) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return self.run(f).await;
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: WriteJob = Box::new(move |conn| {
            let _entered = span.enter();
            // The caller may have gone (client disconnected): the work is
            // committed or rolled back all the same.
            let _ = done.send(f(conn));
        });
        let stopped = || AppError::Internal(anyhow::anyhow!("the SQLite writer has stopped"));
        match admission {
            Admission::RefuseWhenFull => writer.try_send(job).map_err(|e| match e {
                tokio::sync::mpsc::error::TrySendError::Full(_) => AppError::Overloaded {
                    what: "sqlite writer",
                },
                tokio::sync::mpsc::error::TrySendError::Closed(_) => stopped(),
            })?,
            Admission::WaitForRoom => writer.send(job).await.map_err(|_| stopped())?,
        }
        result.await.map_err(|_| {
            AppError::Internal(anyhow::anyhow!(
                "the write failed without an answer (see the log)"
            ))
        })?
    }
}

/// A connection from the pool, failing fast while the database refuses
/// connections.
///
/// While every connection is busy, waits up to [`CHECKOUT_WAIT`] for one.
/// But once a connect has failed (the server is down or unreachable), a
/// request would otherwise wait that long for nothing: for
/// [`CIRCUIT_OPEN_FOR`] after a failed connect, only an idle connection
/// that answers its ping is lent, else the answer is 503 at once. The wait
/// is cut into slices so a request already waiting sees the circuit open.
fn checkout(
    pool: &r2d2::Pool<Manager>,
    health: &Health,
) -> Result<r2d2::PooledConnection<Manager>, AppError> {
    let started = Instant::now();
    let deadline = started + CHECKOUT_WAIT;
    // A checkout that finds no idle connection is counted with its wait
    // (`bar_raiser_db_checkout_waits_total`): a pool too small shows there.
    let waits = pool.state().idle_connections == 0;
    let result = loop {
        if let Some(why) = health.open_circuit() {
            break pool
                .try_get()
                .ok_or_else(|| AppError::Unavailable(format!("no database connection: {why}")));
        }
        let slice = CHECKOUT_SLICE.min(deadline.saturating_duration_since(Instant::now()));
        match pool.get_timeout(slice) {
            Ok(conn) => break Ok(conn),
            Err(e) if Instant::now() >= deadline => break Err(e.into()),
            Err(_) => {}
        }
    };
    if waits {
        crate::metrics::checkout_waited(started.elapsed());
    }
    result
}

/// Writes that may wait for SQLite's writer by default: at a few
/// milliseconds each, about a second of work (see BENCHMARKS.md).
pub const DEFAULT_WRITE_QUEUE: usize = 512;

/// What a write does when the writer's queue is full.
enum Admission {
    RefuseWhenFull,
    WaitForRoom,
}

/// A write transaction for SQLite's writer thread.
type WriteJob = Box<dyn FnOnce(&mut DbConn) + Send>;

/// Starts SQLite's writer thread; it stops when the last sender is dropped.
fn spawn_writer(
    pool: r2d2::Pool<Manager>,
    health: std::sync::Arc<Health>,
    bound: usize,
) -> tokio::sync::mpsc::Sender<WriteJob> {
    let (jobs, mut queue) = tokio::sync::mpsc::channel::<WriteJob>(bound);
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            while let Some(job) = queue.blocking_recv() {
                let mut conn = match checkout(&pool, &health) {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Dropping the job answers its caller with a 500.
                        tracing::error!(error = %e, "no connection for a write");
                        continue;
                    }
                };
                // A panic fails that one write (its caller gets a 500), not
                // every write after it.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)))
                    .is_err()
                {
                    tracing::error!("a write transaction panicked");
                }
            }
        })
        .expect("starting the SQLite writer thread");
    jobs
}

/// Whether this store runs write transactions one at a time (SQLite), so
/// that work done inside one delays every other writer.
pub fn one_writer_at_a_time(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Sqlite(_))
}

/// A transaction that writes. On SQLite it begins `IMMEDIATE`, taking the
/// write lock up front: a deferred transaction that reads and then writes
/// can fail with `database is locked` without waiting, where this one waits
/// its turn under `busy_timeout`.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::AnsiTransactionManager as Tm;
    match conn {
        DbConn::Sqlite(c) => Tm::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgres(c) => Tm::begin_transaction(c)?,
    }
    let result = f(conn);
    let end = match (&result, &mut *conn) {
        (Ok(_), DbConn::Sqlite(c)) => Tm::commit_transaction(c),
        (Ok(_), DbConn::Postgres(c)) => Tm::commit_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => Tm::rollback_transaction(c),
        (Err(_), DbConn::Postgres(c)) => Tm::rollback_transaction(c),
    };
    match (result, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

/// The current time as stored: UTC, microsecond precision (what PostgreSQL
/// keeps), so a value read back equals the value written and hashed.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "tools")]
    let t = Utc::now()
        - chrono::Duration::microseconds(
            demo_clock::BEHIND_US.load(std::sync::atomic::Ordering::Relaxed),
        );
    #[cfg(not(feature = "tools"))]
    let t = Utc::now();
    t.trunc_subsecs(6)
}

/// The demo's clock (`tools` builds only): `bar-raiser demo` writes its
/// history of past loops through the real API with [`now`] set back to
/// each step's moment, so every stored time, receipt and audit entry is
/// what it would have been then. A server build has no such setting.
#[cfg(feature = "tools")]
pub mod demo_clock {
    use std::sync::atomic::{AtomicI64, Ordering};

    use chrono::{DateTime, Utc};

    /// How far [`super::now`] runs behind the system clock, in µs.
    pub(super) static BEHIND_US: AtomicI64 = AtomicI64::new(0);

    /// From now on [`super::now`] reads `at`, running forward from there;
    /// `None` puts it back on the system clock.
    pub fn set(at: Option<DateTime<Utc>>) {
        let behind = at.map_or(0, |at| {
            (Utc::now() - at).num_microseconds().unwrap_or(0).max(0)
        });
        BEHIND_US.store(behind, Ordering::Relaxed);
    }
}

pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.trunc_subsecs(6).naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Readiness: the database answers a trivial query.
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_chosen_by_scheme() {
        assert_eq!(
            Target::parse("sqlite://x.db").unwrap().backend,
            Backend::Sqlite
        );
        assert_eq!(
            Target::parse("postgres://u@h/db").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            Target::parse("postgresql://u@h/db").unwrap().backend,
            Backend::Postgres
        );
        assert!(Target::parse("mysql://u@h/db").is_err());
        assert!(Target::parse("bar-raiser.db").is_err());
        assert!(Target::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
