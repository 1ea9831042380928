//! The stocksblitz store: one API over the embedded SQLite file and PostgreSQL.
//!
//! Migrations are embedded and applied when the store opens. SQLite runs in WAL mode under the
//! data directory; PostgreSQL is reached through a `postgres://` URL.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Run one query on whichever back-end the store has: `execute` (rows affected), `optional`
/// or `all` (rows mapped by `$map`). `?` placeholders are rewritten for PostgreSQL.
macro_rules! run {
    ($store:expr, $method:ident, $sql:expr, $map:expr $(, $bind:expr)*) => {{
        match &$store.pool {
            Pool::Sqlite(p) => {
                let q = sqlx::query($sql)$(.bind($bind))*;
                run!(@$method q, p, $map)
            }
            Pool::Postgres(p) => {
                let sql = pg_placeholders($sql);
                let q = sqlx::query(&sql)$(.bind($bind))*;
                run!(@$method q, p, $map)
            }
        }
    }};
    (@execute $q:expr, $p:expr, $map:expr) => {{ $q.execute($p).await.map(|r| r.rows_affected()).map_err(StoreError::from) }};
    (@optional $q:expr, $p:expr, $map:expr) => {{
        match $q.fetch_optional($p).await? {
            Some(row) => Ok::<_, StoreError>(Some($map(&row)?)),
            None => Ok(None),
        }
    }};
    (@all $q:expr, $p:expr, $map:expr) => {{ $q.fetch_all($p).await?.iter().map($map).collect::<Result<Vec<_>, StoreError>>() }};
}

pub mod alerts;
pub mod bars;
pub mod fsperm;
pub mod identity;
pub mod messages;
pub mod news;
pub mod reminders;
pub mod strategies;
pub mod subscriptions;
pub mod trading;
pub mod writer;

pub use writer::{BarWriter, WriterConfig, WriterStats};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "stocksblitz.db";

/// Errors from the store. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unsupported DATABASE_URL scheme {scheme:?} (expected sqlite: or postgres:)")]
    Scheme { scheme: String },
    #[error("cannot open database {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("migrations failed on {target}: {source}")]
    Migrate {
        target: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("{0} exists already")]
    Exists(String),
    #[error("limit reached: {0}")]
    Limit(String),
    #[error("the lease of shard {shard} is not held")]
    LeaseLost { shard: i64 },
    #[error("event {seq} of shard {shard} is stored already")]
    Conflict { shard: i64, seq: i64 },
}

/// Rewrite `?` placeholders as PostgreSQL's `$1, $2, …` (the queries here have no `?` in
/// literals).
pub(crate) fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Which back-end a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connected, migrated store. Cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    target: String,
}

/// Replace the password of a URL (`scheme://user:password@host`) with `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}://{}{}", &url[..scheme_end], masked, &rest[at..])
        }
        None => url.to_string(),
    }
}

/// With the TimescaleDB extension available, make `bars` a hypertable (integer time in
/// seconds, weekly chunks); without it, the plain table with its indexes is used. Either way
/// the outcome is logged; a failure here never stops the server.
async fn timescale_hypertable(pool: &PgPool) {
    let available: Result<Option<i32>, _> =
        sqlx::query_scalar("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
            .fetch_optional(pool)
            .await;
    if !matches!(available, Ok(Some(_))) {
        tracing::info!("TimescaleDB not available: bars stay a plain table");
        return;
    }
    let result = async {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
            .execute(pool)
            .await?;
        sqlx::query(
            "SELECT create_hypertable('bars', 'start_ts', chunk_time_interval => 604800, \
             if_not_exists => TRUE, migrate_data => TRUE)",
        )
        .execute(pool)
        .await
    }
    .await;
    match result {
        Ok(_) => tracing::info!("bars is a TimescaleDB hypertable"),
        Err(e) => {
            tracing::warn!(error = %e, "TimescaleDB present but bars could not become a hypertable; using a plain table");
        }
    }
}

impl Store {
    /// Open the embedded SQLite store `<data_dir>/stocksblitz.db`, creating it when missing.
    /// The directory is made private (0700) and the database files 0600 (SQLite gives its WAL
    /// and shared-memory files the database's mode); looser ones are tightened with a warning.
    pub async fn open_sqlite_dir(data_dir: &Path) -> Result<Store, StoreError> {
        let dir_err = |source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        };
        if let Some(w) = fsperm::secure_dir(data_dir).map_err(dir_err)? {
            tracing::warn!("{w}");
        }
        let path = data_dir.join(SQLITE_FILE);
        fsperm::create_private(&path).map_err(dir_err)?;
        for f in [SQLITE_FILE, "stocksblitz.db-wal", "stocksblitz.db-shm"] {
            if let Some(w) = fsperm::secure_file(&data_dir.join(f)).map_err(dir_err)? {
                tracing::warn!("{w}");
            }
        }
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        Self::open_sqlite(opts, path.display().to_string()).await
    }

    async fn open_sqlite(opts: SqliteConnectOptions, target: String) -> Result<Store, StoreError> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                target: target.clone(),
                source,
            })?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            target,
        })
    }

    /// Open a store from a URL: `postgres://…`/`postgresql://…` or `sqlite:path`.
    pub async fn open_url(url: &str) -> Result<Store, StoreError> {
        let target = redact_url(url);
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => {
                let opts =
                    PgConnectOptions::from_str(url).map_err(|source| StoreError::Connect {
                        target: target.clone(),
                        source,
                    })?;
                let pool = PgPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await
                    .map_err(|source| StoreError::Connect {
                        target: target.clone(),
                        source,
                    })?;
                sqlx::migrate!("migrations/postgres")
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate {
                        target: target.clone(),
                        source,
                    })?;
                timescale_hypertable(&pool).await;
                Ok(Store {
                    pool: Pool::Postgres(pool),
                    target,
                })
            }
            "sqlite" => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|source| StoreError::Connect {
                        target: target.clone(),
                        source,
                    })?
                    .create_if_missing(true);
                Self::open_sqlite(opts, target).await
            }
            other => Err(StoreError::Scheme {
                scheme: other.chars().take(20).collect(),
            }),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Where the store lives, credentials redacted (for logs and /health).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Round-trip a trivial query; returns its latency.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let t = Instant::now();
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await?,
            Pool::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
                return Ok(t.elapsed());
            }
        };
        Ok(t.elapsed())
    }

    /// Names of the user tables (migration bookkeeping excluded), sorted.
    pub async fn tables(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await?,
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
                )
                .fetch_all(p)
                .await?
            }
        };
        names.retain(|n| n != "_sqlx_migrations");
        names.sort();
        Ok(names)
    }

    /// Close all connections (flushes the SQLite WAL on the last close).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table of the one migration history (both back-ends).
    const TABLES: [&str; 19] = [
        "alert_events",
        "alerts",
        "api_keys",
        "bars",
        "broker_events",
        "broker_leases",
        "idempotency_keys",
        "indicator_subscriptions",
        "instruments",
        "messages",
        "news",
        "paper_accounts",
        "refresh_tokens",
        "reminders",
        "sessions",
        "signing_keys",
        "strategies",
        "strategy_snapshots",
        "users",
    ];

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(
            redact_url("postgres://db/x?password=a"),
            "postgres://db/x?password=a"
        );
        assert_eq!(
            redact_url("redis://:pw@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
    }

    #[tokio::test]
    async fn sqlite_store_is_created_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite_dir(&dir.path().join("data"))
            .await
            .unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        assert!(dir.path().join("data").join(SQLITE_FILE).exists());
        assert_eq!(store.tables().await.unwrap(), TABLES);
        store.ping().await.unwrap();
        store.close().await;
        // Re-opening applies no migration twice.
        let again = Store::open_sqlite_dir(&dir.path().join("data"))
            .await
            .unwrap();
        assert_eq!(again.tables().await.unwrap(), TABLES);
    }

    #[tokio::test]
    async fn bad_urls_are_clear_errors() {
        let e = Store::open_url("mysql://u:pw@h/db").await.unwrap_err();
        assert!(
            e.to_string()
                .contains("unsupported DATABASE_URL scheme \"mysql\"")
        );
        let e = Store::open_url("postgres://u:hunter2@127.0.0.1:1/db")
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    /// Runs against the local PostgreSQL (DATABASE_URL or the default local one) in a schema of
    /// its own, so the test never touches other data.
    #[tokio::test]
    async fn postgres_store_is_migrated() {
        let base = std::env::var("TEST_DATABASE_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin = match sqlx::postgres::PgPoolOptions::new()
            // Refused at once when PostgreSQL is absent (the default waits 30 s).
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect(&base)
            .await
        {
            Ok(a) => a,
            Err(e) if std::env::var_os("STOCKSBLITZ_REQUIRE_POSTGRES").is_none() => {
                eprintln!("PostgreSQL unreachable ({e}): skipped");
                return;
            }
            Err(e) => panic!("PostgreSQL is required here (STOCKSBLITZ_REQUIRE_POSTGRES): {e}"),
        };
        let schema = format!("t_store_{}", std::process::id());
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        let store = Store::open_url(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Postgres);
        assert_eq!(store.tables().await.unwrap(), TABLES);
        store.close().await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
    }
}
