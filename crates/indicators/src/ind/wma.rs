//! WMA — TA-Lib WMA (linear weights, newest heaviest).
use crate::Indicator;
use crate::core::{Bar, WmaCore};

#[derive(Debug, Clone)]
pub struct Wma(WmaCore);

impl Wma {
    pub fn new(length: usize) -> Self {
        Wma(WmaCore::new(length))
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.0.next(x)
    }
}

impl Indicator for Wma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

pub fn wma(x: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let mut out = crate::core::nan_vec(x.len());
    if x.len() < n {
        return out;
    }
    // TA-Lib's running sums: period_sub = plain sum, period_sum = weighted sum.
    let divider = ((n * (n + 1)) >> 1) as f64;
    let nf = n as f64;
    let (mut period_sub, mut period_sum) = (0.0, 0.0);
    for (i, &v) in x[..n - 1].iter().enumerate() {
        period_sub += v;
        period_sum += v * (i + 1) as f64;
    }
    let mut trailing = 0.0;
    for (i, o) in out.iter_mut().enumerate().skip(n - 1) {
        let v = x[i];
        period_sub += v;
        period_sub -= trailing;
        period_sum += v * nf;
        trailing = x[i + 1 - n];
        *o = period_sum / divider;
        period_sum -= period_sub;
    }
    out
}
