//! SUPERTREND — bands hl2 ± multiplier·ATR(length) (TA-Lib ATR, Wilder), carried the usual way:
//! the upper band only falls unless the previous close broke above it, the lower band only rises
//! unless the previous close broke below it. Direction starts up (+1) and flips when the close
//! crosses the active band of the previous bar; the value is the active band (lower when up).
use super::atr::Atr;
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone)]
pub struct Supertrend {
    length: usize,
    mult: f64,
    atr: Atr,
    upper: f64,
    lower: f64,
    dir: f64,
    prev_close: f64,
    started: bool,
}

impl Supertrend {
    pub fn new(length: usize, multiplier: f64) -> Self {
        Supertrend {
            length,
            mult: multiplier,
            atr: Atr::new(length),
            upper: f64::NAN,
            lower: f64::NAN,
            dir: 1.0,
            prev_close: f64::NAN,
            started: false,
        }
    }

    /// (value, direction)
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64) {
        let atr = self.atr.next(high, low, close);
        let prev_close = self.prev_close;
        self.prev_close = close;
        if atr.is_nan() && !self.started {
            return (f64::NAN, f64::NAN);
        }
        let hl2 = (high + low) / 2.0;
        let basic_upper = hl2 + self.mult * atr;
        let basic_lower = hl2 - self.mult * atr;
        if !self.started {
            self.started = true;
            self.upper = basic_upper;
            self.lower = basic_lower;
            self.dir = 1.0;
            return (self.lower, self.dir);
        }
        let (prev_upper, prev_lower) = (self.upper, self.lower);
        self.upper = if basic_upper < prev_upper || prev_close > prev_upper {
            basic_upper
        } else {
            prev_upper
        };
        self.lower = if basic_lower > prev_lower || prev_close < prev_lower {
            basic_lower
        } else {
            prev_lower
        };
        if close > prev_upper {
            self.dir = 1.0;
        } else if close < prev_lower {
            self.dir = -1.0;
        }
        let value = if self.dir > 0.0 {
            self.lower
        } else {
            self.upper
        };
        (value, self.dir)
    }
}

impl Indicator for Supertrend {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (v, d) = self.next(bar.high, bar.low, bar.close);
        out[0] = v;
        out[1] = d;
    }
    fn reset(&mut self) {
        *self = Supertrend::new(self.length, self.mult);
    }
}

/// (value, direction)
pub fn supertrend(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
    multiplier: f64,
) -> [Vec<f64>; 2] {
    crate::simd::dispatch!(any supertrend_in(
        high: &[f64], low: &[f64], close: &[f64], length: usize, multiplier: f64
    ) -> [Vec<f64>; 2])
}

/// The stream's own steps, in its arithmetic.
#[inline(always)]
fn supertrend_in(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
    multiplier: f64,
) -> [Vec<f64>; 2] {
    let mut s = Supertrend::new(length, multiplier);
    let (mut a, mut b) = (
        Vec::with_capacity(close.len()),
        Vec::with_capacity(close.len()),
    );
    for i in 0..close.len() {
        let (v, d) = s.next(high[i], low[i], close[i]);
        a.push(v);
        b.push(d);
    }
    [a, b]
}
