//! STOCHRSI — STOCH applied to RSI(rsi_length) as high = low = close, with fastk = length,
//! slowk = k, slowd = d.
use super::rsi::Rsi;
use super::stoch::StochCore;
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone)]
pub struct StochRsi {
    rsi: Rsi,
    stoch: StochCore,
    rsi_length: usize,
    seen: usize,
}

impl StochRsi {
    pub fn new(length: usize, rsi_length: usize, k: usize, d: usize) -> Self {
        let rsi_length = rsi_length.max(1);
        StochRsi {
            rsi: Rsi::new(rsi_length, 100.0),
            stoch: StochCore::new(length, d, k),
            rsi_length,
            seen: 0,
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64) {
        let r = self.rsi.next(x);
        self.seen += 1;
        if self.seen <= self.rsi_length {
            return (f64::NAN, f64::NAN);
        }
        self.stoch.next(r, r, r)
    }
}

impl Indicator for StochRsi {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (k, d) = self.next(bar.close);
        out[0] = k;
        out[1] = d;
    }
    fn reset(&mut self) {
        self.rsi.reset();
        self.stoch.reset();
        self.seen = 0;
    }
}

pub fn stochrsi(x: &[f64], length: usize, rsi_length: usize, k: usize, d: usize) -> [Vec<f64>; 2] {
    let rsi_length = rsi_length.max(1);
    let r = super::rsi::rsi(x, rsi_length, 100.0);
    if r.len() <= rsi_length {
        return [crate::core::nan_vec(x.len()), crate::core::nan_vec(x.len())];
    }
    let tail = &r[rsi_length..];
    // Written once: the stoch columns start with the RSI's warm-up as NaN.
    super::stoch::stoch_padded(tail, tail, tail, length, d, k, rsi_length)
}
