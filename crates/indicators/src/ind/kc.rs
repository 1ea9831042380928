//! KC — Keltner channels: basis = EMA(close, n); band = EMA(true range, n) where the first bar's
//! true range is high − low; upper/lower = basis ± scalar·band.
use crate::Indicator;
use crate::core::{Bar, EmaCore, true_range};

#[derive(Debug, Clone)]
pub struct Kc {
    n: usize,
    scalar: f64,
    basis: EmaCore,
    band: EmaCore,
    prev_close: f64,
    started: bool,
}

impl Kc {
    pub fn new(length: usize, scalar: f64) -> Self {
        Kc {
            n: length,
            scalar,
            basis: EmaCore::new(length),
            band: EmaCore::new(length),
            prev_close: f64::NAN,
            started: false,
        }
    }
    /// (upper, basis, lower)
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> [f64; 3] {
        let tr = if self.started {
            true_range(high, low, self.prev_close)
        } else {
            high - low
        };
        self.started = true;
        self.prev_close = close;
        let b = self.basis.next(close);
        let w = self.band.next(tr);
        [b + self.scalar * w, b, b - self.scalar * w]
    }
}

impl Indicator for Kc {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..3].copy_from_slice(&self.next(bar.high, bar.low, bar.close));
    }
    fn reset(&mut self) {
        *self = Kc::new(self.n, self.scalar);
    }
}

pub fn kc(high: &[f64], low: &[f64], close: &[f64], length: usize, scalar: f64) -> [Vec<f64>; 3] {
    crate::simd::dispatch!(any kc_in(
        high: &[f64], low: &[f64], close: &[f64], length: usize, scalar: f64
    ) -> [Vec<f64>; 3])
}

/// The stream's own steps, in its arithmetic.
#[inline(always)]
fn kc_in(high: &[f64], low: &[f64], close: &[f64], length: usize, scalar: f64) -> [Vec<f64>; 3] {
    let mut s = Kc::new(length, scalar);
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(close.len()));
    for i in 0..close.len() {
        let r = s.next(high[i], low[i], close[i]);
        for (o, val) in out.iter_mut().zip(r) {
            o.push(val);
        }
    }
    out
}
