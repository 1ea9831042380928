//! STOCH — TA-Lib STOCH: fast %K over `k` bars, slow %K = SMA(fast %K, smooth_k),
//! %D = SMA(slow %K, d). Both outputs start once %D is defined (TA-Lib's alignment).
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column, RollingExtreme, SmaCore, for_each_high_low};

#[derive(Debug, Clone)]
pub struct StochCore {
    k: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
    slow_k: SmaCore,
    slow_d: SmaCore,
    seen: usize,
}

impl StochCore {
    pub fn new(k: usize, d: usize, smooth_k: usize) -> Self {
        let k = k.max(1);
        StochCore {
            k,
            hi: RollingExtreme::max(k),
            lo: RollingExtreme::min(k),
            slow_k: SmaCore::new(smooth_k),
            slow_d: SmaCore::new(d),
            seen: 0,
        }
    }

    /// Returns (slow %K, %D), NaN until %D is defined.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64) {
        let highest = self.hi.push_value(high);
        let lowest = self.lo.push_value(low);
        self.seen += 1;
        if self.seen < self.k {
            return (f64::NAN, f64::NAN);
        }
        let diff = (highest - lowest) / 100.0;
        let fast_k = if diff == 0.0 {
            0.0
        } else {
            (close - lowest) / diff
        };
        let sk = self.slow_k.next(fast_k);
        if sk.is_nan() && self.seen < self.k + self.slow_k.period() - 1 {
            return (f64::NAN, f64::NAN);
        }
        let sd = self.slow_d.next(sk);
        if self.seen < self.k + self.slow_k.period() + self.slow_d.period() - 2 {
            return (f64::NAN, f64::NAN);
        }
        (sk, sd)
    }

    pub fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
        self.slow_k.reset();
        self.slow_d.reset();
        self.seen = 0;
    }
}

#[derive(Debug, Clone)]
pub struct Stoch(StochCore);

impl Stoch {
    pub fn new(k: usize, d: usize, smooth_k: usize) -> Self {
        Stoch(StochCore::new(k, d, smooth_k))
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64) {
        self.0.next(high, low, close)
    }
}

impl Indicator for Stoch {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (k, d) = self.next(bar.high, bar.low, bar.close);
        out[0] = k;
        out[1] = d;
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

/// (k, d)
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    d: usize,
    smooth_k: usize,
) -> [Vec<f64>; 2] {
    stoch_padded(high, low, close, k, d, smooth_k, 0)
}

/// [`stoch`] with `pad` NaN before the first bar's place (STOCHRSI's RSI warm-up): the
/// columns are `pad` longer, written once.
pub(crate) fn stoch_padded(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    d: usize,
    smooth_k: usize,
    pad: usize,
) -> [Vec<f64>; 2] {
    crate::simd::dispatch!(any stoch_in(
        high: &[f64],
        low: &[f64],
        close: &[f64],
        k: usize,
        d: usize,
        smooth_k: usize,
        pad: usize
    ) -> [Vec<f64>; 2])
}

/// TA-Lib's running-sum mean over `n` values (the stream's [`SmaCore`] order: add the value,
/// the mean is the sum then, take off the value leaving) over a chunk of values at a time:
/// `xs` holds the `n − 1` values before the chunk, then the chunk's. The first `warm` of the
/// chunk's values only enter the sum (fewer than n seen yet); from there, `sums[j]` is the
/// sum before the value leaving is taken off (the mean times n; divided later, in vector
/// code). Returns how many of the chunk's values were warm-up.
#[inline(always)]
fn running_sums(total: &mut f64, xs: &[f64], n: usize, warm: usize, sums: &mut [f64]) {
    let h = n - 1;
    let chunk = &xs[h..];
    for &x in &chunk[..warm] {
        *total += x;
    }
    for ((s, &x), &old) in sums[warm..chunk.len()]
        .iter_mut()
        .zip(&chunk[warm..])
        .zip(&xs[warm..])
    {
        *total += x;
        *s = *total;
        *total -= old;
    }
}

/// One SMA over a chunk ([`running_sums`]): `xs` holds the `n − 1` values before the chunk,
/// then its values; `seen` counts the values before it. The means of the windows that end in
/// the chunk go to `means` from its start (`sums` is scratch). Returns how many of the chunk's
/// values were warm-up (no mean yet).
#[inline(always)]
fn sma_stage(
    total: &mut f64,
    seen: &mut usize,
    xs: &[f64],
    n: usize,
    sums: &mut [f64],
    means: &mut [f64],
) -> usize {
    let c = xs.len() + 1 - n;
    let warm = (n - 1).saturating_sub(*seen).min(c);
    *seen += c;
    running_sums(total, xs, n, warm, &mut sums[..c]);
    let nf = n as f64;
    for (m, &s) in means.iter_mut().zip(&sums[warm..c]) {
        *m = s / nf;
    }
    warm
}

/// The batch's state between chunks.
struct Batch<'a> {
    close: &'a [f64],
    smooth_k: usize,
    d: usize,
    /// Fast %K: the last `smooth_k − 1` values, then the chunk's.
    fast: Vec<f64>,
    /// Slow %K: the last `d − 1` values, then the chunk's.
    slow: Vec<f64>,
    /// The highest highs and lowest lows of the chunk's bars, the first at bar `first`.
    hb: [f64; CHUNK],
    lb: [f64; CHUNK],
    count: usize,
    first: usize,
    total_k: f64,
    total_d: f64,
    seen_fast: usize,
    seen_slow: usize,
    /// NaN before the first bar (STOCHRSI's RSI warm-up): the columns' positions are the
    /// bars' plus this.
    pad: usize,
    out_k: Column,
    out_d: Column,
}

impl Batch<'_> {
    /// The chunk's bars in passes: fast %K (vector code, its divisions four at a time), the
    /// two running sums (chains of adds), their means (vector code).
    #[inline(always)]
    fn flush(&mut self) {
        let c = self.count;
        let (hk, hd) = (self.smooth_k - 1, self.d - 1);
        let bars = &self.close[self.first..self.first + c];
        for (((f, &h), &l), &cl) in self.fast[hk..hk + c]
            .iter_mut()
            .zip(&self.hb[..c])
            .zip(&self.lb[..c])
            .zip(bars)
        {
            let diff = (h - l) / 100.0;
            *f = if diff == 0.0 { 0.0 } else { (cl - l) / diff };
        }
        if self.seen_fast >= hk && self.seen_slow >= hd {
            self.steady(c);
            return;
        }
        // Slow %K: sums into `hb` (free now), means into `slow` after its history; then %D
        // over the new slow %K values: sums into `lb`, means into `hb`.
        let wk = sma_stage(
            &mut self.total_k,
            &mut self.seen_fast,
            &self.fast[..hk + c],
            self.smooth_k,
            &mut self.hb,
            &mut self.slow[hd..],
        );
        let nk = c - wk;
        let wd = sma_stage(
            &mut self.total_d,
            &mut self.seen_slow,
            &self.slow[..hd + nk],
            self.d,
            &mut self.lb,
            &mut self.hb,
        );
        // Bars before the first %D: NaN in both (TA-Lib's alignment).
        let none = wk + wd;
        self.out_k.nan_to(self.pad + self.first + none);
        self.out_d.nan_to(self.pad + self.first + none);
        self.out_k.extend(&self.slow[hd + wd..hd + nk]);
        self.out_d.extend(&self.hb[..nk - wd]);
        self.fast.copy_within(c..c + hk, 0);
        self.slow.copy_within(nk..nk + hd, 0);
    }

    /// A chunk once both means are warm: the two running sums in one loop, slow %K (its
    /// divisions one at a time) feeding %D's sum at once. Each sum is a chain of an add and a
    /// subtract from bar to bar; side by side the two chains overlap, where one pass after the
    /// other waited for each in turn (the same operations in the same order: the same bits).
    #[inline(always)]
    fn steady(&mut self, c: usize) {
        let (hk, hd) = (self.smooth_k - 1, self.d - 1);
        let (nk, nd) = (self.smooth_k as f64, self.d as f64);
        let (mut tk, mut td) = (self.total_k, self.total_d);
        let fast = &self.fast[..hk + c];
        let slow = &mut self.slow[..hd + c];
        let sums = &mut self.hb[..c];
        for j in 0..c {
            tk += fast[hk + j];
            let sk = tk / nk;
            tk -= fast[j];
            slow[hd + j] = sk;
            td += sk;
            sums[j] = td;
            td -= slow[j];
        }
        (self.total_k, self.total_d) = (tk, td);
        self.seen_fast += c;
        self.seen_slow += c;
        for (m, &s) in self.lb[..c].iter_mut().zip(&self.hb[..c]) {
            *m = s / nd;
        }
        // The bars before the first window (the first chunk's, with no smoothing to warm up).
        self.out_k.nan_to(self.pad + self.first);
        self.out_d.nan_to(self.pad + self.first);
        self.out_k.extend(&self.slow[hd..hd + c]);
        self.out_d.extend(&self.lb[..c]);
        self.fast.copy_within(c..c + hk, 0);
        self.slow.copy_within(c..c + hd, 0);
    }
}

#[inline(always)]
fn stoch_in(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    d: usize,
    smooth_k: usize,
    pad: usize,
) -> [Vec<f64>; 2] {
    let (k, d, smooth_k) = (k.max(1), d.max(1), smooth_k.max(1));
    let len = close.len();
    let mut b = Batch {
        close,
        smooth_k,
        d,
        fast: vec![0.0; smooth_k - 1 + CHUNK],
        slow: vec![0.0; d - 1 + CHUNK],
        hb: [0.0; CHUNK],
        lb: [0.0; CHUNK],
        count: 0,
        first: 0,
        total_k: 0.0,
        total_d: 0.0,
        seen_fast: 0,
        seen_slow: 0,
        pad,
        out_k: Column::output(pad + len),
        out_d: Column::output(pad + len),
    };
    let hl_len = high.len().min(low.len()).min(len);
    // A chunk of bars at a time: their windows' extremes (the block method over the chunk and
    // the k − 1 bars before it: max and min, the same values whatever the slices), then the
    // chunk's passes.
    let mut start = k - 1;
    while start < hl_len {
        let end = (start + CHUNK).min(hl_len);
        let (hb, lb) = (&mut b.hb, &mut b.lb);
        let from = start + 1 - k;
        for_each_high_low(
            &high[from..end],
            &low[from..end],
            k,
            |j, highest, lowest| {
                hb[j + 1 - k] = highest;
                lb[j + 1 - k] = lowest;
            },
        );
        (b.first, b.count) = (start, end - start);
        b.flush();
        start = end;
    }
    [b.out_k.finish(), b.out_d.finish()]
}

#[cfg(test)]
mod tests {
    use super::{Stoch, stoch};
    use crate::ind::stochrsi::{StochRsi, stochrsi};

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// A walk with flat stretches (a zero range: fast %K 0), a NaN and an infinity.
    fn bars(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut h, mut l, mut c) = (vec![], vec![], vec![]);
        let mut x = 100.0;
        for i in 0..n {
            if !(400..430).contains(&i) {
                x += f64::from(u32::try_from((i * 7919) % 97).unwrap_or(0)) * 0.01 - 0.48;
            }
            let r = if (400..430).contains(&i) { 0.0 } else { 0.3 };
            h.push(x + r);
            l.push(x - r);
            c.push(x + r / 2.0);
        }
        c[900] = f64::NAN;
        h[1200] = f64::INFINITY;
        (h, l, c)
    }

    /// Batch == stream bit for bit: short series (warm-up inside the first chunk), and long
    /// ones whose later chunks take the steady pass (both sums in one loop), for smoothings of
    /// 1 (no history) and more, and windows longer than a chunk.
    #[test]
    fn batch_is_the_stream_across_chunks() {
        let (h, l, c) = bars(1500);
        for (k, d, sk) in [
            (14, 3, 3),
            (5, 1, 1),
            (1, 2, 4),
            (3, 7, 1),
            (300, 3, 3),
            (9, 260, 2),
        ] {
            for len in [1500, 1499, 256 + k, k + d + sk, 3] {
                let [gk, gd] = stoch(&h[..len], &l[..len], &c[..len], k, d, sk);
                assert_eq!((gk.len(), gd.len()), (len, len));
                let mut s = Stoch::new(k, d, sk);
                for i in 0..len {
                    let (wk, wd) = s.next(h[i], l[i], c[i]);
                    assert!(same(gk[i], wk), "{k},{d},{sk} len {len} %K at {i}");
                    assert!(same(gd[i], wd), "{k},{d},{sk} len {len} %D at {i}");
                }
            }
        }
    }

    /// STOCHRSI's columns: the RSI warm-up as NaN, then the stream's values.
    #[test]
    fn stochrsi_batch_is_the_stream() {
        let (_, _, c) = bars(1500);
        for (n, r, k, d) in [(14, 14, 3, 3), (5, 3, 1, 1), (20, 1, 2, 5)] {
            let [gk, gd] = stochrsi(&c, n, r, k, d);
            assert_eq!((gk.len(), gd.len()), (c.len(), c.len()));
            let mut s = StochRsi::new(n, r, k, d);
            for (i, &x) in c.iter().enumerate() {
                let (wk, wd) = s.next(x);
                assert!(same(gk[i], wk), "{n},{r},{k},{d} %K at {i}");
                assert!(same(gd[i], wd), "{n},{r},{k},{d} %D at {i}");
            }
        }
    }
}
