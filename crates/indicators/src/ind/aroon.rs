//! AROON — TA-Lib AROON (up, down over `length + 1` bars, ties to the most recent bar) and
//! AROONOSC (oscillator).
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, for_each_arg_high_low};

#[derive(Debug, Clone)]
pub struct Aroon {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Aroon {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Aroon {
            n,
            hi: RollingExtreme::max(n + 1),
            lo: RollingExtreme::min(n + 1),
        }
    }
    /// (up, down, oscillator)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> (f64, f64, f64) {
        let hi = self.hi.push(high);
        let lo = self.lo.push(low);
        let today = self.hi.count() - 1;
        let (Some((_, hi_idx)), Some((_, lo_idx))) = (hi, lo) else {
            return (f64::NAN, f64::NAN, f64::NAN);
        };
        if (today as usize) < self.n {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let n = self.n as i64;
        let factor = 100.0 / self.n as f64;
        let up = factor * (n - (today as i64 - hi_idx as i64)) as f64;
        let down = factor * (n - (today as i64 - lo_idx as i64)) as f64;
        let osc = factor * (hi_idx as i64 - lo_idx as i64) as f64;
        (up, down, osc)
    }
}

impl Indicator for Aroon {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (u, d, o) = self.next(bar.high, bar.low);
        out[0] = u;
        out[1] = d;
        out[2] = o;
    }
    fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
    }
}

/// (up, down, oscillator)
pub fn aroon(high: &[f64], low: &[f64], length: usize) -> [Vec<f64>; 3] {
    use crate::core::{CHUNK, Column};
    const NONE: usize = usize::MAX;
    let n = length.max(1);
    let len = high.len().min(low.len());
    let mut out: [Column; 3] = std::array::from_fn(|_| Column::new(high.len()));
    if len <= n {
        return out.map(Column::finish);
    }
    let factor = 100.0 / n as f64;
    let ni = n as i64;
    for c in &mut out {
        c.nan_to(n);
    }
    // The extremes' places a chunk at a time into buffers that stay in L1, then the chunk's
    // three columns appended from them (each value written once, no NaN fill first).
    let (mut hb, mut lb) = ([0usize; CHUNK], [0usize; CHUNK]);
    let mut m = 0;
    let flush = |out: &mut [Column; 3], hb: &[usize], lb: &[usize], first: usize| {
        let [up, down, osc] = out;
        let rows = || hb.iter().zip(lb).zip(first..);
        let none = |h: usize, l: usize| h == NONE || l == NONE;
        up.extend_with(rows().map(|((&h, &l), t)| {
            if none(h, l) {
                f64::NAN
            } else {
                factor * (ni - (t as i64 - h as i64)) as f64
            }
        }));
        down.extend_with(rows().map(|((&h, &l), t)| {
            if none(h, l) {
                f64::NAN
            } else {
                factor * (ni - (t as i64 - l as i64)) as f64
            }
        }));
        osc.extend_with(rows().map(|((&h, &l), _)| {
            if none(h, l) {
                f64::NAN
            } else {
                factor * (h as i64 - l as i64) as f64
            }
        }));
    };
    for_each_arg_high_low(high, low, n + 1, |i, h, l| {
        hb[m] = h;
        lb[m] = l;
        m += 1;
        if m == CHUNK {
            flush(&mut out, &hb, &lb, i + 1 - CHUNK);
            m = 0;
        }
    });
    flush(&mut out, &hb[..m], &lb[..m], len - m);
    out.map(Column::finish)
}
