//! SMA — TA-Lib SMA: the mean of the last `n` values, as a running sum.
//!
//! TA-Lib adds the new value, divides, then subtracts the one leaving: two dependent adds per
//! bar on one chain (about 6 cycles a bar, all an SMA costs). Here the sum steps by the
//! window's change, `S_i = S_{i−1} + (x_i − x_{i−n})` — the same sum in exact arithmetic — in
//! [`Linear`]'s blocks with `a = b = 1`: the changes are vector code, the scan's lanes only add
//! (its multiplies are by one, exact: both arithmetics give the same numbers), and the chain
//! is one add per eight bars. The values differ from TA-Lib's by the running sums' own rounding
//! (well inside 1e-9); the stream steps through the same formulas, so batch and stream agree
//! bit for bit. SMA(1) is the input itself.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column, Linear, LinearState, Ring};
use crate::simd::{self, Arith, Plain};

#[derive(Debug, Clone)]
pub struct Sma {
    n: usize,
    ring: Ring,
    /// The first window's sum, TA-Lib's order (from 0.0, oldest first).
    seed: f64,
    sum: LinearState,
    /// The running sum's lead-in after the first window ([`Sma::with_lead`]).
    lead: usize,
}

/// The running sum's recurrence: `S = 1·S + 1·Δ`.
fn window_sum() -> Linear {
    Linear::new(1.0, 1.0)
}

impl Sma {
    pub fn new(length: usize) -> Self {
        let n = length.max(1);
        Sma {
            n,
            ring: Ring::new(n),
            seed: 0.0,
            sum: LinearState::new(0.0),
            lead: 0,
        }
    }
    /// The running sum's first `lead` steps after the first window one at a time, so that
    /// its blocks of eight begin `lead` bars later ([`LinearState::with_lead`]): AO's faster
    /// SMA takes `(slow − fast) mod 8` and its blocks fall on the slower one's.
    #[must_use]
    pub fn with_lead(mut self, lead: usize) -> Self {
        self.lead = lead;
        self
    }
    /// The window's running sum when the next value begins one of its blocks (the window
    /// full, no lead-in step left; `n` > 1), for a kernel that runs the blocks itself.
    #[inline]
    pub(crate) fn block_start(&self) -> Option<f64> {
        (self.n > 1 && self.ring.is_full() && self.sum.at_block_start()).then(|| self.sum.value())
    }
    /// Continue after whole blocks a kernel ran from [`Sma::block_start`]: `sum` their last
    /// running sum. The ring is left behind, as [`Sma::means_into`] leaves it.
    #[inline]
    pub(crate) fn resume(&mut self, sum: f64) {
        self.sum = LinearState::new(sum);
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        if self.n == 1 {
            return x;
        }
        let nf = self.n as f64;
        // A multiply by one is exact and `1·p + c` rounds as `p + c`: either arithmetic gives
        // these bits; the plain one needs no CPU feature.
        if let Some(old) = self.ring.push(x) {
            return self.sum.step::<Plain>(&window_sum(), x - old) / nf;
        }
        self.seed += x;
        if self.ring.len() < self.n {
            return f64::NAN;
        }
        self.sum = LinearState::new(self.seed).with_lead(self.lead);
        self.seed / nf
    }
}

impl Sma {
    /// A batch's step over bars whose windows are full (the stream past its warm-up):
    /// `new[j]` enters and `old[j]`, the value `n` bars before it, leaves; the means into
    /// `out` (all as long as `new`). The stream's numbers; its ring is left
    /// behind (a batch does not continue the stream).
    #[inline(always)]
    pub(crate) fn means_into<A: Arith>(&mut self, new: &[f64], old: &[f64], out: &mut [f64]) {
        if self.n == 1 {
            out.copy_from_slice(new);
            return;
        }
        self.sum.feed_diff_into::<A>(&window_sum(), new, old, out);
        let nf = self.n as f64;
        for v in out.iter_mut() {
            *v /= nf;
        }
    }
    /// [`Sma::means_into`] appending the means to `out` (the sums stored in place, then
    /// divided there while they are in L1: no buffer to copy from).
    #[inline(always)]
    pub(crate) fn means_append<A: Arith>(&mut self, new: &[f64], old: &[f64], out: &mut Vec<f64>) {
        if self.n == 1 {
            out.extend_from_slice(new);
            return;
        }
        let start = out.len();
        self.sum
            .feed_append::<A>(&window_sum(), new, Some(old), out);
        let nf = self.n as f64;
        for v in &mut out[start..] {
            *v /= nf;
        }
    }
}

impl Indicator for Sma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = Sma::new(self.n).with_lead(self.lead);
    }
}

/// SMA over `x`; NaN for the first `length - 1` values.
pub fn sma(x: &[f64], length: usize) -> Vec<f64> {
    simd::dispatch!(sma_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn sma_in<A: Arith>(x: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    let len = x.len();
    let mut out = Column::new(len);
    // The warm-up through the stream itself, then a chunk at a time: the window's changes
    // and their running sum in blocks of eight (AVX2 where the CPU has it) appended in place,
    // then divided there while in L1 (vector divisions).
    let mut st = Sma::new(n);
    let warm = n.min(len);
    out.extend_with(x[..warm].iter().map(|&v| st.next(v)));
    for (new, old) in x[warm..].chunks(CHUNK).zip(x.chunks(CHUNK)) {
        st.means_append::<A>(new, &old[..new.len()], out.values());
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Sma, sma};

    /// Batch == stream bit for bit, within 1e-12 of the mean; SMA(1) is the input.
    #[test]
    fn batch_is_the_stream() {
        crate::ind::check::batch_is_the_stream(
            sma,
            |n| {
                let mut s = Sma::new(n);
                Box::new(move |v| s.next(v))
            },
            |w| w.iter().sum::<f64>() / w.len() as f64,
        );
    }
}
