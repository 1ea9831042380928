//! Decode + aggregate throughput of legacy option payloads in one thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stocksblitz_market::bars::BarBuilder;
use stocksblitz_market::decode::Decoder;
use stocksblitz_market::session::Session;
use stocksblitz_market::snapshot::Snapshot;

fn payloads(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let strike = 24_000 + (i % 40) * 50;
            let right = if i % 2 == 0 { "CE" } else { "PE" };
            format!(
                r#"{{"symbol": "NIFTY", "token": {}, "tradingsymbol": "NIFTY25N11{strike}{right}", "segment": "NFO-OPT", "exchange": "NFO", "strike": {strike}.0, "expiry": "2025-11-11", "type": "{right}", "lot_size": 75, "tick_size": 0.05, "price": {}, "volume": {}, "oi": 1234500, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": {}, "is_mock": false}}"#,
                10_000 + i % 80,
                100.0 + (i % 97) as f64 * 0.05,
                i * 3,
                1_762_228_000 + (i / 80) as i64,
            )
            .into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = payloads(100_000);
    let mut g = c.benchmark_group("legacy_options");
    g.throughput(Throughput::Elements(data.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            for p in &data {
                black_box(Decoder.decode(p, 0).unwrap());
            }
        });
    });
    g.bench_function("decode_and_aggregate", |b| {
        b.iter(|| {
            let mut bars = BarBuilder::new(Session::always_open(), 2000);
            let mut out = Vec::new();
            for p in &data {
                let t = Decoder.decode(p, 0).unwrap();
                bars.on_tick(&t, &mut out);
            }
            black_box(out.len())
        });
    });
    g.bench_function("decode_aggregate_snapshot", |b| {
        b.iter(|| {
            let mut bars = BarBuilder::new(Session::always_open(), 2000);
            let mut snap = Snapshot::default();
            let mut out = Vec::new();
            for p in &data {
                let mut t = Decoder.decode(p, 0).unwrap();
                bars.on_tick(&t, &mut out);
                t.greeks = Some(stocksblitz_market::Greeks::default()); // greeks carried by the feed
                snap.apply(&t);
            }
            black_box(out.len())
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
