//! Typed settings from flags and `BAR_RAISER_*` environment variables. One
//! [`Config`] is built at start-up and handed to the app as data; nothing
//! reads the environment after that.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::domain::signin::Cidr;

/// A secret string: usable, but never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Parses `90`, `90s`, `15m`, `12h`, `14d` into a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 900, 15m, 12h or 14d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown duration unit {unit:?}; use s, m, h or d")),
    };
    if secs == 0 {
        return Err("a duration must be positive".into());
    }
    Ok(Duration::from_secs(secs))
}

/// A queue's length: 1 to 1,000,000.
fn parse_queue(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err("a queue length is a whole number from 1 to 1000000".into()),
    }
}

/// Settings shared by every subcommand that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Where the data lives: `sqlite://PATH` (default) or `postgres://…`.
    #[arg(
        long,
        env = "BAR_RAISER_DATABASE_URL",
        default_value = "sqlite://bar-raiser.db"
    )]
    pub database_url: String,

    /// Connections in the pool (default: 16 on SQLite; on PostgreSQL four
    /// per core, 4 to 16).
    #[arg(long, env = "BAR_RAISER_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,
}

impl DatabaseArgs {
    /// The pool's size: as set, or the default for the URL's backend.
    ///
    /// PostgreSQL's backends are processes on the machine's cores: more
    /// connections than the cores can run only queue for the CPU and switch
    /// between themselves. On the 2-core benchmark machine 16 connections
    /// served 35–40 % fewer loop views and seals than 8 or 4, with twice the
    /// p99 (BENCHMARKS.md, round four). SQLite reads in this process, and 16
    /// met every target there.
    pub fn pool_size(&self) -> u32 {
        if let Some(n) = self.db_pool_size {
            return n.max(1);
        }
        let postgres = crate::db::Target::parse(&self.database_url)
            .is_ok_and(|t| t.backend == crate::db::Backend::Postgres);
        if postgres {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
            (4 * cores).clamp(4, 16)
        } else {
            16
        }
    }
}

/// How the notification worker paces itself (see `notify::worker`).
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// How often the notification worker looks for due mail when idle.
    #[arg(long = "worker-poll-interval", env = "BAR_RAISER_WORKER_POLL_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// Messages one worker claims at a time.
    #[arg(long = "worker-batch-size", env = "BAR_RAISER_WORKER_BATCH_SIZE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batch_size: u32,

    /// Delivery attempts before a message is marked dead.
    #[arg(long = "mail-max-attempts", env = "BAR_RAISER_MAIL_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,

    /// Wait before the first retry; it doubles per attempt (with jitter), up to 6h.
    #[arg(long = "mail-retry-base", env = "BAR_RAISER_MAIL_RETRY_BASE", default_value = "30s", value_parser = parse_duration)]
    pub retry_base: Duration,

    /// How long a claimed message is reserved for its worker; a crashed
    /// worker's messages are taken over after it. One delivery is cut off
    /// at a quarter of it (at most 60s).
    #[arg(long = "outbox-lease", env = "BAR_RAISER_OUTBOX_LEASE", default_value = "2m", value_parser = parse_duration)]
    pub lease: Duration,
}

impl Default for WorkerArgs {
    fn default() -> Self {
        WorkerArgs {
            poll_interval: Duration::from_secs(5),
            batch_size: 20,
            max_attempts: 10,
            retry_base: Duration::from_secs(30),
            lease: Duration::from_secs(120),
        }
    }
}

/// The Bar Raiser program's rules (issue 17; see `domain::program`).
#[derive(Debug, Clone, Args)]
pub struct ProgramArgs {
    /// Certify a trainee as soon as the thresholds hold, without an
    /// admin's confirmation.
    #[arg(long = "bar-raiser-auto-certify", env = "BAR_RAISER_AUTO_CERTIFY", default_value_t = false, action = clap::ArgAction::Set)]
    pub auto_certify: bool,

    /// Shadowed loops (feedback sealed) a trainee needs.
    #[arg(long = "program-shadowed-loops", env = "BAR_RAISER_PROGRAM_SHADOWED_LOOPS", default_value_t = crate::domain::program::DEFAULT_SHADOWED_LOOPS)]
    pub shadowed_loops: u32,

    /// Reverse-shadowed loops signed off as `pass` a trainee needs.
    #[arg(long = "program-reverse-shadowed-loops", env = "BAR_RAISER_PROGRAM_REVERSE_SHADOWED_LOOPS", default_value_t = crate::domain::program::DEFAULT_REVERSE_SHADOWED_LOOPS)]
    pub reverse_shadowed_loops: u32,

    /// The share (0 to 1) of a trainee's sealed votes in decided training
    /// loops that must agree with the outcome.
    #[arg(long = "program-agreement-floor", env = "BAR_RAISER_PROGRAM_AGREEMENT_FLOOR", default_value_t = crate::domain::program::DEFAULT_AGREEMENT_FLOOR, value_parser = parse_share)]
    pub agreement_floor: f64,

    /// Months without serving as a loop's Bar Raiser after which a
    /// certified Bar Raiser lapses (at the daily job).
    #[arg(long = "program-lapse-months", env = "BAR_RAISER_PROGRAM_LAPSE_MONTHS", default_value_t = crate::domain::program::DEFAULT_LAPSE_MONTHS, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub lapse_months: u32,

    /// Loops served as Bar Raiser in the last 30 days above which
    /// scheduling another warns.
    #[arg(long = "program-load-warning", env = "BAR_RAISER_PROGRAM_LOAD_WARNING", default_value_t = crate::domain::program::DEFAULT_LOAD_WARNING_LOOPS)]
    pub load_warning_loops: u32,
}

impl Default for ProgramArgs {
    fn default() -> Self {
        use crate::domain::program as p;
        ProgramArgs {
            auto_certify: false,
            shadowed_loops: p::DEFAULT_SHADOWED_LOOPS,
            reverse_shadowed_loops: p::DEFAULT_REVERSE_SHADOWED_LOOPS,
            agreement_floor: p::DEFAULT_AGREEMENT_FLOOR,
            lapse_months: p::DEFAULT_LAPSE_MONTHS,
            load_warning_loops: p::DEFAULT_LOAD_WARNING_LOOPS,
        }
    }
}

impl ProgramArgs {
    pub fn thresholds(&self) -> crate::domain::program::Thresholds {
        crate::domain::program::Thresholds {
            shadowed_loops: self.shadowed_loops,
            reverse_shadowed_loops: self.reverse_shadowed_loops,
            agreement_floor: self.agreement_floor,
        }
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("a share from 0 to 1".into()),
    }
}

/// Who may sign in with a password (`BAR_RAISER_PASSWORD_SIGNIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PasswordSignin {
    /// Everyone with a password.
    #[default]
    On,
    /// Nobody but the break-glass admin (the first account, when it is an
    /// admin): everyone else signs in through single sign-on.
    Off,
    /// Accounts not linked to a single sign-on identity; linked ones must
    /// use single sign-on (the break-glass admin still may).
    UnlinkedOnly,
}

/// Single sign-on with OpenID Connect (see `workflows::sso`): off unless an
/// issuer is set.
#[derive(Debug, Clone, Args)]
pub struct SsoArgs {
    /// The OpenID provider's issuer URL; its discovery document
    /// (`/.well-known/openid-configuration`) and keys are fetched at first
    /// use. Unset: single sign-on is off and its endpoints answer 404
    /// `sso_not_configured`.
    #[arg(long = "oidc-issuer", env = "BAR_RAISER_OIDC_ISSUER")]
    pub issuer: Option<String>,

    /// This service's client id at the provider.
    #[arg(long = "oidc-client-id", env = "BAR_RAISER_OIDC_CLIENT_ID")]
    pub client_id: Option<String>,

    /// This service's client secret at the provider.
    #[arg(
        long = "oidc-client-secret",
        env = "BAR_RAISER_OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<Secret>,

    /// The redirect URL registered at the provider: this service's
    /// `/api/v1/auth/sso/callback` as the browser reaches it.
    #[arg(long = "oidc-redirect-url", env = "BAR_RAISER_OIDC_REDIRECT_URL")]
    pub redirect_url: Option<String>,

    /// Scopes asked for, space-separated (`openid` is always asked).
    #[arg(long = "oidc-scopes", env = "BAR_RAISER_OIDC_SCOPES", default_value = DEFAULT_OIDC_SCOPES)]
    pub scopes: String,

    /// Where a browser sign-in ends: redirected to this URL with
    /// `#code=<one-time code>` in the fragment, for the front end to
    /// exchange at `POST /api/v1/auth/sso/exchange`. Unset: the callback
    /// shows the code as text (the command-line flow).
    #[arg(long = "oidc-frontend-url", env = "BAR_RAISER_OIDC_FRONTEND_URL")]
    pub frontend_url: Option<String>,

    /// Create an account (a member) at the first sign-in of a person the
    /// provider vouches for (verified email) and who has none. Off: such a
    /// person is refused with `sso_not_linked` until an admin or SCIM
    /// creates their account.
    #[arg(
        long = "oidc-jit",
        env = "BAR_RAISER_OIDC_JIT",
        default_value_t = false
    )]
    pub jit: bool,

    /// An ID token claim (a string or a list of strings, e.g. `groups`)
    /// whose values map to roles by `BAR_RAISER_OIDC_CLAIM_ROLES`.
    #[arg(long = "oidc-role-claim", env = "BAR_RAISER_OIDC_ROLE_CLAIM")]
    pub role_claim: Option<String>,

    /// Comma-separated `value=role` pairs for the role claim (like
    /// `BAR_RAISER_SCIM_GROUP_ROLES`): at each sign-in the account gets the
    /// highest role its values map to, member when none. An account SCIM
    /// provisioned keeps the role SCIM gives it.
    #[arg(long = "oidc-claim-roles", env = "BAR_RAISER_OIDC_CLAIM_ROLES", value_delimiter = ',', value_parser = parse_group_role)]
    pub claim_roles: Vec<GroupRole>,
}

/// The scopes asked for when `BAR_RAISER_OIDC_SCOPES` is unset.
pub const DEFAULT_OIDC_SCOPES: &str = "openid email profile";

impl Default for SsoArgs {
    fn default() -> Self {
        SsoArgs {
            issuer: None,
            client_id: None,
            client_secret: None,
            redirect_url: None,
            scopes: DEFAULT_OIDC_SCOPES.into(),
            frontend_url: None,
            jit: false,
            role_claim: None,
            claim_roles: Vec::new(),
        }
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub db: DatabaseArgs,

    /// Address to listen on.
    #[arg(long, env = "BAR_RAISER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// HS256 signing secret for access tokens, at least 32 bytes. If unset,
    /// one is generated once and kept in the database, so restarts and
    /// several instances agree.
    #[arg(long, env = "BAR_RAISER_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Lifetime of an access token (e.g. 15m).
    #[arg(long, env = "BAR_RAISER_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration)]
    pub access_token_ttl: Duration,

    /// Lifetime of a refresh token (e.g. 14d).
    #[arg(long, env = "BAR_RAISER_REFRESH_TOKEN_TTL", default_value = "14d", value_parser = parse_duration)]
    pub refresh_token_ttl: Duration,

    /// On first start with no users, create this admin.
    #[arg(long, env = "BAR_RAISER_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// Password of that first admin (environment only, never a flag value
    /// in shell history is recommended).
    #[arg(long, env = "BAR_RAISER_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,

    /// SMTP server, lettre URL form: `smtp://host:port`, `smtps://user:pass@host`.
    /// Without it, mail goes to files in the mail directory.
    #[arg(long, env = "BAR_RAISER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// Sender of notification mail.
    #[arg(
        long,
        env = "BAR_RAISER_MAIL_FROM",
        default_value = "Bar Raiser <bar-raiser@localhost>"
    )]
    pub mail_from: String,

    /// Directory for `.eml` files when no SMTP server is configured.
    #[arg(long, env = "BAR_RAISER_MAIL_DIR", default_value = "./mail")]
    pub mail_dir: std::path::PathBuf,

    /// Base URL used in links inside notifications.
    #[arg(
        long,
        env = "BAR_RAISER_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// Comma-separated origins allowed by CORS; CORS is off when empty.
    #[arg(long, env = "BAR_RAISER_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Comma-separated addresses or CIDR networks of reverse proxies whose
    /// `X-Forwarded-For` names the client (for sign-in throttling). Empty:
    /// the peer address is the client and the header is ignored.
    #[arg(long, env = "BAR_RAISER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,

    /// Allow webhooks to loopback and private addresses (for a receiver on
    /// the same host or network); refused by default.
    #[arg(
        long,
        env = "BAR_RAISER_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false
    )]
    pub webhook_allow_private: bool,

    /// How long a rotated webhook secret keeps signing beside the new one
    /// (e.g. 24h), unless the rotation asks for another period.
    #[arg(long, env = "BAR_RAISER_WEBHOOK_SECRET_GRACE", default_value = "24h", value_parser = parse_duration)]
    pub webhook_secret_grace: Duration,

    /// Writes that may wait for SQLite's one writer; past it a write is
    /// answered 503 `overloaded` with `Retry-After` at once.
    #[arg(long, env = "BAR_RAISER_WRITE_QUEUE", default_value_t = crate::db::DEFAULT_WRITE_QUEUE, value_parser = parse_queue)]
    pub write_queue: usize,

    /// Password checks (sign-in, password changes) that may wait for the
    /// hashing threads; past it 503 `overloaded` with `Retry-After`.
    #[arg(long, env = "BAR_RAISER_PASSWORD_QUEUE", default_value_t = crate::auth::password::DEFAULT_PASSWORD_QUEUE, value_parser = parse_queue)]
    pub password_queue: usize,

    /// Loop status views this process keeps in memory (0: none). A kept
    /// view is used only after one statement finds its loop and the names
    /// it shows unchanged in the database.
    #[arg(long, env = "BAR_RAISER_VIEW_CACHE", default_value_t = crate::workflows::cache::DEFAULT_VIEW_CACHE)]
    pub view_cache: usize,

    /// Interviewer figures need at least this many decided loops; with
    /// fewer, every figure is null (`insufficient_data`).
    #[arg(long, env = "BAR_RAISER_ANALYTICS_MIN_LOOPS", default_value_t = crate::domain::analytics::DEFAULT_MIN_LOOPS)]
    pub analytics_min_loops: usize,

    /// Minutes after an interview ends that its interviewer may commit a
    /// quick vote (1 to 1440).
    #[arg(long, env = "BAR_RAISER_QUICK_VOTE_WINDOW_MINUTES", default_value_t = crate::domain::quickvote::DEFAULT_WINDOW_MINUTES, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub quick_vote_window_minutes: u32,

    /// Comma-separated `Group name=role` pairs: a SCIM-provisioned person
    /// in a group named here gets its role (admin, recruiter, member; the
    /// highest wins), and member when in none. Empty: SCIM leaves roles
    /// alone (new people are members).
    #[arg(long, env = "BAR_RAISER_SCIM_GROUP_ROLES", value_delimiter = ',', value_parser = parse_group_role)]
    pub scim_group_roles: Vec<GroupRole>,

    /// Bearer token that `GET /metrics` requires (`Authorization: Bearer
    /// …`). Unset: `/metrics` answers 404, nothing is exported.
    #[arg(long, env = "BAR_RAISER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,

    /// Do not start the notification worker in this process.
    #[arg(long, env = "BAR_RAISER_NO_WORKER", default_value_t = false)]
    pub no_worker: bool,

    #[command(flatten)]
    pub worker: WorkerArgs,

    #[command(flatten)]
    pub program: ProgramArgs,

    #[command(flatten)]
    pub sso: SsoArgs,

    /// Who may sign in with email and password: `on` (everyone),
    /// `unlinked-only` (accounts without a single sign-on identity) or
    /// `off` (nobody). The first admin (the account created first, when it
    /// is an admin) may always: the break-glass way in.
    #[arg(long, env = "BAR_RAISER_PASSWORD_SIGNIN", value_enum, default_value_t = PasswordSignin::On)]
    pub password_signin: PasswordSignin,

    /// On an empty database (no loops yet), create the demo sample first;
    /// see `bar-raiser demo` (built with the `tools` feature).
    #[cfg(feature = "tools")]
    #[arg(long, default_value_t = false)]
    pub demo: bool,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "BAR_RAISER_WORKERS")]
    pub workers: Option<usize>,
}

impl Config {
    /// A configuration for tests and tools: defaults, this database, no
    /// worker, a fixed secret.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            db: DatabaseArgs {
                database_url: database_url.to_string(),
                db_pool_size: None,
            },
            bind: "127.0.0.1:0".parse().expect("valid address"),
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(14 * 86_400),
            admin_email: None,
            admin_password: None,
            smtp_url: None,
            mail_from: "Bar Raiser <bar-raiser@localhost>".into(),
            mail_dir: "./mail".into(),
            public_url: "http://127.0.0.1:8080".into(),
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            webhook_allow_private: false,
            webhook_secret_grace: Duration::from_secs(24 * 3600),
            write_queue: crate::db::DEFAULT_WRITE_QUEUE,
            password_queue: crate::auth::password::DEFAULT_PASSWORD_QUEUE,
            view_cache: crate::workflows::cache::DEFAULT_VIEW_CACHE,
            analytics_min_loops: crate::domain::analytics::DEFAULT_MIN_LOOPS,
            quick_vote_window_minutes: crate::domain::quickvote::DEFAULT_WINDOW_MINUTES,
            scim_group_roles: Vec::new(),
            metrics_token: None,
            no_worker: true,
            worker: WorkerArgs::default(),
            program: ProgramArgs::default(),
            sso: SsoArgs::default(),
            password_signin: PasswordSignin::On,
            #[cfg(feature = "tools")]
            demo: false,
            workers: Some(2),
        }
    }
}

/// A SCIM group whose members get a role (`BAR_RAISER_SCIM_GROUP_ROLES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRole {
    pub group: String,
    pub role: crate::domain::AccountRole,
}

fn parse_group_role(s: &str) -> Result<GroupRole, String> {
    let (group, role) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}` is not `Group name=role`"))?;
    let role = role
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a role (admin, recruiter, member)", role.trim()))?;
    let group = group.trim();
    if group.is_empty() {
        return Err(format!("`{s}` names no group"));
    }
    Ok(GroupRole {
        group: group.to_string(),
        role,
    })
}

/// Minimum length of a JWT signing secret.
pub const JWT_SECRET_MIN_BYTES: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("900").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(
            parse_duration("14d").unwrap(),
            Duration::from_secs(14 * 86_400)
        );
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn the_pool_is_sized_for_the_backend_unless_set() {
        let args = |url: &str, size: Option<u32>| DatabaseArgs {
            database_url: url.to_string(),
            db_pool_size: size,
        };
        assert_eq!(args("sqlite://x.db", None).pool_size(), 16);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        let pg = args("postgres://localhost/x", None).pool_size();
        assert_eq!(pg, (4 * cores).clamp(4, 16));
        assert!((4..=16).contains(&pg));
        assert_eq!(args("postgresql://localhost/x", Some(3)).pool_size(), 3);
        assert_eq!(args("sqlite://x.db", Some(0)).pool_size(), 1);
    }

    #[test]
    fn worker_defaults_are_the_flag_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            worker: WorkerArgs,
        }
        let parsed = Flags::try_parse_from(["bar-raiser"]).unwrap().worker;
        assert_eq!(
            format!("{parsed:?}"),
            format!("{:?}", WorkerArgs::default())
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let mut c = Config::for_database("sqlite://x.db");
        c.jwt_secret = Some(s);
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
