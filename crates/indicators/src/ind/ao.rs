//! AO — Awesome Oscillator: SMA(hl2, fast) − SMA(hl2, slow), hl2 = (high + low) / 2.
use crate::Indicator;
use crate::core::{Bar, SmaCore};

#[derive(Debug, Clone)]
pub struct Ao {
    fast: SmaCore,
    slow: SmaCore,
}

impl Ao {
    pub fn new(fast: usize, slow: usize) -> Self {
        Ao {
            fast: SmaCore::new(fast),
            slow: SmaCore::new(slow),
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> f64 {
        let hl2 = (high + low) / 2.0;
        self.fast.next(hl2) - self.slow.next(hl2)
    }
}

impl Indicator for Ao {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low);
    }
    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
    }
}

pub fn ao(high: &[f64], low: &[f64], fast: usize, slow: usize) -> Vec<f64> {
    let mut s = Ao::new(fast, slow);
    (0..high.len()).map(|i| s.next(high[i], low[i])).collect()
}
