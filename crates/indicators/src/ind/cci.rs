//! CCI — TA-Lib CCI: (tp − mean) / (0.015 × mean deviation) over `length` typical prices.
//! Sums run in TA-Lib's circular-buffer order so results match it to the last bit.
use crate::Indicator;
use crate::core::{Bar, CHUNK};

#[derive(Debug, Clone)]
pub struct Cci {
    n: usize,
    buf: Box<[f64]>,
    count: usize,
}

impl Cci {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Cci {
            n,
            buf: vec![0.0; n].into_boxed_slice(),
            count: 0,
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let tp = (high + low + close) / 3.0;
        let pos = self.count % self.n;
        self.buf[pos] = tp;
        self.count += 1;
        if self.count < self.n {
            return f64::NAN;
        }
        let mut sum = 0.0;
        for v in &self.buf {
            sum += v;
        }
        value(tp, sum, &self.buf)
    }
}

/// Σ |v − avg| over the window in four interleaved partial sums, `(s0 + s1) + (s2 + s3)`: four
/// short chains instead of one long one. The terms are non-negative, so the order moves the
/// result by an ulp or two at most (the mean, whose difference from `tp` can cancel, keeps
/// TA-Lib's exact order).
#[inline(always)]
fn deviation(buf: &[f64], avg: f64) -> f64 {
    let mut s = [0.0; 4];
    let mut chunks = buf.chunks_exact(4);
    for c in &mut chunks {
        for k in 0..4 {
            s[k] += (c[k] - avg).abs();
        }
    }
    for (k, v) in chunks.remainder().iter().enumerate() {
        s[k] += (v - avg).abs();
    }
    (s[0] + s[1]) + (s[2] + s[3])
}

/// CCI of the window `buf` (TA-Lib's circular buffer) whose values sum to `sum`, at typical
/// price `tp`.
#[inline(always)]
fn value(tp: f64, sum: f64, buf: &[f64]) -> f64 {
    let nf = buf.len() as f64;
    let avg = sum / nf;
    ratio(tp, avg, deviation(buf, avg), nf)
}

/// The CCI from the typical price, the window's mean and its deviation sum: a select, so that
/// the batch's last pass is vector code (its divisions four at a time).
#[inline(always)]
fn ratio(tp: f64, avg: f64, dev: f64, nf: f64) -> f64 {
    let num = tp - avg;
    crate::core::select(num != 0.0 && dev != 0.0, num / (0.015 * (dev / nf)), 0.0)
}

impl Indicator for Cci {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        self.count = 0;
    }
}

pub fn cci(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len());
    let mut out = crate::core::nan_vec(close.len());
    if len < n {
        return out;
    }
    let tp: Vec<f64> = (0..len)
        .map(|i| (high[i] + low[i] + close[i]) / 3.0)
        .collect();
    // TA-Lib's circular buffer: the value of bar `i` in slot `i % n`, summed from slot 0 in
    // slot order every bar. A bar changes one slot, k, so the partial sums up to slot k are
    // the previous bar's, exactly: `pre[j]` keeps `((0 + buf[0]) + …) + buf[j − 1]`, and a bar
    // adds from `pre[k]` over slots k.. only (n/2 adds on average instead of n), refreshing
    // `pre` as it goes — the same additions in the same order as TA-Lib's, so the same bits.
    // Consecutive bars' chains overlap (the next starts from the first sum this one stored).
    let mut buf = vec![0.0; n];
    buf[..n - 1].copy_from_slice(&tp[..n - 1]);
    let mut pre = vec![0.0; n + 1];
    for j in 0..n - 1 {
        pre[j + 1] = pre[j] + buf[j];
    }
    let mut k = n - 1;
    let nf = n as f64;
    // A chunk at a time: each bar's sum, mean and deviation in bar order (the buffer changes
    // every bar), then the ratios in vector code (two of the three divisions per bar off the
    // bars' own chains, four at a time).
    let (mut avgs, mut devs) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
    for (os, ts) in out[n - 1..len]
        .chunks_mut(CHUNK)
        .zip(tp[n - 1..].chunks(CHUNK))
    {
        let c = ts.len();
        for ((a, d), &t) in avgs[..c].iter_mut().zip(&mut devs[..c]).zip(ts) {
            buf[k] = t;
            let mut sum = pre[k];
            for (p, &v) in pre[k + 1..].iter_mut().zip(&buf[k..]) {
                sum += v;
                *p = sum;
            }
            *a = sum / nf;
            *d = deviation(&buf, *a);
            k = if k + 1 == n { 0 } else { k + 1 };
        }
        for (((o, &t), &a), &d) in os.iter_mut().zip(ts).zip(&avgs[..c]).zip(&devs[..c]) {
            *o = ratio(t, a, d, nf);
        }
    }
    out
}
