//! Metrics in Prometheus' text exposition format, served at `/metrics`.
//!
//! Two kinds: counters and histograms of what happened (requests, sign-ins,
//! webhook deliveries, waits for a database connection), kept in one
//! registry of the process and bumped where it happens; and gauges of the
//! state right now (pool connections, queue depths, the outbox), read from
//! their owners when a scrape asks ([`Snapshot`]), so no gauge can go stale.
//!
//! Labels are bounded: a request is labelled by its route *template*
//! (`/api/v1/loops/{id}`, never the path with its ids), its method and
//! status; outcomes are fixed lists.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The media type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request latencies, in seconds: from a cached read to a slow export.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Outcomes of a sign-in attempt.
pub const SIGNIN_OUTCOMES: [&str; 4] = ["signed_in", "invalid_credentials", "throttled", "error"];
/// Outcomes of one webhook delivery attempt, as recorded.
pub const WEBHOOK_OUTCOMES: [&str; 3] = ["delivered", "retry", "dead"];
/// Outcomes of a loop view's look into the process' view cache.
pub const VIEW_CACHE_OUTCOMES: [&str; 2] = ["hit", "miss"];

struct Process {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    checkout_waits: IntCounter,
    checkout_wait_seconds: Histogram,
    signins: IntCounterVec,
    webhook_deliveries: IntCounterVec,
    view_cache: IntCounterVec,
}

static PROCESS: LazyLock<Process> = LazyLock::new(|| {
    let registry = Registry::new();
    let http_requests = IntCounterVec::new(
        Opts::new(
            "bar_raiser_http_requests_total",
            "HTTP requests answered, by route template, method and status",
        ),
        &["route", "method", "status"],
    )
    .expect("valid metric");
    let http_duration = HistogramVec::new(
        HistogramOpts::new(
            "bar_raiser_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
        &["route", "method"],
    )
    .expect("valid metric");
    let checkout_waits = IntCounter::new(
        "bar_raiser_db_checkout_waits_total",
        "Database connection checkouts that found no idle connection and waited",
    )
    .expect("valid metric");
    let checkout_wait_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "bar_raiser_db_checkout_wait_seconds",
            "Time a checkout that found no idle connection waited for one",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
    )
    .expect("valid metric");
    let signins = IntCounterVec::new(
        Opts::new(
            "bar_raiser_signins_total",
            "Password sign-in attempts, by outcome",
        ),
        &["outcome"],
    )
    .expect("valid metric");
    let webhook_deliveries = IntCounterVec::new(
        Opts::new(
            "bar_raiser_webhook_deliveries_total",
            "Webhook delivery attempts recorded, by outcome (retry: failed, will be tried again; dead: given up)",
        ),
        &["outcome"],
    )
    .expect("valid metric");
    let view_cache = IntCounterVec::new(
        Opts::new(
            "bar_raiser_view_cache_total",
            "Loop views answered from the process' cache (hit) or read from the database (miss)",
        ),
        &["outcome"],
    )
    .expect("valid metric");
    // Every outcome shows from the start, at 0.
    for o in VIEW_CACHE_OUTCOMES {
        view_cache.with_label_values(&[o]);
    }
    for o in SIGNIN_OUTCOMES {
        signins.with_label_values(&[o]);
    }
    for o in WEBHOOK_OUTCOMES {
        webhook_deliveries.with_label_values(&[o]);
    }
    for c in [
        Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(http_duration.clone()),
        Box::new(checkout_waits.clone()),
        Box::new(checkout_wait_seconds.clone()),
        Box::new(signins.clone()),
        Box::new(webhook_deliveries.clone()),
        Box::new(view_cache.clone()),
    ] {
        registry.register(c).expect("metric registered once");
    }
    Process {
        registry,
        http_requests,
        http_duration,
        checkout_waits,
        checkout_wait_seconds,
        signins,
        webhook_deliveries,
        view_cache,
    }
});

/// Counts one answered request. `route` is the matched route template
/// (`None`: no route matched, e.g. a 404 for an unknown path).
pub fn http_request(route: Option<&str>, method: &str, status: u16, elapsed: Duration) {
    let route = route.unwrap_or("unmatched");
    let p = &*PROCESS;
    p.http_requests
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    p.http_duration
        .with_label_values(&[route, method])
        .observe(elapsed.as_secs_f64());
}

/// A checkout that found no idle connection waited this long.
pub fn checkout_waited(waited: Duration) {
    let p = &*PROCESS;
    p.checkout_waits.inc();
    p.checkout_wait_seconds.observe(waited.as_secs_f64());
}

/// One sign-in attempt's outcome, one of [`SIGNIN_OUTCOMES`].
pub fn signin(outcome: &'static str) {
    debug_assert!(SIGNIN_OUTCOMES.contains(&outcome), "{outcome}");
    PROCESS.signins.with_label_values(&[outcome]).inc();
}

/// One recorded webhook delivery outcome, one of [`WEBHOOK_OUTCOMES`].
pub fn webhook_delivery(outcome: &'static str) {
    debug_assert!(WEBHOOK_OUTCOMES.contains(&outcome), "{outcome}");
    PROCESS
        .webhook_deliveries
        .with_label_values(&[outcome])
        .inc();
}

/// One loop view's look into the view cache, one of [`VIEW_CACHE_OUTCOMES`].
pub fn view_cache(outcome: &'static str) {
    debug_assert!(VIEW_CACHE_OUTCOMES.contains(&outcome), "{outcome}");
    PROCESS.view_cache.with_label_values(&[outcome]).inc();
}

/// The outbox as a scrape finds it.
#[derive(Debug, Clone, Default)]
pub struct OutboxGauges {
    /// Pending and not leased by a worker (due now or waiting for a retry).
    pub pending: i64,
    /// Pending and leased: being delivered.
    pub leased: i64,
    /// Given up on; `bar-raiser outbox requeue` sends them again.
    pub dead: i64,
    /// Seconds since the oldest pending (leased or not) message was written.
    pub oldest_pending_age_secs: i64,
}

/// The state gauges, read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Connections the pool holds, and of them idle.
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// SQLite's writer queue (`None` on PostgreSQL): waiting, room.
    pub write_queue: Option<(usize, usize)>,
    /// Password jobs waiting for the hashing threads, and room.
    pub password_queue: (usize, usize),
    pub outbox: OutboxGauges,
}

fn gauge(registry: &Registry, name: &str, help: &str, value: i64) {
    let g = IntGauge::new(name, help).expect("valid metric");
    g.set(value);
    registry
        .register(Box::new(g))
        .expect("metric registered once");
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, label: &str, values: &[(&str, i64)]) {
    let g = IntGaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric");
    for (l, v) in values {
        g.with_label_values(&[*l]).set(*v);
    }
    registry
        .register(Box::new(g))
        .expect("metric registered once");
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The whole exposition: the process' counters and `now`'s gauges.
pub fn render(now: &Snapshot) -> String {
    let r = Registry::new();
    let in_use = now.pool_connections.saturating_sub(now.pool_idle);
    gauge_vec(
        &r,
        "bar_raiser_db_connections",
        "Database pool connections, in use by a request or idle",
        "state",
        &[("in_use", in_use.into()), ("idle", now.pool_idle.into())],
    );
    gauge(
        &r,
        "bar_raiser_db_connections_max",
        "The most connections the pool opens (BAR_RAISER_DB_POOL_SIZE)",
        now.pool_max.into(),
    );
    if let Some((depth, room)) = now.write_queue {
        gauge(
            &r,
            "bar_raiser_sqlite_write_queue_depth",
            "Writes waiting for SQLite's writer thread",
            count(depth),
        );
        gauge(
            &r,
            "bar_raiser_sqlite_write_queue_capacity",
            "Writes that may wait before more are refused (BAR_RAISER_WRITE_QUEUE)",
            count(room),
        );
    }
    gauge(
        &r,
        "bar_raiser_password_queue_depth",
        "Password checks waiting for the hashing threads",
        count(now.password_queue.0),
    );
    gauge(
        &r,
        "bar_raiser_password_queue_capacity",
        "Password checks that may wait before more are refused (BAR_RAISER_PASSWORD_QUEUE)",
        count(now.password_queue.1),
    );
    let o = &now.outbox;
    gauge_vec(
        &r,
        "bar_raiser_outbox_messages",
        "Outbox messages (mail and webhooks) not delivered: pending, leased (being delivered), dead",
        "state",
        &[
            ("pending", o.pending),
            ("leased", o.leased),
            ("dead", o.dead),
        ],
    );
    gauge(
        &r,
        "bar_raiser_outbox_oldest_pending_age_seconds",
        "Age of the oldest undelivered, not dead outbox message (0 when none)",
        o.oldest_pending_age_secs.max(0),
    );
    let mut families = PROCESS.registry.gather();
    families.extend(r.gather());
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
        tracing::error!(error = %e, "encoding metrics failed");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_bounded_labels() {
        http_request(
            Some("/api/v1/loops/{id}"),
            "GET",
            200,
            Duration::from_millis(3),
        );
        let text = render(&Snapshot {
            pool_connections: 3,
            pool_idle: 1,
            pool_max: 8,
            write_queue: Some((2, 512)),
            password_queue: (0, 64),
            outbox: OutboxGauges {
                pending: 4,
                leased: 1,
                dead: 2,
                oldest_pending_age_secs: 90,
            },
        });
        for line in [
            r#"bar_raiser_http_requests_total{method="GET",route="/api/v1/loops/{id}",status="200"}"#,
            r#"bar_raiser_db_connections{state="in_use"} 2"#,
            r#"bar_raiser_sqlite_write_queue_depth 2"#,
            r#"bar_raiser_outbox_messages{state="dead"} 2"#,
            r#"bar_raiser_outbox_oldest_pending_age_seconds 90"#,
            r#"bar_raiser_signins_total{outcome="throttled"} "#,
            r#"bar_raiser_webhook_deliveries_total{outcome="dead"} "#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
