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

/// The five outputs from the window's sums at one bar (`total` and `total2` the sums of the
/// values and of their squares over the window): the stream's arithmetic, selects instead of
/// branches so that the batch's second pass vectorises (divides and square roots two at a time).
#[inline(always)]
fn bands(x: f64, total: f64, total2: f64, nf: f64, k: f64) -> [f64; 5] {
    let mid = total / nf;
    let mean2 = total2 / nf - mid * mid;
    let root = mean2.sqrt();
    let sd = if mean2 < 0.000_000_01 { 0.0 } else { root };
    let dev = sd * k;
    let (upper, lower) = (mid + dev, mid - dev);
    let width = upper - lower;
    let bandwidth = 100.0 * width / mid;
    let percent = (x - lower) / width;
    [
        upper,
        mid,
        lower,
        if mid == 0.0 { f64::NAN } else { bandwidth },
        if width == 0.0 { f64::NAN } else { percent },
    ]
}

/// (upper, middle, lower, bandwidth, percent)
pub fn bbands(x: &[f64], length: usize, std: f64) -> [Vec<f64>; 5] {
    use crate::core::{CHUNK, Column};
    let n = length.max(1);
    let len = x.len();
    let mut out: [Column; 5] = std::array::from_fn(|_| Column::new(len));
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
        // in L1, then every bar's bands from them (no dependency between bars: vectorised), then
        // the chunk appended to the columns (each written once).
        let (mut sums, mut sums2) = ([0.0; CHUNK], [0.0; CHUNK]);
        let mut bands_buf: [Vec<f64>; 5] = std::array::from_fn(|_| vec![0.0; CHUNK]);
        for (new, old) in x[n - 1..].chunks(CHUNK).zip(x.chunks(CHUNK)) {
            let m = new.len();
            for (((&v, &o), s), s2) in new.iter().zip(old).zip(&mut sums).zip(&mut sums2) {
                total += v;
                total2 += v * v;
                *s = total;
                *s2 = total2;
                total -= o;
                total2 -= o * o;
            }
            let [bu, bm, bl, bb, bp] = &mut bands_buf;
            let (bu, bm, bl, bb, bp) = (
                &mut bu[..m],
                &mut bm[..m],
                &mut bl[..m],
                &mut bb[..m],
                &mut bp[..m],
            );
            for j in 0..m {
                [bu[j], bm[j], bl[j], bb[j], bp[j]] = bands(new[j], sums[j], sums2[j], nf, std);
            }
            for (o, b) in out.iter_mut().zip(&bands_buf) {
                o.extend(&b[..m]);
            }
        }
    }
    out.map(Column::finish)
}
