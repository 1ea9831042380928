//! What an uncached `/indicators/current` costs, step by step, over a real SQLite store with
//! three sessions of minute bars: the store read, the roll-up, the indicators, and the engine's
//! whole path on a cold cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use stocksblitz_engine::{Engine, Pipeline, values};
use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::session::Session;
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::{BarWriter, Store, WriterConfig};

const OPEN: i64 = 1_762_141_500;
const ROWS: i64 = 3 * 375;

fn minute(sym: &str, i: i64) -> Bar {
    let c = 25_000.0 + ((i * 37) % 23) as f64 + i as f64 * 0.1;
    let day = i / 375;
    let start = OPEN + day * 86_400 + (i % 375) * 60;
    Bar {
        instrument: sym.into(),
        timeframe: Timeframe::M1,
        start,
        open: c - 1.0,
        high: c + 2.0,
        low: c - 3.0,
        close: c,
        volume: 10,
        oi: Some(1000),
        open_oi: Some(1000),
        first_ts_ms: start * 1000,
        last_ts_ms: start * 1000 + 59_000,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let symbols: Vec<String> = (0..400)
        .map(|k| format!("NIFTY25NOV{}CE", 20_000 + k * 50))
        .collect();
    let store = rt.block_on(async {
        let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
        for s in &symbols {
            let bars: Vec<Bar> = (0..ROWS).map(|i| minute(s, i)).collect();
            store.upsert_bars(&bars).await.unwrap();
        }
        store
    });
    let ids: Vec<IndicatorId> = ["RSI_14", "SMA_20", "MACD_12_26_9"]
        .iter()
        .map(|s| IndicatorId::parse(s).unwrap())
        .collect();
    let tf = Timeframe::M5;
    let need = ids.iter().map(|id| values::depth(id, tf, 1)).max().unwrap();
    let rows = u32::try_from((need + 1) * tf.minutes()).unwrap();
    let mut k = 0usize;
    let mut next = || {
        k = (k + 1) % symbols.len();
        symbols[k].clone()
    };
    c.bench_function("store read (1,125 minute rows)", |b| {
        b.iter(|| {
            rt.block_on(store.last_bars(&next(), Timeframe::M1, rows, None))
                .unwrap()
        });
    });
    let minutes = rt
        .block_on(store.last_bars(&symbols[0], Timeframe::M1, rows, None))
        .unwrap();
    c.bench_function("roll-up to 5m", |b| {
        b.iter(|| stocksblitz_market::series::assemble(minutes.clone(), &[], None, tf));
    });
    let bars = stocksblitz_market::series::assemble(minutes.clone(), &[], None, tf);
    c.bench_function("RSI_14 + SMA_20 + MACD over the warm-up", |b| {
        b.iter(|| {
            for id in &ids {
                values::tail_values(id, tf, &bars, 1).unwrap();
            }
        });
    });
    c.bench_function("engine current_values, cold cache", |b| {
        b.iter_batched(
            || {
                let (writer, _task) =
                    rt.block_on(async { BarWriter::spawn(store.clone(), WriterConfig::default()) });
                let pipeline =
                    Arc::new(Pipeline::new("bench", Session::always_open(), 2000, writer));
                (Engine::new(store.clone(), pipeline), next())
            },
            |(engine, sym)| rt.block_on(engine.current_values(&sym, tf, &ids)).unwrap(),
            criterion::BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
