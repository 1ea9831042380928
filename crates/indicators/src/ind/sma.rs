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
    // Written once: NaN for the warm-up, then TA-Lib's running sum.
    let n = length.max(1);
    let mut out = crate::core::Column::new(x.len());
    out.nan_to(n - 1);
    out.extend_with(crate::core::sma_values(x, n));
    out.finish()
}
