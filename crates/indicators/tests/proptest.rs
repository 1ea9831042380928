//! Every registry indicator computed both ways — batch over a frame and streaming bar by bar —
//! gives the same values (relative 1e-9, NaN in the same places), and no input (NaN, ±inf,
//! huge values, any parameters in range) makes anything panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use stocksblitz_indicators::simd::{self, Mode};
use stocksblitz_indicators::{Bar, Frame, IndicatorId, REGISTRY, Stream, compute};

#[derive(Debug, Clone)]
struct Series {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    time: Vec<i64>,
}

fn walk() -> impl Strategy<Value = Series> {
    (1usize..400, any::<u64>()).prop_map(|(n, seed)| {
        let mut s = seed | 1;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = 100.0;
        let mut out = Series {
            open: vec![],
            high: vec![],
            low: vec![],
            close: vec![],
            volume: vec![],
            time: vec![],
        };
        for i in 0..n {
            let o = x;
            x += rnd() - 0.5;
            out.open.push(o);
            out.close.push(x);
            out.high.push(o.max(x) + rnd() * 0.3);
            out.low.push(o.min(x) - rnd() * 0.3);
            out.volume.push((rnd() * 1000.0).floor());
            out.time.push(1_764_000_000 + i as i64 * 600);
        }
        out
    })
}

fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(1e300),
        1 => Just(-1e300),
    ]
}

fn wild_series() -> impl Strategy<Value = Series> {
    prop::collection::vec((wild(), wild(), wild(), wild(), wild()), 0..80).prop_map(|rows| Series {
        open: rows.iter().map(|r| r.0).collect(),
        high: rows.iter().map(|r| r.1).collect(),
        low: rows.iter().map(|r| r.2).collect(),
        close: rows.iter().map(|r| r.3).collect(),
        volume: rows.iter().map(|r| r.4).collect(),
        time: (0..rows.len() as i64).map(|i| i * 60).collect(),
    })
}

/// Small, in-range parameters for each indicator (lengths 1..12, floats within bounds).
fn params_for(def: &stocksblitz_indicators::IndicatorDef, picks: &[f64]) -> Vec<f64> {
    def.params
        .iter()
        .zip(picks.iter().cycle())
        .map(|(p, pick)| match p.kind {
            stocksblitz_indicators::ParamKind::Int => (p.min + (pick * 12.0).floor()).min(p.max),
            stocksblitz_indicators::ParamKind::Float => {
                p.min + (p.max.min(p.min + 5.0) - p.min) * pick
            }
        })
        .collect()
}

fn same(a: f64, b: f64) -> bool {
    // Bit-exact: a stream must give the very numbers the batch gave (Python tests promise it too).
    (a.is_nan() && b.is_nan()) || a == b
}

fn check_both_ways(s: &Series, picks: &[f64]) -> Result<(), TestCaseError> {
    for def in REGISTRY {
        let id = IndicatorId::with_values(def.name, &params_for(def, picks)).unwrap();
        let frame = Frame {
            open: Some(&s.open),
            high: Some(&s.high),
            low: Some(&s.low),
            close: Some(&s.close),
            volume: Some(&s.volume),
            time: Some(&s.time),
        };
        let batch = compute(&id, &frame).unwrap();
        let mut stream = Stream::new(id.clone());
        for i in 0..s.close.len() {
            let bar = Bar {
                time: Some(s.time[i]),
                open: s.open[i],
                high: s.high[i],
                low: s.low[i],
                close: s.close[i],
                volume: s.volume[i],
            };
            let vals = stream.update(&bar);
            for (k, v) in vals.iter().enumerate() {
                let b = batch.series[k][i];
                prop_assert!(
                    same(*v, b),
                    "{id} output {} at {i}: stream {v} batch {b}",
                    def.outputs[k]
                );
            }
        }
        for series in &batch.series {
            prop_assert_eq!(series.len(), s.close.len());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn batch_equals_streaming(s in walk(), picks in prop::collection::vec(0.0f64..1.0, 4)) {
        // In both arithmetics: the fused one where the CPU has it (a stream records the mode
        // it was built in; the batch runs in the thread's mode).
        for mode in [Mode::Plain, Mode::Fused] {
            simd::force_mode(Some(mode));
            let checked = check_both_ways(&s, &picks);
            simd::force_mode(None);
            checked?;
        }
    }

    #[test]
    fn wild_inputs_never_panic(s in wild_series(), picks in prop::collection::vec(0.0f64..1.0, 4)) {
        check_both_ways(&s, &picks)?;
    }

    #[test]
    fn id_parser_never_panics(s in "\\PC{0,40}") {
        let _ = IndicatorId::parse(&s);
    }

    #[test]
    fn id_grammar_alphabet(s in "[A-Za-z]{1,10}(_[0-9.eE+-]{0,6}){0,5}") {
        if let Ok(id) = IndicatorId::parse(&s) {
            // The canonical form parses back to the same id.
            prop_assert_eq!(IndicatorId::parse(&id.canonical()).unwrap(), id);
        }
    }
}

#[test]
fn empty_input_gives_empty_output_and_short_input_nan() {
    for def in REGISTRY {
        let id = IndicatorId::with_values(def.name, &[]).unwrap();
        let empty: [f64; 0] = [];
        let f = Frame {
            open: Some(&empty),
            high: Some(&empty),
            low: Some(&empty),
            close: Some(&empty),
            volume: Some(&empty),
            time: None,
        };
        let out = compute(&id, &f).unwrap();
        assert!(out.series.iter().all(Vec::is_empty), "{}", def.name);
        let lb = id.lookback();
        if lb > 0 {
            let x: Vec<f64> = (0..lb).map(|i| 100.0 + i as f64).collect();
            let f = Frame {
                open: Some(&x),
                high: Some(&x),
                low: Some(&x),
                close: Some(&x),
                volume: Some(&x),
                time: None,
            };
            let out = compute(&id, &f).unwrap();
            assert!(
                out.series[0].iter().all(|v| v.is_nan()),
                "{} must be NaN before its lookback {lb}",
                def.name
            );
        }
    }
}

#[test]
fn missing_inputs_and_mismatched_lengths_are_errors() {
    let c = [1.0, 2.0, 3.0];
    let id = IndicatorId::parse("ATR_2").unwrap();
    let e = compute(&id, &Frame::from_close(&c)).unwrap_err();
    assert_eq!(e.to_string(), "ATR needs the high input");
    let h = [1.0, 2.0];
    let f = Frame {
        high: Some(&h),
        low: Some(&c),
        close: Some(&c),
        ..Frame::default()
    };
    let e = compute(&id, &f).unwrap_err();
    assert!(
        e.to_string().starts_with("input high has 2 values but 3"),
        "{e}"
    );
}

/// The fused arithmetic is really in effect where the CPU has it (the two modes' numbers differ
/// in the last bits somewhere on a long series), and it changes nothing a user could see: every
/// recurrence indicator agrees between the modes to 1e-12 relative.
#[test]
fn fused_and_plain_agree_to_rounding() {
    let n = 2000;
    let close: Vec<f64> = (0..n)
        .map(|i| 100.0 * (1.0 + 0.3 * ((i as f64) * 0.05).sin()) + (i % 7) as f64 * 0.13)
        .collect();
    let high: Vec<f64> = close.iter().map(|c| c + 0.7).collect();
    let low: Vec<f64> = close.iter().map(|c| c - 0.6).collect();
    let volume = vec![1000.0; n];
    let time: Vec<i64> = (0..n as i64).map(|i| 1_700_000_000 + 60 * i).collect();
    let frame = Frame {
        open: Some(&close),
        high: Some(&high),
        low: Some(&low),
        close: Some(&close),
        volume: Some(&volume),
        time: Some(&time),
    };
    let fused_cpu = simd::force_mode(Some(Mode::Fused)) == Mode::Fused;
    simd::force_mode(None);
    let mut differed = Vec::new();
    for name in [
        "EMA", "DEMA", "TEMA", "T3", "MACD", "PPO", "KAMA", "RSI", "ATR", "NATR", "MAMA", "ADX",
    ] {
        let id = IndicatorId::parse(name).unwrap();
        simd::force_mode(Some(Mode::Plain));
        let plain = compute(&id, &frame).unwrap();
        simd::force_mode(Some(Mode::Fused));
        let fused = compute(&id, &frame).unwrap();
        simd::force_mode(None);
        let mut any = false;
        for (p, f) in plain.series.iter().zip(&fused.series) {
            for (i, (&a, &b)) in p.iter().zip(f).enumerate() {
                assert_eq!(a.is_nan(), b.is_nan(), "{name} at {i}");
                if !a.is_nan() {
                    assert!(
                        (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                        "{name} at {i}: {a} vs {b}"
                    );
                    any |= a.to_bits() != b.to_bits();
                }
            }
        }
        if any {
            differed.push(name);
        }
    }
    if fused_cpu {
        assert_eq!(
            differed.len(),
            12,
            "fused results equal plain ones: {differed:?}"
        );
    } else {
        assert!(differed.is_empty());
    }
}
