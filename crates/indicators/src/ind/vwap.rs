//! VWAP — Σ(typical·volume)/Σvolume with typical = (h + l + c)/3, reset at each IST trading
//! session (calendar day in India) when bar times are known, cumulative otherwise.
use crate::Indicator;
use crate::core::Bar;

/// IST offset from UTC in seconds.
pub const IST_OFFSET_SECS: i64 = 19_800;

/// The IST calendar day number of an epoch-seconds instant.
#[inline]
pub fn ist_day(t: i64) -> i64 {
    (t + IST_OFFSET_SECS).div_euclid(86_400)
}

#[derive(Debug, Clone)]
pub struct Vwap {
    day: Option<i64>,
    pv: f64,
    v: f64,
}

impl Default for Vwap {
    fn default() -> Self {
        Self::new()
    }
}

impl Vwap {
    pub fn new() -> Self {
        Vwap {
            day: None,
            pv: 0.0,
            v: 0.0,
        }
    }
    #[inline]
    pub fn next(&mut self, time: Option<i64>, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        if let Some(t) = time {
            let d = ist_day(t);
            if self.day != Some(d) {
                self.day = Some(d);
                self.pv = 0.0;
                self.v = 0.0;
            }
        }
        let typical = (high + low + close) / 3.0;
        self.pv += typical * volume;
        self.v += volume;
        if self.v == 0.0 {
            f64::NAN
        } else {
            self.pv / self.v
        }
    }
}

impl Indicator for Vwap {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.time, bar.high, bar.low, bar.close, bar.volume);
    }
    fn reset(&mut self) {
        *self = Vwap::new();
    }
}

pub fn vwap(
    time: Option<&[i64]>,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
) -> Vec<f64> {
    let mut s = Vwap::new();
    (0..close.len())
        .map(|i| s.next(time.map(|t| t[i]), high[i], low[i], close[i], volume[i]))
        .collect()
}
