//! MFI — TA-Lib MFI: money flow (typical price × volume) split by the typical price's direction,
//! summed over `length` bars; 0 when the total flow is below 1, and kept in [0, 100] as TA-Lib
//! keeps it (flows of negative typical prices can otherwise push the ratio outside).
use crate::Indicator;
use crate::core::{Bar, CHUNK};

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
        let tp = typical(high, low, close);
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
    crate::simd::dispatch!(any mfi_in(
        high: &[f64],
        low: &[f64],
        close: &[f64],
        volume: &[f64],
        length: usize
    ) -> Vec<f64>)
}

/// TA-Lib's typical price.
#[inline(always)]
fn typical(high: f64, low: f64, close: f64) -> f64 {
    (high + low + close) / 3.0
}

#[inline(always)]
fn mfi_in(high: &[f64], low: &[f64], close: &[f64], volume: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len()).min(volume.len());
    let mut out = crate::core::Column::new(close.len());
    if len <= n {
        return out.finish();
    }
    // Bars 1..=n fill the window (the stream's arithmetic: sums from zero, in bar order).
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    let mut prev = typical(high[0], low[0], close[0]);
    for i in 1..=n {
        let tp = typical(high[i], low[i], close[i]);
        let (p, q) = split(tp - prev, tp * volume[i]);
        prev = tp;
        pos_sum += p;
        neg_sum += q;
    }
    out.nan_to(n);
    out.push(value(pos_sum, neg_sum));
    // From bar n + 1, a chunk at a time in L1: the flows entering and the flows leaving (bar
    // i − n's, computed again from its prices: the same bits as when it entered, and no
    // window to keep), vector code with its divisions four at a time; then the two sums (the
    // stream's order: take off the leaving flow, add the new); then the values (vector code).
    let (mut tpn, mut tpo) = ([0.0f64; CHUNK + 1], [0.0f64; CHUNK + 1]);
    let (mut pn, mut qn, mut po, mut qo) = (
        [0.0f64; CHUNK],
        [0.0f64; CHUNK],
        [0.0f64; CHUNK],
        [0.0f64; CHUNK],
    );
    let mut start = n + 1;
    while start < len {
        let end = (start + CHUNK).min(len);
        let k = end - start;
        for (((t, &h), &l), &c) in tpn[..=k]
            .iter_mut()
            .zip(&high[start - 1..end])
            .zip(&low[start - 1..end])
            .zip(&close[start - 1..end])
        {
            *t = typical(h, l, c);
        }
        let (os, oe) = (start - n - 1, end - n);
        for (((t, &h), &l), &c) in tpo[..=k]
            .iter_mut()
            .zip(&high[os..oe])
            .zip(&low[os..oe])
            .zip(&close[os..oe])
        {
            *t = typical(h, l, c);
        }
        flows(&tpn[..=k], &volume[start..end], &mut pn[..k], &mut qn[..k]);
        flows(
            &tpo[..=k],
            &volume[start - n..end - n],
            &mut po[..k],
            &mut qo[..k],
        );
        for (((p, q), &p_old), &q_old) in pn[..k]
            .iter_mut()
            .zip(&mut qn[..k])
            .zip(&po[..k])
            .zip(&qo[..k])
        {
            pos_sum = (pos_sum - p_old) + *p;
            neg_sum = (neg_sum - q_old) + *q;
            (*p, *q) = (pos_sum, neg_sum);
        }
        for (p, &q) in pn[..k].iter_mut().zip(&qn[..k]) {
            *p = value(*p, q);
        }
        out.extend(&pn[..k]);
        start = end;
    }
    out.finish()
}

/// The money flows of consecutive bars: `tp` holds one typical price more than `volume` (the
/// bar before the first).
#[inline(always)]
fn flows(tp: &[f64], volume: &[f64], pos: &mut [f64], neg: &mut [f64]) {
    for ((((p, q), &t), &prev), &v) in pos.iter_mut().zip(neg).zip(&tp[1..]).zip(tp).zip(volume) {
        (*p, *q) = split(t - prev, t * v);
    }
}
