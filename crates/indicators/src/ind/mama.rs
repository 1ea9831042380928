//! MAMA — TA-Lib MAMA/FAMA (Ehlers' MESA adaptive moving average: a 4-bar WMA smoother, the
//! Hilbert transform on odd/even bars, phase-rate adaptive alpha). Output starts at bar 32.
use crate::Indicator;
use crate::core::Bar;
use crate::simd::{self, Arith, Fused, Mode, Plain};

const A: f64 = 0.0962;
const B: f64 = 0.5769;
const LOOKBACK: usize = 32;

/// One Hilbert-transform filter of TA-Lib's odd/even scheme.
#[derive(Debug, Clone, Copy, Default)]
struct Hilbert {
    buf: [f64; 3],
    prev: f64,
    prev_input: f64,
}

impl Hilbert {
    /// TA-Lib's `((−buf + A·input) − prev) + B·prev_input`, times the adjusted period, as
    /// `(A·input − buf) + (B·prev_input − prev)`: the filters are chained (the detrender
    /// feeds Q1, Q1 feeds jQ, and the period of the bar before feeds them all), so what counts
    /// is the time from `input` to the output, and the second pair is ready before `input` is.
    /// Each pair still cancels exactly on a flat series (TA-Lib's zeros there, which its
    /// phase test relies on); a multiply-add `A·input − buf` would leave `A·input`'s rounding
    /// error instead. The same value to a few ulps otherwise.
    #[inline(always)]
    fn apply(&mut self, idx: usize, input: f64, adjusted_prev_period: f64) -> f64 {
        let prev = B * self.prev_input;
        let rest = prev - self.prev;
        let t = A * input;
        let v = (t - self.buf[idx]) + rest;
        self.buf[idx] = t;
        self.prev = prev;
        self.prev_input = input;
        v * adjusted_prev_period
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Side {
    detrender: Hilbert,
    q1: Hilbert,
    ji: Hilbert,
    jq: Hilbert,
}

#[derive(Debug, Clone)]
pub struct Mama {
    fast_limit: f64,
    slow_limit: f64,
    rad2deg: f64,
    today: usize,
    // 4-bar WMA smoother
    window: [f64; 4],
    wma_sub: f64,
    wma_sum: f64,
    trailing: f64,
    // Hilbert state
    hilbert_idx: usize,
    odd: Side,
    even: Side,
    i1_odd_prev2: f64,
    i1_odd_prev3: f64,
    i1_even_prev2: f64,
    i1_even_prev3: f64,
    prev_q2: f64,
    prev_i2: f64,
    re: f64,
    im: f64,
    period: f64,
    prev_phase: f64,
    mama: f64,
    fama: f64,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Mama {
    pub fn new(fast_limit: f64, slow_limit: f64) -> Self {
        Mama {
            fast_limit,
            slow_limit,
            rad2deg: 180.0 / (4.0 * 1.0f64.atan()),
            today: 0,
            window: [0.0; 4],
            wma_sub: 0.0,
            wma_sum: 0.0,
            trailing: 0.0,
            hilbert_idx: 0,
            odd: Side::default(),
            even: Side::default(),
            i1_odd_prev2: 0.0,
            i1_odd_prev3: 0.0,
            i1_even_prev2: 0.0,
            i1_even_prev3: 0.0,
            prev_q2: 0.0,
            prev_i2: 0.0,
            re: 0.0,
            im: 0.0,
            period: 0.0,
            prev_phase: 0.0,
            mama: 0.0,
            fama: 0.0,
            mode: simd::mode(),
        }
    }

    /// The value `back` bars before today from the small input window.
    #[inline]
    fn input_back(&self, back: usize) -> f64 {
        self.window[(self.today + 4 - back) & 3]
    }

    /// (mama, fama)
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64) {
        match self.mode {
            Mode::Plain => self.next_in::<Plain>(x),
            Mode::Fused => self.next_in::<Fused>(x),
        }
    }

    /// One bar. The period is a chain through the whole bar (the period adjusts the Hilbert
    /// filters whose outputs give the next period, through an `atan`): its additions are
    /// grouped so that the terms known before the chain's value arrives are summed first,
    /// and its `a·b + c` are multiply-adds. TA-Lib's wheel contracts the same expressions
    /// in its FMA build; the values agree with TA-Lib's far inside 1e-9.
    #[inline(always)]
    fn next_in<Ar: Arith>(&mut self, x: f64) -> (f64, f64) {
        let today = self.today;
        self.window[today & 3] = x;
        // The WMA smoother: TA-Lib primes it with the first three values, then runs the
        // recurrence (weights 1..4), the trailing value lagging three bars behind.
        if today < 3 {
            self.wma_sub += x;
            self.wma_sum += x * (today as f64 + 1.0);
            self.today += 1;
            return (f64::NAN, f64::NAN);
        }
        let trailing_next = self.input_back(3);
        self.wma_sub += x;
        self.wma_sub -= self.trailing;
        self.wma_sum += x * 4.0;
        self.trailing = trailing_next;
        let smoothed = self.wma_sum * 0.1;
        self.wma_sum -= self.wma_sub;
        if today < 12 {
            self.today += 1;
            return (f64::NAN, f64::NAN);
        }

        let adjusted = Ar::madd(0.075, self.period, 0.54);
        let idx = self.hilbert_idx;
        let (q1, ji, jq, i1_prev3, detrender);
        if today & 1 == 0 {
            detrender = self.even.detrender.apply(idx, smoothed, adjusted);
            q1 = self.even.q1.apply(idx, detrender, adjusted);
            i1_prev3 = self.i1_even_prev3;
            ji = self.even.ji.apply(idx, i1_prev3, adjusted);
            jq = self.even.jq.apply(idx, q1, adjusted);
            self.hilbert_idx = if idx == 2 { 0 } else { idx + 1 };
            self.i1_odd_prev3 = self.i1_odd_prev2;
            self.i1_odd_prev2 = detrender;
        } else {
            detrender = self.odd.detrender.apply(idx, smoothed, adjusted);
            q1 = self.odd.q1.apply(idx, detrender, adjusted);
            i1_prev3 = self.i1_odd_prev3;
            ji = self.odd.ji.apply(idx, i1_prev3, adjusted);
            jq = self.odd.jq.apply(idx, q1, adjusted);
            self.i1_even_prev3 = self.i1_even_prev2;
            self.i1_even_prev2 = detrender;
        }
        // 0.2·(q1 + jI) + 0.8·q2' and 0.2·(I1 − jQ) + 0.8·I2', the chain's term last.
        let q2 = Ar::madd(0.2, q1, Ar::madd(0.2, ji, 0.8 * self.prev_q2));
        let i2 = Ar::madd(-0.2, jq, Ar::madd(0.2, i1_prev3, 0.8 * self.prev_i2));
        let phase = if i1_prev3 == 0.0 {
            0.0
        } else {
            (q1 / i1_prev3).atan() * self.rad2deg
        };

        // TA-Lib's branches as selects (the phase's change is noise on a random walk): a
        // change below 1 degree counts as 1; alpha is the fast limit over it, at least the
        // slow limit, or the fast limit itself when the change is 1.
        let delta = self.prev_phase - phase;
        self.prev_phase = phase;
        let delta = if delta < 1.0 { 1.0 } else { delta };
        let a = self.fast_limit / delta;
        let a = if a < self.slow_limit {
            self.slow_limit
        } else {
            a
        };
        let mut alpha = if delta > 1.0 { a } else { self.fast_limit };
        self.mama = Ar::madd(alpha, x, (1.0 - alpha) * self.mama);
        alpha *= 0.5;
        self.fama = Ar::madd(alpha, self.mama, (1.0 - alpha) * self.fama);
        let out = if today >= LOOKBACK {
            (self.mama, self.fama)
        } else {
            (f64::NAN, f64::NAN)
        };

        // Re = 0.2·(I2·I2' + Q2·Q2') + 0.8·Re, Im = 0.2·(I2·Q2' − Q2·I2') + 0.8·Im.
        let (pi, pq) = (0.2 * self.prev_i2, 0.2 * self.prev_q2);
        self.re = Ar::madd(i2, pi, Ar::madd(q2, pq, 0.8 * self.re));
        self.im = Ar::madd(i2, pq, Ar::madd(-q2, pi, 0.8 * self.im));
        self.prev_q2 = q2;
        self.prev_i2 = i2;
        let prev_period = self.period;
        let mut period = prev_period;
        if self.im != 0.0 && self.re != 0.0 {
            period = 360.0 / ((self.im / self.re).atan() * self.rad2deg);
        }
        let hi = 1.5 * prev_period;
        period = if period > hi { hi } else { period };
        let lo = 0.67 * prev_period;
        period = if period < lo { lo } else { period };
        period = period.clamp(6.0, 50.0);
        self.period = Ar::madd(0.2, period, 0.8 * prev_period);
        self.today += 1;
        out
    }
}

impl Indicator for Mama {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (m, f) = self.next(bar.close);
        out[0] = m;
        out[1] = f;
    }
    fn reset(&mut self) {
        *self = Mama::new(self.fast_limit, self.slow_limit);
    }
}

/// (mama, fama)
pub fn mama(x: &[f64], fast_limit: f64, slow_limit: f64) -> [Vec<f64>; 2] {
    simd::dispatch!(mama_in(x: &[f64], fast_limit: f64, slow_limit: f64) -> [Vec<f64>; 2])
}

#[inline(always)]
fn mama_in<Ar: Arith>(x: &[f64], fast_limit: f64, slow_limit: f64) -> [Vec<f64>; 2] {
    let mut s = Mama::new(fast_limit, slow_limit);
    let (mut a, mut b) = (crate::core::nan_vec(x.len()), crate::core::nan_vec(x.len()));
    for ((ma, fa), &v) in a.iter_mut().zip(b.iter_mut()).zip(x) {
        (*ma, *fa) = s.next_in::<Ar>(v);
    }
    [a, b]
}
