//! CCI — TA-Lib CCI: (tp − mean) / (0.015 × mean deviation) over `length` typical prices.
//! Sums run in TA-Lib's circular-buffer order so results match it to the last bit.
use crate::Indicator;
use crate::core::Bar;

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
        let nf = self.n as f64;
        let mut avg = 0.0;
        for v in &self.buf {
            avg += v;
        }
        avg /= nf;
        let mut dev = 0.0;
        for v in &self.buf {
            dev += (v - avg).abs();
        }
        let num = tp - avg;
        if num != 0.0 && dev != 0.0 {
            num / (0.015 * (dev / nf))
        } else {
            0.0
        }
    }
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
    let len = close.len();
    let mut out = crate::core::nan_vec(len);
    if len < n {
        return out;
    }
    let tp: Vec<f64> = (0..len)
        .map(|i| (high[i] + low[i] + close[i]) / 3.0)
        .collect();
    let nf = n as f64;
    for i in n - 1..len {
        // TA-Lib sums its circular buffer from slot 0: the window rotated so that the value whose
        // index is a multiple of n comes first.
        let lo = i + 1 - n;
        let k = lo + (n - lo % n) % n;
        let (a, b) = (&tp[k..=i], &tp[lo..k]);
        // The two runs summed one after the other (the same order as one chained iterator,
        // without its per-value branch).
        let mut avg = 0.0;
        for v in a {
            avg += v;
        }
        for v in b {
            avg += v;
        }
        avg /= nf;
        let mut dev = 0.0;
        for v in a {
            dev += (v - avg).abs();
        }
        for v in b {
            dev += (v - avg).abs();
        }
        let num = tp[i] - avg;
        out[i] = if num != 0.0 && dev != 0.0 {
            num / (0.015 * (dev / nf))
        } else {
            0.0
        };
    }
    out
}
