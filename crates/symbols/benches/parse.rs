//! Parse cost per symbol over a mixed set of real-looking symbols.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SYMBOLS: &[&str] = &[
    "NIFTY25NOVFUT",
    "BANKNIFTY26JANFUT",
    "NIFTY25N0424500PE",
    "NIFTY2610624000CE",
    "NIFTY25NOV24500CE",
    "SENSEX25D1185000CE",
    "IDEA26JAN7.5CE",
    "RELIANCE",
    "M&M",
    "NIFTY 50",
    "NIFTY BANK",
    "RELIANCE26DECFUT",
    "BANKNIFTY25DEC52000PE",
    "FINNIFTY25NOV23500CE",
    "BAJAJ-AUTO",
    "MIDCPNIFTY25NOV12825PE",
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("symbols");
    g.throughput(Throughput::Elements(SYMBOLS.len() as u64));
    g.bench_function("parse_mixed_16", |b| {
        b.iter(|| {
            for s in SYMBOLS {
                black_box(stocksblitz_symbols::parse(black_box(s)).unwrap());
            }
        });
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_weekly_option", |b| {
        b.iter(|| black_box(stocksblitz_symbols::parse(black_box("NIFTY25N0424500PE")).unwrap()));
    });
    g.bench_function("parse_future", |b| {
        b.iter(|| black_box(stocksblitz_symbols::parse(black_box("NIFTY25NOVFUT")).unwrap()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
