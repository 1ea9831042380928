//! BBANDS — TA-Lib BBANDS with an SMA middle and `std` deviations both ways (TA-Lib's running
//! sum-of-squares deviation); bandwidth = 100·(upper − lower)/middle;
//! percent = (close − lower)/(upper − lower).
use crate::Indicator;
use crate::core::{Bar, Ring, SmaCore};

#[derive(Debug, Clone)]
pub struct Bbands {
    n: usize,
    k: f64,
    sma: SmaCore,
    squares: Ring,
    total2: f64,
}

impl Bbands {
    pub fn new(length: usize, std: f64) -> Self {
        let n = length.max(1);
        Bbands {
            n,
            k: std,
            sma: SmaCore::new(n),
            squares: Ring::new(n),
            total2: 0.0,
        }
    }
    /// (upper, middle, lower, bandwidth, percent)
    #[inline]
    pub fn next(&mut self, x: f64) -> [f64; 5] {
        let mid = self.sma.next(x);
        let sq = x * x;
        self.total2 += sq;
        self.squares.push(sq);
        if self.squares.len() < self.n {
            return [f64::NAN; 5];
        }
        let mut mean2 = self.total2 / self.n as f64;
        self.total2 -= self.squares.oldest();
        mean2 -= mid * mid;
        let sd = if mean2 < 0.000_000_01 {
            0.0
        } else {
            mean2.sqrt()
        };
        let dev = sd * self.k;
        let upper = mid + dev;
        let lower = mid - dev;
        let width = upper - lower;
        let bandwidth = if mid == 0.0 {
            f64::NAN
        } else {
            100.0 * width / mid
        };
        let percent = if width == 0.0 {
            f64::NAN
        } else {
            (x - lower) / width
        };
        [upper, mid, lower, bandwidth, percent]
    }
}

impl Indicator for Bbands {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..5].copy_from_slice(&self.next(bar.close));
    }
    fn reset(&mut self) {
        self.sma.reset();
        self.squares.clear();
        self.total2 = 0.0;
    }
}

/// (upper, middle, lower, bandwidth, percent)
pub fn bbands(x: &[f64], length: usize, std: f64) -> [Vec<f64>; 5] {
    let n = length.max(1);
    let len = x.len();
    let mut out: [Vec<f64>; 5] = std::array::from_fn(|_| crate::core::nan_vec(len));
    if len < n {
        return out;
    }
    let nf = n as f64;
    let (mut total, mut total2) = (0.0, 0.0);
    for &v in &x[..n - 1] {
        total += v;
        total2 += v * v;
    }
    let [ou, om, ol, ob, op] = &mut out;
    for i in n - 1..len {
        let v = x[i];
        total += v;
        let mid = total / nf;
        let old = x[i + 1 - n];
        total -= old;
        total2 += v * v;
        let mut mean2 = total2 / nf;
        total2 -= old * old;
        mean2 -= mid * mid;
        let sd = if mean2 < 0.000_000_01 {
            0.0
        } else {
            mean2.sqrt()
        };
        let dev = sd * std;
        let (upper, lower) = (mid + dev, mid - dev);
        let width = upper - lower;
        ou[i] = upper;
        om[i] = mid;
        ol[i] = lower;
        ob[i] = if mid == 0.0 {
            f64::NAN
        } else {
            100.0 * width / mid
        };
        op[i] = if width == 0.0 {
            f64::NAN
        } else {
            (v - lower) / width
        };
    }
    out
}
