//! ATR — TA-Lib ATR: true range from the second bar, seeded with the SMA of the first `length`
//! true ranges, then Wilder smoothing. Length 1 gives the true range itself.
use crate::Indicator;
use crate::core::{Bar, true_range, wilder_step};

#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    prev_close: f64,
    seen: usize,
    sum: f64,
    atr: f64,
}

impl Atr {
    pub fn new(length: usize) -> Self {
        Atr {
            n: length.max(1),
            prev_close: f64::NAN,
            seen: 0,
            sum: 0.0,
            atr: f64::NAN,
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
            self.atr = self.sum / n as f64;
            return self.atr;
        }
        let nf = n as f64;
        self.atr = wilder_step(self.atr, tr, (nf - 1.0) / nf, 1.0 / nf);
        self.atr
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
    let len = close.len();
    let mut out = crate::core::nan_vec(len);
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
    let (keep, inv) = ((nf - 1.0) / nf, 1.0 / nf);
    // One step per bar, exactly as the streaming form: batch and stream agree bit for bit.
    for i in n + 1..len {
        atr = wilder_step(atr, true_range(high[i], low[i], close[i - 1]), keep, inv);
        out[i] = f(atr, close[i]);
    }
    out
}
