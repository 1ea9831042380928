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
    let mut s = Wma::new(length);
    super::map1(x, |v| s.next(v))
}
