//! What a `/metrics` scrape reads: the process' counters (kept by
//! [`crate::metrics`]) and the state gauges of this instance, read now.

use crate::app::AppState;
use crate::db;
use crate::error::AppResult;
use crate::metrics::{self, Snapshot};

/// The exposition text for one scrape.
pub async fn scrape(state: &AppState) -> AppResult<String> {
    let outbox = state.db.run(|c| Ok(db::outbox::gauges(c)?)).await?;
    let (pool_connections, pool_idle, pool_max) = state.db.pool_state();
    Ok(metrics::render(&Snapshot {
        pool_connections,
        pool_idle,
        pool_max,
        write_queue: state.db.write_queue(),
        password_queue: state.passwords.queue(),
        outbox,
    }))
}
