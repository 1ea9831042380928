//! DC — Donchian channels: upper = highest high over n, lower = lowest low, middle = mean.
use crate::Indicator;
use crate::core::{Bar, RollingExtreme};

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
        let (u, _) = self.hi.push(high);
        let (l, _) = self.lo.push(low);
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
    let mut s = Dc::new(length);
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(high.len()));
    for i in 0..high.len() {
        for (o, val) in out.iter_mut().zip(s.next(high[i], low[i])) {
            o.push(val);
        }
    }
    out
}
