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
        let a = self.0.next(high, low, close);
        if a.is_nan() {
            return a;
        }
        if is_zero(close) {
            0.0
        } else {
            (a / close) * 100.0
        }
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
    super::atr::atr_map(high, low, close, length, |a, c| {
        if a.is_nan() {
            a
        } else if !is_zero(c) {
            (a / c) * 100.0
        } else {
            0.0
        }
    })
}
