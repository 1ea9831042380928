//! The decoder never panics on any payload: arbitrary bytes, mutated legacy payloads, wrong
//! types; timeframe parsing never panics and round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use stocksblitz_market::Timeframe;
use stocksblitz_market::bars::BarBuilder;
use stocksblitz_market::decode::{Decoder, Reject};
use stocksblitz_market::session::Session;
use stocksblitz_market::snapshot::Snapshot;
use stocksblitz_market::timeframe::TS_LIMIT;

const OPT: &str = r#"{"symbol": "NIFTY", "token": 12345678, "tradingsymbol": "NIFTY25N1124500CE", "segment": "NFO-OPT", "exchange": "NFO", "strike": 24500.0, "expiry": "2025-11-11", "type": "CE", "lot_size": 75, "tick_size": 0.05, "price": 152.35, "volume": 0, "oi": 1234500, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": 1762246980, "is_mock": false}"#;

fn feed(payload: &[u8]) {
    let mut bars = BarBuilder::new(Session::always_open(), 2000);
    let mut snap = Snapshot::default();
    let mut out = Vec::new();
    match Decoder.decode(payload, 1_762_246_981_000) {
        Ok(t) => {
            assert!(t.price.is_finite() && t.price >= 0.0);
            bars.on_tick(&t, &mut out);
            snap.apply(&t);
            bars.on_clock(i64::MAX / 2, &mut out);
        }
        Err(e) => assert!(Reject::CODES.contains(&e.code())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..600)) {
        feed(&b);
    }

    #[test]
    fn mutated_legacy_payloads(pos in 0usize..OPT.len(), len in 0usize..12, insert in "[-0-9a-zA-Z\":,.{}\\[\\] eE+]{0,12}") {
        let mut s = OPT.as_bytes().to_vec();
        let end = (pos + len).min(s.len());
        s.splice(pos..end, insert.bytes());
        feed(&s);
    }

    #[test]
    fn field_values(price in prop_oneof![Just("NaN".to_string()), Just("-1".to_string()), Just("1e308".to_string()), Just("\"x\"".to_string()), any::<f64>().prop_map(|f| format!("{f:?}"))],
                    ts in prop_oneof![Just("1e300".to_string()), Just("-5".to_string()), any::<i64>().prop_map(|i| i.to_string())]) {
        let s = OPT.replace("152.35", &price).replace("1762246980", &ts);
        feed(s.as_bytes());
    }

    #[test]
    fn buckets_hold_their_time_for_any_i64(ts in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -(1i64 << 51)..(1i64 << 51)]) {
        for tf in Timeframe::ALL {
            let start = tf.bucket_start(ts);
            let end = tf.bucket_end(start);
            prop_assert!(start < end, "{tf}: {start}..{end}");
            // Within the supported range a bucket starts at most one bucket before the time
            // (a daily bucket: at 09:15 IST of the time's own IST day).
            let t = ts.clamp(-TS_LIMIT, TS_LIMIT);
            if t.abs() < TS_LIMIT - 86_400 {
                if tf == Timeframe::D1 {
                    prop_assert!((t - start).abs() < 86_400, "{tf}: {t} vs {start}");
                } else {
                    prop_assert!(start <= t && t - start < tf.seconds(), "{tf}: {t} vs {start}");
                }
            }
        }
    }

    #[test]
    fn timeframes(s in "\\PC{0,12}") {
        if let Ok(tf) = Timeframe::parse(&s) {
            prop_assert_eq!(Timeframe::parse(tf.as_str()).unwrap(), tf);
        }
    }
}
