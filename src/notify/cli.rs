//! The `bar-raiser worker` and `bar-raiser outbox` commands.

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::{Config, DatabaseArgs};
use crate::db::Db;
use crate::db::outbox::{self, Status};

/// Runs a notification worker alone until SIGTERM or Ctrl-C, then lets the
/// message in flight finish and exits.
pub fn worker(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let cfg = config.clone();
        let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
            let db = Db::connect(&cfg.db.database_url, cfg.db.pool_size().min(4))?;
            let applied = db.migrate()?;
            if applied > 0 {
                tracing::info!(applied, "database migrations applied");
            }
            Ok(db)
        })
        .await??;
        let handle = super::worker::start(db, &config)?;
        shutdown_signal().await;
        tracing::info!("stopping the notification worker");
        handle.shutdown().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `bar-raiser outbox`: inspect the notification queue, requeue dead mail.
#[derive(Debug, Clone, Args)]
pub struct OutboxArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    #[command(subcommand)]
    pub action: Option<OutboxAction>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum OutboxAction {
    /// List messages (default: pending and dead ones).
    List {
        /// Which messages: pending, dead, delivered or all.
        #[arg(long, value_delimiter = ',', default_value = "pending,dead")]
        status: Vec<String>,
        /// At most this many, oldest first.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Put dead messages back in the queue with a fresh attempt budget.
    Requeue {
        /// Ids of dead messages (see `outbox list`).
        #[arg(required_unless_present = "all_dead")]
        ids: Vec<String>,
        /// Requeue every dead message.
        #[arg(long, conflicts_with = "ids")]
        all_dead: bool,
    },
}

pub fn outbox(args: OutboxArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.db.database_url, 1)?;
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    let action = args.action.unwrap_or(OutboxAction::List {
        status: vec!["pending".into(), "dead".into()],
        limit: 100,
    });
    match action {
        OutboxAction::List { status, limit } => {
            let statuses = parse_statuses(&status)?;
            let (pending, delivered, dead) = outbox::counts(&mut conn)?;
            println!("pending: {pending}  dead: {dead}  delivered: {delivered}");
            let rows = outbox::list(&mut conn, &statuses, limit.max(1))?;
            if rows.is_empty() {
                return Ok(());
            }
            println!(
                "{:<36}  {:<9}  {:>8}  {:<19}  {:<30}  SUBJECT",
                "ID", "STATUS", "ATTEMPTS", "NEXT ATTEMPT (UTC)", "RECIPIENT"
            );
            for r in rows {
                let next = if r.status == Status::Pending {
                    r.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string()
                } else {
                    "-".into()
                };
                println!(
                    "{:<36}  {:<9}  {:>8}  {:<19}  {:<30}  {}",
                    r.id,
                    r.status.as_str(),
                    r.attempts,
                    next,
                    r.recipient,
                    super::templates::fill(&r).subject
                );
                if let Some(e) = r.last_error {
                    println!("    last error: {e}");
                }
            }
            Ok(())
        }
        OutboxAction::Requeue { ids, all_dead } => {
            let n = if all_dead {
                outbox::requeue_dead(&mut conn, None)?
            } else {
                outbox::requeue_dead(&mut conn, Some(&ids))?
            };
            println!("{n} message(s) requeued");
            if !all_dead && n < ids.len() {
                anyhow::bail!("{} of the given ids are not dead messages", ids.len() - n);
            }
            Ok(())
        }
    }
}

fn parse_statuses(names: &[String]) -> anyhow::Result<Vec<Status>> {
    let mut out = Vec::new();
    for n in names {
        match n.trim() {
            "pending" => out.push(Status::Pending),
            "dead" => out.push(Status::Dead),
            "delivered" => out.push(Status::Delivered),
            "all" => out.extend([Status::Pending, Status::Dead, Status::Delivered]),
            other => anyhow::bail!("unknown status {other:?}; use pending, dead, delivered or all"),
        }
    }
    Ok(out)
}
