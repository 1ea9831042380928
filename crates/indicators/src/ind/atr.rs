//! ATR — TA-Lib ATR: true range from the second bar, seeded with the SMA of the first `length`
//! true ranges, then Wilder smoothing. Length 1 gives the true range itself.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column, Linear, LinearState, true_range};
use crate::simd::{self, Arith, Mode};

#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    prev_close: f64,
    seen: usize,
    sum: f64,
    lin: Linear,
    atr: LinearState,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Atr {
    pub fn new(length: usize) -> Self {
        Atr {
            n: length.max(1),
            prev_close: f64::NAN,
            seen: 0,
            sum: 0.0,
            lin: Linear::wilder(length),
            atr: LinearState::new(f64::NAN),
            mode: simd::mode(),
        }
    }
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let i = self.seen;
        self.seen += 1;
        let prev = self.prev_close;
        self.prev_close = close;
        if i == 0 {
            return f64::NAN;
        }
        let tr = true_range(high, low, prev);
        let n = self.n;
        if n == 1 {
            return tr;
        }
        if i <= n {
            self.sum += tr;
            if i < n {
                return f64::NAN;
            }
            self.atr = LinearState::new(self.sum / n as f64);
            return self.atr.value();
        }
        self.atr.step_in(self.mode, &self.lin, tr)
    }
}

impl Indicator for Atr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        *self = Atr::new(self.n);
    }
}

pub fn atr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    simd::dispatch!(atr_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn atr_in<A: Arith>(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    atr_map::<A>(high, low, close, length, |a, _| a)
}

/// Bars per batch step whose true ranges are computed apart from the average's blocks.
const WIDE: usize = 16;
const _: () = assert!(
    CHUNK.is_multiple_of(WIDE),
    "a chunk holds whole sixteen-bar steps"
);

/// ATR in one pass with `f(atr, close)` written at each bar (ATR itself, or NATR's ratio):
/// indicators derived from ATR pay for one pass over memory, not two.
#[inline(always)]
pub(crate) fn atr_map<A: Arith>(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
    f: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len());
    let mut out = Column::new(close.len());
    if n == 1 {
        out.nan_to(1);
        for i in 1..len {
            out.push(f(true_range(high[i], low[i], close[i - 1]), close[i]));
        }
        return out.finish();
    }
    if len <= n {
        return out.finish();
    }
    let nf = n as f64;
    let mut sum = 0.0;
    for i in 1..=n {
        sum += true_range(high[i], low[i], close[i - 1]);
    }
    let mut atr = sum / nf;
    out.nan_to(n);
    out.push(f(atr, close[n]));
    // Blocks of eight, then stepwise: the stream's formulas, batch and stream agree bit for bit.
    // Slices of one length cut up front: no bounds checks in the loop, `f` over a block of eight
    // vectorises. [`WIDE`] bars at a time first: their true ranges in a loop of their own
    // (vectorised, both selects `maxpd`; computed inside the four-bar block, one of the two
    // became a compare and a branch per bar, mispredicted on real data), then the average
    // through [`Linear::blocks`]: 0.77-0.79 of the time for ATR, 0.80-0.81 for NATR (measured
    // in one process, against the true ranges inside the blocks).
    let lin = Linear::wilder(n);
    let (h, l, c, pc) = (
        &high[n + 1..len],
        &low[n + 1..len],
        &close[n + 1..len],
        &close[n..len - 1],
    );
    // A chunk of values at a time into a buffer that stays in L1, then appended: no call
    // inside the loop (across a `push`'s possible growth the average lived on the stack).
    let done = h.len() - h.len() % WIDE;
    let mut ob = [0.0; CHUNK];
    let mut at = 0;
    while at < done {
        let end = (at + CHUNK).min(done);
        let ((hs, ls), (cs, ps)) = ((&h[at..end], &l[at..end]), (&c[at..end], &pc[at..end]));
        for (((h, l), (c, pc)), o) in hs
            .chunks_exact(WIDE)
            .zip(ls.chunks_exact(WIDE))
            .zip(cs.chunks_exact(WIDE).zip(ps.chunks_exact(WIDE)))
            .zip(ob.chunks_exact_mut(WIDE))
        {
            let mut tr = [0.0; WIDE];
            for (((t, &h), &l), &pc) in tr.iter_mut().zip(h).zip(l).zip(pc) {
                *t = true_range(h, l, pc);
            }
            // Through memory: left in registers, the AVX build (the fused arithmetic) turned
            // the second select into a mask and a branch per bar again, 1.3 times the time.
            let tr = std::hint::black_box(tr);
            let mut v = [0.0; WIDE];
            atr = lin.blocks::<A>(atr, &tr, &mut v);
            for ((o, &v), &c) in o.iter_mut().zip(&v).zip(c) {
                *o = f(v, c);
            }
        }
        out.extend(&ob[..end - at]);
        at = end;
    }
    let (h, l, c, pc) = (&h[done..], &l[done..], &c[done..], &pc[done..]);
    let mut blocks = h
        .chunks_exact(8)
        .zip(l.chunks_exact(8))
        .zip(c.chunks_exact(8).zip(pc.chunks_exact(8)));
    for ((h, l), (c, pc)) in &mut blocks {
        let tr = std::array::from_fn(|j| true_range(h[j], l[j], pc[j]));
        let v = lin.block::<A>(atr, &tr);
        for (&v, &c) in v.iter().zip(c) {
            out.push(f(v, c));
        }
        atr = v[7];
    }
    let mut st = LinearState::new(atr);
    for i in h.len() - h.len() % 8..h.len() {
        out.push(f(st.step::<A>(&lin, true_range(h[i], l[i], pc[i])), c[i]));
    }
    out.finish()
}
