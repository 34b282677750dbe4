//! The `bar-raiser` command: serve the API, migrate, create an admin, print
//! the OpenAPI document, run the notification worker, inspect the outbox.

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use bar_raiser::config::{Config, DatabaseArgs, LogFormat};
use bar_raiser::db::Db;
use bar_raiser::{app, bootstrap, notify};

#[derive(Parser)]
#[command(
    name = "bar-raiser",
    version,
    about = "Bar Raiser interview loops with independent, sealed, provable feedback"
)]
struct Cli {
    /// Log filter, e.g. `info` or `bar_raiser=debug,actix_web=info`.
    #[arg(long, env = "BAR_RAISER_LOG", default_value = "info", global = true)]
    log: String,

    /// Log line format.
    #[arg(long, env = "BAR_RAISER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (migrates first; creates the first admin on an empty database).
    Serve(Box<Config>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Create an admin account. The password comes from
    /// BAR_RAISER_ADMIN_PASSWORD or, if unset, from standard input.
    CreateAdmin {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The admin's email address.
        #[arg(long)]
        email: String,
        /// The admin's display name.
        #[arg(long)]
        name: String,
    },
    /// Print the OpenAPI document that the server serves.
    Openapi,
    /// Create sample people (every role, one password printed once), a
    /// candidate and a scheduled loop of six interviews.
    #[cfg(feature = "tools")]
    Demo(DatabaseArgs),
    /// Deliver notifications without serving HTTP (same settings as serve;
    /// the HTTP ones are ignored). Stops cleanly on SIGTERM.
    Worker(Box<Config>),
    /// List pending and dead notifications; requeue dead ones.
    Outbox(notify::cli::OutboxArgs),
    /// Benchmarks only (bench/run): fill an empty database with realistic loops.
    #[cfg(feature = "tools")]
    #[command(hide = true)]
    Seed(Box<bar_raiser::bench::SeedArgs>),
    /// Benchmarks only (bench/run): durable single-row commits per second.
    #[cfg(feature = "tools")]
    #[command(hide = true)]
    BenchCommits(bar_raiser::bench::CommitArgs),
}

/// Logs go to standard error: colours only when that is a terminal; in
/// JSON, one object per line with the event's fields and its innermost
/// span (`span`: the request's id, trace id, method, path) — not the span
/// list as well, which repeated the same fields.
fn init_logging(filter: &str, format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&app::openapi())?);
            Ok(())
        }
        Command::Migrate(args) => {
            init_logging(&cli.log, cli.log_format);
            let db = Db::connect(&args.database_url, 1)?;
            let n = db.migrate()?;
            println!("{n} migration(s) applied");
            Ok(())
        }
        Command::CreateAdmin { db, email, name } => {
            init_logging(&cli.log, cli.log_format);
            let password = match std::env::var("BAR_RAISER_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    let mut p = String::new();
                    std::io::stdin()
                        .read_to_string(&mut p)
                        .context("reading the password from standard input")?;
                    p.trim_end_matches(['\n', '\r']).to_string()
                }
            };
            let db = Db::connect(&db.database_url, 1)?;
            db.migrate()?;
            bootstrap::create_admin(&db, &email, &name, &password)?;
            println!("admin {email} created");
            Ok(())
        }
        #[cfg(feature = "tools")]
        Command::Demo(args) => {
            init_logging(&cli.log, cli.log_format);
            demo(Config::for_database(&args.database_url))
        }
        Command::Serve(config) => {
            init_logging(&cli.log, cli.log_format);
            serve(*config)
        }
        Command::Worker(config) => {
            init_logging(&cli.log, cli.log_format);
            notify::cli::worker(*config)
        }
        Command::Outbox(args) => {
            init_logging(&cli.log, cli.log_format);
            notify::cli::outbox(args)
        }
        #[cfg(feature = "tools")]
        Command::Seed(args) => {
            init_logging(&cli.log, cli.log_format);
            bar_raiser::bench::seed(*args)
        }
        #[cfg(feature = "tools")]
        Command::BenchCommits(args) => {
            init_logging(&cli.log, cli.log_format);
            bar_raiser::bench::commits(args)
        }
    }
}

#[cfg(feature = "tools")]
#[actix_web::main]
async fn demo(config: Config) -> anyhow::Result<()> {
    let state = app::AppState::init(config).await?;
    bar_raiser::demo::run(state).await
}

/// `serve --demo`: the demo sample, on a database without loops.
#[cfg(feature = "tools")]
async fn demo_if_empty(state: &actix_web::web::Data<app::AppState>) -> anyhow::Result<()> {
    let st = state.clone();
    let empty = actix_web::web::block(move || -> anyhow::Result<bool> {
        let mut conn = st.db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(bar_raiser::db::loops::count(&mut conn)? == 0)
    })
    .await??;
    if empty {
        bar_raiser::demo::run(state.clone()).await
    } else {
        tracing::info!("--demo ignored: the database already has loops");
        Ok(())
    }
}

#[actix_web::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let workers = config.workers;
    let state = app::AppState::init(config).await?;
    {
        let st = state.clone();
        actix_web::web::block(move || {
            bootstrap::first_admin(
                &st.db,
                st.config.admin_email.as_deref(),
                st.config.admin_password.as_ref().map(|s| s.expose()),
                std::path::Path::new(bootstrap::FIRST_ADMIN_PASSWORD_FILE),
            )
        })
        .await??;
    }
    // The demo first: its history is written with the demo clock set back,
    // which the notification worker must not read.
    #[cfg(feature = "tools")]
    if state.config.demo {
        demo_if_empty(&state).await?;
    }
    let worker = if state.config.no_worker {
        tracing::info!("notification worker not started (--no-worker)");
        None
    } else {
        Some(notify::worker::start(state.db.clone(), &state.config)?)
    };
    tracing::info!(address = %listener.local_addr()?, "serving; docs at /docs/");
    app::serve(listener, state, workers)?.await?;
    // SIGTERM stopped the HTTP server; the worker finishes its message too.
    if let Some(worker) = worker {
        worker.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}
