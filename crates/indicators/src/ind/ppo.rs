//! PPO — TA-Lib PPO with SMAs: ((SMA(fast) − SMA(slow)) / SMA(slow)) · 100 (0 when the slow SMA
//! is 0); signal = EMA(ppo, signal); histogram = ppo − signal.
use crate::Indicator;
use crate::core::{Bar, EmaCore, SmaCore, is_zero};

#[derive(Debug, Clone)]
pub struct Ppo {
    fast: SmaCore,
    slow: SmaCore,
    signal: EmaCore,
    slow_n: usize,
    seen: usize,
}

impl Ppo {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (mut fast, mut slow) = (fast.max(1), slow.max(1));
        if slow < fast {
            std::mem::swap(&mut fast, &mut slow);
        }
        Ppo {
            fast: SmaCore::new(fast),
            slow: SmaCore::new(slow),
            signal: EmaCore::new(signal),
            slow_n: slow,
            seen: 0,
        }
    }
    /// (ppo, signal, histogram)
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64, f64) {
        let f = self.fast.next(x);
        let s = self.slow.next(x);
        self.seen += 1;
        if self.seen < self.slow_n {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let ppo = value(f, s);
        let sig = self.signal.next(ppo);
        (ppo, sig, ppo - sig)
    }
}

impl Indicator for Ppo {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (p, s, h) = self.next(bar.close);
        out[0] = p;
        out[1] = s;
        out[2] = h;
    }
    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
    }
}

pub fn ppo(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    crate::simd::dispatch!(ppo_in(
        x: &[f64],
        fast: usize,
        slow: usize,
        signal: usize,
    ) -> [Vec<f64>; 3])
}

#[inline(always)]
fn ppo_in<A: crate::simd::Arith>(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> [Vec<f64>; 3] {
    use crate::core::{CHUNK, Column, Linear, LinearState, RunningMean, ema_k};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let signal = signal.max(1);
    let len = x.len();
    let mut out: [Column; 3] = std::array::from_fn(|_| Column::output(len));
    if len < slow {
        return out.map(Column::finish);
    }
    let [line, sig, hist] = &mut out;
    for c in [&mut *line, &mut *sig, &mut *hist] {
        c.nan_to(slow - 1);
    }
    // The means from the first bar (as the stream's); the warm-up bars and the signal's seed
    // (the mean of its first `signal` values) one bar at a time.
    let (mut mf, mut ms) = (RunningMean::primed(x, fast), RunningMean::primed(x, slow));
    for i in fast - 1..slow - 1 {
        mf.step(x[i], x[i + 1 - fast]);
    }
    let bars =
        |from: usize, to: usize| (from..to).map(move |i| (x[i], x[i + 1 - fast], x[i + 1 - slow]));
    let seeded = (slow - 1 + signal - 1).min(len);
    let mut sum = 0.0;
    for (new, old_f, old_s) in bars(slow - 1, seeded) {
        let p = osc(&mut mf, &mut ms, new, old_f, old_s);
        sum += p;
        line.push(p);
        sig.push(f64::NAN);
        hist.push(f64::NAN);
    }
    if seeded >= len {
        return out.map(Column::finish);
    }
    let (new, old_f, old_s) = (x[seeded], x[seeded + 1 - fast], x[seeded + 1 - slow]);
    let p = osc(&mut mf, &mut ms, new, old_f, old_s);
    sum += p;
    let g = sum / signal as f64;
    line.push(p);
    sig.push(g);
    hist.push(p - g);
    // Then a chunk at a time in L1, four passes: the two windows' sums (two chains, side by
    // side), the oscillator (vector code: its three divisions four at a time), the signal
    // EMA (Linear's blocks of four, as the stream's EmaCore), the histogram (vector code).
    let lin = Linear::ema(ema_k(signal));
    let mut st = LinearState::new(g);
    let (mut sf, mut ss, mut sg) = ([0.0f64; CHUNK], [0.0f64; CHUNK], [0.0f64; CHUNK]);
    let mut start = seeded + 1;
    while start < len {
        let end = (start + CHUNK).min(len);
        let k = end - start;
        for ((((f, s), &new), &old_f), &old_s) in sf[..k]
            .iter_mut()
            .zip(&mut ss[..k])
            .zip(&x[start..end])
            .zip(&x[start + 1 - fast..end + 1 - fast])
            .zip(&x[start + 1 - slow..end + 1 - slow])
        {
            *f = mf.sum_step(new, old_f);
            *s = ms.sum_step(new, old_s);
        }
        for (f, &s) in sf[..k].iter_mut().zip(&ss[..k]) {
            *f = value(mf.mean_of(*f), ms.mean_of(s));
        }
        st.feed_into::<A>(&lin, &sf[..k], &mut sg[..k]);
        for ((h, &p), &g) in ss[..k].iter_mut().zip(&sf[..k]).zip(&sg[..k]) {
            *h = p - g;
        }
        line.extend(&sf[..k]);
        sig.extend(&sg[..k]);
        hist.extend(&ss[..k]);
        start = end;
    }
    out.map(Column::finish)
}

/// The oscillator from the two means: the stream's formula, a select (vector code).
#[inline(always)]
fn value(f: f64, s: f64) -> f64 {
    crate::core::select(is_zero(s), 0.0, ((f - s) / s) * 100.0)
}

/// One bar of the batch oscillator: both means stepped, then the stream's formula.
#[inline(always)]
fn osc(
    mf: &mut crate::core::RunningMean,
    ms: &mut crate::core::RunningMean,
    new: f64,
    old_f: f64,
    old_s: f64,
) -> f64 {
    let f = mf.step(new, old_f);
    let s = ms.step(new, old_s);
    value(f, s)
}
