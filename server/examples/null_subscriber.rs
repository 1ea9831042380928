//! A do-nothing Redis pattern subscriber: counts messages and prints the rate — the ceiling the
//! server's consumer is compared with in bench/bench_ingest.py.
//!
//!     cargo run --release -p stocksblitz-server --example null_subscriber -- redis://127.0.0.1:6379 'ticker:bench:*' COUNT
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use futures_util::StreamExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let pattern = args.next().unwrap_or_else(|| "ticker:*".into());
    let expected: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.psubscribe(&pattern).await.unwrap();
    println!("ready");
    let mut stream = pubsub.on_message();
    let mut n = 0u64;
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    while let Some(msg) = stream.next().await {
        std::hint::black_box(msg.get_payload_bytes());
        first.get_or_insert_with(Instant::now);
        last = Instant::now();
        n += 1;
        if n >= expected {
            break;
        }
    }
    let secs = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!(
        "{{\"messages\": {n}, \"seconds\": {secs:.3}, \"per_second\": {:.0}}}",
        n as f64 / secs.max(1e-9)
    );
}
