//! DC — Donchian channels: upper = highest high over n, lower = lowest low, middle = mean.
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, SliceDeque};

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
    let n = length.max(1);
    let len = high.len();
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| crate::core::nan_vec(len));
    let (mut hi, mut lo) = (SliceDeque::new(len), SliceDeque::new(len));
    for i in 0..len {
        let h = hi.push_max(high, i, n);
        let l = lo.push_min(low, i, n);
        if i + 1 >= n {
            let (u, d) = (high[h], low[l]);
            out[0][i] = u;
            out[1][i] = (u + d) / 2.0;
            out[2][i] = d;
        }
    }
    out
}
