//! SMA — TA-Lib SMA.
use crate::Indicator;
use crate::core::{Bar, SmaCore};

#[derive(Debug, Clone)]
pub struct Sma(SmaCore);

impl Sma {
    pub fn new(length: usize) -> Self {
        Sma(SmaCore::new(length))
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.0.next(x)
    }
}

impl Indicator for Sma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

/// SMA over `x`; NaN for the first `length - 1` values.
pub fn sma(x: &[f64], length: usize) -> Vec<f64> {
    // Written once: NaN for the warm-up, then TA-Lib's running sum (as `sma_into`).
    let n = length.max(1);
    let mut out = crate::core::Column::new(x.len());
    if x.len() >= n {
        let nf = n as f64;
        let mut total: f64 = x[..n - 1].iter().sum();
        out.nan_to(n - 1);
        out.extend_with(x[n - 1..].iter().zip(x).map(move |(&new, &old)| {
            total += new;
            let v = total / nf;
            total -= old;
            v
        }));
    }
    out.finish()
}
