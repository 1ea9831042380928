//! Bar storage against BOTH back-ends for real: a SQLite file and the local PostgreSQL (each
//! test in a schema of its own). Amendment merge, newest-first reads, restart, database down
//! and back (through a TCP proxy the test cuts), concurrent writers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::{BarWriter, Store, WriterConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

const T0: i64 = 1_762_227_900; // 2025-11-04 09:15 IST

mod common;
use common::{PgSchema, backends};

fn bar(
    instrument: &str,
    start: i64,
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: u64,
    first: i64,
    last: i64,
) -> Bar {
    Bar {
        instrument: instrument.into(),
        timeframe: Timeframe::M1,
        start,
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
        oi: Some(last as u64),
        open_oi: Some(first as u64),
        first_ts_ms: first,
        last_ts_ms: last,
    }
}

#[tokio::test]
async fn amendments_merge_and_reads_return_newest_oldest_first() {
    for (name, store, _schema, _dir) in backends("merge").await {
        let mut bars: Vec<Bar> = (0..10)
            .map(|i| {
                bar(
                    "NIFTY25NOVFUT",
                    T0 + i * 60,
                    100.0,
                    101.0,
                    99.0,
                    100.5,
                    10,
                    (T0 + i * 60) * 1000 + 1000,
                    (T0 + i * 60) * 1000 + 50_000,
                )
            })
            .collect();
        store.upsert_bars(&bars).await.unwrap();
        // A late tick (earlier than the first, a new high) and a later one (new close), plus a
        // duplicate key inside one batch.
        let late = bar(
            "NIFTY25NOVFUT",
            T0,
            98.0,
            103.0,
            98.0,
            98.0,
            5,
            T0 * 1000 + 500,
            T0 * 1000 + 500,
        );
        let later = bar(
            "NIFTY25NOVFUT",
            T0,
            102.0,
            102.0,
            102.0,
            102.0,
            7,
            T0 * 1000 + 59_000,
            T0 * 1000 + 59_000,
        );
        store
            .upsert_bars(&[late, later.clone(), later])
            .await
            .unwrap();
        let got = store
            .last_bars("NIFTY25NOVFUT", Timeframe::M1, 100, None)
            .await
            .unwrap();
        assert_eq!(got.len(), 10, "{name}");
        let first = &got[0];
        assert_eq!(
            (first.start, first.open, first.high, first.low, first.close),
            (T0, 98.0, 103.0, 98.0, 102.0),
            "{name}"
        );
        assert_eq!(first.volume, 10 + 5 + 7 + 7, "{name}");
        assert_eq!(
            (first.open_oi, first.oi),
            (
                Some((T0 * 1000 + 500) as u64),
                Some((T0 * 1000 + 59_000) as u64)
            ),
            "{name}"
        );
        // The newest N, oldest first (the old query returned the oldest bars in the window).
        let last3 = store
            .last_bars("NIFTY25NOVFUT", Timeframe::M1, 3, None)
            .await
            .unwrap();
        assert_eq!(
            last3.iter().map(|b| b.start).collect::<Vec<_>>(),
            vec![T0 + 420, T0 + 480, T0 + 540],
            "{name}"
        );
        let upto = store
            .last_bars("NIFTY25NOVFUT", Timeframe::M1, 2, Some(T0 + 120))
            .await
            .unwrap();
        assert_eq!(
            upto.iter().map(|b| b.start).collect::<Vec<_>>(),
            vec![T0 + 60, T0 + 120],
            "{name}"
        );
        let range = store
            .bars_range("NIFTY25NOVFUT", Timeframe::M1, T0 + 60, T0 + 240, 100)
            .await
            .unwrap();
        assert_eq!(range.len(), 3, "{name}");
        bars.truncate(0);
        store
            .upsert_bars(&[bar("BANKNIFTY25NOVFUT", T0, 1.0, 1.0, 1.0, 1.0, 1, 0, 0)])
            .await
            .unwrap();
        let latest = store.latest_bars(Timeframe::M1).await.unwrap();
        assert_eq!(
            latest
                .iter()
                .map(|b| (b.instrument.as_str(), b.start))
                .collect::<Vec<_>>(),
            vec![("BANKNIFTY25NOVFUT", T0), ("NIFTY25NOVFUT", T0 + 540)],
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_day_s_volume_per_instrument() {
    for (name, store, _schema, _dir) in backends("volsince").await {
        let mut bars = Vec::new();
        for (inst, i, v) in [
            ("NIFTY25NOVFUT", -2, 1_000u64), // yesterday's: not counted
            ("NIFTY25NOVFUT", 0, 65),
            ("NIFTY25NOVFUT", 1, 130),
            ("NIFTY25N0424500CE", 0, 7),
            ("NIFTY 50", 3, 0),
        ] {
            let start = T0 + i * 60;
            bars.push(bar(
                inst,
                start,
                1.0,
                1.0,
                1.0,
                1.0,
                v,
                start * 1000,
                start * 1000,
            ));
        }
        store.upsert_bars(&bars).await.unwrap();
        let mut got = store.volume_since(T0).await.unwrap();
        got.sort();
        let at: Vec<String> = store
            .bars_at(Timeframe::M1, T0)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.instrument.to_string())
            .collect();
        assert_eq!(at, ["NIFTY25N0424500CE", "NIFTY25NOVFUT"], "{name}");
        let mut keys = store.minute_keys_between(T0, T0 + 60).await.unwrap();
        keys.sort();
        assert_eq!(
            keys,
            [
                ("NIFTY25N0424500CE".to_string(), T0),
                ("NIFTY25NOVFUT".to_string(), T0),
                ("NIFTY25NOVFUT".to_string(), T0 + 60)
            ],
            "{name}"
        );
        assert_eq!(
            got,
            [
                ("NIFTY 50".to_string(), 0),
                ("NIFTY25N0424500CE".to_string(), 7),
                ("NIFTY25NOVFUT".to_string(), 195)
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn bars_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open_sqlite_dir(dir.path()).await.unwrap();
        s.upsert_bars(&[bar("X", T0, 1.0, 2.0, 0.5, 1.5, 3, 1, 2)])
            .await
            .unwrap();
        s.close().await;
    }
    let s = Store::open_sqlite_dir(dir.path()).await.unwrap();
    assert_eq!(
        s.last_bars("X", Timeframe::M1, 10, None)
            .await
            .unwrap()
            .len(),
        1
    );

    let Some(schema) = PgSchema::new("restart").await else {
        return;
    };
    {
        let s = Store::open_url(&schema.url(None)).await.unwrap();
        s.upsert_bars(&[bar("X", T0, 1.0, 2.0, 0.5, 1.5, 3, 1, 2)])
            .await
            .unwrap();
        s.close().await;
    }
    let s = Store::open_url(&schema.url(None)).await.unwrap();
    let got = s.last_bars("X", Timeframe::M1, 10, None).await.unwrap();
    assert_eq!((got.len(), got[0].volume), (1, 3));
}

#[tokio::test]
async fn concurrent_writers_lose_nothing() {
    for (name, store, _schema, _dir) in backends("concurrent").await {
        let mut tasks = Vec::new();
        for w in 0..4u64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..10i64 {
                    let bars: Vec<Bar> = (0..50)
                        .map(|i| {
                            bar(
                                &format!("SYM{}", i % 5),
                                T0 + (i / 5) * 60,
                                10.0,
                                10.0 + w as f64,
                                9.0,
                                10.0,
                                1,
                                round * 10 + w as i64,
                                round * 10 + w as i64,
                            )
                        })
                        .collect();
                    s.upsert_bars(&bars).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let bars = store
            .last_bars("SYM3", Timeframe::M1, 100, None)
            .await
            .unwrap();
        assert_eq!(bars.len(), 10, "{name}");
        assert!(
            bars.iter().all(|b| b.volume == 40 && b.high == 13.0),
            "{name}: {:?}",
            bars[0]
        );
    }
}

/// A TCP proxy to PostgreSQL that the test can cut (existing connections dropped, new ones
/// refused) and restore.
struct Proxy {
    addr: String,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let h = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                conns2.lock().await.push(h.abort_handle());
            }
        });
        Proxy { addr, up, conns }
    }
    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for h in self.conns.lock().await.drain(..) {
            h.abort();
        }
    }
    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn database_down_then_back_loses_nothing() {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let Some(schema) = PgSchema::new("outage").await else {
        return;
    };
    let store = Store::open_url(&schema.url(Some(&proxy.addr)))
        .await
        .unwrap();
    let cfg = WriterConfig {
        flush_interval: Duration::from_millis(20),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..WriterConfig::default()
    };
    let (writer, _task) = BarWriter::spawn(store.clone(), cfg);
    writer.write(
        (0..20)
            .map(|i| bar("A", T0 + i * 60, 1.0, 1.0, 1.0, 1.0, 1, 0, 0))
            .collect(),
    );
    assert_eq!(writer.flush(Duration::from_secs(10)).await, 0);

    proxy.cut().await;
    writer.write(
        (20..70)
            .map(|i| bar("A", T0 + i * 60, 1.0, 1.0, 1.0, 1.0, 1, 0, 0))
            .collect(),
    );
    // Writes fail while the database is unreachable; the bars stay buffered.
    let left = writer.flush(Duration::from_secs(3)).await;
    assert_eq!(
        left, 50,
        "bars must stay buffered while the database is down"
    );
    assert!(writer.stats().failures.load(Ordering::Relaxed) > 0);

    proxy.restore();
    assert_eq!(writer.flush(Duration::from_secs(20)).await, 0);
    let direct = Store::open_url(&schema.url(None)).await.unwrap();
    assert_eq!(
        direct
            .last_bars("A", Timeframe::M1, 1000, None)
            .await
            .unwrap()
            .len(),
        70
    );
    assert_eq!(writer.stats().rows_written.load(Ordering::Relaxed), 70);
    assert_eq!(writer.stats().dropped.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn buffer_overflow_is_counted_not_silent() {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let Some(schema) = PgSchema::new("overflow").await else {
        return;
    };
    let store = Store::open_url(&schema.url(Some(&proxy.addr)))
        .await
        .unwrap();
    proxy.cut().await;
    let cfg = WriterConfig {
        max_buffer: 10,
        min_backoff: Duration::from_millis(20),
        ..WriterConfig::default()
    };
    let (writer, _task) = BarWriter::spawn(store, cfg);
    writer.write(
        (0..25)
            .map(|i| bar("B", T0 + i * 60, 1.0, 1.0, 1.0, 1.0, 1, 0, 0))
            .collect(),
    );
    writer.flush(Duration::from_millis(300)).await;
    assert_eq!(writer.stats().dropped.load(Ordering::Relaxed), 15);
    assert_eq!(writer.stats().buffered.load(Ordering::Relaxed), 10);
}

#[tokio::test]
async fn identity_rows_on_both_backends() {
    use stocksblitz_store::identity::{
        ApiKeyRow, RefreshRow, SessionRow, SigningKeyRow, is_conflict,
    };
    for (name, store, _schema, _dir) in backends("identity").await {
        let uid = store
            .create_user("a@b.c", "A", "$argon2id$x", "user", 1)
            .await
            .unwrap();
        let dup = store
            .create_user("a@b.c", "A", "$argon2id$x", "user", 1)
            .await
            .unwrap_err();
        assert!(is_conflict(&dup), "{name}: {dup}");
        assert_eq!(
            store.user_by_email("a@b.c").await.unwrap().unwrap().user_id,
            uid
        );
        assert_eq!(store.count_users().await.unwrap(), 1);
        let key = ApiKeyRow {
            key_id: "0123abcd".into(),
            key_hash: vec![7; 32],
            user_id: uid,
            name: "k".into(),
            description: None,
            scopes: "read".into(),
            rate_limit_per_min: Some(100),
            ip_allowlist: None,
            created_at: 5,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        store.insert_api_key(&key).await.unwrap();
        assert_eq!(store.api_key("0123abcd").await.unwrap().unwrap(), key);
        assert_eq!(store.api_keys_of(uid).await.unwrap().len(), 1);
        assert!(
            !store
                .revoke_api_key("0123abcd", uid + 1, 9, None)
                .await
                .unwrap(),
            "{name}: other users' keys are untouched"
        );
        assert!(
            store
                .revoke_api_key("0123abcd", uid, 9, Some("lost"))
                .await
                .unwrap()
        );
        assert_eq!(
            store.api_key("0123abcd").await.unwrap().unwrap().revoked_at,
            Some(9)
        );
        let s = SessionRow {
            session_id: "s1".into(),
            user_id: uid,
            persistent: true,
            created_at: 1,
            expires_at: 100,
            revoked_at: None,
        };
        store.create_session(&s).await.unwrap();
        assert_eq!(store.session("s1").await.unwrap().unwrap(), s);
        let r = RefreshRow {
            token_hash: vec![1; 32],
            session_id: "s1".into(),
            issued_at: 1,
            expires_at: 100,
            used_at: None,
        };
        store.insert_refresh(&r).await.unwrap();
        assert!(store.use_refresh_token(&r.token_hash, 2).await.unwrap());
        assert!(
            !store.use_refresh_token(&r.token_hash, 3).await.unwrap(),
            "{name}: reuse is detected"
        );
        assert_eq!(store.revoke_session("s1", 4).await.unwrap(), 1);
        assert_eq!(
            store.revoked_sessions_since(0).await.unwrap(),
            vec!["s1".to_string()]
        );
        let k = SigningKeyRow {
            kid: "kid1".into(),
            algorithm: "EdDSA".into(),
            private_key: vec![1, 2],
            public_jwk: "{}".into(),
            created_at: 1,
            retired_at: None,
            expires_at: None,
        };
        store.insert_signing_key(&k).await.unwrap();
        assert_eq!(store.signing_keys(10).await.unwrap(), vec![k]);
        store.retire_signing_keys(20, 50).await.unwrap();
        assert_eq!(store.signing_keys(30).await.unwrap().len(), 1);
        assert!(store.signing_keys(60).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn subscriptions_are_per_client_idempotent_and_counted() {
    use stocksblitz_store::subscriptions::SubscriptionKey;
    for (name, store, _schema, _dir) in backends("subs").await {
        let rsi = SubscriptionKey {
            instrument: "NIFTY 50",
            timeframe: "5m",
            indicator_id: "RSI_14_100",
        };
        let sma = SubscriptionKey {
            indicator_id: "SMA_20",
            ..rsi.clone()
        };
        assert!(store.subscribe("key:a", &rsi, 1).await.unwrap(), "{name}");
        assert!(
            !store.subscribe("key:a", &rsi, 2).await.unwrap(),
            "{name}: twice"
        );
        assert!(store.subscribe("key:b", &rsi, 3).await.unwrap());
        assert!(store.subscribe("key:b", &sma, 4).await.unwrap());
        assert_eq!(store.subscriber_count(&rsi).await.unwrap(), 2, "{name}");
        assert_eq!(store.subscriber_count(&sma).await.unwrap(), 1);
        // A client removes only its own row; removing twice is a no-op.
        assert!(store.unsubscribe("key:a", &rsi).await.unwrap());
        assert!(!store.unsubscribe("key:a", &rsi).await.unwrap());
        assert!(!store.unsubscribe("key:a", &sma).await.unwrap());
        assert_eq!(store.subscriber_count(&rsi).await.unwrap(), 1);
        let mine: Vec<String> = store
            .subscriptions_of("key:b")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.indicator_id)
            .collect();
        assert_eq!(mine, ["RSI_14_100", "SMA_20"], "{name}");
        assert!(store.subscriptions_of("key:a").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn urgent_bars_commit_in_a_transaction_of_their_own() {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let Some(schema) = PgSchema::new("urgent").await else {
        return;
    };
    let store = Store::open_url(&schema.url(Some(&proxy.addr)))
        .await
        .unwrap();
    proxy.cut().await;
    let cfg = WriterConfig {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        ..WriterConfig::default()
    };
    let (writer, _task) = BarWriter::spawn(store, cfg);
    let mk = |sym: &str, n: i64| -> Vec<_> {
        (0..n)
            .map(|i| bar(sym, T0 + i * 60, 1.0, 1.0, 1.0, 1.0, 1, 0, 0))
            .collect()
    };
    // Queued while the database is unreachable: a batch, an urgent bar, a batch.
    assert_eq!(writer.write(mk("A", 5)), 5);
    assert_eq!(writer.write_urgent(mk("U", 1)), 6);
    assert_eq!(writer.write(mk("B", 20)), 26);
    let mut settled = writer.watch_settled();
    assert_eq!(writer.flush(Duration::from_millis(200)).await, 26);
    proxy.restore();
    // In queue order (tickets count a prefix), but the urgent bar ends a transaction: the
    // 6 bars up to it commit (and are announced) before the 20 behind them are written.
    while *settled.borrow() < 26 {
        tokio::time::timeout(Duration::from_secs(20), settled.changed())
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(writer.stats().batches.load(Ordering::Relaxed), 2);
    assert_eq!(writer.stats().rows_written.load(Ordering::Relaxed), 26);
}
