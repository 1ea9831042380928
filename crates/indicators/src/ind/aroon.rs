//! AROON — TA-Lib AROON (up, down over `length + 1` bars, ties to the most recent bar) and
//! AROONOSC (oscillator).
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, for_each_arg_high_low};

#[derive(Debug, Clone)]
pub struct Aroon {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Aroon {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Aroon {
            n,
            hi: RollingExtreme::max(n + 1),
            lo: RollingExtreme::min(n + 1),
        }
    }
    /// (up, down, oscillator)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> (f64, f64, f64) {
        let hi = self.hi.push(high);
        let lo = self.lo.push(low);
        let today = self.hi.count() - 1;
        let (Some((_, hi_idx)), Some((_, lo_idx))) = (hi, lo) else {
            return (f64::NAN, f64::NAN, f64::NAN);
        };
        if (today as usize) < self.n {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let n = self.n as i64;
        let factor = 100.0 / self.n as f64;
        let up = factor * (n - (today as i64 - hi_idx as i64)) as f64;
        let down = factor * (n - (today as i64 - lo_idx as i64)) as f64;
        let osc = factor * (hi_idx as i64 - lo_idx as i64) as f64;
        (up, down, osc)
    }
}

impl Indicator for Aroon {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (u, d, o) = self.next(bar.high, bar.low);
        out[0] = u;
        out[1] = d;
        out[2] = o;
    }
    fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
    }
}

/// (up, down, oscillator)
pub fn aroon(high: &[f64], low: &[f64], length: usize) -> [Vec<f64>; 3] {
    let n = length.max(1);
    let len = high.len().min(low.len());
    // Indexed writes into NaN-filled columns (appending from the callback costs a length update
    // through memory per bar and column, more than the fill).
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| crate::core::nan_vec(high.len()));
    if len <= n {
        return out;
    }
    let factor = 100.0 / n as f64;
    let ni = n as i64;
    let [up, down, osc] = &mut out;
    let (up, down, osc) = (&mut up[..len], &mut down[..len], &mut osc[..len]);
    for_each_arg_high_low(high, low, n + 1, |i, h, l| {
        if h == usize::MAX || l == usize::MAX {
            return;
        }
        let (t, h, l) = (i as i64, h as i64, l as i64);
        up[i] = factor * (ni - (t - h)) as f64;
        down[i] = factor * (ni - (t - l)) as f64;
        osc[i] = factor * (h - l) as f64;
    });
    out
}
