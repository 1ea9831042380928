//! WILLR — TA-Lib WILLR: (highest − close) / ((highest − lowest) / −100), 0 on a flat window.
use crate::Indicator;
use crate::core::{Bar, HighLowSink, RollingExtreme, for_each_high_low};

/// TA-Lib's `(highest − close) / ((highest − lowest) / −100)` with one division instead of two
/// (within an ulp or two of it); 0 on a flat window (a select, not a branch).
#[inline(always)]
fn value(highest: f64, lowest: f64, close: f64) -> f64 {
    let range = highest - lowest;
    let v = (-100.0 * (highest - close)) / range;
    if range == 0.0 { 0.0 } else { v }
}

#[derive(Debug, Clone)]
pub struct Willr {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Willr {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Willr {
            n,
            hi: RollingExtreme::max(n),
            lo: RollingExtreme::min(n),
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let highest = self.hi.push_value(high);
        let lowest = self.lo.push_value(low);
        if (self.hi.count() as usize) < self.n {
            return f64::NAN;
        }
        value(highest, lowest, close)
    }
}

impl Indicator for Willr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
    }
}

pub fn willr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    // Compiled with AVX2 where the CPU has it (wider vectors, the same numbers): 0.69-0.84 of the
    // baseline build's time, measured in one process.
    crate::simd::dispatch!(any willr_in(
        high: &[f64],
        low: &[f64],
        close: &[f64],
        length: usize,
    ) -> Vec<f64>)
}

#[inline(always)]
fn willr_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    // Indexed writes into a NaN-filled column: appending from the callback costs a length
    // update through memory per bar, more than the fill (measured: 1.25-1.30x TA-Lib appended).
    // The extremes gathered a block of the method at a time, then mapped to their values with
    // the divisions four at a time: one division a bar, each on its own, bound the kernel
    // (2.48-2.62 ms for 1M bars on a Zen 4, against 2.27-2.45 so; alternating processes, three
    // runs of 8 rounds, most values 2.30-2.41).
    let mut out = crate::core::nan_vec(close.len());
    let n = length.max(1);
    for_each_high_low(
        high,
        low,
        n,
        Block {
            out: &mut out,
            close,
            first: 0,
            m: 0,
            highs: vec![0.0; n],
            lows: vec![0.0; n],
        },
    );
    out
}

/// [`willr_in`]'s sink: a block's extremes, then its values.
struct Block<'a> {
    out: &'a mut [f64],
    close: &'a [f64],
    /// The block's first bar and how many it has so far.
    first: usize,
    m: usize,
    highs: Vec<f64>,
    lows: Vec<f64>,
}

impl HighLowSink for Block<'_> {
    #[inline(always)]
    fn bar(&mut self, i: usize, highest: f64, lowest: f64) {
        if self.m == 0 {
            self.first = i;
        }
        self.highs[self.m] = highest;
        self.lows[self.m] = lowest;
        self.m += 1;
    }
    #[inline(always)]
    fn block_done(&mut self) {
        let (at, m) = (self.first, self.m);
        for (((o, &h), &l), &c) in self.out[at..at + m]
            .iter_mut()
            .zip(&self.highs[..m])
            .zip(&self.lows[..m])
            .zip(&self.close[at..at + m])
        {
            *o = value(h, l, c);
        }
        self.m = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::{Willr, willr};

    /// Batch == stream bit for bit: windows of 1, short, longer than a chunk; lengths shorter
    /// than the window, at it, across chunks; a flat stretch (0), a NaN and an infinity.
    #[test]
    fn batch_is_the_stream_across_chunks() {
        let (mut h, mut l, mut c) = (vec![], vec![], vec![]);
        let mut x = 50.0;
        for i in 0..1400 {
            let flat = (500..540).contains(&i);
            if !flat {
                x += f64::from(u32::try_from((i * 7919) % 89).unwrap_or(0)) * 0.02 - 0.87;
            }
            let r = if flat { 0.0 } else { 0.4 };
            h.push(x + r);
            l.push(x - r);
            c.push(x - r / 3.0);
        }
        c[800] = f64::NAN;
        l[1000] = f64::NEG_INFINITY;
        for n in [1usize, 2, 14, 40, 300] {
            for len in [1400, 1399, 256 + n, n, n.saturating_sub(1), 0] {
                let got = willr(&h[..len], &l[..len], &c[..len], n);
                assert_eq!(got.len(), len);
                let mut s = Willr::new(n);
                for i in 0..len {
                    let want = s.next(h[i], l[i], c[i]);
                    let same =
                        got[i].to_bits() == want.to_bits() || (got[i].is_nan() && want.is_nan());
                    assert!(same, "n {n} len {len} at {i}: {} vs {want}", got[i]);
                }
            }
        }
    }
}
