//! Bar write throughput (rows/s) to SQLite and PostgreSQL with the writer's batching
//! (one transaction per batch of multi-row upserts).
//!
//!     cargo run --release -p stocksblitz-store --example write_bench [-- ROWS BATCH]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::Store;

fn bars(n: usize, round: i64) -> Vec<Bar> {
    (0..n)
        .map(|i| Bar {
            instrument: format!("SYM{}", i % 500).into(),
            timeframe: Timeframe::M1,
            start: 1_762_227_900 + ((i / 500) as i64 + round * 1_000_000) * 60,
            open: 100.0,
            high: 101.0,
            low: 99.0,
            close: 100.5,
            volume: 10,
            oi: Some(5),
            open_oi: Some(5),
            first_ts_ms: 1,
            last_ts_ms: 2,
        })
        .collect()
}

async fn run(name: &str, store: &Store, rows: usize, batch: usize) {
    let data = bars(rows, 0);
    let t = Instant::now();
    for chunk in data.chunks(batch) {
        store.upsert_bars(chunk).await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    // Amendments: the same keys again (merging upserts).
    let t2 = Instant::now();
    for chunk in data.chunks(batch) {
        store.upsert_bars(chunk).await.unwrap();
    }
    let secs2 = t2.elapsed().as_secs_f64();
    println!(
        "{name:<9} {rows} rows in batches of {batch}: inserts {:>9.0} rows/s, merging upserts {:>9.0} rows/s",
        rows as f64 / secs,
        rows as f64 / secs2
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let batch: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite_dir(dir.path()).await.unwrap();
    run("sqlite", &sqlite, rows, batch).await;

    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    let schema = format!("bench_{}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let pg = Store::open_url(&format!("{base}{sep}options=-csearch_path%3D{schema}"))
        .await
        .unwrap();
    run("postgres", &pg, rows, batch).await;
    pg.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
