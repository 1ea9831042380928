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
