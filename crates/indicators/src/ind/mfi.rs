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
        let flow = tp * volume;
        if change < 0.0 {
            self.neg[self.idx] = flow;
            self.neg_sum += flow;
            self.pos[self.idx] = 0.0;
        } else if change > 0.0 {
            self.pos[self.idx] = flow;
            self.pos_sum += flow;
            self.neg[self.idx] = 0.0;
        } else {
            self.pos[self.idx] = 0.0;
            self.neg[self.idx] = 0.0;
        }
        self.idx = (self.idx + 1) % self.n;
        if i < self.n {
            return f64::NAN;
        }
        let total = self.pos_sum + self.neg_sum;
        if total < 1.0 {
            0.0
        } else {
            (100.0 * (self.pos_sum / total)).clamp(0.0, 100.0)
        }
    }
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
    let mut out = crate::core::nan_vec(len);
    if len <= n {
        return out;
    }
    let (mut pos, mut neg) = (vec![0.0; len], vec![0.0; len]);
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    let mut prev = (high[0] + low[0] + close[0]) / 3.0;
    for i in 1..len {
        if i > n {
            pos_sum -= pos[i - n];
            neg_sum -= neg[i - n];
        }
        let tp = (high[i] + low[i] + close[i]) / 3.0;
        let change = tp - prev;
        prev = tp;
        let flow = tp * volume[i];
        if change < 0.0 {
            neg[i] = flow;
            neg_sum += flow;
        } else if change > 0.0 {
            pos[i] = flow;
            pos_sum += flow;
        }
        if i >= n {
            let total = pos_sum + neg_sum;
            out[i] = if total < 1.0 {
                0.0
            } else {
                (100.0 * (pos_sum / total)).clamp(0.0, 100.0)
            };
        }
    }
    out
}
