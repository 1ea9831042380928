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
    crate::simd::dispatch!(tema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn tema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{CHUNK, Column};
    let n = length.max(1);
    let len = x.len();
    let start = (3 * (n - 1)).min(len);
    let mut out = Column::new(len);
    // The seeding phases through the stream itself, then a chunk at a time in L1: each EMA
    // over the whole chunk ([`EmaCore::feed_into`], vector blocks of eight), then the values.
    let mut s = Tema::new(n);
    out.extend_with(x[..start].iter().map(|&v| s.next(v)));
    let (mut b1, mut b2, mut b3) = ([0.0; CHUNK], [0.0; CHUNK], [0.0; CHUNK]);
    for xs in x[start..].chunks(CHUNK) {
        let k = xs.len();
        let (b1, b2, b3) = (&mut b1[..k], &mut b2[..k], &mut b3[..k]);
        s.e1.feed_into::<A>(xs, b1);
        s.e2.feed_into::<A>(b1, b2);
        s.e3.feed_into::<A>(b2, b3);
        for ((c, &a), &b) in b3.iter_mut().zip(&*b1).zip(&*b2) {
            *c += (3.0 * a) - (3.0 * b);
        }
        out.extend(b3);
    }
    out.finish()
}
