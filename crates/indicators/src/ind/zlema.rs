//! ZLEMA — EMA(x + (x − x\[lag\]), n) with lag = ⌊(n − 1)/2⌋ (TA-Lib-style EMA, SMA seed).
use crate::Indicator;
use crate::core::{Bar, EmaCore, Ring};

#[derive(Debug, Clone)]
pub struct Zlema {
    ring: Ring,
    ema: EmaCore,
}

impl Zlema {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        let lag = (n - 1) / 2;
        Zlema {
            ring: Ring::new(lag + 1),
            ema: EmaCore::new(n),
        }
    }
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> f64 {
        self.ring.push(x);
        if !self.ring.is_full() {
            return f64::NAN;
        }
        let old = self.ring.oldest();
        self.ema.next(x + (x - old))
    }
}

impl Indicator for Zlema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.ring.clear();
        self.ema.reset();
    }
}

pub fn zlema(x: &[f64], length: usize) -> Vec<f64> {
    crate::simd::dispatch!(any zlema_in(x: &[f64], length: usize) -> Vec<f64>)
}

/// The stream's own steps, in its arithmetic.
#[inline(always)]
fn zlema_in(x: &[f64], length: usize) -> Vec<f64> {
    let mut s = Zlema::new(length);
    // A loop of its own, not an iterator's `collect`: LLVM left that fold out of line, compiled
    // without the enabled features.
    let mut out = Vec::with_capacity(x.len());
    for &v in x {
        out.push(s.next(v));
    }
    out
}
