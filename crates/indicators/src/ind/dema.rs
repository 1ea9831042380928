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
    crate::simd::dispatch!(dema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn dema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{CHUNK, Column};
    let n = length.max(1);
    let len = x.len();
    let start = (2 * (n - 1)).min(len);
    let mut out = Column::new(len);
    // The seeding phases through the stream itself, then a chunk at a time in L1: each EMA
    // over the whole chunk ([`EmaCore::feed_into`], vector blocks of eight), then the values.
    let mut s = Dema::new(n);
    out.extend_with(x[..start].iter().map(|&v| s.next(v)));
    let (mut b1, mut b2) = ([0.0; CHUNK], [0.0; CHUNK]);
    for xs in x[start..].chunks(CHUNK) {
        let (b1, b2) = (&mut b1[..xs.len()], &mut b2[..xs.len()]);
        s.e1.feed_into::<A>(xs, b1);
        s.e2.feed_into::<A>(b1, b2);
        for (b, &a) in b2.iter_mut().zip(&*b1) {
            *b = (2.0 * a) - *b;
        }
        out.extend(b2);
    }
    out.finish()
}
