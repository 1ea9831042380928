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
    let n = length.max(1);
    let mut out = crate::core::nan_vec(x.len());
    if x.len() > n {
        for ((o, &new), &old) in out[n..].iter_mut().zip(&x[n..]).zip(x) {
            *o = if old == 0.0 {
                0.0
            } else {
                ((new / old) - 1.0) * 100.0
            };
        }
    }
    out
}
