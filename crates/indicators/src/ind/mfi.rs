//! MFI — TA-Lib MFI: money flow (typical price × volume) split by the typical price's direction,
//! summed over `length` bars; 0 when the total flow is below 1, and kept in [0, 100] as TA-Lib
//! keeps it (flows of negative typical prices can otherwise push the ratio outside).
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone)]
pub struct Mfi {
    n: usize,
    pos: Box<[f64]>,
    neg: Box<[f64]>,
    idx: usize,
    seen: usize,
    prev_tp: f64,
    pos_sum: f64,
    neg_sum: f64,
}

impl Mfi {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Mfi {
            n,
            pos: vec![0.0; n].into_boxed_slice(),
            neg: vec![0.0; n].into_boxed_slice(),
            idx: 0,
            seen: 0,
            prev_tp: f64::NAN,
            pos_sum: 0.0,
            neg_sum: 0.0,
        }
    }

    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let i = self.seen;
        self.seen += 1;
        let tp = (high + low + close) / 3.0;
        if i == 0 {
            self.prev_tp = tp;
            return f64::NAN;
        }
        if i > self.n {
            self.pos_sum -= self.pos[self.idx];
            self.neg_sum -= self.neg[self.idx];
        }
        let change = tp - self.prev_tp;
        self.prev_tp = tp;
        let (p, q) = split(change, tp * volume);
        (self.pos[self.idx], self.neg[self.idx]) = (p, q);
        self.pos_sum += p;
        self.neg_sum += q;
        self.idx = (self.idx + 1) % self.n;
        if i < self.n {
            return f64::NAN;
        }
        value(self.pos_sum, self.neg_sum)
    }
}

/// A bar's money flow as (positive, negative): all of it on the side the typical price moved
/// to, 0 on the other (both 0 when it did not move, or moved by NaN). Selects, not branches (the
/// data decides: a branch would be mispredicted half the time); the sums add the 0 too, which
/// changes no sum.
#[inline(always)]
fn split(change: f64, flow: f64) -> (f64, f64) {
    (
        if change > 0.0 { flow } else { 0.0 },
        if change < 0.0 { flow } else { 0.0 },
    )
}

/// MFI from the window's sums: 0 when the total flow is below 1, else 100·pos/total in [0, 100].
#[inline(always)]
fn value(pos_sum: f64, neg_sum: f64) -> f64 {
    let total = pos_sum + neg_sum;
    let v = (100.0 * (pos_sum / total)).clamp(0.0, 100.0);
    if total < 1.0 { 0.0 } else { v }
}

impl Indicator for Mfi {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close, bar.volume);
    }
    fn reset(&mut self) {
        *self = Mfi::new(self.n);
    }
}

pub fn mfi(high: &[f64], low: &[f64], close: &[f64], volume: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len();
    let mut out = crate::core::Column::new(len);
    if len <= n {
        return out.finish();
    }
    // The last n bars' flows in rings (the stream's arithmetic; no series-sized scratch).
    let (mut pos, mut neg) = (vec![0.0; n], vec![0.0; n]);
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    let mut prev = (high[0] + low[0] + close[0]) / 3.0;
    let mut k = 0;
    out.nan_to(1);
    for i in 1..len {
        if i > n {
            pos_sum -= pos[k];
            neg_sum -= neg[k];
        }
        let tp = (high[i] + low[i] + close[i]) / 3.0;
        let change = tp - prev;
        prev = tp;
        let (p, q) = split(change, tp * volume[i]);
        (pos[k], neg[k]) = (p, q);
        pos_sum += p;
        neg_sum += q;
        k += 1;
        if k == n {
            k = 0;
        }
        if i >= n {
            out.push(value(pos_sum, neg_sum));
        } else {
            out.push(f64::NAN);
        }
    }
    out.finish()
}
