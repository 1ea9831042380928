//! A do-nothing Redis pattern subscriber: counts messages and prints the rate — the ceiling the
//! server's consumer is compared with in bench/bench_ingest.py. It reads with the server's own
//! reader (`redis_source::subscribe`), so the comparison is the server's processing against
//! none; `--redis-rs` reads through the redis crate's pub/sub instead (the reader the server
//! used before).
//!
//!     cargo run --release -p stocksblitz-server --example null_subscriber -- redis://127.0.0.1:6379 'ticker:bench:*' COUNT [--redis-rs]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::time::Instant;

use futures_util::StreamExt as _;
use stocksblitz_server::ingest::redis_source::{Target, subscribe};

fn report(n: u64, first: Option<Instant>, last: Instant) {
    let secs = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!(
        "{{\"messages\": {n}, \"seconds\": {secs:.3}, \"per_second\": {:.0}}}",
        n as f64 / secs.max(1e-9)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let pattern = args.next().unwrap_or_else(|| "ticker:*".into());
    let expected: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let redis_rs = args.next().as_deref() == Some("--redis-rs");
    let (mut n, mut first, mut last) = (0u64, None::<Instant>, Instant::now());
    if redis_rs {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut pubsub = client.get_async_pubsub().await.unwrap();
        pubsub.psubscribe(&pattern).await.unwrap();
        println!("ready");
        let mut stream = pubsub.on_message();
        while let Some(msg) = stream.next().await {
            std::hint::black_box(msg.get_payload_bytes());
            first.get_or_insert_with(Instant::now);
            last = Instant::now();
            n += 1;
            if n >= expected {
                break;
            }
        }
        report(n, first, last);
        return;
    }
    let target = Target::parse(&url).unwrap();
    let count = Cell::new(0u64);
    let times = Cell::new((None::<Instant>, Instant::now()));
    let done = async {
        subscribe(
            &target,
            &pattern,
            || println!("ready"),
            |data, payloads| {
                std::hint::black_box(&data);
                let (f, _) = times.get();
                times.set((f.or_else(|| Some(Instant::now())), Instant::now()));
                count.set(count.get() + payloads.len() as u64);
            },
        )
        .await
    };
    tokio::pin!(done);
    loop {
        tokio::select! {
            r = &mut done => { r.unwrap(); break; }
            () = tokio::time::sleep(std::time::Duration::from_millis(5)) => {
                if count.get() >= expected { break; }
            }
        }
    }
    let (f, l) = times.get();
    report(count.get(), f, l);
}
