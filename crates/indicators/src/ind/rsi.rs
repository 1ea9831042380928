//! RSI — TA-Lib RSI (Wilder smoothing seeded with the mean of the first n changes) × scalar/100.
use crate::Indicator;
use crate::core::{Bar, is_zero};

#[derive(Debug, Clone)]
pub struct Rsi {
    n: usize,
    factor: f64,
    count: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    pub fn new(length: usize, scalar: f64) -> Self {
        Rsi {
            n: length.max(1),
            factor: scalar / 100.0,
            count: 0,
            prev: f64::NAN,
            gain: 0.0,
            loss: 0.0,
        }
    }

    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let n = self.n as f64;
        if self.count == 0 {
            self.count = 1;
            self.prev = x;
            return f64::NAN;
        }
        let diff = x - self.prev;
        self.prev = x;
        if self.count <= self.n {
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.count += 1;
            if self.count <= self.n {
                return f64::NAN;
            }
            self.loss /= n;
            self.gain /= n;
        } else {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.loss /= n;
            self.gain /= n;
        }
        let total = self.gain + self.loss;
        let v = if is_zero(total) {
            0.0
        } else {
            100.0 * (self.gain / total)
        };
        v * self.factor
    }
}

impl Indicator for Rsi {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = Rsi {
            count: 0,
            prev: f64::NAN,
            gain: 0.0,
            loss: 0.0,
            ..*self
        };
    }
}

pub fn rsi(x: &[f64], length: usize, scalar: f64) -> Vec<f64> {
    let n = length.max(1);
    let mut out = crate::core::nan_vec(x.len());
    if x.len() <= n {
        return out;
    }
    let nf = n as f64;
    let factor = scalar / 100.0;
    let (mut gain, mut loss) = (0.0, 0.0);
    let mut prev = x[0];
    for &v in &x[1..=n] {
        let d = v - prev;
        prev = v;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= nf;
    gain /= nf;
    let value = |gain: f64, loss: f64| {
        let t = gain + loss;
        (if is_zero(t) { 0.0 } else { 100.0 * (gain / t) }) * factor
    };
    out[n] = value(gain, loss);
    for (o, &v) in out[n + 1..].iter_mut().zip(&x[n + 1..]) {
        let d = v - prev;
        prev = v;
        loss *= nf - 1.0;
        gain *= nf - 1.0;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
        loss /= nf;
        gain /= nf;
        *o = value(gain, loss);
    }
    out
}
