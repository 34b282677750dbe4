//! The delivery worker: claims due outbox messages under a lease, sends each
//! through the [`Mailer`], marks it delivered, or schedules a retry with
//! backoff until the attempt limit and then marks it dead. Webhook rows go
//! through the [`WebhookSender`] instead, with the same retries. It also queues
//! feedback reminders. `serve` runs one; `bar-raiser worker` runs one alone.
//!
//! Delivery is at least once: a worker killed between the server's "250 OK"
//! and the database update leaves the message to be sent again after its
//! lease, with the same `Message-ID`. Several workers on one PostgreSQL
//! database never hold the same message; on SQLite run one per database.
//!
//! A database that refuses writes (a full disk, a lost server) never makes
//! a message go out twice: each attempt is recorded before the send, and
//! nothing is sent when that record fails; an outcome the database would
//! not take is kept by the worker and recorded before it claims anything
//! else, and the worker backs off while the database refuses (at most
//! [`MAX_BACKOFF`] between tries). Every write of the worker — the claim,
//! the attempt, the outcome, the release — goes through
//! [`Db::write_patiently`]: on SQLite through the one writer thread, so the
//! worker never competes with it for SQLite's lock.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::mailer::{Mailer, SendError};
use super::reminders;
use super::retry::RetryPolicy;
use super::webhooks::WebhookSender;
use crate::config::Config;
use crate::db::models::OutboxRow;
use crate::db::outbox::Kind;
use crate::db::{self, Db, to_db};

/// How often reminders are looked for (and once at start).
pub const REMINDER_EVERY: Duration = Duration::from_secs(60);
/// How often the Bar Raiser program's lapse rule runs: the daily job, first
/// at the worker's start (lapse is idempotent, so a restart or a second
/// instance running it again changes nothing).
pub const LAPSE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// What the worker does and how fast.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll_interval: Duration,
    pub batch_size: u32,
    pub retry: RetryPolicy,
    pub lease: Duration,
    /// Base of the links in reminders.
    pub public_url: String,
    /// Deliver webhooks to loopback and private addresses too.
    pub webhook_allow_private: bool,
    /// Minutes after an interview ends that a quick vote is taken (the
    /// quick-vote reminder goes out within them).
    pub quick_vote_window_minutes: u32,
    /// The Bar Raiser program's rules: lapse is checked daily ([`LAPSE_EVERY`]).
    pub program: crate::config::ProgramArgs,
}

impl WorkerSettings {
    pub fn from_config(config: &Config) -> WorkerSettings {
        let w = &config.worker;
        WorkerSettings {
            poll_interval: w.poll_interval,
            batch_size: w.batch_size.max(1),
            retry: RetryPolicy {
                base: w.retry_base,
                max_attempts: w.max_attempts.max(1),
            },
            lease: w.lease,
            public_url: config.public_url.clone(),
            webhook_allow_private: config.webhook_allow_private,
            quick_vote_window_minutes: config.quick_vote_window_minutes,
            program: config.program.clone(),
        }
    }

    /// The longest one delivery may take: well inside the lease, so a
    /// message is settled before anyone else may take it.
    pub fn send_timeout(&self) -> Duration {
        (self.lease / 4).min(Duration::from_secs(60))
    }
}

/// What a worker did, returned when it stops.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub delivered: u64,
    pub retried: u64,
    pub dead: u64,
    pub reminders: u64,
}

/// A running worker. Dropping it also stops the worker, without waiting.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<Stats>,
}

impl WorkerHandle {
    /// Lets the message in flight finish, gives back the rest of the claimed
    /// batch, and waits for the worker to end.
    pub async fn shutdown(self) -> Stats {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(stats) => stats,
            Err(e) => {
                tracing::error!(error = %e, "notification worker ended abnormally");
                Stats::default()
            }
        }
    }
}

/// Builds the mailer from the configuration and starts a worker on the
/// current tokio runtime.
pub fn start(db: Db, config: &Config) -> anyhow::Result<WorkerHandle> {
    let settings = WorkerSettings::from_config(config);
    let mailer = Mailer::new(
        config.smtp_url.as_ref().map(|s| s.expose()),
        &config.mail_from,
        &config.mail_dir,
        settings.send_timeout(),
    )?;
    tracing::info!(transport = %mailer.describe(), "notification worker started");
    Ok(spawn(db, mailer, settings))
}

/// Starts a worker with this mailer and these settings.
pub fn spawn(db: Db, mailer: Mailer, settings: WorkerSettings) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(db, mailer, settings, stopped));
    WorkerHandle { stop, task }
}

fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// The longest pause between two tries while the database refuses work:
/// mail goes out again within this long of the database taking writes.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Doubling pauses while the database refuses work; one log line per spell.
struct Backoff {
    first: Duration,
    next: Option<Duration>,
}

impl Backoff {
    fn new(first: Duration) -> Backoff {
        Backoff {
            first: first.max(Duration::from_millis(100)),
            next: None,
        }
    }

    /// The pause after a refusal; logs `what` on the first of a spell.
    fn refused(&mut self, what: &str, error: &crate::error::AppError) -> Duration {
        let d = match self.next {
            None => {
                tracing::warn!(error = %error, "{what}; the worker backs off until the database accepts it");
                self.first
            }
            Some(d) => {
                tracing::debug!(error = %error, "{what}");
                d
            }
        };
        self.next = Some((d * 2).min(MAX_BACKOFF));
        d
    }

    fn accepted(&mut self) {
        if self.next.take().is_some() {
            tracing::info!("the database accepts the worker's writes again");
        }
    }
}

/// A delivery whose outcome the database would not take yet.
struct Outcome {
    id: String,
    recipient: String,
    attempts: u32,
    lease: chrono::NaiveDateTime,
    error: Option<String>,
    retry_in: Option<Duration>,
    /// A webhook delivery (counted for `/metrics` by outcome), not mail.
    webhook: bool,
}

/// Sleeps for `d` unless told to stop first; true when told to stop.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => stopping(stop),
        _ = stop.changed() => true,
    }
}

async fn run(
    db: Db,
    mailer: Mailer,
    settings: WorkerSettings,
    mut stop: watch::Receiver<bool>,
) -> Stats {
    let mut stats = Stats::default();
    let mut next_scan = Instant::now();
    let mut next_lapse = Instant::now();
    let send_timeout = settings.send_timeout();
    let webhooks = WebhookSender::new(send_timeout, settings.webhook_allow_private)
        .inspect_err(|e| tracing::error!(error = %e, "no HTTP client; webhooks wait for a restart"))
        .ok();
    let mut backoff = Backoff::new(settings.poll_interval);
    // Sent, but not yet recorded: recorded before anything else is claimed.
    let mut unsettled: Vec<Outcome> = Vec::new();
    while !stopping(&stop) {
        if let Err(e) = record_all(&db, &mut unsettled, &mut stats).await {
            let pause = backoff.refused("recording delivery outcomes failed", &e);
            if sleep_or_stop(&mut stop, pause).await {
                break;
            }
            continue;
        }

        if Instant::now() >= next_scan {
            next_scan = Instant::now() + REMINDER_EVERY;
            let window = settings.quick_vote_window_minutes;
            match reminders::queue_due(&db, &settings.public_url, db::now(), window).await {
                Ok(0) => {}
                Ok(n) => {
                    stats.reminders += n as u64;
                    tracing::info!(queued = n, "feedback reminders queued");
                }
                Err(e) => tracing::error!(error = %e, "queueing feedback reminders failed"),
            }
        }
        if Instant::now() >= next_lapse {
            next_lapse = Instant::now() + LAPSE_EVERY;
            // The Bar Raiser program's lapse rule (idempotent: only the
            // certified who are due lapse, once).
            let (program, by) = (
                settings.program.clone(),
                crate::events::By {
                    actor: None,
                    public_url: settings.public_url.clone(),
                },
            );
            match db
                .write_patiently(move |c| {
                    crate::workflows::program::lapse_due(c, &by, &program, db::now())
                })
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(lapsed = n, "Bar Raisers lapsed"),
                Err(e) => tracing::error!(error = %e, "the Bar Raiser lapse check failed"),
            }
        }

        // The lease is taken when the claim runs, not when it is queued:
        // time spent waiting for SQLite's writer must not use it up, or
        // every claimed message would be given back as too late to send.
        let batch = i64::from(settings.batch_size);
        let lease_for = settings.lease;
        let (claimed_at, lease, rows) = match db
            .write_patiently(move |c| {
                let claimed_at = Instant::now();
                let lease = to_db(db::now() + lease_for);
                Ok((claimed_at, lease, db::outbox::claim(c, batch, lease)?))
            })
            .await
        {
            Ok(claimed) => {
                backoff.accepted();
                claimed
            }
            Err(e) => {
                let pause = backoff.refused("claiming outbox messages failed", &e);
                if sleep_or_stop(&mut stop, pause).await {
                    break;
                }
                continue;
            }
        };
        if rows.is_empty() {
            if sleep_or_stop(&mut stop, settings.poll_interval).await {
                break;
            }
            continue;
        }

        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            // Past this point a send could outlive the lease and race a
            // worker that took the message over: give the rest back instead.
            let late = claimed_at.elapsed() + send_timeout * 2 > settings.lease;
            if stopping(&stop) || late {
                let ids: Vec<String> = std::iter::once(row.id).chain(rows.map(|r| r.id)).collect();
                let n = ids.len();
                if late {
                    tracing::info!(
                        messages = n,
                        "giving back claimed messages too late in their lease to send"
                    );
                }
                if let Err(e) = db
                    .write_patiently(move |c| Ok(db::outbox::release(c, &ids, lease)?))
                    .await
                {
                    tracing::warn!(error = %e, messages = n, "could not give back claimed messages; they wait for their lease to end");
                }
                break;
            }
            // The attempt is on record before anything goes out; if the
            // database refuses that, nothing is sent, and the rest of the
            // batch waits for its lease to end. Like every write of the
            // worker, it goes through the writer (on SQLite, its one thread).
            let id = row.id.clone();
            match db
                .write_patiently(move |c| Ok(db::outbox::begin_attempt(c, &id, lease)?))
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        id = row.id,
                        "outbox message's lease ran out before it was sent; left to whoever holds it"
                    );
                    continue;
                }
                Err(e) => {
                    let pause =
                        backoff.refused("recording a delivery attempt failed; nothing sent", &e);
                    let _ = sleep_or_stop(&mut stop, pause).await;
                    break;
                }
            }
            let outcome = if row.kind == Kind::Webhook {
                match &webhooks {
                    Some(w) => w.send(&db, &row).await,
                    None => Err(SendError::Failed {
                        permanent: false,
                        message: "no HTTP client".into(),
                    }),
                }
            } else {
                mailer.send(&row).await
            };
            unsettled.push(outcome_of(&settings, row, lease, outcome));
            if let Err(e) = record_all(&db, &mut unsettled, &mut stats).await {
                let pause = backoff.refused(
                    "recording a delivery outcome failed; it is kept and recorded before anything else is sent",
                    &e,
                );
                let _ = sleep_or_stop(&mut stop, pause).await;
                break;
            }
        }
    }
    if let Err(e) = record_all(&db, &mut unsettled, &mut stats).await {
        tracing::error!(
            error = %e,
            messages = unsettled.len(),
            ids = ?unsettled.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            "stopping with delivery outcomes the database refused; these messages will be sent again after their lease"
        );
    }
    tracing::info!(
        delivered = stats.delivered,
        retried = stats.retried,
        dead = stats.dead,
        "notification worker stopped"
    );
    stats
}

/// What one delivery came to, and when to retry it.
fn outcome_of(
    settings: &WorkerSettings,
    row: OutboxRow,
    lease: chrono::NaiveDateTime,
    outcome: Result<(), SendError>,
) -> Outcome {
    let attempts = u32::try_from(row.attempts).unwrap_or(0) + 1;
    let retry_in = match &outcome {
        Ok(()) => None,
        Err(SendError::Unsendable(_)) => None,
        Err(SendError::Failed { .. }) => settings.retry.next_delay_jittered(attempts),
    };
    Outcome {
        webhook: row.kind == Kind::Webhook,
        id: row.id,
        recipient: row.recipient,
        attempts,
        lease,
        error: outcome.err().map(|e| truncate(&e.to_string(), 1000)),
        retry_in,
    }
}

/// Records the outcomes in order; stops at the first the database refuses,
/// keeping it and the ones after it.
async fn record_all(
    db: &Db,
    pending: &mut Vec<Outcome>,
    stats: &mut Stats,
) -> Result<(), crate::error::AppError> {
    while let Some(o) = pending.first() {
        let held = {
            let (id, lease, error, retry_in) = (o.id.clone(), o.lease, o.error.clone(), o.retry_in);
            db.write_patiently(move |c| {
                Ok(match &error {
                    None => db::outbox::mark_delivered(c, &id, lease)?,
                    Some(error) => {
                        let retry_at = retry_in.map(|d| to_db(db::now() + d));
                        db::outbox::mark_failed(c, &id, lease, error, retry_at)?
                    }
                })
            })
            .await?
        };
        report(pending.remove(0), held, stats);
    }
    Ok(())
}

/// Logs and counts one recorded outcome.
fn report(o: Outcome, held: bool, stats: &mut Stats) {
    let Outcome {
        id,
        recipient,
        attempts,
        error,
        retry_in,
        webhook,
        ..
    } = o;
    if webhook {
        crate::metrics::webhook_delivery(match (&error, retry_in) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "retry",
            (Some(_), None) => "dead",
        });
    }
    if !held {
        tracing::warn!(
            id,
            "outbox message's lease ran out before it was settled; another worker may send it too"
        );
    }
    match (error, retry_in) {
        (None, _) => {
            stats.delivered += 1;
            tracing::info!(id, recipient, attempts, "notification delivered");
        }
        (Some(error), Some(delay)) => {
            stats.retried += 1;
            tracing::warn!(
                id,
                recipient,
                attempts,
                retry_in_secs = delay.as_secs_f64(),
                error,
                "notification not delivered; will retry"
            );
        }
        (Some(error), None) => {
            stats.dead += 1;
            tracing::error!(
                id,
                recipient,
                attempts,
                error,
                "notification dead; requeue it with `bar-raiser outbox requeue`"
            );
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_is_cut_off_well_inside_the_lease() {
        let mut s = WorkerSettings::from_config(&Config::for_database("sqlite://x.db"));
        assert_eq!(s.send_timeout(), Duration::from_secs(30));
        s.lease = Duration::from_secs(3600);
        assert_eq!(s.send_timeout(), Duration::from_secs(60));
        s.lease = Duration::from_secs(4);
        assert_eq!(s.send_timeout(), Duration::from_secs(1));
    }

    #[test]
    fn long_errors_are_cut_at_a_char_boundary() {
        assert_eq!(truncate("ééé", 2), "éé…");
        assert_eq!(truncate("ok", 10), "ok");
    }
}
