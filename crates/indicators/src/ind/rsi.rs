//! RSI — TA-Lib RSI (Wilder smoothing seeded with the mean of the first n changes) × scalar/100.
use crate::Indicator;
use crate::core::{Bar, is_zero, wilder_step};

/// A change split into (gain, loss) without a branch: TA-Lib counts `d < 0` as a loss and
/// anything else (including NaN, which then propagates) as a gain.
#[inline(always)]
fn split(d: f64) -> (f64, f64) {
    let neg = d < 0.0;
    (if neg { 0.0 } else { d }, if neg { -d } else { 0.0 })
}

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
            let (up, down) = split(diff);
            let keep = (n - 1.0) / n;
            let inv = 1.0 / n;
            self.loss = wilder_step(self.loss, down, keep, inv);
            self.gain = wilder_step(self.gain, up, keep, inv);
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
    let keep = (nf - 1.0) / nf;
    let inv = 1.0 / nf;
    for (o, &v) in out[n + 1..].iter_mut().zip(&x[n + 1..]) {
        let (up, down) = split(v - prev);
        prev = v;
        loss = wilder_step(loss, down, keep, inv);
        gain = wilder_step(gain, up, keep, inv);
        *o = value(gain, loss);
    }
    out
}
