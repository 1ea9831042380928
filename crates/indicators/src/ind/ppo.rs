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
    use crate::core::{Column, Linear, LinearState, RunningMean, ema_k};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let signal = signal.max(1);
    let len = x.len();
    let mut out: [Column; 3] = std::array::from_fn(|_| Column::new(len));
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
    let mut g = sum / signal as f64;
    line.push(p);
    sig.push(g);
    hist.push(p - g);
    // Then eight bars at a time in one pass, stored straight into the three columns
    // ([`crate::simd::append_steps`]): the two windows' sums (TA-Lib's order: two chains of
    // two dependent adds a bar, the kernel's floor at about 6 cycles a bar), the oscillator,
    // the signal EMA's block of eight (the stream's EmaCore blocks begin at the bar after its
    // seed, as these do), the histogram. In one pass a block's divisions and signal run under
    // the next block's chains: four passes over chunks staged in L1 (the sums, then the
    // oscillator, the signal, the histogram) and appended with non-temporal stores took
    // 3.71-3.81 ms for 1M bars on a Zen 4, this 2.26-2.30 (alternating processes, 6 rounds).
    let lin = Linear::ema(ema_k(signal));
    let from = seeded + 1;
    let blocks = (len - from) / 8;
    let whole = from + 8 * blocks;
    let (cur, old_f, old_s) = (
        &x[from..whole],
        &x[from + 1 - fast..whole + 1 - fast],
        &x[from + 1 - slow..whole + 1 - slow],
    );
    crate::simd::append_steps(
        [line.values(), sig.values(), hist.values()],
        blocks,
        #[inline(always)]
        |b| {
            let at = 8 * b;
            let (cur, old_f, old_s) = (&cur[at..at + 8], &old_f[at..at + 8], &old_s[at..at + 8]);
            let mut p = [0.0f64; 8];
            for j in 0..8 {
                let f = mf.sum_step(cur[j], old_f[j]);
                let s = ms.sum_step(cur[j], old_s[j]);
                p[j] = value(mf.mean_of(f), ms.mean_of(s));
            }
            let mut s = [0.0f64; 8];
            g = lin.blocks::<A>(g, &p, &mut s);
            [p, s, std::array::from_fn(|j| p[j] - s[j])]
        },
    );
    // The last bars (fewer than eight) one step at a time.
    let mut st = LinearState::new(g);
    for i in whole..len {
        let p = osc(&mut mf, &mut ms, x[i], x[i + 1 - fast], x[i + 1 - slow]);
        let g = st.step::<A>(&lin, p);
        line.push(p);
        sig.push(g);
        hist.push(p - g);
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

#[cfg(test)]
mod tests {
    use super::{Ppo, ppo};
    use crate::simd::{Mode, force_mode};

    /// Batch == stream bit for bit in both arithmetics for all three outputs (the windows
    /// either way round, equal, of one; signals of one and longer), lengths around the warm-up,
    /// the signal's seed and the blocks of eight, through a stretch of zero prices (the
    /// sums' rounding residue there is TA-Lib's, as the order of their adds is); each line value
    /// over positive prices within 1e-9 of the oscillator of the directly computed means.
    #[test]
    fn batch_is_the_stream() {
        let mut x: Vec<f64> = (0..700)
            .map(|i| 101.0 + f64::from((i * 7919) % 13) * 0.37 - f64::from(i) * 0.05)
            .collect();
        x.extend(std::iter::repeat_n(0.0, 60));
        x.extend((0..240).map(|i| 50.0 + f64::from((i * 31) % 17) * 0.2));
        let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for (fast, slow, signal) in [(12, 26, 9), (26, 12, 9), (1, 3, 1), (2, 2, 4), (5, 34, 2)]
            {
                let (f, s) = (usize::min(fast, slow), usize::max(fast, slow));
                let seeded = s + signal - 1;
                for len in [
                    0,
                    s - 1,
                    s,
                    seeded - 1,
                    seeded,
                    seeded + 7,
                    seeded + 8,
                    1000,
                ] {
                    let [line, sig, hist] = ppo(&x[..len], fast, slow, signal);
                    assert_eq!((line.len(), sig.len(), hist.len()), (len, len, len));
                    let mut st = Ppo::new(fast, slow, signal);
                    for i in 0..len {
                        let want = st.next(x[i]);
                        let got = (line[i], sig[i], hist[i]);
                        let bits =
                            |v: (f64, f64, f64)| (v.0.to_bits(), v.1.to_bits(), v.2.to_bits());
                        assert_eq!(
                            bits(got),
                            bits(want),
                            "{mode:?} {fast}/{slow}/{signal} len {len} at {i}"
                        );
                        if i + 1 >= s && x[i + 1 - s..=i].iter().all(|&v| v > 0.0) {
                            let (mf, ms) = (mean(&x[i + 1 - f..=i]), mean(&x[i + 1 - s..=i]));
                            let e = (mf - ms) / ms * 100.0;
                            assert!((line[i] - e).abs() <= 1e-9, "{i}: {} vs {e}", line[i]);
                        } else if i + 1 >= s {
                            // Windows of zeros: TA-Lib's residue, whatever it is, finite.
                            assert!(line[i].is_finite(), "{i}");
                        } else {
                            assert!(line[i].is_nan());
                        }
                    }
                }
            }
            force_mode(None);
        }
    }
}
