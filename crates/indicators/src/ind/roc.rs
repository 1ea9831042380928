//! ROC — TA-Lib ROC: ((x / x[n bars ago]) − 1) × 100, 0 when the old value is 0.
use crate::Indicator;
use crate::core::{Bar, Ring};

#[derive(Debug, Clone)]
pub struct Roc {
    ring: Ring,
}

impl Roc {
    pub fn new(length: usize) -> Self {
        Roc {
            ring: Ring::new(length.max(1) + 1),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.ring.push(x);
        if !self.ring.is_full() {
            return f64::NAN;
        }
        let old = self.ring.oldest();
        if old == 0.0 {
            0.0
        } else {
            ((x / old) - 1.0) * 100.0
        }
    }
}

impl Indicator for Roc {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.ring.clear();
    }
}

pub fn roc(x: &[f64], length: usize) -> Vec<f64> {
    // Compiled with AVX2 where the CPU has it (wider vectors, the same numbers): 0.60-0.62 of the
    // baseline build's time, measured in one process.
    crate::simd::dispatch!(any roc_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn roc_in(x: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    // Written once, the ratio as a select (vectorised divides).
    let mut out = crate::core::Column::new(x.len());
    if x.len() > n {
        out.nan_to(n);
        out.extend_with(x[n..].iter().zip(x).map(|(&new, &old)| {
            let r = ((new / old) - 1.0) * 100.0;
            if old == 0.0 { 0.0 } else { r }
        }));
    }
    out.finish()
}
