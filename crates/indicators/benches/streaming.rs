//! Streaming update cost per bar, and batch throughput, for the core indicators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stocksblitz_indicators::{Bar, Stream};

// The wheel's allocator: freed outputs reused, not unmapped and page-faulted back in per call.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn series(n: usize) -> Vec<Bar> {
    let mut x = 100.0f64;
    let mut seed = 42u64;
    (0..n)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
            x += r;
            Bar {
                time: Some(i as i64 * 60),
                open: x,
                high: x + 0.5,
                low: x - 0.5,
                close: x,
                volume: 1000.0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let bars = series(10_000);
    let mut g = c.benchmark_group("stream_update");
    g.throughput(Throughput::Elements(bars.len() as u64));
    for id in [
        "SMA_20",
        "EMA_20",
        "RSI_14",
        "ATR_14",
        "MACD_12_26_9",
        "BBANDS_20_2",
    ] {
        g.bench_function(id, |b| {
            b.iter(|| {
                let mut s = Stream::parse(id).unwrap();
                let mut acc = 0.0;
                for bar in &bars {
                    acc += s.update(black_box(bar))[0];
                }
                black_box(acc)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench, batch);
criterion_main!(benches);

fn batch(c: &mut Criterion) {
    let bars = series(1_000_000);
    let high: Vec<f64> = bars.iter().map(|b| b.high).collect();
    let low: Vec<f64> = bars.iter().map(|b| b.low).collect();
    let close: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let mut g = c.benchmark_group("batch_1m");
    g.sample_size(20);
    g.bench_function("willr_14", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::willr::willr(
                &high, &low, &close, 14,
            ))
        });
    });
    g.bench_function("rsi_14", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::rsi::rsi(&close, 14, 100.0)));
    });
    g.bench_function("atr_14", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::atr::atr(
                &high, &low, &close, 14,
            ))
        });
    });
    g.bench_function("aroon_14", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::aroon::aroon(&high, &low, 14)));
    });
    g.bench_function("cci_14", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::cci::cci(
                &high, &low, &close, 14,
            ))
        });
    });
    g.bench_function("natr_14", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::natr::natr(
                &high, &low, &close, 14,
            ))
        });
    });
    let volume: Vec<f64> = (0..close.len()).map(|i| 1000.0 + (i % 7) as f64).collect();
    g.bench_function("ad", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::ad::ad(
                &high, &low, &close, &volume,
            ))
        });
    });
    g.bench_function("ppo_12_26_9", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::ppo::ppo(&close, 12, 26, 9)));
    });
    g.bench_function("ema_20", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::ema::ema(&close, 20)));
    });
    g.bench_function("dema_20", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::dema::dema(&close, 20)));
    });
    g.bench_function("tema_20", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::tema::tema(&close, 20)));
    });
    g.bench_function("macd_12_26_9", |b| {
        b.iter(|| black_box(stocksblitz_indicators::ind::macd::macd(&close, 12, 26, 9)));
    });
    g.bench_function("psar", |b| {
        b.iter(|| {
            black_box(stocksblitz_indicators::ind::psar::psar(
                &high, &low, 0.02, 0.2,
            ))
        });
    });
    // The monotonic-deque AROON it replaced (reference).
    g.bench_function("aroon_14_deque", |b| {
        b.iter(|| {
            use stocksblitz_indicators::core::SliceDeque;
            let len = high.len();
            let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| vec![f64::NAN; len]);
            let (mut hi, mut lo) = (SliceDeque::new(len), SliceDeque::new(len));
            let factor = 100.0 / 14.0;
            let [up, down, osc] = &mut out;
            for (i, ((u, d), o)) in up
                .iter_mut()
                .zip(down.iter_mut())
                .zip(osc.iter_mut())
                .enumerate()
            {
                let h = hi.push_max(&high, i, 15);
                let l = lo.push_min(&low, i, 15);
                if let (Some(h), Some(l)) = (h, l)
                    && i >= 14
                {
                    let (t, h, l) = (i as i64, h as i64, l as i64);
                    *u = factor * (14 - (t - h)) as f64;
                    *d = factor * (14 - (t - l)) as f64;
                    *o = factor * (h - l) as f64;
                }
            }
            black_box(out)
        });
    });
    g.finish();
}
