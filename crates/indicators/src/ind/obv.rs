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
        if self.started {
            self.obv += signed(close, self.prev_close, volume);
        } else {
            self.started = true;
            self.obv = volume;
        }
        self.prev_close = close;
        self.obv
    }
}

/// The volume with the close's direction: +v up, −v down, 0 unchanged (or NaN). Adding −v is
/// subtracting v, adding 0 changes nothing: TA-Lib's branches as a select (the data decides
/// them; a branch would be mispredicted half the time).
#[inline(always)]
fn signed(close: f64, prev: f64, volume: f64) -> f64 {
    let down = if close < prev { -volume } else { 0.0 };
    if close > prev { volume } else { down }
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
    let mut out = Vec::with_capacity(close.len());
    let (Some(&c0), Some(&v0)) = (close.first(), volume.first()) else {
        out.resize(close.len(), 0.0);
        return out;
    };
    let mut obv = v0;
    out.push(obv);
    let mut prev = c0;
    // Each value written once.
    out.extend(close[1..].iter().zip(&volume[1..]).map(move |(&c, &v)| {
        obv += signed(c, prev, v);
        prev = c;
        obv
    }));
    out.resize(close.len(), f64::NAN);
    out
}
