//! WILLR — TA-Lib WILLR: (highest − close) / ((highest − lowest) / −100), 0 on a flat window.
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, SliceDeque};

#[derive(Debug, Clone)]
pub struct Willr {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Willr {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Willr {
            n,
            hi: RollingExtreme::max(n),
            lo: RollingExtreme::min(n),
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let (highest, _) = self.hi.push(high);
        let (lowest, _) = self.lo.push(low);
        if (self.hi.count() as usize) < self.n {
            return f64::NAN;
        }
        let diff = (highest - lowest) / (-100.0);
        if diff != 0.0 {
            (highest - close) / diff
        } else {
            0.0
        }
    }
}

impl Indicator for Willr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
    }
}

pub fn willr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len();
    let mut out = crate::core::nan_vec(len);
    let (mut hi, mut lo) = (SliceDeque::new(len), SliceDeque::new(len));
    for i in 0..len {
        let h = hi.push_max(high, i, n);
        let l = lo.push_min(low, i, n);
        if i + 1 >= n {
            let (highest, lowest) = (high[h], low[l]);
            let diff = (highest - lowest) / (-100.0);
            out[i] = if diff != 0.0 { (highest - close[i]) / diff } else { 0.0 };
        }
    }
    out
}
