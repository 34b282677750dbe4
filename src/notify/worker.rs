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
    let send_timeout = settings.send_timeout();
    let webhooks = WebhookSender::new(send_timeout, settings.webhook_allow_private)
        .inspect_err(|e| tracing::error!(error = %e, "no HTTP client; webhooks wait for a restart"))
        .ok();
    while !stopping(&stop) {
        if Instant::now() >= next_scan {
            next_scan = Instant::now() + REMINDER_EVERY;
            let url = settings.public_url.clone();
            match db
                .write_patiently(move |c| reminders::queue_due(c, &url, db::now()))
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    stats.reminders += n as u64;
                    tracing::info!(queued = n, "feedback reminders queued");
                }
                Err(e) => tracing::error!(error = %e, "queueing feedback reminders failed"),
            }
        }

        let claimed_at = Instant::now();
        let lease = to_db(db::now() + settings.lease);
        let batch = i64::from(settings.batch_size);
        let rows = match db
            .write_patiently(move |c| Ok(db::outbox::claim(c, batch, lease)?))
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "claiming outbox messages failed");
                Vec::new()
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
                if let Err(e) = db
                    .write_patiently(move |c| Ok(db::outbox::release(c, &ids, lease)?))
                    .await
                {
                    tracing::warn!(error = %e, messages = n, "could not give back claimed messages; they wait for their lease to end");
                }
                break;
            }
            let outcome = if row.kind == Kind::Webhook.as_str() {
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
            settle(&db, &settings, row, lease, outcome, &mut stats).await;
        }
    }
    tracing::info!(
        delivered = stats.delivered,
        retried = stats.retried,
        dead = stats.dead,
        "notification worker stopped"
    );
    stats
}

/// Records how one delivery went.
async fn settle(
    db: &Db,
    settings: &WorkerSettings,
    row: OutboxRow,
    lease: chrono::NaiveDateTime,
    outcome: Result<(), SendError>,
    stats: &mut Stats,
) {
    let attempts = u32::try_from(row.attempts).unwrap_or(0) + 1;
    let id = row.id.clone();
    let recipient = row.recipient;
    let retry_in = match &outcome {
        Ok(()) => None,
        Err(SendError::Unsendable(_)) => None,
        Err(SendError::Failed { .. }) => settings.retry.next_delay_jittered(attempts),
    };
    let error = outcome
        .as_ref()
        .err()
        .map(|e| truncate(&e.to_string(), 1000));
    let result = {
        let (id, error) = (id.clone(), error.clone());
        db.write_patiently(move |c| {
            Ok(match &error {
                None => db::outbox::mark_delivered(c, &id, lease)?,
                Some(error) => {
                    let retry_at = retry_in.map(|d| to_db(db::now() + d));
                    db::outbox::mark_failed(c, &id, lease, error, retry_at)?
                }
            })
        })
        .await
    };
    match result {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            id,
            "outbox message's lease ran out before it was settled; another worker may send it too"
        ),
        Err(e) => {
            tracing::error!(id, error = %e, "recording a delivery outcome failed; the message will be retried after its lease");
            return;
        }
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
