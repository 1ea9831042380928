//! ATR — TA-Lib ATR: true range from the second bar, seeded with the SMA of the first `length`
//! true ranges, then Wilder smoothing. Length 1 gives the true range itself.
use crate::Indicator;
use crate::core::{Bar, Linear, LinearState, true_range};

#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    prev_close: f64,
    seen: usize,
    sum: f64,
    lin: Linear,
    atr: LinearState,
}

impl Atr {
    pub fn new(length: usize) -> Self {
        Atr {
            n: length.max(1),
            prev_close: f64::NAN,
            seen: 0,
            sum: 0.0,
            lin: Linear::wilder(length),
            atr: LinearState::new(f64::NAN),
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let i = self.seen;
        self.seen += 1;
        let prev = self.prev_close;
        self.prev_close = close;
        if i == 0 {
            return f64::NAN;
        }
        let tr = true_range(high, low, prev);
        let n = self.n;
        if n == 1 {
            return tr;
        }
        if i <= n {
            self.sum += tr;
            if i < n {
                return f64::NAN;
            }
            self.atr = LinearState::new(self.sum / n as f64);
            return self.atr.value();
        }
        self.atr.step(&self.lin, tr)
    }
}

impl Indicator for Atr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        *self = Atr::new(self.n);
    }
}

pub fn atr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    atr_map(high, low, close, length, |a, _| a)
}

/// ATR in one pass with `f(atr, close)` written at each bar (ATR itself, or NATR's ratio):
/// indicators derived from ATR pay for one pass over memory, not two.
#[inline(always)]
pub(crate) fn atr_map(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
    f: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len());
    let mut out = crate::core::nan_vec(close.len());
    if n == 1 {
        for i in 1..len {
            out[i] = f(true_range(high[i], low[i], close[i - 1]), close[i]);
        }
        return out;
    }
    if len <= n {
        return out;
    }
    let nf = n as f64;
    let mut sum = 0.0;
    for i in 1..=n {
        sum += true_range(high[i], low[i], close[i - 1]);
    }
    let mut atr = sum / nf;
    out[n] = f(atr, close[n]);
    // Blocks of four, then stepwise: the stream's formulas, batch and stream agree bit for bit.
    let lin = Linear::wilder(n);
    let mut i = n + 1;
    while i + 4 <= len {
        let tr = std::array::from_fn(|j| true_range(high[i + j], low[i + j], close[i + j - 1]));
        let v = lin.block(atr, tr);
        for j in 0..4 {
            out[i + j] = f(v[j], close[i + j]);
        }
        atr = v[3];
        i += 4;
    }
    let mut st = LinearState::new(atr);
    for i in i..len {
        out[i] = f(
            st.step(&lin, true_range(high[i], low[i], close[i - 1])),
            close[i],
        );
    }
    out
}
