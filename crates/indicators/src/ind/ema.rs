//! EMA — TA-Lib EMA (SMA seed, k = 2/(n+1)).
use crate::Indicator;
use crate::core::{Bar, EmaCore};

#[derive(Debug, Clone)]
pub struct Ema(EmaCore);

impl Ema {
    pub fn new(length: usize) -> Self {
        Ema(EmaCore::new(length))
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.0.next(x)
    }
}

impl Indicator for Ema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

pub fn ema(x: &[f64], length: usize) -> Vec<f64> {
    crate::simd::dispatch!(ema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn ema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    crate::core::ema_column::<A>(x, length, crate::core::ema_k(length))
}
