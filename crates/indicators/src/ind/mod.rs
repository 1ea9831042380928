//! One module per indicator. Each has a streaming struct (`new`, `next`, `Indicator` impl) and a
//! batch function over slices built from the same struct, so both ways share one definition.

pub mod ad;
pub mod adx;
pub mod ao;
pub mod aroon;
pub mod atr;
pub mod bbands;
pub mod cci;
pub mod cpr;
pub mod dc;
pub mod dema;
pub mod ema;
pub mod fisher;
pub mod hma;
pub mod kama;
pub mod kc;
pub mod macd;
pub mod mama;
pub mod mfi;
pub mod mom;
pub mod natr;
pub mod obv;
pub mod ppo;
pub mod psar;
pub mod roc;
pub mod rsi;
pub mod sma;
pub mod stoch;
pub mod stochrsi;
pub mod supertrend;
pub mod t3;
pub mod tema;
pub mod tsi;
pub mod vwap;
pub mod vwma;
pub mod willr;
pub mod wma;
pub mod zlema;

/// Run a single-input, single-output `next` over a slice.
#[inline]
pub(crate) fn map1(x: &[f64], mut f: impl FnMut(f64) -> f64) -> Vec<f64> {
    x.iter().map(|&v| f(v)).collect()
}

/// Test support: a one-input indicator's batch against its stream.
#[cfg(test)]
pub(crate) mod check {
    /// For several periods and lengths around the warm-up and the blocks' edges, `batch(x, n)`
    /// equals the stream `stream(n)` stepped over `x` bit for bit, and each value from bar
    /// `n − 1` on is within 1e-12 (relative) of `exact` over its window.
    pub(crate) fn batch_is_the_stream(
        batch: impl Fn(&[f64], usize) -> Vec<f64>,
        stream: impl Fn(usize) -> Box<dyn FnMut(f64) -> f64>,
        exact: impl Fn(&[f64]) -> f64,
    ) {
        for n in [1usize, 2, 3, 7, 8, 9, 30] {
            for len in [
                0,
                1,
                n.saturating_sub(1),
                n,
                n + 1,
                n + 7,
                n + 8,
                n + 9,
                700,
            ] {
                let x: Vec<f64> = (0..len)
                    .map(|i| 100.0 + ((i * 7919) % 13) as f64 * 0.37 - i as f64 * 0.05)
                    .collect();
                let got = batch(&x, n);
                assert_eq!(got.len(), len);
                let mut next = stream(n);
                for (i, &v) in x.iter().enumerate() {
                    let want = next(v);
                    assert_eq!(got[i].to_bits(), want.to_bits(), "n {n} len {len} at {i}");
                    if i + 1 >= n {
                        let e = exact(&x[i + 1 - n..=i]);
                        assert!((want - e).abs() <= 1e-12 * e.abs(), "n {n} at {i}");
                    }
                }
                if n == 1 {
                    assert_eq!(got, x, "n 1 is the input");
                }
            }
        }
    }

    /// TA-Lib's EMA written the textbook way: the mean of the first `n` values at `n − 1`,
    /// then `y += k·(x − y)` one value at a time; NaN before.
    pub(crate) fn textbook_ema(x: &[f64], n: usize) -> Vec<f64> {
        let k = 2.0 / (n as f64 + 1.0);
        let mut out = vec![f64::NAN; x.len()];
        if x.len() >= n {
            let mut y = x[..n].iter().sum::<f64>() / n as f64;
            out[n - 1] = y;
            for i in n..x.len() {
                y += k * (x[i] - y);
                out[i] = y;
            }
        }
        out
    }

    /// For an indicator of chained EMAs (DEMA, TEMA) whose first value is at `seeded(n)`: in
    /// both arithmetics, for periods around the blocks of eight and lengths around the seeding,
    /// the blocks and the batch's chunks, `batch(x, n)` equals the stream `stream(n)` stepped
    /// over `x` bit for bit, is NaN exactly before `seeded(n)`, and is within 1e-12 (relative)
    /// of `textbook(x, n)` from there.
    pub(crate) fn chained_is_the_stream(
        batch: impl Fn(&[f64], usize) -> Vec<f64>,
        stream: impl Fn(usize) -> Box<dyn FnMut(f64) -> f64>,
        seeded: impl Fn(usize) -> usize,
        textbook: impl Fn(&[f64], usize) -> Vec<f64>,
    ) {
        use crate::simd::{Mode, force_mode};
        let x: Vec<f64> = (0..1200)
            .map(|i| 100.0 + f64::from((i * 7919) % 13) * 0.37 - f64::from(i) * 0.05)
            .collect();
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for n in [1usize, 2, 5, 8, 9, 20, 90] {
                let seeded = seeded(n);
                for len in [
                    0,
                    seeded,
                    seeded + 1,
                    seeded + 9,
                    seeded + 256,
                    seeded + 257,
                    1200,
                ] {
                    let got = batch(&x[..len], n);
                    assert_eq!(got.len(), len);
                    let want = textbook(&x[..len], n);
                    let mut next = stream(n);
                    for (i, &v) in x[..len].iter().enumerate() {
                        let step = next(v);
                        assert_eq!(got[i].to_bits(), step.to_bits(), "{mode:?} n {n} at {i}");
                        assert_eq!(got[i].is_nan(), i < seeded, "{mode:?} n {n} at {i}");
                        if i >= seeded {
                            let e = (got[i] - want[i]).abs() / want[i].abs();
                            assert!(
                                e <= 1e-12,
                                "{mode:?} n {n} at {i}: {} vs {}",
                                got[i],
                                want[i]
                            );
                        }
                    }
                }
            }
            force_mode(None);
        }
    }
}
