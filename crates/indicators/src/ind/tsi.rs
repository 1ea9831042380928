//! TSI — True Strength Index: 100 · EMA(EMA(d, slow), fast) / EMA(EMA(|d|, slow), fast),
//! d = close − previous close (EMAs as TA-Lib's, SMA-seeded); signal = EMA(tsi, signal).
use crate::Indicator;
use crate::core::{Bar, EmaCore};

#[derive(Debug, Clone)]
pub struct Tsi {
    params: (usize, usize, usize),
    prev: f64,
    started: bool,
    num1: EmaCore,
    num2: EmaCore,
    den1: EmaCore,
    den2: EmaCore,
    signal: EmaCore,
}

impl Tsi {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        Tsi {
            params: (fast, slow, signal),
            prev: f64::NAN,
            started: false,
            num1: EmaCore::new(slow),
            num2: EmaCore::new(fast),
            den1: EmaCore::new(slow),
            den2: EmaCore::new(fast),
            signal: EmaCore::new(signal),
        }
    }
    /// (tsi, signal)
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> (f64, f64) {
        if !self.started {
            self.started = true;
            self.prev = x;
            return (f64::NAN, f64::NAN);
        }
        let d = x - self.prev;
        self.prev = x;
        let n1 = self.num1.next(d);
        let a1 = self.den1.next(d.abs());
        if !self.num1.is_ready() {
            return (f64::NAN, f64::NAN);
        }
        let n2 = self.num2.next(n1);
        let a2 = self.den2.next(a1);
        if !self.num2.is_ready() {
            return (f64::NAN, f64::NAN);
        }
        let tsi = if a2 == 0.0 { f64::NAN } else { 100.0 * n2 / a2 };
        let sig = self.signal.next(tsi);
        (tsi, sig)
    }
}

impl Indicator for Tsi {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (t, s) = self.next(bar.close);
        out[0] = t;
        out[1] = s;
    }
    fn reset(&mut self) {
        let (f, s, g) = self.params;
        *self = Tsi::new(f, s, g);
    }
}

pub fn tsi(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 2] {
    crate::simd::dispatch!(any tsi_in(
        x: &[f64],
        fast: usize,
        slow: usize,
        signal: usize,
    ) -> [Vec<f64>; 2])
}

/// The stream's own steps, in its arithmetic.
#[inline(always)]
fn tsi_in(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 2] {
    let mut s = Tsi::new(fast, slow, signal);
    let (mut a, mut b) = (Vec::with_capacity(x.len()), Vec::with_capacity(x.len()));
    for &v in x {
        let (t, g) = s.next(v);
        a.push(t);
        b.push(g);
    }
    [a, b]
}
