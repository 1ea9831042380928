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
    use crate::core::{ema_into, ema_k, ema_step, nan_vec};
    let n = length.max(1);
    let k = ema_k(n);
    let omk = 1.0 - k;
    let len = x.len();
    let mut out = nan_vec(len);
    let start = 2 * (n - 1);
    if start >= len {
        return out;
    }
    // EMA1 up to where EMA2 is seeded, then both in one pass.
    let mut e1 = nan_vec(start + 1);
    ema_into(&x[..=start], 0, n, k, &mut e1);
    let mut e2 = e1[n - 1..=start].iter().sum::<f64>() / n as f64;
    let mut a = e1[start];
    out[start] = (2.0 * a) - e2;
    for (o, &v) in out[start + 1..].iter_mut().zip(&x[start + 1..]) {
        a = ema_step(a, v, k, omk);
        e2 = ema_step(e2, a, k, omk);
        *o = (2.0 * a) - e2;
    }
    out
}
