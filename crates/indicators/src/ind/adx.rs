//! ADX with +DI and −DI — TA-Lib ADX, PLUS_DI and MINUS_DI (Wilder sums seeded over the first
//! `length − 1` bars; ADX seeded with the mean DX of the next `length` bars).
use crate::Indicator;
use crate::core::{
    Bar, CHUNK, Column, Linear, LinearState, VaryingState, is_zero, select, true_range,
};
use crate::simd::{self, Arith, Fused, Mode, Plain};

#[derive(Debug, Clone, Copy)]
pub struct Adx {
    n: usize,
    /// 1/n: the ADX's `(adx·(n − 1) + dx)/n` as `adx·keep + dx·(1/n)` (within an ulp of
    /// TA-Lib's division; the DIs' two divisions per bar remain instead of seven).
    inv_n: f64,
    /// Wilder's `x − x/n + move` as `x·(n − 1)/n + move`, eight bars per link of its chain
    /// ([`Linear`]'s blocks; its `b` is 1, so a move enters unrounded).
    lin: Linear,
    keep: f64,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    /// The first `n − 1` moves' sums, then the smoothed +DM, −DM and TR (from bar n).
    sums: [f64; 3],
    smooth: [LinearState; 3],
    sum_dx: f64,
    /// The ADX after its seed: `a·adx + b` with (keep, dx/n) where the bar has a DX, (1, 0)
    /// (unchanged) where it has none, in [`VaryingState`]'s blocks of four.
    adx: VaryingState,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

/// The bar's +DM, −DM and true range (TA-Lib's rules: the larger move counts, if positive).
#[inline(always)]
fn moves(high: f64, low: f64, prev_high: f64, prev_low: f64, prev_close: f64) -> [f64; 3] {
    let diff_p = high - prev_high;
    let diff_m = prev_low - low;
    let minus = diff_m > 0.0 && diff_p < diff_m;
    let plus = !minus && diff_p > 0.0 && diff_p > diff_m;
    [
        select(plus, diff_p, 0.0),
        select(minus, diff_m, 0.0),
        true_range(high, low, prev_close),
    ]
}

/// +DI, −DI, the DX and whether the bar has one, from the smoothed +DM, −DM and TR: a zero TR
/// gives DIs of 0 and no DX, a zero DI sum no DX. Selects, so that the batch's pass over a
/// chunk is vector code (its divisions four at a time).
#[inline(always)]
fn indexes(plus: f64, minus: f64, tr: f64) -> (f64, f64, f64, bool) {
    let scale = 100.0 / tr;
    let m = minus * scale;
    let p = plus * scale;
    let s = m + p;
    let dx = 100.0 * ((m - p).abs() / s);
    let flat = is_zero(tr);
    (
        select(flat, 0.0, p),
        select(flat, 0.0, m),
        dx,
        !flat & !is_zero(s),
    )
}

/// The ADX step `adx·a + b`: (keep, dx/n) for a bar with a DX, (1, 0) — unchanged — without.
#[inline(always)]
fn adx_coefficients(dx: f64, has_dx: bool, keep: f64, inv_n: f64) -> (f64, f64) {
    (select(has_dx, keep, 1.0), select(has_dx, dx * inv_n, 0.0))
}

impl Adx {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        let nf = n as f64;
        let keep = (nf - 1.0) / nf;
        Adx {
            n,
            inv_n: 1.0 / nf,
            lin: Linear::new(keep, 1.0),
            keep,
            seen: 0,
            prev_high: f64::NAN,
            prev_low: f64::NAN,
            prev_close: f64::NAN,
            sums: [0.0; 3],
            smooth: [LinearState::new(0.0); 3],
            sum_dx: 0.0,
            adx: VaryingState::new(f64::NAN),
            mode: simd::mode(),
        }
    }

    #[inline(always)]
    fn moves(&mut self, high: f64, low: f64, close: f64) -> [f64; 3] {
        let m = moves(high, low, self.prev_high, self.prev_low, self.prev_close);
        (self.prev_high, self.prev_low, self.prev_close) = (high, low, close);
        m
    }

    /// (adx, +DI, −DI)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        match self.mode {
            Mode::Plain => self.step::<Plain>(high, low, close),
            Mode::Fused => self.step::<Fused>(high, low, close),
        }
    }

    #[inline(always)]
    fn step<A: Arith>(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let i = self.seen;
        self.seen += 1;
        let n = self.n;
        if i == 0 {
            (self.prev_high, self.prev_low, self.prev_close) = (high, low, close);
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let mv = self.moves(high, low, close);
        if i < n {
            for (s, m) in self.sums.iter_mut().zip(mv) {
                *s += m;
            }
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        if i == n {
            self.smooth = self.sums.map(LinearState::new);
        }
        let lin = self.lin;
        let [p, m, tr] = [0, 1, 2].map(|k| self.smooth[k].step::<A>(&lin, mv[k]));
        let (plus_di, minus_di, dx, has_dx) = indexes(p, m, tr);
        if i >= 2 * n {
            let (a, b) = adx_coefficients(dx, has_dx, self.keep, self.inv_n);
            return (self.adx.step::<A>(a, b), plus_di, minus_di);
        }
        if has_dx {
            self.sum_dx += dx;
        }
        if i < 2 * n - 1 {
            return (f64::NAN, plus_di, minus_di);
        }
        let seed = self.sum_dx / n as f64;
        self.adx = VaryingState::new(seed);
        (seed, plus_di, minus_di)
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

pub fn adx(high: &[f64], low: &[f64], close: &[f64], length: usize) -> [Vec<f64>; 3] {
    simd::dispatch!(adx_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> [Vec<f64>; 3])
}

#[inline(always)]
fn adx_in<A: Arith>(high: &[f64], low: &[f64], close: &[f64], length: usize) -> [Vec<f64>; 3] {
    let len = close.len().min(high.len()).min(low.len());
    let mut s = Adx::new(length);
    let mut cols: [Column; 3] = std::array::from_fn(|_| Column::output(close.len()));
    // The first 2n bars through the stream's own steps (sums, then the ADX's seed).
    let warm = (2 * s.n).min(len);
    for i in 0..warm {
        let (a, p, m) = s.step::<A>(high[i], low[i], close[i]);
        cols[0].push(a);
        cols[1].push(p);
        cols[2].push(m);
    }
    // Then a chunk at a time in L1 buffers, four passes: the moves (vector code); the three
    // Wilder sums, eight bars per link of each chain; the DIs and the ADX step's coefficients
    // (vector code, the divisions four at a time); the ADX, four bars per link. The state is
    // a copy that stays in registers; the stream's formulas throughout (bit for bit).
    let (lin, keep, inv_n) = (s.lin, s.keep, s.inv_n);
    let mut smooth = s.smooth;
    let mut adx = s.adx;
    let mut mv = [[0.0f64; CHUNK]; 3];
    let mut sm = [[0.0f64; CHUNK]; 3];
    let (mut ca, mut cb, mut ob) = ([0.0f64; CHUNK], [0.0f64; CHUNK], [0.0f64; CHUNK]);
    let mut start = warm;
    while start < len {
        let end = (start + CHUNK).min(len);
        let k = end - start;
        let [mp, mm, mt] = &mut mv;
        for ((((((p, m), t), hl), &c), &h), &l) in mp[..k]
            .iter_mut()
            .zip(&mut mm[..k])
            .zip(&mut mt[..k])
            .zip(
                high[start - 1..end - 1]
                    .iter()
                    .zip(&low[start - 1..end - 1]),
            )
            .zip(&close[start - 1..end - 1])
            .zip(&high[start..end])
            .zip(&low[start..end])
        {
            [*p, *m, *t] = moves(h, l, *hl.0, *hl.1, c);
        }
        for ((st, x), y) in smooth.iter_mut().zip(&mv).zip(&mut sm) {
            st.feed_into::<A>(&lin, &x[..k], &mut y[..k]);
        }
        let [sp, smm, st] = &mut sm;
        for ((((p, m), &t), a), b) in sp[..k]
            .iter_mut()
            .zip(&mut smm[..k])
            .zip(&st[..k])
            .zip(&mut ca[..k])
            .zip(&mut cb[..k])
        {
            let (plus_di, minus_di, dx, has_dx) = indexes(*p, *m, t);
            (*a, *b) = adx_coefficients(dx, has_dx, keep, inv_n);
            (*p, *m) = (plus_di, minus_di);
        }
        adx.feed::<A>(&ca[..k], &cb[..k], &mut ob[..k]);
        cols[0].extend(&ob[..k]);
        cols[1].extend(&sp[..k]);
        cols[2].extend(&smm[..k]);
        start = end;
    }
    cols.map(Column::finish)
}
