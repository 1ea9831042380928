//! CCI — TA-Lib CCI: (tp − mean) / (0.015 × mean deviation) over `length` typical prices.
//! Sums run in TA-Lib's circular-buffer order so results match it to the last bit.
use crate::Indicator;
use crate::core::{Bar, Column};

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
    // Compiled with AVX2 where the CPU has it: 0.47 of the time of the bar-by-bar batch it
    // replaced (prefix sums shared between bars, the deviations one bar after another), in
    // a scratch benchmark on a Zen 5.
    crate::simd::dispatch!(any cci_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64>)
}

/// How many consecutive bars [`lanes`] computes side by side.
const LANES: usize = 8;

/// The CCI of `L` consecutive bars, each lane exactly as the stream computes its bar: TA-Lib's
/// circular buffer (bar `i` in slot `i % n`) summed in slot order, the deviation in
/// [`deviation`]'s four partial sums. `win` holds the typical prices of the first bar's window
/// and the `L − 1` bars after it (`n − 1 + L` values); `d0` is `(−t) mod n` for the first bar
/// `t`. Lane `b` sees slot `s` holding the bar `d` places after the first bar when `b >= d`
/// (the slot was refilled at or before its bar), else the bar `n − d` places before it, where
/// `d = (d0 + s) mod n` (`L <= n`: no slot is refilled twice among the lanes). The lanes'
/// windows are laid out slot by slot in `w` (`n` rows of `L`), then summed row by row: the
/// lanes' chains side by side instead of one bar's after another. (The AVX2 build's
/// [`crate::simd::cci_append`] is this with `L = 8` in registers.)
#[inline(always)]
fn lanes<const L: usize>(win: &[f64], d0: usize, nf: f64, w: &mut [[f64; L]]) -> [f64; L] {
    let n = w.len();
    let (old, new) = win.split_at(n - 1);
    let new = &new[..L];
    let mut d = d0;
    for row in w.iter_mut() {
        let nv = new[d.min(L - 1)];
        let ov = if d == 0 { nv } else { old[d - 1] };
        for (b, v) in row.iter_mut().enumerate() {
            *v = if b >= d { nv } else { ov };
        }
        d = if d + 1 == n { 0 } else { d + 1 };
    }
    let mut sum = [0.0; L];
    for row in w.iter() {
        for b in 0..L {
            sum[b] += row[b];
        }
    }
    let mut avg = [0.0; L];
    for b in 0..L {
        avg[b] = sum[b] / nf;
    }
    let mut dev = [[0.0; L]; 4];
    let mut rows = w.chunks_exact(4);
    for four in &mut rows {
        for k in 0..4 {
            for b in 0..L {
                dev[k][b] += (four[k][b] - avg[b]).abs();
            }
        }
    }
    for (k, row) in rows.remainder().iter().enumerate() {
        for b in 0..L {
            dev[k][b] += (row[b] - avg[b]).abs();
        }
    }
    let mut out = [0.0; L];
    for b in 0..L {
        let dv = (dev[0][b] + dev[1][b]) + (dev[2][b] + dev[3][b]);
        out[b] = ratio(new[b], avg[b], dv, nf);
    }
    out
}

#[inline(always)]
fn cci_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    const STEP: usize = 32 * LANES;
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len());
    let mut out = Column::new(close.len());
    if len >= n {
        let nf = n as f64;
        out.nan_to(n - 1);
        let tp = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
        // A step of bars at a time: their typical prices after the `n − 1` before them (no
        // column of them all), eight bars side by side (AVX2 where the CPU has it, else the
        // portable lanes; windows shorter than eight bar by bar), the step's last bars one by
        // one.
        let mut buf: Vec<f64> = (0..n - 1).map(tp).collect();
        buf.reserve(STEP);
        let (mut w8, mut w1) = (vec![[0.0; LANES]; n], vec![[0.0; 1]; n]);
        let mut t = n - 1;
        while t < len {
            let end = (t + STEP).min(len);
            buf.extend((t..end).map(tp));
            let mut g = 0;
            if let Some(k) = crate::simd::cci_append(&buf, n, t % n, out.values()) {
                (t, g) = (t + k, k);
            }
            while n >= LANES && t + LANES <= end {
                out.extend(&lanes(
                    &buf[g..g + n - 1 + LANES],
                    (n - t % n) % n,
                    nf,
                    &mut w8,
                ));
                (t, g) = (t + LANES, g + LANES);
            }
            while t < end {
                out.push(lanes(&buf[g..g + n], (n - t % n) % n, nf, &mut w1)[0]);
                (t, g) = (t + 1, g + 1);
            }
            buf.drain(..g);
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Cci, cci};
    use crate::simd::{Mode, force_mode};

    /// Batch == stream bit for bit in both arithmetics: windows shorter than the eight lanes,
    /// at eight, longer, and longer than a step of bars; lengths that end inside a group and
    /// at step edges; flat stretches (deviation zero: the value is 0), a NaN and an infinity.
    #[test]
    fn batch_is_the_stream_for_every_window_phase() {
        let n_bars = 1300;
        let mut h = Vec::with_capacity(n_bars);
        let (mut l, mut c) = (h.clone(), h.clone());
        for i in 0..n_bars {
            let x = match i {
                300..340 => 100.0,
                _ => 100.0 + f64::from(u32::try_from((i * 7919) % 97).unwrap_or(0)) * 0.05,
            };
            h.push(x + 0.25);
            l.push(x - 0.25);
            c.push(x);
        }
        c[700] = f64::NAN;
        h[900] = f64::INFINITY;
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for n in [1usize, 5, 7, 8, 9, 13, 20, 33, 257, 300] {
                for len in [n_bars, n_bars - 3, 255 + n, 264 + n, n + 7, n] {
                    let got = cci(&h[..len], &l[..len], &c[..len], n);
                    assert_eq!(got.len(), len);
                    let mut s = Cci::new(n);
                    for i in 0..len {
                        let want = s.next(h[i], l[i], c[i]);
                        assert_eq!(
                            got[i].to_bits(),
                            want.to_bits(),
                            "{mode:?} n {n} len {len} at {i}: {} vs {want}",
                            got[i]
                        );
                    }
                }
            }
            let got = cci(&h, &l, &c, 20);
            // An exact flat window (typical price 100, mean 100): deviation zero, TA-Lib's 0.
            assert_eq!(got[339], 0.0, "flat window");
            assert!(got[700].is_nan() && got[719].is_nan() && got[720].is_finite());
            force_mode(None);
        }
    }
}
