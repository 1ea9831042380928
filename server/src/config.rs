//! Command line and environment configuration (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// The built-in market simulator (default without REDIS_URL).
    Simulator,
    /// Subscribe to the legacy ticker channels on REDIS_URL (default with REDIS_URL).
    Redis,
    /// No live feed: serve stored data only.
    None,
}

impl Source {
    /// The name `/health` and `/metrics` show.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Simulator => "simulator",
            Source::Redis => "redis",
            Source::None => "none",
        }
    }
}

/// Who may create an account with `POST /v1/auth/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Registration {
    /// Anyone.
    Open,
    /// An administrator only (with an admin credential, or `users add`).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// stocksblitz market-data and analytics server.
///
/// With no configuration it runs embedded: a SQLite store under ./stocksblitz-data and an
/// in-process tick bus. Set DATABASE_URL / REDIS_URL for PostgreSQL and Redis.
#[derive(Debug, Clone, Parser)]
#[command(name = "stocksblitz-server", version)]
pub struct Config {
    /// Administration subcommand; without one the server runs.
    #[command(subcommand)]
    pub command: Option<crate::admin::Command>,

    /// Address to listen on.
    #[arg(long, env = "STOCKSBLITZ_ADDR", default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,

    /// Directory of the embedded store (used when DATABASE_URL is not set).
    #[arg(
        long,
        global = true,
        env = "STOCKSBLITZ_DATA_DIR",
        default_value = "./stocksblitz-data"
    )]
    pub data_dir: PathBuf,

    /// Database URL: postgres://… for PostgreSQL, sqlite:… for a SQLite file.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Redis URL (tick bus and shared state for several replicas).
    #[arg(long, global = true, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Log filter: a level (error, warn, info, debug, trace) or a tracing directive list.
    #[arg(long, global = true, env = "STOCKSBLITZ_LOG", default_value = "info")]
    pub log_level: String,

    /// Tick source (default: redis when REDIS_URL is set, else simulator). With REDIS_URL and
    /// `--source simulator`, the simulator publishes to Redis and the server consumes from it.
    #[arg(long, env = "STOCKSBLITZ_SOURCE", value_enum)]
    pub source: Option<Source>,

    /// Redis channel pattern of the tick feed.
    #[arg(long, env = "STOCKSBLITZ_REDIS_PATTERN", default_value = "ticker:*")]
    pub redis_pattern: String,

    /// Self-registration: `open` or `closed` (admins create accounts). Default: open only when
    /// the server listens on loopback with the embedded store (a laptop), closed otherwise.
    #[arg(long, env = "STOCKSBLITZ_REGISTRATION", value_enum)]
    pub registration: Option<Registration>,

    /// Most connections open at once (HTTP and WebSocket, per listener); beyond it a new
    /// connection is closed at once and counted.
    #[arg(long, env = "STOCKSBLITZ_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Seconds a request's headers may take to arrive; an idle keep-alive connection is closed
    /// after as long.
    #[arg(long, env = "STOCKSBLITZ_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout_secs: u64,

    /// The key-encryption key that seals the signing keys in the store (base64 of 32 bytes;
    /// created at first start). `STOCKSBLITZ_KEK` (the key itself) takes precedence. Replicas
    /// on one database share it. Default: `<data-dir>/signing.kek`.
    #[arg(long, env = "STOCKSBLITZ_KEK_FILE")]
    pub kek_file: Option<std::path::PathBuf>,

    /// Most bytes of feed messages read from Redis and waiting for processing; beyond it whole
    /// batches are dropped and counted (64 KiB to 4 GiB).
    #[arg(long, env = "STOCKSBLITZ_INGEST_QUEUE_BYTES", default_value_t = 64 << 20, value_parser = clap::value_parser!(u64).range(65_536..=4_294_967_296))]
    pub ingest_queue_bytes: u64,

    /// The base URL other replicas reach this one at (requests for accounts this replica
    /// matches are forwarded there). Default: `http://<--addr>` (`127.0.0.1` for `0.0.0.0`).
    #[arg(long, env = "STOCKSBLITZ_ADVERTISE_URL")]
    pub advertise_url: Option<String>,

    /// Continuous session: bars and simulated ticks at any hour (demo at night and weekends).
    #[arg(long, env = "STOCKSBLITZ_DEMO_CLOCK")]
    pub demo_clock: bool,

    /// With --demo-clock: how many times faster than real time the virtual exchange clock of
    /// paper trading runs (600: a 6¼-hour session in 37.5 s). `POST /admin/clock` moves it on.
    #[arg(long, env = "STOCKSBLITZ_DEMO_SPEED", default_value_t = 1.0)]
    pub demo_speed: f64,

    /// Seconds between the snapshots of each active strategy's book.
    #[arg(long, env = "STOCKSBLITZ_STRATEGY_SNAPSHOT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub strategy_snapshot_secs: u64,

    /// Simulator seed (reproducible runs).
    #[arg(long, env = "STOCKSBLITZ_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Simulator: milliseconds between rounds of ticks (one tick per instrument per round).
    #[arg(long, env = "STOCKSBLITZ_TICK_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub tick_interval_ms: u64,

    /// Simulator: trading days of 1-minute history to back-fill into an empty store.
    #[arg(long, env = "STOCKSBLITZ_BACKFILL_DAYS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=30))]
    pub backfill_days: u64,

    /// Milliseconds after a bar's end before it closes.
    #[arg(long, env = "STOCKSBLITZ_BAR_GRACE_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub bar_grace_ms: u64,

    /// Second address for the identity routes (old scripts use user_service_url on :8001);
    /// `off` disables it.
    #[arg(
        long,
        env = "STOCKSBLITZ_IDENTITY_ADDR",
        default_value = "127.0.0.1:8001"
    )]
    pub identity_addr: Option<String>,

    /// An external identity provider whose tokens are trusted as well: its JWKS is fetched from
    /// `{url}/v1/auth/.well-known/jwks.json` in the background.
    #[arg(long, env = "USER_SERVICE_URL")]
    pub user_service_url: Option<String>,

    /// Prefix of the keys and channels this deployment uses in Redis (limits, revocations).
    #[arg(
        long,
        global = true,
        env = "STOCKSBLITZ_REDIS_PREFIX",
        default_value = "stocksblitz"
    )]
    pub redis_prefix: String,

    /// Lifetime of access tokens issued by the built-in identity provider, seconds.
    #[arg(long, env = "STOCKSBLITZ_ACCESS_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub access_token_ttl_secs: u64,

    /// Browser origins allowed by CORS: `*` or a comma-separated list of `http(s)://host[:port]`.
    /// Unset: no CORS headers (same-origin browsers and non-browser clients only).
    #[arg(long, env = "STOCKSBLITZ_CORS_ORIGINS")]
    pub cors_origins: Option<String>,

    /// Log output format.
    #[arg(
        long,
        env = "STOCKSBLITZ_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

impl Config {
    /// Whether anyone may register: `--registration`, else open only on loopback with the
    /// embedded store.
    pub fn registration_open(&self) -> bool {
        match self.registration {
            Some(Registration::Open) => true,
            Some(Registration::Closed) => false,
            None => self.addr.ip().is_loopback() && self.database_url.is_none(),
        }
    }

    /// The effective tick source.
    pub fn effective_source(&self) -> Source {
        self.source.unwrap_or(if self.redis_url.is_some() {
            Source::Redis
        } else {
            Source::Simulator
        })
    }
}
