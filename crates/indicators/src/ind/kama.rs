//! KAMA — TA-Lib KAMA (efficiency ratio over `length`, fast 2 / slow 30 constants).
use crate::Indicator;
use crate::core::{Bar, CHUNK, Ring, VaryingState, is_zero, select, varying_block};
use crate::simd::{self, Arith, Fused, Mode, Plain};

const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);

#[derive(Debug, Clone)]
pub struct Kama {
    n: usize,
    ring: Ring,
    sum_roc: f64,
    /// The average after the seed bar: [`VaryingState`]'s blocks of four, the batch's.
    kama: VaryingState,
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
            kama: VaryingState::new(f64::NAN),
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
            // The window's oldest value is the trailing one.
            let trailing = self.ring.oldest();
            self.ring.push(x);
            let sum = self.sum_roc;
            let seed = match self.mode {
                Mode::Plain => step::<Plain>(x, x - trailing, sum, yesterday, const_diff),
                Mode::Fused => step::<Fused>(x, x - trailing, sum, yesterday, const_diff),
            };
            self.kama = VaryingState::new(seed);
            return seed;
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
        let sum = self.sum_roc;
        match self.mode {
            Mode::Plain => {
                let sc = smoothing::<Plain>(period_roc, sum, const_diff);
                self.kama.step::<Plain>(1.0 - sc, x * sc)
            }
            Mode::Fused => {
                let sc = smoothing::<Fused>(period_roc, sum, const_diff);
                self.kama.step::<Fused>(1.0 - sc, x * sc)
            }
        }
    }
}

/// The running sum of absolute changes moves by the new change less the one leaving, that
/// difference formed first: one add on the sum's bar-to-bar chain instead of TA-Lib's
/// subtract-then-add (the same sum to rounding; a flat stretch still gives zero changes).
#[inline(always)]
fn slide(new_change: f64, leaving_change: f64) -> f64 {
    new_change.abs() - leaving_change.abs()
}

/// TA-Lib's KAMA step, one bar (the seed bar: the batch and the stream run the bars after it
/// through [`VaryingState`]'s blocks of four): `prev·(1 − sc) + x·sc`, TA-Lib's
/// `(x − prev)·sc + prev` rearranged so that one multiply-add sits on the bar-to-bar dependency
/// instead of a subtract, a multiply and an add (the same value to a few ulps; the recurrence
/// contracts, so they do not accumulate).
#[inline(always)]
fn step<A: Arith>(x: f64, period_roc: f64, sum_roc: f64, prev: f64, const_diff: f64) -> f64 {
    let sc = smoothing::<A>(period_roc, sum_roc, const_diff);
    A::madd(prev, 1.0 - sc, x * sc)
}

/// The running sums of changes for a chunk: `s[j]` after bar j.
#[inline(always)]
fn sums(sum: &mut f64, new: &[f64], prev: &[f64], t: &[f64], trailing: &[f64], s: &mut [f64]) {
    for ((((o, &v), &p), &tv), &tr) in s.iter_mut().zip(new).zip(prev).zip(t).zip(trailing) {
        *sum += slide(v - p, tr - tv);
        *o = *sum;
    }
}

/// The smoothing constant: the efficiency ratio of the last n changes (`period_roc` over their
/// absolute sum, 1 where that sum is zero or not above the change), through `sc = (er·(2/3 −
/// 2/31) + 2/31)²` (a multiply-add).
#[inline(always)]
fn smoothing<A: Arith>(period_roc: f64, sum_roc: f64, const_diff: f64) -> f64 {
    // The ratio computed whatever the condition, then picked by a bit mask (`select`): an
    // `if`/`else` (even over a ratio computed first) became a branch around the division, and
    // across that branch LLVM kept the running sum on the stack, a store and a reload on its
    // chain every bar (KAMA took 2.3 times TA-Lib's time).
    let ratio = (period_roc / sum_roc).abs();
    let er = select((sum_roc <= period_roc) | is_zero(sum_roc), 1.0, ratio);
    let sc = A::madd(er, const_diff, CONST_MAX);
    sc * sc
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
    let at = n + 1;
    let (new, prev, t, trailing) = (
        &x[at..],
        &x[at - 1..len - 1],
        &x[at - n..len - n],
        &x[..len - at],
    );
    // From bar n + 1, a chunk at a time in L1 buffers, three passes: the running sums of
    // changes (a chain: one add per bar), the smoothing constants (vector code, four divisions
    // at a time), the average (a chain: a link per four bars, [`varying_block`]). The sums run
    // a chunk ahead, in the loop of the average, so that the two chains overlap. Each value
    // is written once (stored in place). One pass per bar (both chains, the division
    // between them) took 1.5 times as long: its average's chain was a multiply-add per bar.
    let m = new.len();
    let (mut s_cur, mut s_next) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
    let (mut ab, mut bb, mut ob) = ([0.0f64; CHUNK], [0.0f64; CHUNK], [0.0f64; CHUNK]);
    let e0 = CHUNK.min(m);
    sums(
        &mut sum_roc,
        &new[..e0],
        &prev[..e0],
        &t[..e0],
        &trailing[..e0],
        &mut s_cur[..e0],
    );
    let mut start = 0;
    while start < m {
        let end = (start + CHUNK).min(m);
        let k = end - start;
        for ((((a, b), &s), &v), &tv) in ab[..k]
            .iter_mut()
            .zip(&mut bb[..k])
            .zip(&s_cur[..k])
            .zip(&new[start..end])
            .zip(&t[start..end])
        {
            let sc = smoothing::<A>(v - tv, s, const_diff);
            *a = 1.0 - sc;
            *b = v * sc;
        }
        let next_end = (end + CHUNK).min(m);
        let k2 = next_end - end;
        let q2 = k2 / 4 * 4;
        // The next chunk's running sum (its own chain, a value per bar) in the loop of this
        // chunk's average (a link per four bars): the two chains overlap. The average's values
        // stored straight into the column.
        let (a4, b4) = (ab[..q2].as_chunks::<4>().0, bb[..q2].as_chunks::<4>().0);
        let sn4 = s_next[..q2].as_chunks_mut::<4>().0;
        let (v4, p4) = (
            new[end..end + q2].as_chunks::<4>().0,
            prev[end..end + q2].as_chunks::<4>().0,
        );
        let (t4, tr4) = (
            t[end..end + q2].as_chunks::<4>().0,
            trailing[end..end + q2].as_chunks::<4>().0,
        );
        crate::simd::append_steps([out.values()], q2 / 4, |i| {
            let (v, p, tv, tr) = (&v4[i], &p4[i], &t4[i], &tr4[i]);
            for j in 0..4 {
                sum_roc += slide(v[j] - p[j], tr[j] - tv[j]);
                sn4[i][j] = sum_roc;
            }
            let o = varying_block::<A>(kama, &a4[i], &b4[i]);
            kama = o[3];
            [o]
        });
        let (e2, ne) = (end + q2, next_end);
        sums(
            &mut sum_roc,
            &new[e2..ne],
            &prev[e2..ne],
            &t[e2..ne],
            &trailing[e2..ne],
            &mut s_next[q2..k2],
        );
        // The rest of this chunk's average (past the next chunk's end: the last chunk's bars
        // only), in blocks and then a step at a time, the same formulas.
        let mut st = VaryingState::new(kama);
        st.feed::<A>(&ab[q2..k], &bb[q2..k], &mut ob[..k - q2]);
        kama = st.value();
        out.extend(&ob[..k - q2]);
        std::mem::swap(&mut s_cur, &mut s_next);
        start = end;
    }
    out.finish()
}
