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
    use crate::core::{CHUNK, Linear, LinearState, ema_into, ema_k, nan_vec};
    let n = length.max(1);
    let k = ema_k(n);
    let lin = Linear::ema(k);
    let len = x.len();
    let start = 2 * (n - 1);
    let mut out = nan_vec(len);
    if start >= len {
        return out;
    }
    // EMA1 up to where EMA2 is seeded, then both in one pass (each recurrence keeps its own
    // place in its blocks of four, as the stream's do).
    let mut e1 = nan_vec(start + 1);
    let mut sa = ema_into(&x[..=start], 0, n, k, &mut e1);
    let mut sb = LinearState::new(e1[n - 1..=start].iter().sum::<f64>() / n as f64);
    let a = e1[start];
    out[start] = (2.0 * a) - sb.value();
    let mut e1 = [0.0; CHUNK];
    for (xs, out) in x[start + 1..]
        .chunks(CHUNK)
        .zip(out[start + 1..].chunks_mut(CHUNK))
    {
        sa.feed(&lin, xs, |i, y| e1[i] = y);
        let e1 = &e1[..xs.len()];
        sb.feed(&lin, e1, |i, y| out[i] = (2.0 * e1[i]) - y);
    }
    out
}
