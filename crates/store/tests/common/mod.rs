//! Test helpers: a schema of its own on the local PostgreSQL per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) fn pg_base() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema on the local PostgreSQL; dropped by the guard.
pub(crate) struct PgSchema {
    pub name: String,
}

impl PgSchema {
    /// A fresh schema, or None (the PostgreSQL half of a test is skipped, and says so) when
    /// PostgreSQL does not answer and `STOCKSBLITZ_REQUIRE_POSTGRES` is not set (`scripts/test`
    /// sets it: there a missing PostgreSQL is a failure, not a skip).
    pub(crate) async fn new(tag: &str) -> Option<Self> {
        let name = format!("t_{tag}_{}_{}", std::process::id(), rand_suffix());
        let admin = match sqlx::postgres::PgPoolOptions::new()
            // Refused at once when PostgreSQL is absent (the default waits 30 s).
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect(&pg_base())
            .await
        {
            Ok(a) => a,
            Err(e) if std::env::var_os("STOCKSBLITZ_REQUIRE_POSTGRES").is_none() => {
                eprintln!("PostgreSQL unreachable ({e}): skipping the PostgreSQL half of {tag}");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required here (STOCKSBLITZ_REQUIRE_POSTGRES): {e}"),
        };
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        Some(PgSchema { name })
    }
    pub(crate) fn url(&self, host_port: Option<&str>) -> String {
        let mut base = pg_base();
        if let Some(hp) = host_port {
            base = base.replace("127.0.0.1:5432", hp);
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3D{}", self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&pg_base()).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .execute(&admin)
                        .await;
                }
            });
        })
        .join()
        .ok();
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish() % 1_000_000
}

/// A store on each back-end: a SQLite file in a temp dir and a fresh PostgreSQL schema (the
/// guards keep them alive); SQLite alone when PostgreSQL is skipped (see [`PgSchema::new`]).
pub(crate) async fn backends(
    tag: &str,
) -> Vec<(
    String,
    stocksblitz_store::Store,
    Option<PgSchema>,
    tempfile::TempDir,
)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = stocksblitz_store::Store::open_sqlite_dir(dir.path())
        .await
        .unwrap();
    let mut out = vec![("sqlite".into(), sqlite, None, dir)];
    if let Some(schema) = PgSchema::new(tag).await {
        let pg = stocksblitz_store::Store::open_url(&schema.url(None))
            .await
            .unwrap();
        out.push((
            "postgres".into(),
            pg,
            Some(schema),
            tempfile::tempdir().unwrap(),
        ));
    }
    out
}
