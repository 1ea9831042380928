//! Building blocks shared by the indicators: the bar type, TA-Lib's zero test, fixed-capacity
//! rings, monotonic deques for rolling extremes, and the SMA/EMA/WMA recurrences in TA-Lib's
//! exact operation order. Nothing here allocates after construction.

use crate::simd::{self, Arith, Fused, Mode, Plain};

/// One OHLCV bar. `time` (epoch seconds, UTC) is only needed by session-aware indicators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub time: Option<i64>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bar {
    /// A bar where only the close is known (single-input indicators).
    pub fn close(close: f64) -> Self {
        Bar {
            time: None,
            open: close,
            high: close,
            low: close,
            close,
            volume: f64::NAN,
        }
    }
}

/// TA-Lib's `TA_IS_ZERO`: |v| < 1e-14 (TA-Lib 0.6's epsilon; 0.4 used 1e-8). Found where the
/// two disagree, on prices at zero: a slow SMA of 2.8e-14 is divided by, one of 8.5e-15 is not.
#[inline]
pub fn is_zero(v: f64) -> bool {
    -1e-14 < v && v < 1e-14
}

/// `if cond { a } else { b }` as a bit mask: never a branch. For conditions the data decides
/// bar by bar (mispredicted about as often as not), where LLVM turned an `if` into a jump.
#[inline(always)]
pub fn select(cond: bool, a: f64, b: f64) -> f64 {
    let mask = u64::from(cond).wrapping_neg();
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// TA-Lib's true range of a bar given the previous close.
#[inline]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    // Selects, not branches (the data decides them): `v > g ? v : g` keeps `g` when either is
    // NaN, TA-Lib's order of comparisons.
    let g = high - low;
    let v2 = (prev_close - high).abs();
    let g = if v2 > g { v2 } else { g };
    let v3 = (prev_close - low).abs();
    if v3 > g { v3 } else { g }
}

/// A fixed-capacity ring of the last `cap` values.
#[derive(Debug, Clone)]
pub struct Ring {
    buf: Box<[f64]>,
    head: usize,
    len: usize,
}

impl Ring {
    pub fn new(cap: usize) -> Self {
        Ring {
            buf: vec![0.0; cap.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }
    pub fn cap(&self) -> usize {
        self.buf.len()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }
    #[inline]
    fn wrap(&self, i: usize) -> usize {
        let cap = self.buf.len();
        if i >= cap { i - cap } else { i }
    }
    /// Push a value; returns the evicted oldest value when full.
    #[inline]
    pub fn push(&mut self, v: f64) -> Option<f64> {
        if self.len < self.buf.len() {
            let idx = self.wrap(self.head + self.len);
            self.buf[idx] = v;
            self.len += 1;
            None
        } else {
            let old = self.buf[self.head];
            self.buf[self.head] = v;
            self.head = self.wrap(self.head + 1);
            Some(old)
        }
    }
    /// The value `back` steps before the newest (0 = newest).
    #[inline]
    pub fn back(&self, back: usize) -> f64 {
        if back >= self.len {
            return f64::NAN;
        }
        self.buf[self.wrap(self.head + self.len - 1 - back)]
    }
    /// The oldest value held.
    #[inline]
    pub fn oldest(&self) -> f64 {
        if self.len == 0 {
            f64::NAN
        } else {
            self.buf[self.head]
        }
    }
    /// Values oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let cap = self.buf.len();
        (0..self.len).map(move |i| self.buf[(self.head + i) % cap])
    }
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// Rolling maximum (or minimum) over the last `n` values with a monotonic deque: O(1) amortised,
/// no allocation per update. Ties keep the most recent index (TA-Lib's `>=` / `<=` rule).
#[derive(Debug, Clone)]
pub struct RollingExtreme {
    n: usize,
    max: bool,
    idx: Box<[u64]>,
    val: Box<[f64]>,
    head: usize,
    len: usize,
    count: u64,
}

impl RollingExtreme {
    pub fn max(n: usize) -> Self {
        Self::new(n, true)
    }
    pub fn min(n: usize) -> Self {
        Self::new(n, false)
    }
    fn new(n: usize, max: bool) -> Self {
        let n = n.max(1);
        let cap = (n + 1).next_power_of_two();
        RollingExtreme {
            n,
            max,
            idx: vec![0; cap].into_boxed_slice(),
            val: vec![0.0; cap].into_boxed_slice(),
            head: 0,
            len: 0,
            count: 0,
        }
    }
    #[inline]
    fn slot(&self, i: usize) -> usize {
        (self.head + i) & (self.idx.len() - 1)
    }
    /// Push a value; returns (extreme, its index counted from the first push) over the window of
    /// the last `n` values (fewer at the start), or None when the window holds only NaN (NaN
    /// values are skipped).
    #[inline]
    pub fn push(&mut self, v: f64) -> Option<(f64, u64)> {
        let i = self.count;
        self.count += 1;
        if !v.is_nan() {
            // Drop dominated values from the back (ties: the newer one wins).
            while self.len > 0 {
                let b = self.slot(self.len - 1);
                let dominated = if self.max {
                    self.val[b] <= v
                } else {
                    self.val[b] >= v
                };
                if dominated {
                    self.len -= 1;
                } else {
                    break;
                }
            }
            let s = self.slot(self.len);
            self.idx[s] = i;
            self.val[s] = v;
            self.len += 1;
        }
        // Drop values that left the window from the front.
        while self.len > 0 && self.idx[self.head] + (self.n as u64) <= i {
            self.head = (self.head + 1) & (self.idx.len() - 1);
            self.len -= 1;
        }
        (self.len > 0).then(|| (self.val[self.head], self.idx[self.head]))
    }
    /// The extreme value only: NaN when the window holds only NaN, or (as the batch kernels
    /// say) when a maximum is −∞ or a minimum +∞ — no value stands above (below) the rest.
    #[inline]
    pub fn push_value(&mut self, v: f64) -> f64 {
        let none = if self.max {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        match self.push(v) {
            Some((x, _)) if x != none => x,
            _ => f64::NAN,
        }
    }
    /// Number of values pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.count = 0;
    }
}

/// TA-Lib's SMA recurrence: `total += x; out = total / n; total -= oldest` — two dependent adds
/// per bar. The SMA itself steps its window's change in [`Linear`]'s blocks instead
/// (`ind::sma::Sma`, as AO); PPO keeps TA-Lib's order: on windows of zero prices it divides by
/// the sum's rounding residue, and only TA-Lib's order leaves TA-Lib's residue (the parity
/// tests' zero-price series). STOCH and VWMA have not been moved.
#[derive(Debug, Clone)]
pub struct SmaCore {
    n: usize,
    ring: Ring,
    total: f64,
}

impl SmaCore {
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        SmaCore {
            n,
            ring: Ring::new(n),
            total: 0.0,
        }
    }
    pub fn period(&self) -> usize {
        self.n
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.total += x;
        self.ring.push(x);
        if self.ring.len() < self.n {
            return f64::NAN;
        }
        let out = self.total / self.n as f64;
        self.total -= self.ring.oldest();
        out
    }
    pub fn reset(&mut self) {
        self.ring.clear();
        self.total = 0.0;
    }
}

/// `y_i = a·y_{i−1} + b·x_i` (an EMA, a Wilder average) evaluated eight steps at a time, as a
/// vector unit computes a scan: within a block `y_j = a^(j+1)·y + d_j`, where the `d_j` (the
/// block's own sums `Σ a^(j−i)·b·x_i`) come from two steps over four lanes — each lane adds its
/// left neighbour times `a`, then its neighbour two to the left times `a²` — for each half of
/// the block, the second half then adding `a^(j+1)·d_3`. Only `y` crosses from block to block:
/// the loop-carried chain is one multiply-add per eight values where the recurrence has one
/// per value, and the rest is the same operation on four lanes ([`simd::Scan8`]: AVX2 where
/// the CPU has it). History: `ta.ema` over 1M values took 2.5 ms stepwise, 1.5 in scalar
/// blocks of four (TA-Lib 2.3, on an older machine); on a Zen 4 these blocks of eight, with the
/// output staged in L1, take 0.79-0.80 of the blocks of four's time (in one process, calls
/// interleaved); DEMA, whose EMAs were stepped one value at a time in one fused loop, 0.82 of
/// its. The blocks are bound by the vector unit's throughput (about 1.1 cycles per value), no
/// longer by the chain. Kernels that stage chunks in L1 buffers move with where the process
/// placed its input, output and stack (DEMA 1.1-2.3 ms over 1M bars by the input's address
/// mod 4096 in one process, flat in another): TEMA through three such stages was above
/// TA-Lib's time in half the processes on a Zen 3; with its last stage stored in place
/// ([`EmaCore::feed_append`]) it takes 0.75 of the time of its one-step-per-bar chains on a
/// Zen 5.
/// The values differ from the one-step recurrence by a few ulps (well inside TA-Lib's 1e-9
/// agreement); [`LinearState`] steps through the same formulas one value at a time, so batch and
/// stream agree bit for bit.
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    /// `a`, `b`, `a²`, `a¹…a⁴`, `a⁵…a⁸`.
    scan: simd::Scan8,
}

impl Linear {
    pub fn new(a: f64, b: f64) -> Self {
        let a2 = a * a;
        let pow = [a, a2, a2 * a, a2 * a2];
        Linear {
            scan: simd::Scan8 {
                a,
                a2,
                b,
                pow,
                pow8: pow.map(|p| p * pow[3]),
            },
        }
    }
    /// TA-Lib's EMA with smoothing `k`: `y = (1 − k)·y + k·x`.
    pub fn ema(k: f64) -> Self {
        Linear::new(1.0 - k, k)
    }
    /// Wilder's average over `n`: `y = y·(n − 1)/n + x/n`.
    pub fn wilder(n: usize) -> Self {
        let nf = n.max(1) as f64;
        Linear::new((nf - 1.0) / nf, 1.0 / nf)
    }
    /// Whole blocks over `xs` into `out` from `y`, the value before `xs[0]`; returns the
    /// last value ([`simd::Scan8::run`]: vector code where the CPU has AVX2).
    #[inline(always)]
    pub fn blocks<A: Arith>(&self, y: f64, xs: &[f64], out: &mut [f64]) -> f64 {
        self.scan.run::<A>(y, xs, None, out)
    }
    /// The coefficients, for kernels that run the blocks themselves.
    #[inline(always)]
    pub fn scan(&self) -> &simd::Scan8 {
        &self.scan
    }
}

/// Values per chunk when a kernel chains recurrences (EMA of an EMA) or stages its output in
/// a buffer that stays in L1 before appending it. 256 (2 KB), measured against 512, 2048, 240,
/// 128 and 64 on one release build each, runs alternated, 1M bars: against 512, MACD 0.70-0.73
/// of the time, ATR 0.57-0.62, NATR 0.66, T3 0.83-0.90, KAMA 0.83-0.85, AO 0.92, the rest
/// within noise; 240 (not a power of two: the appended chunks' alignment wanders) lost MACD 1.6
/// times; 64 and 128 helped MACD further but cost KAMA and AROON.
pub const CHUNK: usize = 256;

/// [`Linear`] one input at a time, through the very formulas of its blocks (it tracks its
/// place in the block of eight and the lanes' partial sums): the stream's numbers are the
/// batch's, bit for bit.
#[derive(Debug, Clone, Copy)]
pub struct LinearState {
    /// The value before the current block.
    start: f64,
    /// This half block's `b·x` and first-step sums so far.
    v: [f64; 4],
    s: [f64; 4],
    /// The first half's last sum `d_3`.
    d3: f64,
    phase: usize,
    /// Steps still to take one at a time, each its own block ([`LinearState::with_lead`]).
    lead: usize,
    last: f64,
}

impl LinearState {
    /// Start after `seed` (the recurrence's previous value); a block begins with the next input.
    pub fn new(seed: f64) -> Self {
        LinearState {
            start: seed,
            v: [0.0; 4],
            s: [0.0; 4],
            d3: 0.0,
            phase: 0,
            lead: 0,
            last: seed,
        }
    }
    /// The first `lead` steps one at a time (each its own block: `a·y + b·x`), so that the
    /// blocks of eight begin `lead` steps later — on another recurrence's blocks, for a kernel
    /// that runs both side by side (AO's two window sums).
    #[must_use]
    pub fn with_lead(mut self, lead: usize) -> Self {
        self.lead = lead;
        self
    }
    #[inline(always)]
    pub fn step<A: Arith>(&mut self, l: &Linear, x: f64) -> f64 {
        let j = self.phase & 3;
        let l = &l.scan;
        let v = l.b * x;
        let s = A::madd(l.a, if j == 0 { 0.0 } else { self.v[j - 1] }, v);
        let d = A::madd(l.a2, if j < 2 { 0.0 } else { self.s[j - 2] }, s);
        (self.v[j], self.s[j]) = (v, s);
        let y = if self.phase < 4 {
            self.d3 = d;
            A::madd(l.pow[j], self.start, d)
        } else {
            A::madd(l.pow8[j], self.start, A::madd(l.pow[j], self.d3, d))
        };
        self.phase += 1;
        if self.phase == 8 || self.lead > 0 {
            self.phase = 0;
            self.start = y;
            self.lead = self.lead.saturating_sub(1);
        }
        self.last = y;
        y
    }
    /// [`LinearState::step`] in `mode` (a stream's, recorded when it was built).
    #[inline(always)]
    pub fn step_in(&mut self, mode: Mode, l: &Linear, x: f64) -> f64 {
        match mode {
            Mode::Plain => self.step::<Plain>(l, x),
            Mode::Fused => self.step::<Fused>(l, x),
        }
    }
    /// The latest value (the seed before any step).
    pub fn value(&self) -> f64 {
        self.last
    }
    /// Whether the next input starts a block of eight (no lead-in step left).
    pub fn at_block_start(&self) -> bool {
        self.phase == 0 && self.lead == 0
    }
    /// Step through `xs` into `out` (as long as `xs`): stepwise to the end of the current
    /// block, then whole blocks by [`Linear::blocks`], then stepwise again. The same numbers as
    /// stepping every value, whatever the chunks a kernel feeds.
    #[inline(always)]
    pub fn feed_into<A: Arith>(&mut self, l: &Linear, xs: &[f64], out: &mut [f64]) {
        self.feed_inner::<A>(l, xs, None, out);
    }
    /// [`LinearState::feed_into`] over the differences `new[i] − old[i]` (a window's change:
    /// a running sum's input), formed inside the blocks' loop.
    #[inline(always)]
    pub fn feed_diff_into<A: Arith>(
        &mut self,
        l: &Linear,
        new: &[f64],
        old: &[f64],
        out: &mut [f64],
    ) {
        self.feed_inner::<A>(l, new, Some(old), out);
    }
    #[inline(always)]
    fn feed_inner<A: Arith>(
        &mut self,
        l: &Linear,
        xs: &[f64],
        old: Option<&[f64]>,
        out: &mut [f64],
    ) {
        let len = xs
            .len()
            .min(out.len())
            .min(old.map_or(usize::MAX, <[f64]>::len));
        let (xs, out) = (&xs[..len], &mut out[..len]);
        let x = |i: usize| old.map_or(xs[i], |o| xs[i] - o[i]);
        let mut i = 0;
        while !self.at_block_start() && i < len {
            out[i] = self.step::<A>(l, x(i));
            i += 1;
        }
        let whole = i + (len - i) / 8 * 8;
        if whole > i {
            let old = old.map(|o| &o[i..whole]);
            let y = l
                .scan
                .run::<A>(self.start, &xs[i..whole], old, &mut out[i..whole]);
            (self.start, self.last) = (y, y);
        }
        for j in whole..len {
            out[j] = self.step::<A>(l, x(j));
        }
    }
    /// [`LinearState::feed_into`] (over `new[i] − old[i]` with `old`), appending the values
    /// to `out`: the whole blocks stored in place ([`simd::Scan8::append`]), no buffer.
    #[inline(always)]
    pub fn feed_append<A: Arith>(
        &mut self,
        l: &Linear,
        xs: &[f64],
        old: Option<&[f64]>,
        out: &mut Vec<f64>,
    ) {
        let len = xs.len().min(old.map_or(usize::MAX, <[f64]>::len));
        let xs = &xs[..len];
        let x = |i: usize| old.map_or(xs[i], |o| xs[i] - o[i]);
        let mut i = 0;
        while !self.at_block_start() && i < len {
            out.push(self.step::<A>(l, x(i)));
            i += 1;
        }
        let whole = i + (len - i) / 8 * 8;
        if whole > i {
            let old = old.map(|o| &o[i..whole]);
            let y = l.scan.append::<A>(self.start, &xs[i..whole], old, out);
            (self.start, self.last) = (y, y);
        }
        for j in whole..len {
            out.push(self.step::<A>(l, x(j)));
        }
    }
}

/// `y_i = a_i·y_{i−1} + b_i` with coefficients that change at every step (KAMA's adaptive
/// average), four steps per link of the bar-to-bar chain as [`Linear`]'s blocks do: within a
/// block `y_j = p_j·y + d_j` with `p_j = a_j·p_{j−1}` (`p_0 = a_0`) and
/// `d_j = a_j·d_{j−1} + b_j` (`d_0 = b_0`) formed off the chain. The first value of a block is
/// the one-step recurrence's; the others differ from it by a few ulps (the recurrence
/// contracts when every `a_j` is in [0, 1], so they do not accumulate). [`VaryingState`] steps
/// through the same formulas one value at a time.
#[inline(always)]
pub fn varying_block<A: Arith>(y: f64, a: &[f64; 4], b: &[f64; 4]) -> [f64; 4] {
    let d1 = A::madd(a[1], b[0], b[1]);
    let d2 = A::madd(a[2], d1, b[2]);
    let d3 = A::madd(a[3], d2, b[3]);
    let p1 = a[1] * a[0];
    let p2 = a[2] * p1;
    let p3 = a[3] * p2;
    [
        A::madd(a[0], y, b[0]),
        A::madd(p1, y, d1),
        A::madd(p2, y, d2),
        A::madd(p3, y, d3),
    ]
}

/// [`varying_block`] one step at a time (it tracks its place in the block of four): a stream's
/// values are the batch's, bit for bit, when both start their blocks at the same bar.
#[derive(Debug, Clone, Copy)]
pub struct VaryingState {
    /// The value before the current block.
    start: f64,
    /// `p_j` and `d_j` of the current block.
    p: f64,
    d: f64,
    phase: usize,
    last: f64,
}

impl VaryingState {
    /// Start after `seed` (the recurrence's previous value); a block begins with the next step.
    pub fn new(seed: f64) -> Self {
        VaryingState {
            start: seed,
            p: 1.0,
            d: 0.0,
            phase: 0,
            last: seed,
        }
    }
    /// `y = a·y + b`, through [`varying_block`]'s formulas.
    #[inline(always)]
    pub fn step<A: Arith>(&mut self, a: f64, b: f64) -> f64 {
        if self.phase == 0 {
            (self.p, self.d) = (a, b);
        } else {
            self.d = A::madd(a, self.d, b);
            self.p *= a;
        }
        let y = A::madd(self.p, self.start, self.d);
        self.phase += 1;
        if self.phase == 4 {
            self.phase = 0;
            self.start = y;
        }
        self.last = y;
        y
    }
    /// The latest value (the seed before any step).
    pub fn value(&self) -> f64 {
        self.last
    }
    /// Step through the coefficients `a`, `b` into `out` (the shortest of the three):
    /// stepwise to the end of the current block, then whole blocks by [`varying_block`], then
    /// stepwise again — the numbers of stepping every value, whatever the chunks.
    #[inline(always)]
    pub fn feed<A: Arith>(&mut self, a: &[f64], b: &[f64], out: &mut [f64]) {
        let len = a.len().min(b.len()).min(out.len());
        let (a, b, out) = (&a[..len], &b[..len], &mut out[..len]);
        let mut i = 0;
        while self.phase != 0 && i < len {
            out[i] = self.step::<A>(a[i], b[i]);
            i += 1;
        }
        let whole = i + (len - i) / 4 * 4;
        let mut y = self.start;
        for ((o, a), b) in out[i..whole]
            .as_chunks_mut::<4>()
            .0
            .iter_mut()
            .zip(a[i..whole].as_chunks::<4>().0)
            .zip(b[i..whole].as_chunks::<4>().0)
        {
            *o = varying_block::<A>(y, a, b);
            y = o[3];
        }
        if whole > i {
            (self.start, self.last) = (y, y);
        }
        for j in whole..len {
            out[j] = self.step::<A>(a[j], b[j]);
        }
    }
}

/// The lead-in ([`EmaCore::with_lead`]) that puts the blocks of a recurrence seeded `bars`
/// bars after another's on that one's blocks: `(−bars) mod 8`.
pub const fn lead_after(bars: usize) -> usize {
    (8 - bars % 8) % 8
}

/// TA-Lib's EMA: seeded with the SMA of the first `n` values, then `y = (1 − k)·y + k·x` with
/// `k = 2 / (n + 1)` (or a given k), evaluated as [`Linear`] does.
#[derive(Debug, Clone)]
pub struct EmaCore {
    n: usize,
    lin: Linear,
    /// The arithmetic of the batch this stream must agree with ([`simd::mode`] when built).
    mode: Mode,
    count: usize,
    sum: f64,
    /// Steps after the seed taken one at a time (each its own block, i.e. `a·y + b·x`) before
    /// the blocks of eight begin ([`EmaCore::with_lead`]).
    lead: usize,
    /// `lead` as configured, for [`EmaCore::reset`].
    lead_from: usize,
    state: LinearState,
}

impl EmaCore {
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self::with_k(n, 2.0 / ((n + 1) as f64))
    }
    pub fn with_k(n: usize, k: f64) -> Self {
        EmaCore {
            n: n.max(1),
            lin: Linear::ema(k),
            mode: simd::mode(),
            count: 0,
            sum: 0.0,
            lead: 0,
            lead_from: 0,
            state: LinearState::new(f64::NAN),
        }
    }
    /// The first `lead` steps after the seed one at a time, so that the blocks of eight begin
    /// `lead` bars later: an EMA of an EMA seeds `n − 1` bars after its input does, and with
    /// `lead = (1 − n) mod 8` its blocks fall on its input's (DEMA's and TEMA's batches then
    /// run the chained EMAs' blocks side by side in registers, [`simd::Scan8::chain_append`]).
    /// A step alone is a block's first lane, `a·y + b·x`: exact as the blocks are.
    #[must_use]
    pub fn with_lead(mut self, lead: usize) -> Self {
        (self.lead, self.lead_from) = (lead, lead);
        self
    }
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> f64 {
        if self.count < self.n {
            self.count += 1;
            self.sum += x;
            if self.count < self.n {
                return f64::NAN;
            }
            self.state = LinearState::new(self.sum / self.n as f64);
            return self.state.value();
        }
        let y = self.state.step_in(self.mode, &self.lin, x);
        if self.lead > 0 {
            self.lead -= 1;
            self.state = LinearState::new(y);
        }
        y
    }
    /// The latest value when the next input begins a block of eight (seeded, no lead-in
    /// left), for a kernel that runs the blocks itself; `None` otherwise.
    #[inline(always)]
    pub fn block_start(&self) -> Option<f64> {
        (self.count >= self.n && self.lead == 0 && self.state.at_block_start())
            .then(|| self.state.value())
    }
    /// Continue after whole blocks a kernel ran from [`EmaCore::block_start`], `y` their last
    /// value (what stepping them would have left).
    #[inline(always)]
    pub fn resume(&mut self, y: f64) {
        self.state = LinearState::new(y);
    }
    /// The coefficients of the blocks.
    #[inline(always)]
    pub fn scan(&self) -> &simd::Scan8 {
        self.lin.scan()
    }
    /// [`EmaCore::next`] over `xs` into `out` (as long as `xs`), in arithmetic `A` (the
    /// stream's own [`Mode`] when a batch runs in it): the seeding values one at a time, then
    /// [`LinearState::feed_into`]'s blocks.
    #[inline(always)]
    pub fn feed_into<A: Arith>(&mut self, xs: &[f64], out: &mut [f64]) {
        let len = xs.len().min(out.len());
        let mut i = 0;
        while i < len && (self.count < self.n || self.lead > 0) {
            out[i] = self.next(xs[i]);
            i += 1;
        }
        self.state
            .feed_into::<A>(&self.lin, &xs[i..len], &mut out[i..len]);
    }
    /// [`EmaCore::feed_into`] appending to `out`: the seeding values pushed one at a time, then
    /// [`LinearState::feed_append`]'s blocks stored in place (no buffer to copy out of).
    #[inline(always)]
    pub fn feed_append<A: Arith>(&mut self, xs: &[f64], out: &mut Vec<f64>) {
        let mut i = 0;
        while i < xs.len() && (self.count < self.n || self.lead > 0) {
            out.push(self.next(xs[i]));
            i += 1;
        }
        self.state.feed_append::<A>(&self.lin, &xs[i..], None, out);
    }
    /// Start from a given seed (the seed is the first output).
    pub fn seed(&mut self, value: f64) {
        self.count = self.n;
        self.state = LinearState::new(value);
    }
    pub fn is_ready(&self) -> bool {
        self.count >= self.n
    }
    pub fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.lead = self.lead_from;
        self.state = LinearState::new(f64::NAN);
    }
}

/// The WMA (weights 1..n, newest heaviest) from two running sums: the window's sum
/// `Sub_i = Sub_{i−1} + (x_i − x_{i−n})` and the weighted sum `P_i = P_{i−1} + (n·x_i −
/// Sub_{i−1})` (TA-Lib's `periodSub` and `periodSum`), each stepped in [`Linear`]'s blocks with
/// `a = b = 1` (multiplies by one: exact, so either arithmetic gives the same bits) instead of
/// four dependent adds per bar.
///
/// Both sums are computed afresh from the window every [`WMA_ANCHOR`] values (the first one
/// included): `P` takes off `Sub` every bar, so it integrates `Sub`'s rounding, and stepped
/// without end it drifts — over a million bars TA-Lib's own running-sum order drifted 1.7e-8
/// (relative) from the weighted mean, while TA-Lib 0.8.2's WMA stays within 3e-14 of it (the
/// direct sum of products). Anchored, the values stay within about 1e-13 of it. WMA(1) is the
/// input itself. The batch (`ind::wma`) anchors at the same bars.
#[derive(Debug, Clone)]
pub struct WmaCore {
    n: usize,
    ring: Ring,
    sub: LinearState,
    sum: LinearState,
    /// Values since the last anchor (the anchor's own included).
    since: usize,
    divider: f64,
}

/// Values from one anchoring of [`WmaCore`]'s sums to the next: the anchor, then a chunk's
/// worth of steps (whole blocks of eight).
pub const WMA_ANCHOR: usize = CHUNK + 1;

impl WmaCore {
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        WmaCore {
            n,
            ring: Ring::new(n),
            sub: LinearState::new(0.0),
            sum: LinearState::new(0.0),
            since: 0,
            divider: ((n * (n + 1)) >> 1) as f64,
        }
    }
    /// The running sums' recurrence: `y = 1·y + 1·x`.
    fn sums() -> Linear {
        Linear::new(1.0, 1.0)
    }
    /// Whether the next value is an anchor.
    pub fn anchors_next(&self) -> bool {
        self.since == WMA_ANCHOR
    }
    /// Values the batch may step before the next anchor.
    pub fn steps_left(&self) -> usize {
        WMA_ANCHOR - self.since
    }
    /// A full window's sums (oldest first), TA-Lib's order: `Sub += x`, `P += x·(j + 1)`.
    #[inline]
    fn window_sums(window: impl Iterator<Item = f64>) -> (f64, f64) {
        let (mut sub, mut sum) = (0.0, 0.0);
        for (j, v) in window.enumerate() {
            sub += v;
            sum += v * (j + 1) as f64;
        }
        (sub, sum)
    }
    /// Anchor on a full window (oldest first): both sums from it; returns the value.
    #[inline]
    pub fn anchor(&mut self, window: &[f64]) -> f64 {
        let (sub, sum) = WmaCore::window_sums(window.iter().copied());
        self.anchored(sub, sum)
    }
    fn anchored(&mut self, sub: f64, sum: f64) -> f64 {
        (self.sub, self.sum, self.since) = (LinearState::new(sub), LinearState::new(sum), 1);
        sum / self.divider
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        if self.n == 1 {
            return x;
        }
        let old = self.ring.push(x);
        if !self.ring.is_full() {
            return f64::NAN;
        }
        match old {
            Some(old) if self.since < WMA_ANCHOR => {
                let lin = WmaCore::sums();
                let u = x * self.n as f64 - self.sub.value();
                self.sub.step::<Plain>(&lin, x - old);
                self.since += 1;
                self.sum.step::<Plain>(&lin, u) / self.divider
            }
            _ => {
                let (sub, sum) = WmaCore::window_sums(self.ring.iter());
                self.anchored(sub, sum)
            }
        }
    }
    /// A batch's steps between anchors (at most [`WmaCore::steps_left`]): `new[j]` enters,
    /// `old[j]` (`n` bars before it) leaves; the values into `out`, `u` as scratch (all as long
    /// as `new`). The stream's numbers; its ring is left behind (a batch does not continue the
    /// stream).
    #[inline(always)]
    pub fn values_into<A: Arith>(
        &mut self,
        new: &[f64],
        old: &[f64],
        u: &mut [f64],
        out: &mut [f64],
    ) {
        let (lin, nf) = (WmaCore::sums(), self.n as f64);
        let Some(&first) = new.first() else {
            return;
        };
        if self.n == 1 {
            out.copy_from_slice(new);
            return;
        }
        self.since += new.len();
        u[0] = first * nf - self.sub.value();
        // The window sums into `out` (free until the values), then `u` from them.
        self.sub.feed_diff_into::<A>(&lin, new, old, out);
        for ((u, &x), &s) in u[1..].iter_mut().zip(&new[1..]).zip(&*out) {
            *u = x * nf - s;
        }
        self.sum.feed_into::<A>(&lin, u, out);
        for v in out.iter_mut() {
            *v /= self.divider;
        }
    }
    /// [`WmaCore::values_into`]'s whole blocks appended to `out` in registers where the CPU
    /// has AVX2 ([`simd::wma_append`]), when both sums are at a block's start (from an
    /// anchor they are); returns how many steps were done (0 where it does not apply: the
    /// caller steps those through `values_into`).
    #[inline(always)]
    pub fn blocks_append(&mut self, new: &[f64], old: &[f64], out: &mut Vec<f64>) -> usize {
        if self.n == 1 || !self.sub.at_block_start() || !self.sum.at_block_start() {
            return 0;
        }
        let lin = WmaCore::sums();
        let sums = (self.sub.value(), self.sum.value());
        let shape = (self.n as f64, self.divider);
        match simd::wma_append(&lin.scan, shape, sums, new, old, out) {
            Some((sub, sum, done)) => {
                (self.sub, self.sum) = (LinearState::new(sub), LinearState::new(sum));
                self.since += done;
                done
            }
            None => 0,
        }
    }
    pub fn reset(&mut self) {
        *self = WmaCore::new(self.n);
    }
}

/// The smallest column [`Column::output`] streams: 2 MB (twice a Zen 4 core's L2); a smaller one
/// may well stay in the cache for its reader.
pub const STREAM_MIN: usize = 1 << 18;

/// An output column written once, front to back: NaN for the warm-up, then each value as it
/// is computed, NaN after the last computed one up to the column's length. No fill pass before
/// the values (the output of a million bars is 8 MB: a second pass over it costs as much as a
/// simple kernel when it is not in cache). Best through [`Column::extend_with`] or a block at a
/// time: a `push` per bar from a callback keeps the length in memory (a store and a reload per
/// value), which cost WILLR and PSAR more than the fill did — they keep indexed writes. A
/// `push` (or four at a time) inside a loop that carries floating-point state costs more
/// than its own store: the push may call to grow the vector, every xmm register is
/// caller-saved, and the compiler kept the state on the stack for the whole loop (a store and
/// a reload on the recurrence's chain per push). MACD, ATR/NATR and RSI write a chunk into an
/// L1 buffer and append it (0.76-0.92 of the time of pushing per bar or per block). AROON's
/// callback fills a chunk-sized buffer instead and appends the chunk from it (0.89 of the time
/// of its indexed writes; the same buffering measured 1.08 for WILLR and was not kept).
#[derive(Debug)]
pub struct Column {
    v: Vec<f64>,
    len: usize,
    /// [`Column::extend`] with non-temporal stores ([`crate::simd::extend_streaming`]).
    streaming: bool,
}

impl Column {
    pub fn new(len: usize) -> Self {
        Column {
            v: Vec::with_capacity(len),
            len,
            streaming: false,
        }
    }
    /// A final output column: [`Column::extend`] writes it around the cache (non-temporal
    /// stores, no read of the lines first) when it is `STREAM_MIN` values or more. Worth it for
    /// kernels that append several columns a chunk at a time: on a Zen 4, ADX 0.74-0.85 of the
    /// time with plain stores, STOCH and STOCHRSI 0.80-0.93 (BBANDS' middle band 0.78-0.98
    /// and PPO 0.73-0.93, until their one-pass kernels stored their columns in place); not for
    /// single columns (ATR, NATR, EMA 0.97-1.09; DEMA, whose one column is appended from L1 as
    /// ADX's are, 1.34-1.50: why one column loses where several gain is not established) or
    /// appends of a few values (AROON's blocks: 1.06-1.21).
    pub fn output(len: usize) -> Self {
        let mut c = Column::new(len);
        c.streaming = len >= STREAM_MIN;
        c
    }
    /// NaN up to position `i` (exclusive; nothing if the column is already there).
    #[inline]
    pub fn nan_to(&mut self, i: usize) {
        let k = i.min(self.len).saturating_sub(self.v.len());
        self.v.extend(std::iter::repeat_n(f64::NAN, k));
    }
    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        self.v.push(x);
    }
    #[inline(always)]
    pub fn extend(&mut self, x: &[f64]) {
        if self.streaming {
            crate::simd::extend_streaming(&mut self.v, x);
        } else {
            self.v.extend_from_slice(x);
        }
    }
    /// Append every value of `it` (a zip of slices mapped: one capacity check, then stores).
    /// Give the map a `move` closure when it carries state from bar to bar: state captured by
    /// reference goes through memory at every bar (a store and a reload on the dependency
    /// chain: KAMA took 5.3 ms instead of 3.6 for a million bars).
    #[inline(always)]
    pub fn extend_with(&mut self, it: impl Iterator<Item = f64>) {
        self.v.extend(it);
    }
    /// The values so far, to append to in place (a kernel that writes its own stores).
    #[inline(always)]
    pub(crate) fn values(&mut self) -> &mut Vec<f64> {
        &mut self.v
    }
    /// The column, NaN-padded to its length.
    pub fn finish(mut self) -> Vec<f64> {
        if self.streaming {
            crate::simd::store_fence();
        }
        self.nan_to(self.len);
        self.v.truncate(self.len);
        self.v
    }
}

/// A NaN-filled output column.
#[inline]
pub fn nan_vec(n: usize) -> Vec<f64> {
    vec![f64::NAN; n]
}

/// TA-Lib's running-sum mean over `n` values, its order of operations (the same as
/// [`SmaCore`]): add the bar, divide, take off the bar leaving the window. The one spelling of
/// the batch arithmetic (PPO's).
#[derive(Debug, Clone, Copy)]
pub struct RunningMean {
    total: f64,
    nf: f64,
}

impl RunningMean {
    /// Over `n` values, holding the sum of the first `n - 1` values of `x` (all of them when
    /// `x` is shorter): the next step's bar is `x[n - 1]`.
    pub fn primed(x: &[f64], n: usize) -> Self {
        let n = n.max(1);
        let mut total: f64 = 0.0;
        for &v in &x[..x.len().min(n - 1)] {
            total += v;
        }
        RunningMean {
            total,
            nf: n as f64,
        }
    }
    /// The mean of the window ending at `new`; `old` is the window's first bar, which leaves.
    #[inline(always)]
    pub fn step(&mut self, new: f64, old: f64) -> f64 {
        let sum = self.sum_step(new, old);
        self.mean_of(sum)
    }
    /// [`RunningMean::step`] without its division: the window's sum (a batch divides a chunk
    /// of them at a time with [`RunningMean::mean_of`], the same numbers).
    #[inline(always)]
    pub fn sum_step(&mut self, new: f64, old: f64) -> f64 {
        self.total += new;
        let v = self.total;
        self.total -= old;
        v
    }
    /// The mean of a window whose sum is `sum`.
    #[inline(always)]
    pub fn mean_of(&self, sum: f64) -> f64 {
        sum / self.nf
    }
}

/// TA-Lib's EMA of `x` as a new column: seeded with the mean of its first `n` values (the
/// first value at `n − 1`), then [`Linear`]'s blocks appended in place (each value written
/// once, no NaN fill first, no buffer): [`EmaCore`]'s numbers.
#[inline(always)]
pub fn ema_column<A: Arith>(x: &[f64], n: usize, k: f64) -> Vec<f64> {
    let n = n.max(1);
    let mut out = Column::new(x.len());
    if x.len() < n {
        return out.finish();
    }
    let mut sum = 0.0;
    for &v in &x[..n] {
        sum += v;
    }
    let seed = sum / n as f64;
    out.nan_to(n - 1);
    out.push(seed);
    let (lin, mut st) = (Linear::ema(k), LinearState::new(seed));
    st.feed_append::<A>(&lin, &x[n..], None, out.values());
    out.finish()
}

/// One EMA step, `(1 − k)·prev + k·x`: TA-Lib's `prev + k·(x − prev)` rearranged so that only
/// one multiply-add sits on the loop-carried dependency (the same value to ~1e-16).
#[inline(always)]
pub fn ema_step<A: Arith>(prev: f64, x: f64, k: f64, omk: f64) -> f64 {
    A::madd(omk, prev, k * x)
}

/// `2 / (n + 1)`.
#[inline]
pub fn ema_k(n: usize) -> f64 {
    2.0 / ((n.max(1) + 1) as f64)
}

/// Monotonic deque over a slice for batch rolling extremes: indices only, no wrap-around (its
/// buffer holds as many indices as the series has values). Same semantics as
/// [`RollingExtreme`]: ties keep the most recent index.
pub struct SliceDeque {
    buf: Vec<usize>,
    head: usize,
    tail: usize,
}

impl SliceDeque {
    pub fn new(len: usize) -> Self {
        SliceDeque {
            buf: vec![0; len.max(1)],
            head: 0,
            tail: 0,
        }
    }
    /// Push index `i` of `x` for a rolling max over the last `n` indices; returns the index of
    /// the maximum, or None when the window holds only NaN (NaN values are skipped).
    #[inline]
    pub fn push_max(&mut self, x: &[f64], i: usize, n: usize) -> Option<usize> {
        let v = x[i];
        if !v.is_nan() {
            while self.tail > self.head && x[self.buf[self.tail - 1]] <= v {
                self.tail -= 1;
            }
            self.buf[self.tail] = i;
            self.tail += 1;
        }
        self.front(i, n)
    }
    /// As [`SliceDeque::push_max`] for a rolling min.
    #[inline]
    pub fn push_min(&mut self, x: &[f64], i: usize, n: usize) -> Option<usize> {
        let v = x[i];
        if !v.is_nan() {
            while self.tail > self.head && x[self.buf[self.tail - 1]] >= v {
                self.tail -= 1;
            }
            self.buf[self.tail] = i;
            self.tail += 1;
        }
        self.front(i, n)
    }
    #[inline]
    fn front(&mut self, i: usize, n: usize) -> Option<usize> {
        while self.tail > self.head && self.buf[self.head] + n <= i {
            self.head += 1;
        }
        (self.tail > self.head).then(|| self.buf[self.head])
    }
}

/// Extremes of the last `n` values at every position, in one forward pass with O(n) scratch
/// (van Herk / Gil-Werman by blocks of `n`: a window ending at `i` is the tail of the previous
/// block — its suffix extreme, computed once per block — joined with the head of the current
/// block — a running prefix extreme). Branch-free, the same cost for every window length, no
/// allocation of the series' size. `pick` is `f64::max` or `f64::min`: NaN is its neutral
/// value, so NaN inputs are ignored and a window of only NaN gives NaN. `emit(i, extreme)` for
/// every `i >= n - 1`.
#[inline]
fn for_each_extreme(
    x: &[f64],
    n: usize,
    pick: impl Fn(f64, f64) -> f64,
    mut emit: impl FnMut(usize, f64),
) {
    let n = n.max(1);
    let len = x.len();
    // suffix[j]: extreme of the previous block from its j-th value on; suffix[n] is neutral.
    let mut suffix = vec![f64::NAN; n + 1];
    let mut start = 0;
    while start < len {
        if start >= n {
            let prev = &x[start - n..start];
            for j in (0..n).rev() {
                suffix[j] = pick(suffix[j + 1], prev[j]);
            }
        }
        let end = (start + n).min(len);
        let mut prefix = f64::NAN;
        // The window ending at i starts at i + 1 - n: in the previous block at offset
        // i + 1 - start, or (offset n) exactly at this block's start.
        for (i, &v) in x.iter().enumerate().take(end).skip(start) {
            prefix = pick(prefix, v);
            if i + 1 >= n {
                emit(i, pick(suffix[i + 1 - start], prefix));
            }
        }
        start = end;
    }
}

/// What [`for_each_high_low`] hands each window's extremes to: any `FnMut(i, highest, lowest)`,
/// or a kernel that also wants to know where the method's blocks end (WILLR maps a block's
/// extremes to its values with vector divisions).
pub trait HighLowSink {
    /// The extremes of the window ending at bar `i`.
    fn bar(&mut self, i: usize, highest: f64, lowest: f64);
    /// After a block of at most `n` windows (every bar given since the last call is final).
    #[inline(always)]
    fn block_done(&mut self) {}
}

impl<F: FnMut(usize, f64, f64)> HighLowSink for F {
    #[inline(always)]
    fn bar(&mut self, i: usize, highest: f64, lowest: f64) {
        self(i, highest, lowest);
    }
}

/// Highest `high` and lowest `low` of the last `n` bars: `f.bar(i, highest, lowest)` for every
/// `i >= n - 1` (NaN ignored; a window with no value above −∞ has no highest, and one with none
/// below +∞ no lowest: NaN, as [`RollingExtreme`] says). Both columns in one pass, by the block
/// method of `for_each_extreme`, with bare compare-and-select steps (`maxsd`/`minsd`: a NaN
/// input loses to the running value, which starts at ∓∞) instead of `f64::max`'s NaN checks.
#[inline(always)]
pub fn for_each_high_low(high: &[f64], low: &[f64], n: usize, mut f: impl HighLowSink) {
    #[inline(always)]
    fn hi(v: f64, acc: f64) -> f64 {
        if v > acc { v } else { acc }
    }
    #[inline(always)]
    fn lo(v: f64, acc: f64) -> f64 {
        if v < acc { v } else { acc }
    }
    let n = n.max(1);
    let len = high.len().min(low.len());
    let (high, low) = (&high[..len], &low[..len]);
    let mut suf_hi = vec![f64::NEG_INFINITY; n + 1];
    let mut suf_lo = vec![f64::INFINITY; n + 1];
    let mut start = 0;
    while start < len {
        if start >= n {
            let (ph, pl) = (&high[start - n..start], &low[start - n..start]);
            let (mut h, mut l) = (f64::NEG_INFINITY, f64::INFINITY);
            for j in (0..n).rev() {
                h = hi(ph[j], h);
                l = lo(pl[j], l);
                suf_hi[j] = h;
                suf_lo[j] = l;
            }
        }
        let end = (start + n).min(len);
        let (mut pre_hi, mut pre_lo) = (f64::NEG_INFINITY, f64::INFINITY);
        let first = (n - 1).max(start).min(end);
        for i in start..first {
            pre_hi = hi(high[i], pre_hi);
            pre_lo = lo(low[i], pre_lo);
        }
        let k0 = first + 1 - start;
        for (((i, (&h, &l)), &sh), &sl) in (first..end)
            .zip(high[first..end].iter().zip(&low[first..end]))
            .zip(&suf_hi[k0..])
            .zip(&suf_lo[k0..])
        {
            pre_hi = hi(h, pre_hi);
            pre_lo = lo(l, pre_lo);
            let (a, b) = (hi(sh, pre_hi), lo(sl, pre_lo));
            f.bar(
                i,
                if a == f64::NEG_INFINITY { f64::NAN } else { a },
                if b == f64::INFINITY { f64::NAN } else { b },
            );
        }
        f.block_done();
        start = end;
    }
}

/// Where the highest `high` and the lowest `low` of the last `n` bars are: `f(i, argmax,
/// argmin)` for every `i >= n - 1` (ties go to the most recent bar, as with [`SliceDeque`]; NaN
/// is ignored; `usize::MAX` when the window holds only NaN). The block method of
/// `for_each_extreme` carrying indices: O(1) per bar whatever the data, O(n) scratch. Given
/// a block of bars at a time, `f(first, argmaxes, argmins)`: the places for the windows ending
/// at `first`, `first + 1`, ….
///
/// Each bar is an order key of its value (an `i64`) and its index; every step of the method
/// compares keys and selects the pair with `select_unpredictable` (conditional moves): no
/// branch on the data. (Branches on float compares, and then an `i128` of key and index whose
/// `max` LLVM lowered to compare-and-jump sequences, took 55 cycles a bar that a random walk
/// mispredicts: AROON 1.0-1.2 times TA-Lib's time on a Zen 4.) The key orders values as IEEE
/// does (−0 and +0 equal, infinities included); NaN gets the lowest key, which no value loses
/// to, and a window whose best key is that has no extreme. Lows are the highs of the negated
/// values. "The most recent of equals": a later bar wins a tie, an earlier one must be above.
pub fn for_each_arg_high_low(
    high: &[f64],
    low: &[f64],
    n: usize,
    mut f: impl FnMut(usize, &[usize], &[usize]),
) {
    use std::hint::select_unpredictable as pick;
    const NONE: usize = usize::MAX;
    const EMPTY: (i64, usize) = (i64::MIN, NONE);
    #[inline(always)]
    fn key(x: f64) -> i64 {
        // +0.0 added: −0 becomes +0 (the only equal values with different bits).
        let b = (x + 0.0).to_bits().cast_signed();
        let k = b ^ ((b >> 63).cast_unsigned() >> 1).cast_signed();
        if x.is_nan() { i64::MIN } else { k }
    }
    /// The best so far, or the candidate `(k, i)` where `wins`.
    #[inline(always)]
    fn take(best: (i64, usize), wins: bool, k: i64, i: usize) -> (i64, usize) {
        (pick(wins, k, best.0), pick(wins, i, best.1))
    }
    /// The place of the better of an earlier and a later best (the later wins a tie).
    #[inline(always)]
    fn place(earlier: (i64, usize), later: (i64, usize)) -> usize {
        let e = earlier.0 > later.0;
        let (k, i) = (pick(e, earlier.0, later.0), pick(e, earlier.1, later.1));
        pick(k == i64::MIN, NONE, i)
    }
    let n = n.max(1);
    let len = high.len().min(low.len());
    let (high, low) = (&high[..len], &low[..len]);
    // Blocks of n bars. The window ending at offset j of a block is the previous block from
    // offset j + 1 (its suffix best, `sh`/`sl`, with an empty entry past its end) and this
    // block up to j (the running best `ph`/`pl`).
    let (mut sh, mut sl) = (vec![EMPTY; n + 1], vec![EMPTY; n + 1]);
    let (mut kh, mut kl) = (vec![0i64; n], vec![0i64; n]);
    let (mut hb, mut lb) = (vec![NONE; n], vec![NONE; n]);
    let mut start = 0;
    while start < len {
        let end = (start + n).min(len);
        let m = end - start;
        for ((a, b), (&h, &l)) in kh[..m]
            .iter_mut()
            .zip(&mut kl[..m])
            .zip(high[start..end].iter().zip(&low[start..end]))
        {
            *a = key(h);
            *b = key(-l);
        }
        let (mut ph, mut pl) = (EMPTY, EMPTY);
        for j in 0..m {
            let i = start + j;
            ph = take(ph, kh[j] >= ph.0, kh[j], i);
            pl = take(pl, kl[j] >= pl.0, kl[j], i);
            hb[j] = place(sh[j + 1], ph);
            lb[j] = place(sl[j + 1], pl);
        }
        // The first block's windows are complete from its last bar on.
        let from = if start == 0 { n - 1 } else { 0 };
        if from < m {
            f(start + from, &hb[from..m], &lb[from..m]);
        }
        let (mut ah, mut al) = (EMPTY, EMPTY);
        for j in (0..m).rev() {
            ah = take(ah, kh[j] > ah.0, kh[j], start + j);
            al = take(al, kl[j] > al.0, kl[j], start + j);
            sh[j] = ah;
            sl[j] = al;
        }
        start = end;
    }
}

/// Rolling maximum of the last `n` values (NaN ignored); positions before `n - 1` are NaN.
pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    for_each_extreme(x, n, f64::max, |i, v| out[i] = v);
    out
}

/// Rolling minimum of the last `n` values (NaN ignored).
pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    for_each_extreme(x, n, f64::min, |i, v| out[i] = v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    #[test]
    fn column_is_written_once_and_padded() {
        let mut c = Column::new(6);
        c.nan_to(2);
        c.push(1.0);
        c.nan_to(2); // already past: nothing
        c.extend(&[2.0, 3.0, 4.0, 5.0]); // one more than fits: cut at the column's length
        let v = c.finish();
        assert_eq!(v.len(), 6);
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(&v[2..], &[1.0, 2.0, 3.0, 4.0]);

        let mut c = Column::new(4);
        c.extend(&[7.0]);
        let v = c.finish(); // short: NaN after the last value
        assert_eq!(v[0], 7.0);
        assert!(v[1..].iter().all(|x| x.is_nan()));
        assert_eq!(Column::new(0).finish(), Vec::<f64>::new());
    }

    #[test]
    fn output_column_streams_the_same_values() {
        // Large enough to stream: NaN head, chunks of odd and even lengths, a short tail.
        let len = STREAM_MIN + 1001;
        let mut c = Column::output(len);
        assert!(c.streaming);
        c.nan_to(3);
        let mut next = 0.0;
        let stop = len - 10;
        while c.v.len() < stop {
            let k = [255, 256, 7, 1][c.v.len() % 4].min(stop - c.v.len());
            let chunk: Vec<f64> = (0..k)
                .map(|i| next + f64::from(u32::try_from(i).unwrap_or(0)))
                .collect();
            next += 1000.0;
            c.extend(&chunk);
        }
        let streamed = c.finish();
        let mut plain = Column::new(len);
        assert!(!plain.streaming);
        plain.nan_to(3);
        plain.extend(&streamed[3..stop]);
        let plain = plain.finish();
        assert_eq!(streamed.len(), len);
        let differ = streamed
            .iter()
            .zip(&plain)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differ, None);
        assert!(streamed[stop..].iter().all(|x| x.is_nan()));
        assert!(streamed[..3].iter().all(|x| x.is_nan()));
        // Chunks of 1 (at 3), then 255 (at 4), ...: the values each chunk was given.
        assert_eq!(
            (streamed[3], streamed[4], streamed[258], streamed[259]),
            (0.0, 1000.0, 1254.0, 2000.0)
        );
        assert!(!streamed[stop - 1].is_nan());
        assert!(!Column::output(STREAM_MIN - 1).streaming);
    }

    #[test]
    fn ring_and_extremes() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        r.push(2.0);
        r.push(3.0);
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!((r.back(0), r.back(2), r.oldest()), (4.0, 2.0, 2.0));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);

        let mut mx = RollingExtreme::max(3);
        let got: Vec<(f64, u64)> = [1.0, 3.0, 2.0, 3.0, 1.0, 0.0, 0.0]
            .iter()
            .filter_map(|&v| mx.push(v))
            .collect();
        assert_eq!(
            got,
            vec![
                (1.0, 0),
                (3.0, 1),
                (3.0, 1),
                (3.0, 3),
                (3.0, 3),
                (3.0, 3),
                (1.0, 4)
            ]
        );
        let mut mn = RollingExtreme::min(2);
        let got: Vec<f64> = [5.0, 4.0, 6.0, 7.0]
            .iter()
            .map(|&v| mn.push_value(v))
            .collect();
        assert_eq!(got, vec![5.0, 4.0, 4.0, 6.0]);
        let x = [1.0, f64::NAN, 3.0, 2.0, f64::NAN, f64::NAN, f64::NAN, 5.0];
        let (hi, lo) = (rolling_max(&x, 3), rolling_min(&x, 3));
        // Against the definition: the extreme of the window's non-NaN values.
        let brute = |i: usize, max: bool| {
            let w = x[i + 1 - 3..=i].iter().copied().filter(|v| !v.is_nan());
            if max {
                w.fold(f64::NAN, f64::max)
            } else {
                w.fold(f64::NAN, f64::min)
            }
        };
        for i in 2..x.len() {
            let (bhi, blo) = (brute(i, true), brute(i, false));
            assert!(hi[i] == bhi || (hi[i].is_nan() && bhi.is_nan()), "{i}");
            assert!(lo[i] == blo || (lo[i].is_nan() && blo.is_nan()), "{i}");
        }
        assert!(hi[..2].iter().all(|v| v.is_nan()));
        let mut mx = RollingExtreme::max(3);
        let mut mn = RollingExtreme::min(3);
        for i in 0..x.len() {
            let (a, b) = (mx.push_value(x[i]), mn.push_value(x[i]));
            if i >= 2 {
                assert!(
                    a == hi[i] || (a.is_nan() && hi[i].is_nan()),
                    "max at {i}: {a} vs {}",
                    hi[i]
                );
                assert!(
                    b == lo[i] || (b.is_nan() && lo[i].is_nan()),
                    "min at {i}: {b} vs {}",
                    lo[i]
                );
            }
        }
        assert!(hi[6].is_nan() && hi[7] == 5.0 && lo[4] == 2.0);
    }

    #[test]
    fn sma_ema_wma_basics() {
        let mut s = SmaCore::new(3);
        let out: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| s.next(x)).collect();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(&out[2..], &[2.0, 3.0]);
        let mut e = EmaCore::new(3);
        let out: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| e.next(x)).collect();
        assert_eq!(&out[2..], &[2.0, 3.0]);
        let mut w = WmaCore::new(3);
        let out: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| w.next(x)).collect();
        assert_eq!(out[2], (1.0 + 4.0 + 9.0) / 6.0);
        assert_eq!(out[3], (2.0 + 6.0 + 12.0) / 6.0);
    }

    /// [`linear_blocks_equal_steps`] in one arithmetic.
    fn blocks_equal_steps<A: Arith>(
        x: &[f64],
        n: usize,
        cut: usize,
        seed: f64,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        for lin in [Linear::ema(ema_k(n)), Linear::wilder(n)] {
            let mut stepped = LinearState::new(seed);
            let steps: Vec<f64> = x.iter().map(|&v| stepped.step::<A>(&lin, v)).collect();
            let mut into = vec![f64::NAN; x.len()];
            let mut st = LinearState::new(seed);
            let cut = cut.min(x.len());
            st.feed_into::<A>(&lin, &x[..cut], &mut into[..cut]);
            st.feed_into::<A>(&lin, &x[cut..], &mut into[cut..]);
            for (i, (a, b)) in steps.iter().zip(&into).enumerate() {
                proptest::prop_assert_eq!(a.to_bits(), b.to_bits(), "into, at {}", i);
            }
            proptest::prop_assert_eq!(st.value().to_bits(), stepped.value().to_bits());
            // Over differences formed inside the blocks: a window's change, `x[i] − old[i]`.
            let old: Vec<f64> = x.iter().rev().copied().collect();
            let mut stepped = LinearState::new(seed);
            let want: Vec<f64> = x
                .iter()
                .zip(&old)
                .map(|(&a, &b)| stepped.step::<A>(&lin, a - b))
                .collect();
            let mut st = LinearState::new(seed);
            st.feed_diff_into::<A>(&lin, &x[..cut], &old[..cut], &mut into[..cut]);
            st.feed_diff_into::<A>(&lin, &x[cut..], &old[cut..], &mut into[cut..]);
            for (i, (a, b)) in want.iter().zip(&into).enumerate() {
                proptest::prop_assert_eq!(a.to_bits(), b.to_bits(), "diff, at {}", i);
            }
            // Appended to a column in the same two pieces, after what it already held.
            for diff in [None, Some(&old[..])] {
                let mut col = vec![-1.0];
                let mut st = LinearState::new(seed);
                st.feed_append::<A>(&lin, &x[..cut], diff.map(|o| &o[..cut]), &mut col);
                st.feed_append::<A>(&lin, &x[cut..], diff.map(|o| &o[cut..]), &mut col);
                proptest::prop_assert_eq!(col.len(), x.len() + 1);
                let expect = if diff.is_some() { &want } else { &steps };
                for (i, (a, b)) in expect.iter().zip(&col[1..]).enumerate() {
                    proptest::prop_assert_eq!(a.to_bits(), b.to_bits(), "append, at {}", i);
                }
            }
            let mut plain = seed;
            for (&v, &y) in x.iter().zip(&steps) {
                plain = lin.scan.a * plain + lin.scan.b * v;
                proptest::prop_assert!((plain - y).abs() <= 1e-12 * plain.abs());
            }
        }
        Ok(())
    }

    proptest::proptest! {
        /// Blocks of eight, fed in any chunks (`feed_into`, `feed_diff_into`, `feed_append`), give the stepwise
        /// numbers bit for bit, and stay within 1e-12 (relative) of the one-step recurrence they stand in for: both
        /// arithmetics (the fused one computed by the C library where the CPU lacks it).
        #[test]
        fn linear_blocks_equal_steps(
            x in proptest::collection::vec(50.0f64..150.0, 0..200),
            n in 1usize..60,
            cut in 0usize..200,
            seed in 50.0f64..150.0,
        ) {
            blocks_equal_steps::<Plain>(&x, n, cut, seed)?;
            blocks_equal_steps::<Fused>(&x, n, cut, seed)?;
        }
    }

    /// [`varying_blocks_equal_steps`] in one arithmetic.
    fn varying_equal_steps<A: Arith>(
        ab: &[(f64, f64)],
        seed: f64,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut stepped = VaryingState::new(seed);
        let steps: Vec<f64> = ab.iter().map(|&(a, b)| stepped.step::<A>(a, b)).collect();
        let mut y = seed;
        let mut blocks = Vec::new();
        for c in ab.chunks_exact(4) {
            let a = [c[0].0, c[1].0, c[2].0, c[3].0];
            let b = [c[0].1, c[1].1, c[2].1, c[3].1];
            let v = varying_block::<A>(y, &a, &b);
            blocks.extend_from_slice(&v);
            y = v[3];
        }
        for (i, (s, b)) in steps.iter().zip(&blocks).enumerate() {
            proptest::prop_assert_eq!(s.to_bits(), b.to_bits(), "at {}", i);
        }
        let mut plain = seed;
        for (&(a, b), &y) in ab.iter().zip(&steps) {
            plain = a * plain + b;
            proptest::prop_assert!(
                (plain - y).abs() <= 1e-12 * plain.abs(),
                "{} vs {}",
                plain,
                y
            );
        }
        Ok(())
    }

    proptest::proptest! {
        /// Varying coefficients (KAMA's `1 − sc`, `sc·x`, sc in (0, 1)): blocks of four give the
        /// stepwise numbers bit for bit and stay within 1e-12 (relative) of the one-step
        /// recurrence, in both arithmetics.
        #[test]
        fn varying_blocks_equal_steps(
            scx in proptest::collection::vec((0.0f64..1.0, 50.0f64..150.0), 0..200),
            seed in 50.0f64..150.0,
        ) {
            let ab: Vec<(f64, f64)> = scx.iter().map(|&(sc, x)| (1.0 - sc, sc * x)).collect();
            varying_equal_steps::<Plain>(&ab, seed)?;
            varying_equal_steps::<Fused>(&ab, seed)?;
        }
    }

    proptest::proptest! {
        /// Rolling extremes agree with the definition (the extreme of the window's non-NaN
        /// values, NaN when it has none) for any window and any data with NaN in it.
        #[test]
        fn rolling_extremes_match_the_definition(
            x in proptest::collection::vec(
                proptest::prop_oneof![4 => -1e3f64..1e3, 1 => proptest::strategy::Just(f64::NAN)],
                0..300,
            ),
            n in 1usize..40,
        ) {
            let (hi, lo) = (rolling_max(&x, n), rolling_min(&x, n));
            let mut seen = vec![false; x.len()];
            let neg: Vec<f64> = x.iter().map(|v| -v).collect();
            for_each_high_low(&x, &neg, n, |i, h: f64, l: f64| {
                seen[i] = true;
                let w = x[i + 1 - n..=i].iter().copied().filter(|v| !v.is_nan());
                let (bh, bl) = (w.clone().fold(f64::NAN, f64::max), w.fold(f64::NAN, f64::min));
                let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
                assert!(same(h, bh) && same(hi[i], bh), "max at {i}: {h} {} vs {bh}", hi[i]);
                assert!(same(-l, bh), "high/low pass min at {i}");
                assert!(same(lo[i], bl), "min at {i}: {} vs {bl}", lo[i]);
            });
            for (i, s) in seen.iter().enumerate() {
                assert_eq!(*s, i + 1 >= n, "visited {i}");
                if i + 1 < n {
                    assert!(hi[i].is_nan() && lo[i].is_nan());
                }
            }
        }

        /// Where the extremes are (AROON): the block method agrees with the monotonic deque —
        /// the most recent bar on ties, none for a window of NaN only — on data full of ties
        /// (few distinct values), NaN and infinities.
        #[test]
        fn rolling_arg_extremes_match_the_deque(
            bars in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        8 => (-2i32..4).prop_map(f64::from),
                        2 => proptest::strategy::Just(f64::NAN),
                        1 => proptest::strategy::Just(-0.0),
                        1 => proptest::strategy::Just(f64::NEG_INFINITY),
                        1 => proptest::strategy::Just(f64::INFINITY),
                    ],
                    proptest::prop_oneof![
                        8 => (-2i32..4).prop_map(f64::from),
                        2 => proptest::strategy::Just(f64::NAN),
                        1 => proptest::strategy::Just(-0.0),
                        1 => proptest::strategy::Just(f64::NEG_INFINITY),
                        1 => proptest::strategy::Just(f64::INFINITY),
                    ],
                ),
                0..300,
            ),
            n in 1usize..40,
        ) {
            let high: Vec<f64> = bars.iter().map(|b| b.0).collect();
            let low: Vec<f64> = bars.iter().map(|b| b.1).collect();
            let (mut dh, mut dl) = (SliceDeque::new(high.len()), SliceDeque::new(high.len()));
            let want: Vec<(Option<usize>, Option<usize>)> = (0..high.len())
                .map(|i| (dh.push_max(&high, i, n), dl.push_min(&low, i, n)))
                .collect();
            let mut seen = 0;
            for_each_arg_high_low(&high, &low, n, |first, hs, ls| {
                assert_eq!(first, seen + n - 1);
                assert_eq!(hs.len(), ls.len());
                for (i, (&h, &l)) in (first..).zip(hs.iter().zip(ls)) {
                    seen += 1;
                    let some = |x: usize| (x != usize::MAX).then_some(x);
                    assert_eq!((some(h), some(l)), want[i], "window ending at {i}");
                }
            });
            assert_eq!(seen, high.len().saturating_sub(n - 1));
        }
    }
}
