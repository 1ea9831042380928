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
    use crate::core::Column;
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
    // A block of places at a time. A value depends only on how many bars ago the extremes
    // were (0..=n), so it is looked up in a table of the values computed as the stream computes
    // them (the same bits), its last entry NaN for a window of NaN only; each column is
    // appended from a buffer (each value written once, no NaN fill first). No branch per bar.
    let none = n + 1;
    let by_age: Vec<f64> = (0..=ni)
        .map(|age| factor * (ni - age) as f64)
        .chain([f64::NAN])
        .collect();
    let by_gap: Vec<f64> = (-ni..=ni)
        .map(|gap| factor * gap as f64)
        .chain([f64::NAN])
        .collect();
    let mut bufs = [vec![0.0; n + 1], vec![0.0; n + 1], vec![0.0; n + 1]];
    for_each_arg_high_low(high, low, n + 1, |first, hs, ls| {
        let [ub, db, ob] = &mut bufs;
        for ((((u, d), o), (&h, &l)), t) in ub
            .iter_mut()
            .zip(db.iter_mut())
            .zip(ob.iter_mut())
            .zip(hs.iter().zip(ls))
            .zip(first..)
        {
            // Either window of NaN only. (As `h == MAX || l == MAX` LLVM branched and the
            // whole of AROON took 1.6 times as long.)
            let bad = h.max(l) == usize::MAX;
            let (ah, al) = (t.wrapping_sub(h), t.wrapping_sub(l));
            let (ah, al, gap) = if bad {
                (none, none, 2 * n + 1)
            } else {
                (ah, al, n + al - ah)
            };
            *u = by_age[ah.min(none)];
            *d = by_age[al.min(none)];
            *o = by_gap[gap.min(2 * n + 1)];
        }
        let m = hs.len();
        for (c, b) in out.iter_mut().zip(&bufs) {
            c.extend(&b[..m]);
        }
    });
    out.map(Column::finish)
}
