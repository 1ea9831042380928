//! ADX with +DI and −DI — TA-Lib ADX, PLUS_DI and MINUS_DI (Wilder sums seeded over the first
//! `length − 1` bars; ADX seeded with the mean DX of the next `length` bars).
use crate::Indicator;
use crate::core::{Bar, is_zero, true_range};

#[derive(Debug, Clone)]
pub struct Adx {
    n: usize,
    /// (n − 1)/n and 1/n: Wilder's `x − x/n` and `(adx·(n − 1) + dx)/n` as multiplications
    /// (within an ulp of TA-Lib's divisions; two divisions per bar remain instead of seven).
    keep: f64,
    inv_n: f64,
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

/// One bar's (+DI, −DI, DX); DX is None where TA-Lib skips it (no range, or +DI + −DI zero).
type Directional = (f64, f64, Option<f64>);

impl Adx {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        let nf = n as f64;
        Adx {
            n,
            keep: (nf - 1.0) / nf,
            inv_n: 1.0 / nf,
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

    /// The bar's directional movements and true range against the previous bar.
    #[inline(always)]
    fn moves(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let diff_p = high - self.prev_high;
        let diff_m = self.prev_low - low;
        self.prev_high = high;
        self.prev_low = low;
        let tr = true_range(high, low, self.prev_close);
        self.prev_close = close;
        // Selects, not branches: TA-Lib's −DM wins when the low fell more than the high rose.
        let minus = diff_m > 0.0 && diff_p < diff_m;
        let plus = !minus && diff_p > 0.0 && diff_p > diff_m;
        (
            if plus { diff_p } else { 0.0 },
            if minus { diff_m } else { 0.0 },
            tr,
        )
    }

    /// Smooth the sums with one more bar (from bar `n` on) and give its +DI, −DI and DX.
    #[inline(always)]
    fn smooth(&mut self, high: f64, low: f64, close: f64) -> Directional {
        let (plus, minus, tr) = self.moves(high, low, close);
        self.minus_dm = self.minus_dm * self.keep + minus;
        self.plus_dm = self.plus_dm * self.keep + plus;
        self.tr = self.tr * self.keep + tr;
        if is_zero(self.tr) {
            return (0.0, 0.0, None);
        }
        let scale = 100.0 / self.tr;
        let m = self.minus_dm * scale;
        let p = self.plus_dm * scale;
        let s = m + p;
        let dx = if is_zero(s) {
            None
        } else {
            Some(100.0 * ((m - p).abs() / s))
        };
        (p, m, dx)
    }

    /// A bar once ADX is defined (bar `2n − 1` on).
    #[inline(always)]
    fn steady(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let (p, m, dx) = self.smooth(high, low, close);
        if let Some(dx) = dx {
            self.adx = self.adx * self.keep + dx * self.inv_n;
        }
        (self.adx, p, m)
    }

    /// (adx, plus_di, minus_di)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let i = self.seen;
        self.seen += 1;
        let n = self.n;
        if i == 0 {
            self.prev_high = high;
            self.prev_low = low;
            self.prev_close = close;
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        if i < n {
            let (plus, minus, tr) = self.moves(high, low, close);
            self.minus_dm += minus;
            self.plus_dm += plus;
            self.tr += tr;
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        if i >= 2 * n {
            return self.steady(high, low, close);
        }
        let (plus_di, minus_di, dx) = self.smooth(high, low, close);
        // Summing the initial DX values (i in n..2n).
        if let Some(dx) = dx {
            self.sum_dx += dx;
        }
        if i < 2 * n - 1 {
            return (f64::NAN, plus_di, minus_di);
        }
        self.adx = self.sum_dx / n as f64;
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
    let len = close.len().min(high.len()).min(low.len());
    let mut s = Adx::new(length);
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| crate::core::nan_vec(close.len()));
    let [a, p, m] = &mut out;
    // The warm-up through the stream's own steps, then the steady bars in one tight loop.
    let warm = (2 * s.n).min(len);
    for i in 0..warm {
        (a[i], p[i], m[i]) = s.next(high[i], low[i], close[i]);
    }
    for ((((&h, &l), &c), (a, p)), m) in high[warm..len]
        .iter()
        .zip(&low[warm..len])
        .zip(&close[warm..len])
        .zip(a[warm..len].iter_mut().zip(&mut p[warm..len]))
        .zip(&mut m[warm..len])
    {
        (*a, *p, *m) = s.steady(h, l, c);
    }
    out
}
