//! Test helpers: a schema of its own on the local PostgreSQL per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub fn pg_base() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema on the local PostgreSQL; dropped by the guard.
pub struct PgSchema {
    pub name: String,
}

impl PgSchema {
    pub async fn new(tag: &str) -> Self {
        let name = format!("t_{tag}_{}_{}", std::process::id(), rand_suffix());
        let admin = sqlx::PgPool::connect(&pg_base())
            .await
            .expect("local PostgreSQL must be running");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        PgSchema { name }
    }
    pub fn url(&self, host_port: Option<&str>) -> String {
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
/// guards keep them alive).
pub async fn backends(
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
    let schema = PgSchema::new(tag).await;
    let pg = stocksblitz_store::Store::open_url(&schema.url(None))
        .await
        .unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    vec![
        ("sqlite".into(), sqlite, None, dir),
        ("postgres".into(), pg, Some(schema), dir2),
    ]
}
