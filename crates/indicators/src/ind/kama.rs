//! KAMA — TA-Lib KAMA (efficiency ratio over `length`, fast 2 / slow 30 constants).
use crate::Indicator;
use crate::core::{Bar, Ring, is_zero};
use crate::simd::{self, Arith, Fused, Mode, Plain};

const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);

#[derive(Debug, Clone)]
pub struct Kama {
    n: usize,
    ring: Ring,
    sum_roc: f64,
    prev_kama: f64,
    seen: usize,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Kama {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Kama {
            n,
            ring: Ring::new(n + 1),
            sum_roc: 0.0,
            prev_kama: f64::NAN,
            seen: 0,
            mode: simd::mode(),
        }
    }

    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let const_diff = 2.0 / (2.0 + 1.0) - CONST_MAX;
        self.seen += 1;
        if self.seen <= self.n {
            // Accumulate |x[i-1] − x[i]| over the first n changes.
            if self.seen > 1 {
                self.sum_roc += (self.ring.back(0) - x).abs();
            }
            self.ring.push(x);
            return f64::NAN;
        }
        let yesterday = self.ring.back(0);
        if self.seen == self.n + 1 {
            self.sum_roc += (yesterday - x).abs();
            self.prev_kama = yesterday;
            // The window's oldest value is the trailing one.
            let trailing = self.ring.oldest();
            self.ring.push(x);
            let period_roc = x - trailing;
            return self.step(x, period_roc, const_diff);
        }
        // ring holds x[i-n-1 ..= i-1]; the trailing value leaving is x[i-n-1], the new trailing
        // reference is x[i-n].
        let leaving = self.ring.oldest();
        let trailing = self.ring.back(self.n - 1);
        self.sum_roc += slide(x - yesterday, leaving - trailing);
        self.ring.push(x);
        let period_roc = x - trailing;
        self.step(x, period_roc, const_diff)
    }

    #[inline]
    fn step(&mut self, x: f64, period_roc: f64, const_diff: f64) -> f64 {
        let (sum, prev) = (self.sum_roc, self.prev_kama);
        self.prev_kama = match self.mode {
            Mode::Plain => step::<Plain>(x, period_roc, sum, prev, const_diff),
            Mode::Fused => step::<Fused>(x, period_roc, sum, prev, const_diff),
        };
        self.prev_kama
    }
}

/// The running sum of absolute changes moves by the new change less the one leaving, that
/// difference formed first: one add on the sum's bar-to-bar chain instead of TA-Lib's
/// subtract-then-add (the same sum to rounding; a flat stretch still gives zero changes).
#[inline(always)]
fn slide(new_change: f64, leaving_change: f64) -> f64 {
    new_change.abs() - leaving_change.abs()
}

/// TA-Lib's KAMA step: the efficiency ratio of the last n changes (`period_roc` over their
/// absolute sum), its smoothing constant `sc` (a multiply-add), then `prev·(1 − sc) + x·sc` —
/// TA-Lib's `(x − prev)·sc + prev` rearranged so that one multiply-add sits on the bar-to-bar
/// dependency instead of a subtract, a multiply and an add (the same value to a few ulps; the
/// recurrence contracts, so they do not accumulate).
#[inline(always)]
fn step<A: Arith>(x: f64, period_roc: f64, sum_roc: f64, prev: f64, const_diff: f64) -> f64 {
    // The ratio computed whatever the condition, then picked by a bit mask: an `if`/`else`
    // (even over a ratio computed first) became a branch around the division, and across
    // that branch LLVM kept the running sum on the stack, a store and a reload on its chain
    // every bar (KAMA took 2.3 times TA-Lib's time).
    let ratio = (period_roc / sum_roc).abs();
    let one = (sum_roc <= period_roc) | is_zero(sum_roc);
    let mask = u64::from(one).wrapping_neg();
    let er = f64::from_bits((1.0f64.to_bits() & mask) | (ratio.to_bits() & !mask));
    let mut sc = A::madd(er, const_diff, CONST_MAX);
    sc *= sc;
    A::madd(prev, 1.0 - sc, x * sc)
}

impl Indicator for Kama {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = Kama::new(self.n);
    }
}

pub fn kama(x: &[f64], length: usize) -> Vec<f64> {
    simd::dispatch!(kama_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn kama_in<A: Arith>(x: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = x.len();
    let mut out = crate::core::Column::new(len);
    if len <= n {
        return out.finish();
    }
    let const_diff = 2.0 / (2.0 + 1.0) - CONST_MAX;
    let mut sum_roc = 0.0;
    for i in 0..n {
        sum_roc += (x[i] - x[i + 1]).abs();
    }
    let mut kama = step::<A>(x[n], x[n] - x[0], sum_roc, x[n - 1], const_diff);
    out.nan_to(n);
    out.push(kama);
    // From bar n + 1: the sum of changes slides (the change leaving, x[i−n−1] to x[i−n], out; the
    // new one in), over zipped slices, a chunk at a time into an L1 buffer, each value written
    // once. Plain loops, not an iterator's `map`: LLVM left that fold out of line, compiled
    // without the fused build's features (a library `fma` call per bar).
    let mut buf = [0.0f64; crate::core::CHUNK];
    let at = n + 1;
    let (new, prev, t, trailing) = (&x[at..], &x[at - 1..len - 1], &x[at - n..], &x[..len - at]);
    for start in (0..new.len()).step_by(crate::core::CHUNK) {
        let end = (start + crate::core::CHUNK).min(new.len());
        for ((((o, &v), &p), &tv), &tr) in buf
            .iter_mut()
            .zip(&new[start..end])
            .zip(&prev[start..end])
            .zip(&t[start..end])
            .zip(&trailing[start..end])
        {
            sum_roc += slide(v - p, tr - tv);
            kama = step::<A>(v, v - tv, sum_roc, kama, const_diff);
            *o = kama;
        }
        out.extend(&buf[..end - start]);
    }
    out.finish()
}
