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
            e1: EmaCore::stepwise(length),
            e2: EmaCore::stepwise(length),
            e3: EmaCore::stepwise(length),
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
    crate::simd::dispatch!(tema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn tema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{Column, ema_chain_seed, ema_k, ema_step};
    let n = length.max(1);
    let (k, omk) = (ema_k(n), 1.0 - ema_k(n));
    let len = x.len();
    let start = 3 * (n - 1);
    let mut out = Column::new(len);
    if start >= len {
        return out.finish();
    }
    // The seeding phases, as the stream's.
    let [mut a, mut b, mut c] = ema_chain_seed::<A, 3>(x, n, k);
    out.nan_to(start);
    out.push(c + ((3.0 * a) - (3.0 * b)));
    // Then the three EMAs in one pass, one step each per bar: three one-multiply-one-add
    // chains side by side (what depends on what within a bar is not carried from bar to bar),
    // each value written once. Measured in one process against the three chunked passes of
    // four-step blocks it replaced: 0.70 of their time (PPO's one pass: 0.54 of its old time).
    out.extend_with(x[start + 1..].iter().map(move |&v| {
        a = ema_step::<A>(a, v, k, omk);
        b = ema_step::<A>(b, a, k, omk);
        c = ema_step::<A>(c, b, k, omk);
        c + ((3.0 * a) - (3.0 * b))
    }));
    out.finish()
}
