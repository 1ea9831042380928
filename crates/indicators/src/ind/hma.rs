//! HMA — Hull MA: WMA(2·WMA(x, ⌊n/2⌋) − WMA(x, n), ⌊√n⌋) with TA-Lib's WMA.
use crate::Indicator;
use crate::core::{Bar, WmaCore};

#[derive(Debug, Clone)]
pub struct Hma {
    n: usize,
    half: WmaCore,
    full: WmaCore,
    outer: WmaCore,
    seen: usize,
}

impl Hma {
    pub fn new(length: usize) -> Self {
        let n = length.max(2);
        let sqrt = ((n as f64).sqrt().floor() as usize).max(1);
        Hma {
            n,
            half: WmaCore::new(n / 2),
            full: WmaCore::new(n),
            outer: WmaCore::new(sqrt),
            seen: 0,
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let h = self.half.next(x);
        let f = self.full.next(x);
        self.seen += 1;
        if self.seen < self.n {
            return f64::NAN;
        }
        self.outer.next(2.0 * h - f)
    }
}

impl Indicator for Hma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = Hma::new(self.n);
    }
}

pub fn hma(x: &[f64], length: usize) -> Vec<f64> {
    let mut s = Hma::new(length);
    super::map1(x, |v| s.next(v))
}
