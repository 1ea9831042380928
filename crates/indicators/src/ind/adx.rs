//! ADX with +DI and −DI — TA-Lib ADX, PLUS_DI and MINUS_DI (Wilder sums seeded over the first
//! `length − 1` bars; ADX seeded with the mean DX of the next `length` bars).
use crate::Indicator;
use crate::core::{Bar, is_zero, true_range};

#[derive(Debug, Clone)]
pub struct Adx {
    n: usize,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    sum_dx: f64,
    adx: f64,
}

impl Adx {
    pub fn new(length: usize) -> Self {
        Adx {
            n: length.max(1),
            seen: 0,
            prev_high: f64::NAN,
            prev_low: f64::NAN,
            prev_close: f64::NAN,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: f64::NAN,
        }
    }

    /// (adx, plus_di, minus_di)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let i = self.seen;
        self.seen += 1;
        let n = self.n;
        let nf = n as f64;
        if i == 0 {
            self.prev_high = high;
            self.prev_low = low;
            self.prev_close = close;
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let diff_p = high - self.prev_high;
        let diff_m = self.prev_low - low;
        self.prev_high = high;
        self.prev_low = low;
        let tr = true_range(high, low, self.prev_close);
        self.prev_close = close;
        let minus = diff_m > 0.0 && diff_p < diff_m;
        let plus = !minus && diff_p > 0.0 && diff_p > diff_m;
        if i < n {
            if minus {
                self.minus_dm += diff_m;
            } else if plus {
                self.plus_dm += diff_p;
            }
            self.tr += tr;
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        self.minus_dm -= self.minus_dm / nf;
        self.plus_dm -= self.plus_dm / nf;
        if minus {
            self.minus_dm += diff_m;
        } else if plus {
            self.plus_dm += diff_p;
        }
        self.tr = self.tr - (self.tr / nf) + tr;

        let (plus_di, minus_di, dx) = if is_zero(self.tr) {
            (0.0, 0.0, None)
        } else {
            let m = 100.0 * (self.minus_dm / self.tr);
            let p = 100.0 * (self.plus_dm / self.tr);
            let s = m + p;
            let dx = if is_zero(s) {
                None
            } else {
                Some(100.0 * ((m - p).abs() / s))
            };
            (p, m, dx)
        };

        if i < 2 * n {
            // Summing the initial DX values (i in n..2n).
            if let Some(dx) = dx {
                self.sum_dx += dx;
            }
            if i < 2 * n - 1 {
                return (f64::NAN, plus_di, minus_di);
            }
            self.adx = self.sum_dx / nf;
            return (self.adx, plus_di, minus_di);
        }
        if let Some(dx) = dx {
            self.adx = ((self.adx * (nf - 1.0)) + dx) / nf;
        }
        (self.adx, plus_di, minus_di)
    }
}

impl Indicator for Adx {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (a, p, m) = self.next(bar.high, bar.low, bar.close);
        out[0] = a;
        out[1] = p;
        out[2] = m;
    }
    fn reset(&mut self) {
        *self = Adx::new(self.n);
    }
}

/// (adx, plus_di, minus_di)
pub fn adx(high: &[f64], low: &[f64], close: &[f64], length: usize) -> [Vec<f64>; 3] {
    let mut s = Adx::new(length);
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(close.len()));
    for i in 0..close.len() {
        let (a, p, m) = s.next(high[i], low[i], close[i]);
        out[0].push(a);
        out[1].push(p);
        out[2].push(m);
    }
    out
}
