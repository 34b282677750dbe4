//! Statement census: every pooled connection counts the statements it runs
//! and the statements it prepared into its statement cache, and logs
//! each statement's SQL — never its bind values, which hold feedback text
//! and names — at debug level under the `bar_raiser::sql` target.
//!
//! The counts prove a request's query budget in tests (a loop view costs the
//! same number of statements for two interviews as for twelve);
//! `BAR_RAISER_LOG=warn,bar_raiser::sql=debug` shows
//! the statements of each request under its request id (BENCHMARKS.md lists
//! them for the benchmark's scenarios).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Shared by every connection of one pool.
#[derive(Debug, Default)]
pub struct Census {
    statements: AtomicU64,
    cached: AtomicU64,
}

/// A reading of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Statements started, transaction control included.
    pub statements: u64,
    /// Statements prepared into a connection's cache (first use of a
    /// cacheable statement on that connection). Statements diesel cannot
    /// cache — an `IN` list of values — are prepared on every use and are
    /// not counted here; the loop's read paths use sub-selects instead.
    pub cached: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            statements: self.statements - earlier.statements,
            cached: self.cached - earlier.cached,
        }
    }
}

impl Census {
    pub fn counts(&self) -> Counts {
        Counts {
            statements: self.statements.load(Ordering::Relaxed),
            cached: self.cached.load(Ordering::Relaxed),
        }
    }
}

/// The per-connection instrumentation feeding a [`Census`]; it also keeps
/// the connection's health for the pool (see `Manager` in `db/mod.rs`).
pub struct Probe {
    census: Arc<Census>,
    /// A statement failed because the connection to the server is gone.
    pub lost: bool,
    /// When a statement last succeeded on this connection.
    pub last_ok: std::time::Instant,
    /// The pool's own liveness checks: not counted, not logged.
    pub quiet: bool,
}

impl Probe {
    pub fn new(census: Arc<Census>) -> Probe {
        Probe {
            census,
            lost: false,
            last_ok: std::time::Instant::now(),
            quiet: false,
        }
    }
}

impl Instrumentation for Probe {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } if !self.quiet => {
                self.census.statements.fetch_add(1, Ordering::Relaxed);
                if tracing::enabled!(target: "bar_raiser::sql", tracing::Level::DEBUG) {
                    let text = query.to_string();
                    let sql = text.split(" -- binds: ").next().unwrap_or_default();
                    tracing::debug!(target: "bar_raiser::sql", "{sql}");
                }
            }
            InstrumentationEvent::CacheQuery { .. } if !self.quiet => {
                self.census.cached.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery { error: None, .. } => {
                self.last_ok = std::time::Instant::now();
            }
            InstrumentationEvent::FinishQuery { error: Some(e), .. }
                if super::connection_lost(e) =>
            {
                self.lost = true;
            }
            _ => {}
        }
    }
}
