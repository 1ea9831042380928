//! The engine over a real SQLite store and the real pipeline fed legacy ticker payloads:
//! series assembly (stored + forming), indicator values against hand-computed ones, windows,
//! the value cache, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use compact_str::CompactString;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use stocksblitz_engine::{BarWindow, Engine, EngineError, Pipeline, metric};
use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::session::Session;
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::{BarWriter, Store, WriterConfig};

const SYM: &str = "NIFTY 50";
/// 2025-11-04 09:03 UTC (14:33 IST), a minute boundary: the first live tick.
const LIVE: i64 = 1_762_246_980;
const STORED: i64 = 120;

fn close_at(i: i64) -> f64 {
    // Deterministic, not monotonic: RSI and SMA see ups and downs.
    25_000.0 + ((i * 37) % 23) as f64 - 11.0 + i as f64 * 0.5
}

fn minute(i: i64) -> Bar {
    let c = close_at(i);
    Bar {
        instrument: CompactString::from(SYM),
        timeframe: Timeframe::M1,
        start: LIVE - (STORED - i) * 60,
        open: c - 1.0,
        high: c + 2.0,
        low: c - 3.0,
        close: c,
        volume: 0,
        oi: None,
        open_oi: None,
        first_ts_ms: (LIVE - (STORED - i) * 60) * 1000,
        last_ts_ms: (LIVE - (STORED - i) * 60) * 1000 + 59_000,
    }
}

fn tick(price: f64, ts: i64) -> Vec<u8> {
    format!(
        r#"{{"symbol": "NIFTY 50", "token": 256265, "tradingsymbol": "NIFTY 50", "segment": "INDICES", "exchange": "NSE", "strike": 0.0, "expiry": null, "type": "EQ", "price": {price}, "volume": 0, "oi": 0, "ts": {ts}, "is_mock": false}}"#
    )
    .into_bytes()
}

async fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    let bars: Vec<Bar> = (0..STORED).map(minute).collect();
    store.upsert_bars(&bars).await.unwrap();
    let (writer, _task) = BarWriter::spawn(store.clone(), WriterConfig::default());
    let pipeline = Arc::new(Pipeline::new("test", Session::always_open(), 2000, writer));
    (dir, Engine::new(store, pipeline))
}

/// Counters as the facade recorded them since the start (a snapshot drains them: totals are
/// kept here).
struct Counters {
    snapshotter: Snapshotter,
    totals: std::collections::HashMap<String, u64>,
}

impl Counters {
    fn get(&mut self, name: &str) -> u64 {
        for (k, _, _, v) in self.snapshotter.snapshot().into_vec() {
            if let DebugValue::Counter(n) = v {
                *self.totals.entry(k.key().name().to_string()).or_default() += n;
            }
        }
        self.totals.get(name).copied().unwrap_or(0)
    }
}

fn id(s: &str) -> IndicatorId {
    IndicatorId::parse(s).unwrap()
}

#[tokio::test]
async fn series_joins_the_store_and_the_forming_bar() {
    let (_dir, e) = engine().await;
    e.pipeline()
        .ingest(&tick(25_100.0, LIVE + 5), LIVE * 1000 + 5_000);
    e.pipeline()
        .ingest(&tick(25_104.5, LIVE + 20), LIVE * 1000 + 20_000);
    let s = e.series(SYM, Timeframe::M1, 10).await.unwrap();
    assert!(s.bars.len() >= 10);
    let last = s.bars.last().unwrap();
    assert_eq!(last.start, LIVE);
    assert_eq!(
        (last.open, last.high, last.close),
        (25_100.0, 25_104.5, 25_104.5)
    );
    assert!(s.last_forming);
    assert_eq!(s.closed().last().unwrap().close, close_at(STORED - 1));
}

#[tokio::test]
async fn current_values_match_hand_computed_ones_and_are_cached() {
    // The engine's counters, through the metrics facade (a recorder local to this test).
    let recorder = DebuggingRecorder::new();
    let mut metrics = Counters {
        snapshotter: recorder.snapshotter(),
        totals: std::collections::HashMap::new(),
    };
    let _local = metrics::set_default_local_recorder(&recorder);
    let (_dir, e) = engine().await;
    e.pipeline()
        .ingest(&tick(25_090.0, LIVE + 5), LIVE * 1000 + 5_000);
    let ids = [id("SMA_3"), id("BBANDS_3_2")];
    let at = e.current_values(SYM, Timeframe::M1, &ids).await.unwrap();
    assert_eq!(at.candle_time, Some(LIVE));
    // SMA of the last three closes: two stored minutes and the forming bar's last price.
    let want = (close_at(STORED - 2) + close_at(STORED - 1) + 25_090.0) / 3.0;
    let sma = at.values[0].as_ref().unwrap();
    assert!((sma[0] - want).abs() < 1e-9, "{} != {want}", sma[0]);
    // Bollinger middle is the same SMA; one value per output, in the registry's order.
    let bb = at.values[1].as_ref().unwrap();
    let outputs = ids[1].def().outputs;
    assert_eq!(bb.len(), outputs.len());
    let at_name = |n: &str| bb[outputs.iter().position(|o| *o == n).unwrap()];
    assert!((at_name("middle") - want).abs() < 1e-9);
    assert!(at_name("upper") > at_name("middle") && at_name("middle") > at_name("lower"));

    let again = e.current_values(SYM, Timeframe::M1, &ids).await.unwrap();
    assert_eq!(again, at);
    assert_eq!(metrics.get(metric::VALUE_HITS), 2);
    assert_eq!(metrics.get(metric::VALUE_COMPUTES), 2);

    // A new tick changes the forming bar: recomputed, not served stale.
    e.pipeline()
        .ingest(&tick(25_120.0, LIVE + 30), LIVE * 1000 + 30_000);
    let moved = e
        .current_values(SYM, Timeframe::M1, &ids[..1])
        .await
        .unwrap();
    let want = (close_at(STORED - 2) + close_at(STORED - 1) + 25_120.0) / 3.0;
    assert!((moved.values[0].as_ref().unwrap()[0] - want).abs() < 1e-9);
    assert_eq!(metrics.get(metric::VALUE_COMPUTES), 3);
    assert_eq!(
        metrics.get(metric::SERIES_FETCHES),
        2,
        "a new tick refetches the series"
    );
    assert_eq!(metrics.get(metric::SERIES_HITS), 1);
}

#[tokio::test]
async fn history_and_offsets_agree() {
    let (_dir, e) = engine().await;
    let sma = id("SMA_5");
    let points = e.history(SYM, Timeframe::M1, &sma, 30).await.unwrap();
    assert_eq!(points.len(), 30);
    assert!(points.windows(2).all(|w| w[0].time + 60 == w[1].time));
    assert_eq!(points.last().unwrap().time, LIVE - 60);
    for (k, p) in points.iter().enumerate() {
        let i = STORED - 30 + k as i64;
        let want = (i - 4..=i).map(close_at).sum::<f64>() / 5.0;
        assert!((p.values[0] - want).abs() < 1e-9, "point {k}");
    }
    let at = e
        .values_at_offset(SYM, Timeframe::M1, std::slice::from_ref(&sma), 3)
        .await
        .unwrap();
    assert_eq!(at.candle_time, Some(points[26].time));
    assert_eq!(at.values[0].as_deref(), Some(&points[26].values[..]));
    // Past the first bar: no value, no candle.
    let none = e
        .values_at_offset(SYM, Timeframe::M1, &[sma], 500)
        .await
        .unwrap();
    assert_eq!((none.candle_time, none.values[0].clone()), (None, None));
    assert_eq!(none.bars, STORED as usize);
}

#[tokio::test]
async fn windows_read_the_past_and_refuse_an_empty_range() {
    let (_dir, e) = engine().await;
    let tf = Timeframe::M5;
    // A 5-minute boundary an hour back.
    let to = (LIVE - 3_600).div_euclid(300) * 300;
    let window = BarWindow {
        from: Some(to - 1_800),
        to: Some(to),
        limit: 100,
    };
    let (bars, forming) = e.bars(SYM, tf, window).await.unwrap();
    assert!(!forming);
    assert_eq!(bars.first().unwrap().start, to - 1_800);
    assert_eq!(bars.last().unwrap().start, to);
    assert_eq!(bars.len(), 7);
    // A 5-minute bar is its five minutes rolled up.
    let b = &bars[0];
    let first = (b.start - (LIVE - STORED * 60)) / 60;
    let closes: Vec<f64> = (first..first + 5).map(close_at).collect();
    assert_eq!(b.close, closes[4]);
    assert_eq!(b.open, closes[0] - 1.0);
    assert_eq!(
        b.high,
        closes.iter().copied().fold(f64::MIN, f64::max) + 2.0
    );

    let limited = BarWindow { limit: 2, ..window };
    let (two, _) = e.bars(SYM, tf, limited).await.unwrap();
    assert_eq!(two, bars[bars.len() - 2..]);

    let backwards = BarWindow {
        from: Some(to + 1),
        to: Some(to),
        limit: 10,
    };
    assert!(matches!(
        e.bars(SYM, tf, backwards).await,
        Err(EngineError::EmptyWindow { .. })
    ));
}

#[tokio::test]
async fn unknown_instruments_are_empty_and_a_closed_store_is_an_error() {
    let (_dir, e) = engine().await;
    let at = e
        .current_values("NIFTY25NOVFUT", Timeframe::M5, &[id("RSI_14")])
        .await
        .unwrap();
    assert_eq!((at.bars, at.candle_time), (0, None));
    assert_eq!(at.values, vec![None]);
    e.store().close().await;
    let err = e.series(SYM, Timeframe::M15, 50).await.unwrap_err();
    assert!(matches!(err, EngineError::Store(_)), "{err:?}");
}

#[tokio::test]
async fn a_quote_goes_stale_after_ten_seconds_while_the_session_is_open() {
    use stocksblitz_engine::{Freshness, STALE_AFTER_MS};
    use stocksblitz_market::snapshot::AgeBasis;
    let (_dir, e) = engine().await;
    let at = LIVE * 1000 + 5_000;
    assert!(e.quote(SYM, at, AgeBasis::Exchange).unwrap().is_none());
    e.pipeline().ingest(&tick(25_050.5, LIVE + 5), at);
    let fresh = e
        .quote(SYM, at + 1_000, AgeBasis::Exchange)
        .unwrap()
        .unwrap();
    assert_eq!((fresh.quote.ltp, fresh.age_ms), (25_050.5, 1_000));
    assert_eq!(fresh.freshness, Freshness::Valid);
    let edge = e
        .quote(SYM, at + STALE_AFTER_MS, AgeBasis::Exchange)
        .unwrap()
        .unwrap();
    assert_eq!(
        edge.freshness,
        Freshness::Valid,
        "exactly the limit is still valid"
    );
    let old = e
        .quote(SYM, at + STALE_AFTER_MS + 1, AgeBasis::Exchange)
        .unwrap()
        .unwrap();
    assert_eq!(
        (old.freshness, old.freshness.as_str()),
        (Freshness::Stale, "stale")
    );
    // Aged by receive time (the demo clock's basis): the same tick received now is fresh.
    let by_receipt = e.quote(SYM, at + 2, AgeBasis::Received).unwrap().unwrap();
    assert_eq!(by_receipt.age_ms, 2);
}

/// A tick of a 25 Nov 2025 NIFTY option in the old ticker's format.
fn option_tick(strike: u32, right: &str, price: f64, oi: u64, ts: i64) -> Vec<u8> {
    format!(
        r#"{{"symbol": "NIFTY25NOV{strike}{right}", "token": {token}, "tradingsymbol": "NIFTY25NOV{strike}{right}", "segment": "NFO-OPT", "exchange": "NFO", "strike": {strike}.0, "expiry": "2025-11-25", "type": "{right}", "price": {price}, "volume": 10, "oi": {oi}, "ts": {ts}, "is_mock": false}}"#,
        token = 1000 + strike / 10 + u32::from(right == "PE"),
    )
    .into_bytes()
}

#[tokio::test]
async fn the_chain_pairs_legs_by_strike_with_pcr_and_max_pain_by_oi() {
    let (_dir, e) = engine().await;
    let at = LIVE * 1000 + 5_000;
    let empty = e.option_chain("NIFTY", None, at).unwrap();
    assert!(empty.strikes.is_empty() && empty.spot.is_none() && empty.pcr_oi.is_none());
    e.pipeline().ingest(&tick(25_040.0, LIVE + 4), at);
    // Out of strike order on purpose; OI: C25000 100, P25000 300, C25100 200, P25100 50.
    for (k, r, px, oi) in [
        (25_100, "PE", 110.0, 50),
        (25_000, "CE", 140.0, 100),
        (25_100, "CE", 90.0, 200),
        (25_000, "PE", 95.0, 300),
    ] {
        e.pipeline()
            .ingest(&option_tick(k, r, px, oi, LIVE + 4), at);
    }
    let c = e.option_chain("NIFTY", None, at + 1_000).unwrap();
    assert_eq!(c.expiry, chrono::NaiveDate::from_ymd_opt(2025, 11, 25));
    assert_eq!(c.spot, Some(25_040.0));
    let rows: Vec<(f64, Option<f64>, Option<f64>)> = c
        .strikes
        .iter()
        .map(|s| {
            (
                s.strike,
                s.call.as_ref().map(|l| l.quote.ltp),
                s.put.as_ref().map(|l| l.quote.ltp),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (25_000.0, Some(140.0), Some(95.0)),
            (25_100.0, Some(90.0), Some(110.0))
        ]
    );
    // PCR by OI: (300 + 50) / (100 + 200). Max pain: settling at 25000 costs writers
    // 50 × 100 (the 25100 put), at 25100 costs 100 × 100 (the 25000 call): 25000.
    assert!((c.pcr_oi.unwrap() - 350.0 / 300.0).abs() < 1e-12);
    assert_eq!(c.max_pain, Some(25_000.0));
    // An expiry with nothing quoted: no strikes, nothing made up.
    let other = e
        .option_chain("NIFTY", chrono::NaiveDate::from_ymd_opt(2025, 12, 30), at)
        .unwrap();
    assert!(other.strikes.is_empty() && other.max_pain.is_none());
}

#[tokio::test]
async fn specs_resolve_against_the_live_spot_and_refuse_without_one() {
    use stocksblitz_symbols::InstrumentSpec;
    let (_dir, e) = engine().await;
    let at = LIVE * 1000 + 5_000;
    let atm = InstrumentSpec::parse("NSE@NIFTY@Nm@CE@ATM").unwrap();
    match e.resolve(&atm, at) {
        Err(EngineError::NoSpot { underlying }) => assert_eq!(underlying, "NIFTY"),
        other => panic!("expected NoSpot, got {other:?}"),
    }
    // A fixed strike needs no spot.
    let fixed = InstrumentSpec::parse("NSE@NIFTY@2025-11-25@PE@24500").unwrap();
    let r = e.resolve(&fixed, at).unwrap();
    assert_eq!(
        (r.symbol.tradingsymbol.as_str(), r.spot),
        ("NIFTY25NOV24500PE", 0.0)
    );
    e.pipeline().ingest(&tick(25_040.0, LIVE + 4), at);
    let r = e.resolve(&atm, at).unwrap();
    assert_eq!(
        (r.symbol.tradingsymbol.as_str(), r.spot),
        ("NIFTY25NOV25050CE", 25_040.0)
    );
    let otm = InstrumentSpec::parse("NSE@NIFTY@Nm@PE@OTM2").unwrap();
    assert_eq!(
        e.resolve(&otm, at).unwrap().symbol.tradingsymbol.as_str(),
        "NIFTY25NOV24950PE"
    );
    // An expiry past those listed is the spec's error, not a panic or a guess.
    let far = InstrumentSpec::parse("NSE@NIFTY@Nm+9@CE@ATM").unwrap();
    assert!(matches!(e.resolve(&far, at), Err(EngineError::Spec(_))));
}

/// Polls until `subs` reports something (a closed bar is reported once the writer stored it).
async fn poll_until_some(
    e: &Engine,
    subs: &mut stocksblitz_engine::stream::Subscriptions,
) -> Vec<stocksblitz_engine::stream::StreamUpdate> {
    for _ in 0..200 {
        let u = subs.poll(e).await;
        if !u.is_empty() {
            return u;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("nothing reported in 5 s");
}

#[tokio::test]
async fn a_stream_subscription_reports_each_closed_bar_once_with_its_values() {
    use stocksblitz_engine::stream::{
        Mode, StreamError, StreamUpdate, SubscribeRequest, Subscriptions, Unsubscribe,
    };
    let (_dir, e) = engine().await;
    let mut subs = Subscriptions::new(2, 2);
    let req = |mode, bars, ids: &[&str]| SubscribeRequest {
        symbol: SYM.to_string(),
        tf: Timeframe::M1,
        mode,
        bars,
        ids: ids.iter().map(|s| ((*s).to_string(), id(s))).collect(),
    };
    // All or nothing: three ids where two fit change nothing.
    let err = subs
        .subscribe(&e, req(Mode::Bar, false, &["SMA_3", "RSI_14", "EMA_5"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StreamError::TooManyIndicators { max: 2 }),
        "{err}"
    );
    assert!(subs.is_empty());

    let done = subs
        .subscribe(&e, req(Mode::Bar, true, &["SMA_3", "sma_3"]))
        .await
        .unwrap();
    // The same id twice is subscribed once, as first sent; its value at the newest stored bar.
    assert_eq!(done.values.len(), 1);
    let (sent, _, v) = &done.values[0];
    assert_eq!(sent, "SMA_3");
    let want = (close_at(STORED - 3) + close_at(STORED - 2) + close_at(STORED - 1)) / 3.0;
    assert!((v.as_ref().unwrap()[0] - want).abs() < 1e-9);
    let newest = LIVE - 60;
    assert_eq!(
        (done.candle_time, done.last_closed),
        (Some(newest), Some(newest))
    );
    assert!(subs.poll(&e).await.is_empty(), "nothing closed since");

    // The live minute forms and closes: its bar, then SMA_3 at it, once.
    e.pipeline()
        .ingest(&tick(25_100.0, LIVE + 5), LIVE * 1000 + 5_000);
    e.pipeline()
        .ingest(&tick(25_103.0, LIVE + 40), LIVE * 1000 + 40_000);
    e.pipeline().on_clock((LIVE + 63) * 1000);
    let updates = poll_until_some(&e, &mut subs).await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    let StreamUpdate::Bar { bar, complete, .. } = &updates[0] else {
        panic!("{updates:?}")
    };
    assert_eq!(
        (bar.start, bar.open, bar.close, *complete),
        (LIVE, 25_100.0, 25_103.0, true)
    );
    let StreamUpdate::Value {
        sent,
        values,
        candle_time,
        complete,
        ..
    } = &updates[1]
    else {
        panic!("{updates:?}")
    };
    let want = (close_at(STORED - 2) + close_at(STORED - 1) + 25_103.0) / 3.0;
    assert_eq!(
        (sent.as_str(), *candle_time, *complete),
        ("SMA_3", LIVE, true)
    );
    assert!((values[0] - want).abs() < 1e-9);
    assert!(subs.poll(&e).await.is_empty(), "reported once");

    // A second symbol/timeframe past the limit of two is refused.
    subs.subscribe(
        &e,
        SubscribeRequest {
            tf: Timeframe::M5,
            ..req(Mode::Tick, false, &["SMA_3"])
        },
    )
    .await
    .unwrap();
    let err = subs
        .subscribe(
            &e,
            SubscribeRequest {
                tf: Timeframe::M15,
                ..req(Mode::Bar, false, &["SMA_3"])
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StreamError::TooManySubscriptions { max: 2 }),
        "{err}"
    );

    // Unsubscribing the indicator keeps the bars; unsubscribing the bars then ends it.
    let gone = subs.unsubscribe(SYM, Timeframe::M1, Unsubscribe::Ids(vec![id("SMA_3")]));
    assert_eq!(gone.unwrap(), ["SMA_3"]);
    assert!(
        subs.unsubscribe(SYM, Timeframe::M1, Unsubscribe::Bars)
            .unwrap()
            .is_empty()
    );
    let err = subs
        .unsubscribe(SYM, Timeframe::M1, Unsubscribe::All)
        .unwrap_err();
    assert!(matches!(err, StreamError::NotSubscribed { .. }), "{err}");
    assert_eq!(
        subs.unsubscribe(SYM, Timeframe::M5, Unsubscribe::All)
            .unwrap(),
        ["SMA_3"]
    );
    assert!(subs.is_empty());
}

#[tokio::test]
async fn a_tick_mode_subscription_reports_the_forming_bar_when_it_changes() {
    use stocksblitz_engine::stream::{Mode, StreamUpdate, SubscribeRequest, Subscriptions};
    let (_dir, e) = engine().await;
    let mut subs = Subscriptions::new(1, 1);
    e.pipeline()
        .ingest(&tick(25_100.0, LIVE + 5), LIVE * 1000 + 5_000);
    subs.subscribe(
        &e,
        SubscribeRequest {
            symbol: SYM.to_string(),
            tf: Timeframe::M1,
            mode: Mode::Tick,
            bars: false,
            ids: vec![("SMA_3".into(), id("SMA_3"))],
        },
    )
    .await
    .unwrap();
    assert!(
        subs.poll(&e).await.is_empty(),
        "unchanged since the subscription"
    );
    e.pipeline()
        .ingest(&tick(25_109.0, LIVE + 9), LIVE * 1000 + 9_000);
    let updates = subs.poll(&e).await;
    let [
        StreamUpdate::Value {
            values,
            candle_time,
            complete,
            ..
        },
    ] = &updates[..]
    else {
        panic!("{updates:?}")
    };
    let want = (close_at(STORED - 2) + close_at(STORED - 1) + 25_109.0) / 3.0;
    assert_eq!((*candle_time, *complete), (LIVE, false));
    assert!((values[0] - want).abs() < 1e-9);
    assert!(subs.poll(&e).await.is_empty());
}

#[tokio::test]
async fn stored_subscriptions_count_clients_exactly_and_only_change_the_callers() {
    let (_dir, e) = engine().await;
    let ids = [id("SMA_3")];
    let a = e
        .subscribe_stored("a", SYM, Timeframe::M1, &ids)
        .await
        .unwrap();
    let again = e
        .subscribe_stored("a", SYM, Timeframe::M1, &ids)
        .await
        .unwrap();
    let b = e
        .subscribe_stored("b", SYM, Timeframe::M1, &ids)
        .await
        .unwrap();
    assert_eq!(
        (
            a[0].subscriber_count,
            again[0].subscriber_count,
            b[0].subscriber_count
        ),
        (1, 1, 2)
    );
    let want = (close_at(STORED - 3) + close_at(STORED - 2) + close_at(STORED - 1)) / 3.0;
    assert!((b[0].value.as_ref().unwrap()[0] - want).abs() < 1e-9);
    let gone = e
        .unsubscribe_stored("a", SYM, Timeframe::M1, &ids)
        .await
        .unwrap();
    assert_eq!((gone[0].changed, gone[0].subscriber_count), (true, 1));
    let twice = e
        .unsubscribe_stored("a", SYM, Timeframe::M1, &ids)
        .await
        .unwrap();
    assert_eq!((twice[0].changed, twice[0].subscriber_count), (false, 1));
    let other = e
        .subscribe_stored("b", SYM, Timeframe::M5, &ids)
        .await
        .unwrap();
    assert_eq!(other[0].subscriber_count, 1, "counted per timeframe");
}
