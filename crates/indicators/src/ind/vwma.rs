//! VWMA — SMA(close·volume, n) / SMA(volume, n); undefined (NaN) when the volume sum is 0.
use crate::Indicator;
use crate::core::{Bar, SmaCore};

#[derive(Debug, Clone)]
pub struct Vwma {
    pv: SmaCore,
    v: SmaCore,
}

impl Vwma {
    pub fn new(length: usize) -> Self {
        Vwma {
            pv: SmaCore::new(length),
            v: SmaCore::new(length),
        }
    }
    #[inline]
    pub fn next(&mut self, close: f64, volume: f64) -> f64 {
        let a = self.pv.next(close * volume);
        let b = self.v.next(volume);
        if b == 0.0 { f64::NAN } else { a / b }
    }
}

impl Indicator for Vwma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close, bar.volume);
    }
    fn reset(&mut self) {
        self.pv.reset();
        self.v.reset();
    }
}

pub fn vwma(close: &[f64], volume: &[f64], length: usize) -> Vec<f64> {
    let mut s = Vwma::new(length);
    (0..close.len())
        .map(|i| s.next(close[i], volume[i]))
        .collect()
}
