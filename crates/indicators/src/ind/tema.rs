//! TEMA — TA-Lib TEMA: 3·EMA − 3·EMA(EMA) + EMA(EMA(EMA)).
use crate::Indicator;
use crate::core::{Bar, EmaCore};

#[derive(Debug, Clone)]
pub struct Tema {
    e1: EmaCore,
    e2: EmaCore,
    e3: EmaCore,
}

impl Tema {
    pub fn new(length: usize) -> Self {
        Tema {
            e1: EmaCore::new(length),
            e2: EmaCore::new(length),
            e3: EmaCore::new(length),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if !self.e1.is_ready() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        if !self.e2.is_ready() {
            return f64::NAN;
        }
        let c = self.e3.next(b);
        c + ((3.0 * a) - (3.0 * b))
    }
}

impl Indicator for Tema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
        self.e3.reset();
    }
}

pub fn tema(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{CHUNK, Column, Linear, LinearState, ema_into, ema_k, nan_vec};
    let n = length.max(1);
    let k = ema_k(n);
    let lin = Linear::ema(k);
    let len = x.len();
    let start = 3 * (n - 1);
    let mut out = Column::new(len);
    if start >= len {
        return out.finish();
    }
    // The seeding phases over the first `start + 1` values, then all three EMAs in one pass.
    let head = &x[..=start];
    let (mut e1, mut e2) = (nan_vec(start + 1), nan_vec(start + 1));
    let mut sa = ema_into(head, 0, n, k, &mut e1);
    let mut sb = ema_into(&e1, n - 1, n, k, &mut e2);
    let mut sc = LinearState::new(e2[2 * (n - 1)..=start].iter().sum::<f64>() / n as f64);
    let (a, b) = (e1[start], e2[start]);
    out.nan_to(start);
    out.push(sc.value() + ((3.0 * a) - (3.0 * b)));
    let (mut e1, mut e2, mut t) = ([0.0; CHUNK], [0.0; CHUNK], [0.0; CHUNK]);
    for xs in x[start + 1..].chunks(CHUNK) {
        let m = xs.len();
        sa.feed(&lin, xs, |i, y| e1[i] = y);
        sb.feed(&lin, &e1[..m], |i, y| e2[i] = y);
        let (e1, e2) = (&e1[..m], &e2[..m]);
        sc.feed(&lin, e2, |i, c| {
            t[i] = c + ((3.0 * e1[i]) - (3.0 * e2[i]));
        });
        out.extend(&t[..m]);
    }
    out.finish()
}
