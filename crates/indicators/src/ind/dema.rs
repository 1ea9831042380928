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
            e1: EmaCore::stepwise(length),
            e2: EmaCore::stepwise(length),
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
    crate::simd::dispatch!(dema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn dema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{Column, ema_chain_seed, ema_k, ema_step};
    let n = length.max(1);
    let (k, omk) = (ema_k(n), 1.0 - ema_k(n));
    let len = x.len();
    let start = 2 * (n - 1);
    let mut out = Column::new(len);
    if start >= len {
        return out.finish();
    }
    // The seeding phases, as the stream's.
    let [mut a, mut b] = ema_chain_seed::<A, 2>(x, n, k);
    out.nan_to(start);
    out.push((2.0 * a) - b);
    // Then both EMAs in one pass, one step each per bar: two one-multiply-one-add chains side
    // by side, each value written once.
    out.extend_with(x[start + 1..].iter().map(move |&v| {
        a = ema_step::<A>(a, v, k, omk);
        b = ema_step::<A>(b, a, k, omk);
        (2.0 * a) - b
    }));
    out.finish()
}
