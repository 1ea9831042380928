//! DC — Donchian channels: upper = highest high over n, lower = lowest low, middle = mean.
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, rolling_max, rolling_min};

#[derive(Debug, Clone)]
pub struct Dc {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Dc {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Dc {
            n,
            hi: RollingExtreme::max(n),
            lo: RollingExtreme::min(n),
        }
    }
    /// (upper, middle, lower)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> [f64; 3] {
        let u = self.hi.push_value(high);
        let l = self.lo.push_value(low);
        if (self.hi.count() as usize) < self.n {
            return [f64::NAN; 3];
        }
        [u, (u + l) / 2.0, l]
    }
}

impl Indicator for Dc {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..3].copy_from_slice(&self.next(bar.high, bar.low));
    }
    fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
    }
}

pub fn dc(high: &[f64], low: &[f64], length: usize) -> [Vec<f64>; 3] {
    let n = length.max(1);
    let (upper, lower) = (rolling_max(high, n), rolling_min(low, n));
    let middle = upper
        .iter()
        .zip(&lower)
        .map(|(u, l)| (u + l) / 2.0)
        .collect();
    [upper, middle, lower]
}
