//! DEMA — TA-Lib DEMA: 2·EMA − EMA(EMA).
use crate::Indicator;
use crate::core::{Bar, EmaCore};

#[derive(Debug, Clone)]
pub struct Dema {
    e1: EmaCore,
    e2: EmaCore,
}

impl Dema {
    pub fn new(length: usize) -> Self {
        Dema {
            e1: EmaCore::new(length),
            e2: EmaCore::new(length),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if !self.e1.is_ready() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        (2.0 * a) - b
    }
}

impl Indicator for Dema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
    }
}

pub fn dema(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{ema_into, ema_k, nan_vec};
    let n = length.max(1);
    let k = ema_k(n);
    let len = x.len();
    let (mut e1, mut e2) = (nan_vec(len), nan_vec(len));
    ema_into(x, 0, n, k, &mut e1);
    ema_into(&e1, n - 1, n, k, &mut e2);
    let mut out = nan_vec(len);
    let start = 2 * (n - 1);
    if start < len {
        for i in start..len {
            out[i] = (2.0 * e1[i]) - e2[i];
        }
    }
    out
}
