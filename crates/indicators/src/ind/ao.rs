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

/// Batch AO: the two running sums of [`SmaCore`] over hl2 in one pass (the same operations in
/// the same order, so equal to the stream bit for bit), no ring buffers.
pub fn ao(high: &[f64], low: &[f64], fast: usize, slow: usize) -> Vec<f64> {
    let (fast, slow) = (fast.max(1), slow.max(1));
    let len = high.len().min(low.len());
    let mut out = crate::core::nan_vec(high.len());
    let hl2 = |i: usize| (high[i] + low[i]) / 2.0;
    let (ff, sf) = (fast as f64, slow as f64);
    let (mut tf, mut ts) = (0.0, 0.0);
    let warm = fast.max(slow) - 1;
    for (i, o) in out.iter_mut().enumerate().take(len.min(warm)) {
        let m = hl2(i);
        tf += m;
        ts += m;
        let f = if i + 1 >= fast {
            let v = tf / ff;
            tf -= hl2(i + 1 - fast);
            v
        } else {
            f64::NAN
        };
        let s = if i + 1 >= slow {
            let v = ts / sf;
            ts -= hl2(i + 1 - slow);
            v
        } else {
            f64::NAN
        };
        *o = f - s;
    }
    for i in warm..len {
        let m = hl2(i);
        tf += m;
        ts += m;
        let f = tf / ff;
        tf -= hl2(i + 1 - fast);
        let s = ts / sf;
        ts -= hl2(i + 1 - slow);
        out[i] = f - s;
    }
    out
}
