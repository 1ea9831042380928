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
}
