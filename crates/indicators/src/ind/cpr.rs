//! CPR — central pivot range from the previous session's high, low and close: pivot, bc, tc,
//! r1–r3, s1–s3. Sessions are IST calendar days when bar times are known; without times every
//! bar is its own session (use daily bars).
use super::vwap::ist_day;
use crate::Indicator;
use crate::core::Bar;

pub const OUTPUTS: usize = 9;

#[derive(Debug, Clone, Default)]
pub struct Cpr {
    day: Option<i64>,
    cur: Option<(f64, f64, f64)>,
    prev: Option<(f64, f64, f64)>,
}

/// The nine levels from one session's (high, low, close).
pub fn levels(h: f64, l: f64, c: f64) -> [f64; OUTPUTS] {
    let p = (h + l + c) / 3.0;
    let bc = (h + l) / 2.0;
    let tc = 2.0 * p - bc;
    [
        p,
        bc,
        tc,
        2.0 * p - l,
        p + (h - l),
        h + 2.0 * (p - l),
        2.0 * p - h,
        p - (h - l),
        l - 2.0 * (h - p),
    ]
}

impl Cpr {
    pub fn new() -> Self {
        Cpr::default()
    }
    /// [pivot, bc, tc, r1, r2, r3, s1, s2, s3]
    #[inline]
    pub fn next(&mut self, time: Option<i64>, high: f64, low: f64, close: f64) -> [f64; OUTPUTS] {
        let new_session = match time {
            Some(t) => {
                let d = ist_day(t);
                let changed = self.day != Some(d);
                self.day = Some(d);
                changed
            }
            None => true,
        };
        if new_session {
            if self.cur.is_some() {
                self.prev = self.cur;
            }
            self.cur = Some((high, low, close));
        } else if let Some((h, l, _)) = self.cur {
            self.cur = Some((h.max(high), l.min(low), close));
        }
        match self.prev {
            Some((h, l, c)) => levels(h, l, c),
            None => [f64::NAN; OUTPUTS],
        }
    }
}

impl Indicator for Cpr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..OUTPUTS].copy_from_slice(&self.next(bar.time, bar.high, bar.low, bar.close));
    }
    fn reset(&mut self) {
        *self = Cpr::new();
    }
}

pub fn cpr(time: Option<&[i64]>, high: &[f64], low: &[f64], close: &[f64]) -> [Vec<f64>; OUTPUTS] {
    let mut s = Cpr::new();
    let mut out: [Vec<f64>; OUTPUTS] = std::array::from_fn(|_| Vec::with_capacity(close.len()));
    for i in 0..close.len() {
        let r = s.next(time.map(|t| t[i]), high[i], low[i], close[i]);
        for (o, v) in out.iter_mut().zip(r) {
            o.push(v);
        }
    }
    out
}
