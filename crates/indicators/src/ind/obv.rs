//! OBV — TA-Lib OBV: starts at the first volume, adds volume on up closes, subtracts on down.
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone)]
pub struct Obv {
    started: bool,
    prev_close: f64,
    obv: f64,
}

impl Default for Obv {
    fn default() -> Self {
        Self::new()
    }
}

impl Obv {
    pub fn new() -> Self {
        Obv {
            started: false,
            prev_close: f64::NAN,
            obv: 0.0,
        }
    }
    #[inline]
    pub fn next(&mut self, close: f64, volume: f64) -> f64 {
        if !self.started {
            self.started = true;
            self.obv = volume;
        } else if close > self.prev_close {
            self.obv += volume;
        } else if close < self.prev_close {
            self.obv -= volume;
        }
        self.prev_close = close;
        self.obv
    }
}

impl Indicator for Obv {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close, bar.volume);
    }
    fn reset(&mut self) {
        *self = Obv::new();
    }
}

pub fn obv(close: &[f64], volume: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; close.len()];
    if close.is_empty() {
        return out;
    }
    let mut obv = volume[0];
    out[0] = obv;
    let mut prev = close[0];
    for ((o, &c), &v) in out[1..].iter_mut().zip(&close[1..]).zip(&volume[1..]) {
        if c > prev {
            obv += v;
        } else if c < prev {
            obv -= v;
        }
        prev = c;
        *o = obv;
    }
    out
}
