//! NATR — TA-Lib NATR: ATR / close · 100 (0 when close is 0).
use super::atr::Atr;
use crate::Indicator;
use crate::core::{Bar, is_zero};

#[derive(Debug, Clone)]
pub struct Natr(Atr);

impl Natr {
    pub fn new(length: usize) -> Self {
        Natr(Atr::new(length))
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        ratio(self.0.next(high, low, close), close)
    }
}

/// TA-Lib's NATR at one bar: `ATR / close · 100`, 0 when the close is zero (NaN stays NaN).
/// Selects, not branches: the batch's four values per block go through it as vector divides.
#[inline(always)]
fn ratio(atr: f64, close: f64) -> f64 {
    let q = (atr / close) * 100.0;
    if is_zero(close) && !atr.is_nan() {
        0.0
    } else {
        q
    }
}

impl Indicator for Natr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

pub fn natr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    // The stream's arithmetic at each bar, fused into ATR's pass.
    crate::simd::dispatch!(natr_in(
        high: &[f64],
        low: &[f64],
        close: &[f64],
        length: usize,
    ) -> Vec<f64>)
}

#[inline(always)]
fn natr_in<A: crate::simd::Arith>(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
) -> Vec<f64> {
    super::atr::atr_map::<A>(high, low, close, length, ratio)
}
