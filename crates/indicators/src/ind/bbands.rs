//! BBANDS — TA-Lib BBANDS with an SMA middle and `std` deviations both ways (TA-Lib's running
//! sum-of-squares deviation); bandwidth = 100·(upper − lower)/middle;
//! percent = (close − lower)/(upper − lower).
use crate::Indicator;
use crate::core::{Bar, Ring};

#[derive(Debug, Clone)]
pub struct Bbands {
    n: usize,
    k: f64,
    window: Ring,
    total: f64,
    total2: f64,
}

impl Bbands {
    pub fn new(length: usize, std: f64) -> Self {
        let n = length.max(1);
        Bbands {
            n,
            k: std,
            window: Ring::new(n),
            total: 0.0,
            total2: 0.0,
        }
    }
    /// (upper, middle, lower, bandwidth, percent)
    #[inline]
    pub fn next(&mut self, x: f64) -> [f64; 5] {
        self.total += x;
        self.total2 += x * x;
        self.window.push(x);
        if self.window.len() < self.n {
            return [f64::NAN; 5];
        }
        let out = bands(x, self.total, self.total2, self.n as f64, self.k);
        let old = self.window.oldest();
        self.total -= old;
        self.total2 -= old * old;
        out
    }
}

impl Indicator for Bbands {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..5].copy_from_slice(&self.next(bar.close));
    }
    fn reset(&mut self) {
        self.window.clear();
        self.total = 0.0;
        self.total2 = 0.0;
    }
}

/// The middle band and the deviation from the window's sums (`total` and `total2` the sums of
/// the values and of their squares over the window), TA-Lib's arithmetic: a select instead of a
/// branch for the flat window, so that the batch's second pass vectorises.
#[inline(always)]
fn mid_dev(total: f64, total2: f64, nf: f64, k: f64) -> (f64, f64) {
    let mid = total / nf;
    let mean2 = total2 / nf - mid * mid;
    let root = mean2.sqrt();
    let sd = if mean2 < 0.000_000_01 { 0.0 } else { root };
    (mid, sd * k)
}

#[inline(always)]
fn bandwidth(mid: f64, dev: f64) -> f64 {
    let width = (mid + dev) - (mid - dev);
    let v = 100.0 * width / mid;
    if mid == 0.0 { f64::NAN } else { v }
}

#[inline(always)]
fn percent(x: f64, mid: f64, dev: f64) -> f64 {
    let lower = mid - dev;
    let width = (mid + dev) - lower;
    let v = (x - lower) / width;
    if width == 0.0 { f64::NAN } else { v }
}

/// The five outputs at one bar: (upper, middle, lower, bandwidth, percent).
#[inline(always)]
fn bands(x: f64, total: f64, total2: f64, nf: f64, k: f64) -> [f64; 5] {
    let (mid, dev) = mid_dev(total, total2, nf, k);
    [
        mid + dev,
        mid,
        mid - dev,
        bandwidth(mid, dev),
        percent(x, mid, dev),
    ]
}

pub fn bbands(x: &[f64], length: usize, std: f64) -> [Vec<f64>; 5] {
    // Compiled with AVX2 where the CPU has it (wider vectors, the same numbers): 0.80-0.87 of the
    // baseline build's time, measured in one process.
    crate::simd::dispatch!(any bbands_in(x: &[f64], length: usize, std: f64) -> [Vec<f64>; 5])
}

#[inline(always)]
fn bbands_in(x: &[f64], length: usize, std: f64) -> [Vec<f64>; 5] {
    use crate::core::{CHUNK, Column};
    let n = length.max(1);
    let len = x.len();
    let mut out: [Column; 5] = std::array::from_fn(|_| Column::output(len));
    if len >= n {
        let nf = n as f64;
        let (mut total, mut total2) = (0.0, 0.0);
        for &v in &x[..n - 1] {
            total += v;
            total2 += v * v;
        }
        for o in &mut out {
            o.nan_to(n - 1);
        }
        // By chunks: first the running sums (the serial part, adds only) into buffers that stay
        // in L1, then the middle and the deviation of every bar from them (no dependency between
        // bars: vectorised divides and square roots), then each column's chunk mapped from those
        // straight into the column (written once, no copy through a buffer).
        let (mut mids, mut devs) = (vec![0.0; CHUNK], vec![0.0; CHUNK]);
        let [ou, om, ol, ob, op] = &mut out;
        for (new, old) in x[n - 1..].chunks(CHUNK).zip(x.chunks(CHUNK)) {
            let m = new.len();
            let (mids, devs) = (&mut mids[..m], &mut devs[..m]);
            for (((&v, &o), s), s2) in new
                .iter()
                .zip(old)
                .zip(mids.iter_mut())
                .zip(devs.iter_mut())
            {
                total += v;
                total2 += v * v;
                *s = total;
                *s2 = total2;
                total -= o;
                total2 -= o * o;
            }
            for (s, s2) in mids.iter_mut().zip(devs.iter_mut()) {
                (*s, *s2) = mid_dev(*s, *s2, nf, std);
            }
            let (mids, devs) = (&*mids, &*devs);
            let md = || mids.iter().zip(devs);
            ou.extend_with(md().map(|(&a, &d)| a + d));
            om.extend(mids);
            ol.extend_with(md().map(|(&a, &d)| a - d));
            ob.extend_with(md().map(|(&a, &d)| bandwidth(a, d)));
            op.extend_with(new.iter().zip(md()).map(|(&v, (&a, &d))| percent(v, a, d)));
        }
    }
    out.map(Column::finish)
}
