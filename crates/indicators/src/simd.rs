//! Fused multiply-add on the recurrences' chains, where the CPU has it — the one module of the
//! workspace allowed `unsafe`.
//!
//! An EMA or a Wilder average is a chain: each value waits for the one before it, so its speed
//! is the latency of `a·y + b` per step. With a fused multiply-add that is one instruction
//! (4 cycles on current x86 cores) instead of a multiply then an add (3 + 3). TA-Lib's own wheel
//! does exactly this: its C library is compiled with `.fma` clones of its functions, chosen at
//! load time. We choose at run time too, so the wheel still runs on every x86-64 CPU:
//!
//! - A kernel is written once, generic over [`Arith`] ([`Arith::madd`] is `a·b + c`, fused or
//!   not), and called through `dispatch!`, which runs the [`Fused`] instance inside a function
//!   compiled with `fma` and `avx2` enabled when [`mode`] says the CPU has them, the [`Plain`]
//!   instance otherwise.
//! - A stream records [`mode`] when it is built and steps with the same instance, so batch and
//!   stream agree bit for bit in either mode. (Outside the enabled function `f64::mul_add` is a
//!   call to the C library's `fma`, which rounds exactly as the instruction does: a fused
//!   multiply-add has one correct result, whoever computes it.)
//! - The two modes differ from each other by a few ulps per step (one rounding instead of two),
//!   well inside the 1e-9 agreement with TA-Lib either way. Tests run both through
//!   [`force_mode`].
//!
//! - Kernels without a recurrence to fuse but with loops AVX2 widens (ROC, AO, DC, BBANDS,
//!   WILLR: 0.6-0.87 of the baseline build's time; STOCH and MFI, whose batches divide a chunk
//!   at a time) go through the same dispatch, not generic: their numbers are the same in both
//!   modes; CCI too, whose eight bars side by side are [`cci_append`]'s lanes there. Tried and
//!   left baseline, no faster or slower with AVX2: AROON, SMA, WMA, AD, OBV, MOM. (MAMA,
//!   PSAR and ADX are generic: MAMA's period, PSAR's step toward the extreme — TA-Lib's FMA
//!   build contracts it too, so the fused SAR is TA-Lib's bit for bit — and ADX's Wilder sums
//!   have multiply-adds.)
//!
//! The `unsafe` is in three kinds of places, all here. One call, written once in `dispatch!`
//! and once in `fused_only!` (the `*_append` functions' kernels): a `#[target_feature]`
//! function may only be called where the CPU is known to have the feature, and [`mode`]
//! returns [`Mode::Fused`] only after `is_x86_feature_detected!` reported both `fma` and
//! `avx2`. The AVX2 loops, behind the same check: [`Scan8`]'s (the EMAs' and Wilder
//! averages' blocks of eight, the block itself in `Lanes`; DEMA's and TEMA's EMAs chained
//! block by block in [`Scan8::chain_append`]), [`macd_append`]'s (MACD's three EMAs the
//! same way), [`ao_append`]'s (AO's two window sums), [`rsi_append`]'s (RSI's two
//! averages through the same block),
//! [`ad_append`]'s (AD's line), [`cci_append`]'s (eight bars' windows) and [`wma_append`]'s
//! (WMA's two running sums through the same block); each loads within the slices it was given
//! and stores within the slice or the capacity it reserved in the output before setting its
//! length; their lanes are the portable code's operations one for one (the proptests and the
//! kernels' unit tests hold them to the stepwise formulas and the streams bit for bit). And
//! [`append_steps`], which stores a stepwise kernel's values into its columns' reserved
//! capacity and sets their lengths once all are written, and [`extend_streaming`], which
//! appends a slice with non-temporal stores (SSE2, every x86-64 CPU) within the capacity it
//! reserved, then sets the length; [`store_fence`] orders those stores.
use std::cell::Cell;

/// How a kernel computes `a·b + c`.
pub trait Arith: Copy {
    /// `a·b + c`: rounded once ([`Fused`]) or twice ([`Plain`]).
    fn madd(a: f64, b: f64, c: f64) -> f64;
    /// [`Scan8::run`] in this arithmetic (`old`: the inputs are `xs[i] − old[i]`).
    #[inline(always)]
    fn scan8_run(c: &Scan8, y: f64, xs: &[f64], old: Option<&[f64]>, out: &mut [f64]) -> f64 {
        c.run_portable::<Self>(y, xs, old, out)
    }
    /// [`Scan8::append`] in this arithmetic.
    #[inline(always)]
    fn scan8_append(c: &Scan8, y: f64, xs: &[f64], old: Option<&[f64]>, out: &mut Vec<f64>) -> f64 {
        c.append_portable::<Self>(y, xs, old, out)
    }
    /// [`Scan8::chain_append`] in this arithmetic.
    #[inline(always)]
    fn scan8_chain<const K: usize>(
        c: &Scan8,
        ys: [f64; K],
        xs: &[f64],
        out: &mut Vec<f64>,
    ) -> [f64; K] {
        c.chain_portable::<Self, K>(ys, xs, out)
    }
    /// [`Scan8::append_true_range`] in this arithmetic.
    #[inline(always)]
    fn scan8_append_tr(
        c: &Scan8,
        y: f64,
        hlc: (&[f64], &[f64], &[f64]),
        out: &mut Vec<f64>,
    ) -> f64 {
        c.append_tr_portable::<Self>(y, hlc, out)
    }
}

/// What [`Scan8`]'s AVX2 loop reads: the inputs, the differences of two, or true ranges.
#[cfg(target_arch = "x86_64")]
const PLAIN: u8 = 0;
#[cfg(target_arch = "x86_64")]
const DIFF: u8 = 1;
#[cfg(target_arch = "x86_64")]
const TRUE_RANGE: u8 = 2;

/// The coefficients of `y_i = a·y_{i−1} + b·x_i` eight steps at a time (`core::Linear`'s
/// blocks): `a`, `a²`, `b`, `a¹…a⁴`, `a⁵…a⁸`.
#[derive(Debug, Clone, Copy)]
pub struct Scan8 {
    pub a: f64,
    pub a2: f64,
    pub b: f64,
    pub pow: [f64; 4],
    pub pow8: [f64; 4],
}

/// `a·b + c` lane by lane.
#[inline(always)]
fn madd4<A: Arith>(a: [f64; 4], b: [f64; 4], c: [f64; 4]) -> [f64; 4] {
    [
        A::madd(a[0], b[0], c[0]),
        A::madd(a[1], b[1], c[1]),
        A::madd(a[2], b[2], c[2]),
        A::madd(a[3], b[3], c[3]),
    ]
}

impl Scan8 {
    #[inline(always)]
    fn half<A: Arith>(&self, x: [f64; 4]) -> [f64; 4] {
        let v = x.map(|x| self.b * x);
        let s = madd4::<A>([self.a; 4], [0.0, v[0], v[1], v[2]], v);
        madd4::<A>([self.a2; 4], [0.0, 0.0, s[0], s[1]], s)
    }
    /// The eight values after `y` given the next eight inputs. Each half: `v = b·x`; each lane
    /// adds its left neighbour times `a` (`[0, v0, v1, v2]`), then its neighbour two to the
    /// left times `a²` (`[0, 0, s0, s1]`), giving the half's own sums `d_j`; the second half
    /// then adds `a^(j+1)·d_3`; the values are `a^(j+1)·y + d_j`. [`Fused`] computes the same
    /// lanes with AVX2 where the CPU has it, bit for bit.
    #[inline(always)]
    fn portable<A: Arith>(&self, y: f64, x: &[f64; 8]) -> [f64; 8] {
        let d = self.half::<A>([x[0], x[1], x[2], x[3]]);
        let e = self.half::<A>([x[4], x[5], x[6], x[7]]);
        let f = madd4::<A>(self.pow, [d[3]; 4], e);
        let lo = madd4::<A>(self.pow, [y; 4], d);
        let hi = madd4::<A>(self.pow8, [y; 4], f);
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    }
    /// Blocks over `xs` (its whole eights) into `out` from `y`, the value before `xs[0]`;
    /// returns the last value (`y` if there was no block). With `old`, the inputs are the
    /// differences `xs[i] − old[i]` (a window's change), formed in the loop.
    #[inline(always)]
    pub fn run<A: Arith>(&self, y: f64, xs: &[f64], old: Option<&[f64]>, out: &mut [f64]) -> f64 {
        A::scan8_run(self, y, xs, old, out)
    }
    #[inline(always)]
    fn run_portable<A: Arith>(
        &self,
        y: f64,
        xs: &[f64],
        old: Option<&[f64]>,
        out: &mut [f64],
    ) -> f64 {
        let mut blocks = out.chunks_exact_mut(8);
        self.portable_blocks::<A>(y, xs, old, |v| {
            if let Some(o) = blocks.next() {
                o.copy_from_slice(&v);
            }
        })
    }
    /// The whole blocks over `xs` (minus `old` where given) from `y`, each handed to `emit` in
    /// order; returns the last value (`y` if there was no block).
    #[inline(always)]
    fn portable_blocks<A: Arith>(
        &self,
        mut y: f64,
        xs: &[f64],
        old: Option<&[f64]>,
        mut emit: impl FnMut([f64; 8]),
    ) -> f64 {
        for (i, x) in xs.chunks_exact(8).enumerate() {
            let Some(x) = x.first_chunk::<8>() else {
                continue;
            };
            let x = match old.and_then(|o| o.get(8 * i..8 * i + 8)) {
                Some(g) => std::array::from_fn(|j| x[j] - g[j]),
                None => *x,
            };
            let v = self.portable::<A>(y, &x);
            emit(v);
            y = v[7];
        }
        y
    }
    /// [`Scan8::run`]'s values appended to `out` (its whole blocks over `xs`) rather than
    /// written into a slice: with AVX2 each block is stored straight into the column's
    /// reserved capacity. A kernel that staged a chunk in an L1 buffer and copied it out ran
    /// an EMA in 0.72-1.29 ms for a million bars by where that buffer fell against the input
    /// modulo 4096 (a store and a later load with the same low twelve address bits are taken
    /// for dependent until the full addresses are compared); stored in place, 0.58-0.64 at
    /// every offset (a scratch benchmark on this Zen 3).
    #[inline(always)]
    pub fn append<A: Arith>(
        &self,
        y: f64,
        xs: &[f64],
        old: Option<&[f64]>,
        out: &mut Vec<f64>,
    ) -> f64 {
        A::scan8_append(self, y, xs, old, out)
    }
    #[inline(always)]
    fn append_portable<A: Arith>(
        &self,
        y: f64,
        xs: &[f64],
        old: Option<&[f64]>,
        out: &mut Vec<f64>,
    ) -> f64 {
        out.reserve(xs.len() / 8 * 8);
        self.portable_blocks::<A>(y, xs, old, |v| out.extend_from_slice(&v))
    }
    /// DEMA (`K` = 2) or TEMA (`K` = 3) appended to `out` for the whole blocks of `xs`: `K`
    /// EMAs with these coefficients chained (each one's block the next one's input), their
    /// blocks on the same bars, from their values `ys` before `xs[0]`; each block combined
    /// into DEMA's `2·a − b` or TEMA's `c + (3·a − 3·b)` and stored. With AVX2 every chain's
    /// block stays in registers (no buffer between the EMAs, one pass over the bars). Returns
    /// each EMA's last value (`ys` if there was no block).
    #[inline(always)]
    pub fn chain_append<A: Arith, const K: usize>(
        &self,
        ys: [f64; K],
        xs: &[f64],
        out: &mut Vec<f64>,
    ) -> [f64; K] {
        A::scan8_chain::<K>(self, ys, xs, out)
    }
    #[inline(always)]
    fn chain_portable<A: Arith, const K: usize>(
        &self,
        mut ys: [f64; K],
        xs: &[f64],
        out: &mut Vec<f64>,
    ) -> [f64; K] {
        out.reserve(xs.len() / 8 * 8);
        for x in xs.as_chunks::<8>().0 {
            let mut e = [[0.0; 8]; K];
            let mut input = *x;
            for (k, y) in ys.iter_mut().enumerate() {
                e[k] = self.portable::<A>(*y, &input);
                *y = e[k][7];
                input = e[k];
            }
            let v: [f64; 8] = std::array::from_fn(|j| match K {
                2 => (2.0 * e[0][j]) - e[1][j],
                _ => e[2][j] + ((3.0 * e[0][j]) - (3.0 * e[1][j])),
            });
            out.extend_from_slice(&v);
        }
        ys
    }
    /// [`Scan8::chain_portable`] in AVX2 registers, lane for lane the same operations, the
    /// chains skewed: in one pass of the loop the first EMA's block `i`, the second's block
    /// `i − 1` and the third's `i − 2` (each from the block its input EMA finished in the pass
    /// before), so a pass's three blocks are independent of each other. Run in order within a
    /// pass, a block of eight waited for the one before it in the chain (about 30 cycles
    /// each), and TEMA took 2.2-2.7 ms for a million bars against DEMA's 1.3-1.5.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn chain_avx2<const K: usize>(&self, ys: [f64; K], xs: &[f64], out: &mut Vec<f64>) -> [f64; K] {
        use std::arch::x86_64::{
            _mm256_add_pd, _mm256_cvtsd_f64, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd,
            _mm256_storeu_pd, _mm256_sub_pd,
        };
        let blocks = xs.len() / 8;
        out.reserve(8 * blocks);
        let len = out.len();
        let mut ys = ys;
        if blocks == 0 {
            return ys;
        }
        #[allow(unsafe_code)]
        // SAFETY: called only by `Fused::scan8_chain` after `cpu_fused()` (AVX2 and FMA
        // present); block `i` loads `xs[8i .. 8i + 8)`, `i < blocks`, and stores `8i .. 8i + 8`
        // past `out`'s length, inside the capacity reserved above; the length is set once all
        // `blocks` are written (each exactly once: block `i`'s value after its last EMA).
        unsafe {
            let lanes = Lanes::new(self);
            let (two, three) = (_mm256_set1_pd(2.0), _mm256_set1_pd(3.0));
            let (xp, op) = (xs.as_ptr(), out.as_mut_ptr().add(len));
            // Chain `k`'s block over the pair `$x`: its values, the chain moved on.
            macro_rules! block {
                ($y:ident, $x:expr) => {{
                    let (lo, hi, next) = lanes.block($y, $x.0, $x.1);
                    $y = next;
                    (lo, hi)
                }};
            }
            macro_rules! load {
                ($i:expr) => {{
                    let x = xp.add(8 * $i);
                    (_mm256_loadu_pd(x), _mm256_loadu_pd(x.add(4)))
                }};
            }
            macro_rules! store {
                ($i:expr, $v:expr) => {{
                    let (v0, v1) = $v;
                    let o = op.add(8 * $i);
                    _mm256_storeu_pd(o, v0);
                    _mm256_storeu_pd(o.add(4), v1);
                }};
            }
            // DEMA's `2·a − b` and TEMA's `c + (3·a − 3·b)`, per half.
            macro_rules! dema {
                ($a:expr, $b:expr) => {
                    (
                        _mm256_sub_pd(_mm256_mul_pd(two, $a.0), $b.0),
                        _mm256_sub_pd(_mm256_mul_pd(two, $a.1), $b.1),
                    )
                };
            }
            macro_rules! tema {
                ($a:expr, $b:expr, $c:expr) => {
                    (
                        _mm256_add_pd(
                            $c.0,
                            _mm256_sub_pd(_mm256_mul_pd(three, $a.0), _mm256_mul_pd(three, $b.0)),
                        ),
                        _mm256_add_pd(
                            $c.1,
                            _mm256_sub_pd(_mm256_mul_pd(three, $a.1), _mm256_mul_pd(three, $b.1)),
                        ),
                    )
                };
            }
            let mut y0 = _mm256_set1_pd(ys[0]);
            let mut y1 = _mm256_set1_pd(ys[1]);
            if K == 2 {
                // `pa`: the first EMA's block i − 1.
                let mut pa = block!(y0, load!(0));
                for i in 1..blocks {
                    let a = block!(y0, load!(i));
                    let b = block!(y1, pa);
                    store!(i - 1, dema!(pa, b));
                    pa = a;
                }
                let b = block!(y1, pa);
                store!(blocks - 1, dema!(pa, b));
                (ys[0], ys[1]) = (_mm256_cvtsd_f64(y0), _mm256_cvtsd_f64(y1));
            } else {
                // K == 3 (`Fused::scan8_chain` calls this for 2 and 3 only).
                let mut y2 = _mm256_set1_pd(ys[K - 1]);
                // `ppa`, `pa`: the first EMA's blocks i − 2 and i − 1; `pb`: the second's i − 2.
                let mut ppa = block!(y0, load!(0));
                if blocks == 1 {
                    let b = block!(y1, ppa);
                    let c = block!(y2, b);
                    store!(0, tema!(ppa, b, c));
                } else {
                    let mut pa = block!(y0, load!(1));
                    let mut pb = block!(y1, ppa);
                    for i in 2..blocks {
                        let a = block!(y0, load!(i));
                        let b = block!(y1, pa);
                        let c = block!(y2, pb);
                        store!(i - 2, tema!(ppa, pb, c));
                        (ppa, pa, pb) = (pa, a, b);
                    }
                    let b = block!(y1, pa);
                    let c = block!(y2, pb);
                    store!(blocks - 2, tema!(ppa, pb, c));
                    let c = block!(y2, b);
                    store!(blocks - 1, tema!(pa, b, c));
                }
                (ys[0], ys[1], ys[K - 1]) = (
                    _mm256_cvtsd_f64(y0),
                    _mm256_cvtsd_f64(y1),
                    _mm256_cvtsd_f64(y2),
                );
            }
            out.set_len(len + 8 * blocks);
            ys
        }
    }
    /// [`Scan8::append`] over the true ranges of highs, lows and previous closes
    /// (`core::true_range` of each bar; ATR's input), formed in the loop.
    #[inline(always)]
    pub fn append_true_range<A: Arith>(
        &self,
        y: f64,
        hlc: (&[f64], &[f64], &[f64]),
        out: &mut Vec<f64>,
    ) -> f64 {
        A::scan8_append_tr(self, y, hlc, out)
    }
    #[inline(always)]
    fn append_tr_portable<A: Arith>(
        &self,
        mut y: f64,
        (h, l, pc): (&[f64], &[f64], &[f64]),
        out: &mut Vec<f64>,
    ) -> f64 {
        let blocks = h.len().min(l.len()).min(pc.len()) / 8;
        out.reserve(8 * blocks);
        for ((h, l), pc) in h
            .chunks_exact(8)
            .zip(l.chunks_exact(8))
            .zip(pc.chunks_exact(8))
        {
            let tr = std::array::from_fn(|j| crate::core::true_range(h[j], l[j], pc[j]));
            let v = self.portable::<A>(y, &tr);
            out.extend_from_slice(&v);
            y = v[7];
        }
        y
    }
    /// [`Scan8::run_portable`] in AVX2 registers, for [`Fused`]: lane for lane the same
    /// operations. The value carried from block to block stays broadcast in a vector
    /// (`a⁸·y + f_3` in every lane, the last value's own operation): no lane extracted on the
    /// chain, nothing through memory.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn run_avx2<const SRC: u8>(&self, y: f64, xs: &[f64], old: &[f64], out: &mut [f64]) -> f64 {
        let blocks = xs.len().min(out.len()).min(old.len()) / 8;
        #[allow(unsafe_code)]
        // SAFETY: called only by `Fused::scan8_run` after `cpu_fused()` (AVX2 and FMA
        // present); `blocks` whole eights of `xs`, `old` and `out`.
        unsafe {
            let src = (xs.as_ptr(), old.as_ptr(), xs.as_ptr());
            self.blocks_avx2::<SRC>(y, src, out.as_mut_ptr(), blocks)
        }
    }
    /// [`Scan8::run_avx2`] appending to `out` (its capacity reserved first, its length set
    /// once every value is written).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn append_avx2<const SRC: u8>(
        &self,
        y: f64,
        (xs, old, third): (&[f64], &[f64], &[f64]),
        out: &mut Vec<f64>,
    ) -> f64 {
        let blocks = xs.len().min(old.len()).min(third.len()) / 8;
        out.reserve(8 * blocks);
        let len = out.len();
        #[allow(unsafe_code)]
        // SAFETY: called only by `Fused::scan8_append` after `cpu_fused()` (AVX2 and FMA
        // present); reads `blocks` whole eights of the three inputs, writes `8·blocks` values
        // from `out`'s length, inside the capacity just reserved, then sets the length to
        // cover exactly those written values.
        unsafe {
            let src = (xs.as_ptr(), old.as_ptr(), third.as_ptr());
            let y = self.blocks_avx2::<SRC>(y, src, out.as_mut_ptr().add(len), blocks);
            out.set_len(len + 8 * blocks);
            y
        }
    }
    /// The AVX2 loop: `blocks` blocks into `op` of the inputs `SRC` says: `xp` ([`PLAIN`]),
    /// `xp − gp` ([`DIFF`]), or the true ranges of highs `xp`, lows `gp` and previous closes
    /// `tp` ([`TRUE_RANGE`]).
    ///
    /// # Safety
    /// AVX2 and FMA present; the inputs `SRC` reads readable and `op` writable for
    /// `8·blocks` values.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn blocks_avx2<const SRC: u8>(
        &self,
        y: f64,
        (xp, gp, tp): (*const f64, *const f64, *const f64),
        op: *mut f64,
        blocks: usize,
    ) -> f64 {
        use std::arch::x86_64::{
            _mm256_andnot_pd, _mm256_cvtsd_f64, _mm256_loadu_pd, _mm256_max_pd, _mm256_set1_pd,
            _mm256_storeu_pd, _mm256_sub_pd,
        };
        // SAFETY: the caller's (block `i` reads and writes values `8i..8i + 8`, `i < blocks`).
        unsafe {
            let lanes = Lanes::new(self);
            let mut yv = _mm256_set1_pd(y);
            let sign = _mm256_set1_pd(-0.0);
            for i in 0..blocks {
                let (x, g, t, o) = (xp.add(8 * i), gp.add(8 * i), tp.add(8 * i), op.add(8 * i));
                // No closure for the loads: a closure is compiled apart, without the
                // features, and the intrinsics would stay calls.
                let (x0, x1) = match SRC {
                    DIFF => (
                        _mm256_sub_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(g)),
                        _mm256_sub_pd(_mm256_loadu_pd(x.add(4)), _mm256_loadu_pd(g.add(4))),
                    ),
                    TRUE_RANGE => {
                        // `core::true_range` lane by lane: `max(v, g)` is `v > g ? v : g`
                        // (the second operand when either is NaN), `andnot` of the sign
                        // bit is `abs`.
                        macro_rules! tr {
                            ($h:expr, $l:expr, $pc:expr) => {{
                                let (h, l, pc) = ($h, $l, $pc);
                                let g = _mm256_sub_pd(h, l);
                                let v2 = _mm256_andnot_pd(sign, _mm256_sub_pd(pc, h));
                                let g = _mm256_max_pd(v2, g);
                                let v3 = _mm256_andnot_pd(sign, _mm256_sub_pd(pc, l));
                                _mm256_max_pd(v3, g)
                            }};
                        }
                        (
                            tr!(_mm256_loadu_pd(x), _mm256_loadu_pd(g), _mm256_loadu_pd(t)),
                            tr!(
                                _mm256_loadu_pd(x.add(4)),
                                _mm256_loadu_pd(g.add(4)),
                                _mm256_loadu_pd(t.add(4))
                            ),
                        )
                    }
                    _ => (_mm256_loadu_pd(x), _mm256_loadu_pd(x.add(4))),
                };
                let (lo, hi, next) = lanes.block(yv, x0, x1);
                _mm256_storeu_pd(o, lo);
                _mm256_storeu_pd(o.add(4), hi);
                yv = next;
            }
            _mm256_cvtsd_f64(yv)
        }
    }
}

/// [`Scan8`]'s coefficients in AVX2 registers and its block on them: the AVX2 loops' one
/// spelling of the block ([`Scan8::portable`]'s lanes).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Lanes {
    b: std::arch::x86_64::__m256d,
    a: std::arch::x86_64::__m256d,
    a2: std::arch::x86_64::__m256d,
    pow: std::arch::x86_64::__m256d,
    pow8: std::arch::x86_64::__m256d,
    a8: std::arch::x86_64::__m256d,
    zero: std::arch::x86_64::__m256d,
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
impl Lanes {
    /// # Safety
    /// AVX2 present.
    #[inline(always)]
    unsafe fn new(c: &Scan8) -> Self {
        use std::arch::x86_64::{_mm256_set1_pd, _mm256_setr_pd, _mm256_setzero_pd};
        let [p0, p1, p2, p3] = c.pow;
        let [q0, q1, q2, q3] = c.pow8;
        // SAFETY: the caller's (AVX2 present).
        unsafe {
            Lanes {
                b: _mm256_set1_pd(c.b),
                a: _mm256_set1_pd(c.a),
                a2: _mm256_set1_pd(c.a2),
                pow: _mm256_setr_pd(p0, p1, p2, p3),
                pow8: _mm256_setr_pd(q0, q1, q2, q3),
                a8: _mm256_set1_pd(q3),
                zero: _mm256_setzero_pd(),
            }
        }
    }
    /// The block of eight after the broadcast value `yv` given inputs `x0` (first four) and
    /// `x1`: its two halves and the next broadcast value (`a⁸·y + f_3` in every lane).
    ///
    /// # Safety
    /// AVX2 and FMA present.
    #[inline(always)]
    unsafe fn block(
        &self,
        yv: std::arch::x86_64::__m256d,
        x0: std::arch::x86_64::__m256d,
        x1: std::arch::x86_64::__m256d,
    ) -> (
        std::arch::x86_64::__m256d,
        std::arch::x86_64::__m256d,
        std::arch::x86_64::__m256d,
    ) {
        use std::arch::x86_64::{
            _mm256_blend_pd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_permute2f128_pd,
            _mm256_permute4x64_pd,
        };
        let Lanes {
            b,
            a,
            a2,
            pow,
            pow8,
            a8,
            zero,
        } = *self;
        // SAFETY: the caller's (AVX2 and FMA present).
        unsafe {
            let v = _mm256_mul_pd(b, x0);
            let up1 = _mm256_blend_pd::<1>(_mm256_permute4x64_pd::<0b10_01_00_00>(v), zero);
            let s = _mm256_fmadd_pd(a, up1, v);
            let d = _mm256_fmadd_pd(a2, _mm256_permute2f128_pd::<0x08>(s, s), s);
            let v = _mm256_mul_pd(b, x1);
            let up1 = _mm256_blend_pd::<1>(_mm256_permute4x64_pd::<0b10_01_00_00>(v), zero);
            let s = _mm256_fmadd_pd(a, up1, v);
            let e = _mm256_fmadd_pd(a2, _mm256_permute2f128_pd::<0x08>(s, s), s);
            let f = _mm256_fmadd_pd(pow, _mm256_permute4x64_pd::<0xFF>(d), e);
            (
                _mm256_fmadd_pd(pow, yv, d),
                _mm256_fmadd_pd(pow8, yv, f),
                _mm256_fmadd_pd(a8, yv, _mm256_permute4x64_pd::<0xFF>(f)),
            )
        }
    }
}

/// `Some(kernel(args))` where [`mode`] is [`Mode::Fused`], `None` otherwise (the caller's
/// portable code does the work): the one call of the `*_append` functions' AVX2 loops, and its
/// safety argument written once. The names after `;` are the arguments, used (moved) either way.
macro_rules! fused_only {
    ($kernel:ident ( $($arg:expr),* $(,)? ); $($name:ident),*) => {{
        #[cfg(target_arch = "x86_64")]
        if mode() == Mode::Fused {
            #[allow(unsafe_code)]
            // SAFETY: `mode()` is Fused only after `cpu_fused()` reported AVX2 and FMA, the
            // features the kernel is compiled for (`#[target_feature(enable = "avx2,fma")]`).
            return Some(unsafe { $kernel($($arg),*) });
        }
        let _ = ($($name),*);
        None
    }};
}

/// AO's values (`ind::ao`) appended to `out` for the whole blocks of eight bars from bar
/// `start` (`start` ≥ both windows), where [`mode`] is [`Mode::Fused`]: `sums` the two windows'
/// running sums before `start`, both beginning a block there, `n` their lengths (> 1). Per
/// block, in registers: hl2 of the eight bars and of the eight leaving each window (`(h + l)
/// · 0.5`, the same bits as the stream's `/ 2`: both exact), the windows' changes, both
/// sums' blocks (`Lanes::block` with `a = b = 1`, the stream's `window_sum`), the means
/// (divided, as the stream does) and their difference, stored in place. Returns the sums
/// after the last block and how many bars were done; `None` in [`Mode::Plain`].
#[inline]
pub fn ao_append(
    sums: [f64; 2],
    n: [usize; 2],
    high: &[f64],
    low: &[f64],
    start: usize,
    out: &mut Vec<f64>,
) -> Option<([f64; 2], usize)> {
    fused_only!(ao_avx2(sums, n, high, low, start, out); sums, n, high, low, start, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn ao_avx2(
    [sf, ss]: [f64; 2],
    [nf, ns]: [usize; 2],
    high: &[f64],
    low: &[f64],
    start: usize,
    out: &mut Vec<f64>,
) -> ([f64; 2], usize) {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_cvtsd_f64, _mm256_div_pd, _mm256_loadu_pd, _mm256_mul_pd,
        _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    let len = high.len().min(low.len());
    if start < nf.max(ns) || start >= len {
        return ([sf, ss], 0);
    }
    let blocks = (len - start) / 8;
    out.reserve(8 * blocks);
    let ol = out.len();
    // SAFETY: block `i` loads bars `p .. p + 8` with `p = start + 8i`, `p + 8 <= len`, and
    // the bars `nf` and `ns` before them (`p >= start >= max(nf, ns)`), of `high` and `low`
    // (both at least `len` long); it stores `8i .. 8i + 8` past `out`'s length, inside the
    // capacity reserved above; the length is set once all are written.
    unsafe {
        // `window_sum`'s coefficients (`Linear::new(1.0, 1.0)`): every power of one is one.
        let lanes = Lanes::new(&Scan8 {
            a: 1.0,
            a2: 1.0,
            b: 1.0,
            pow: [1.0; 4],
            pow8: [1.0; 4],
        });
        let (mut yf, mut ys) = (_mm256_set1_pd(sf), _mm256_set1_pd(ss));
        let (half, dnf, dns) = (
            _mm256_set1_pd(0.5),
            _mm256_set1_pd(nf as f64),
            _mm256_set1_pd(ns as f64),
        );
        let (hp, lp, op) = (high.as_ptr(), low.as_ptr(), out.as_mut_ptr().add(ol));
        macro_rules! hl2 {
            ($p:expr) => {{
                let p = $p;
                (
                    _mm256_mul_pd(
                        _mm256_add_pd(_mm256_loadu_pd(hp.add(p)), _mm256_loadu_pd(lp.add(p))),
                        half,
                    ),
                    _mm256_mul_pd(
                        _mm256_add_pd(
                            _mm256_loadu_pd(hp.add(p + 4)),
                            _mm256_loadu_pd(lp.add(p + 4)),
                        ),
                        half,
                    ),
                )
            }};
        }
        for i in 0..blocks {
            let p = start + 8 * i;
            let (m0, m1) = hl2!(p);
            let (f0, f1) = hl2!(p - nf);
            let (s0, s1) = hl2!(p - ns);
            let (a0, a1, an) = lanes.block(yf, _mm256_sub_pd(m0, f0), _mm256_sub_pd(m1, f1));
            let (b0, b1, bn) = lanes.block(ys, _mm256_sub_pd(m0, s0), _mm256_sub_pd(m1, s1));
            (yf, ys) = (an, bn);
            let o = op.add(8 * i);
            _mm256_storeu_pd(
                o,
                _mm256_sub_pd(_mm256_div_pd(a0, dnf), _mm256_div_pd(b0, dns)),
            );
            _mm256_storeu_pd(
                o.add(4),
                _mm256_sub_pd(_mm256_div_pd(a1, dnf), _mm256_div_pd(b1, dns)),
            );
        }
        out.set_len(ol + 8 * blocks);
        ([_mm256_cvtsd_f64(yf), _mm256_cvtsd_f64(ys)], 8 * blocks)
    }
}

/// MACD's three columns (`ind::macd`) appended for the whole blocks of eight bars of `xs`,
/// where [`mode`] is [`Mode::Fused`]: `ys` the fast, slow and signal EMAs' values before
/// `xs[0]`, all three beginning a block there, `scans` their coefficients. Per block, in
/// registers: the fast and slow EMAs' blocks over the closes, the line `fast − slow`, the
/// signal's block over the line, the histogram `line − signal`, each stored in place; the
/// signal runs one block behind the EMAs (its block `i − 1` in the pass of their block `i`),
/// so a pass's blocks do not wait for one another. Returns the three EMAs' last values and
/// how many bars were done; `None` in [`Mode::Plain`]. Lane for lane the stream's operations.
#[inline]
pub fn macd_append(
    scans: [&Scan8; 3],
    ys: [f64; 3],
    xs: &[f64],
    out: [&mut Vec<f64>; 3],
) -> Option<([f64; 3], usize)> {
    fused_only!(macd_avx2(scans, ys, xs, out); scans, ys, xs, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn macd_avx2(
    [fast, slow, signal]: [&Scan8; 3],
    [yf, ys, yg]: [f64; 3],
    xs: &[f64],
    [line, sig, hist]: [&mut Vec<f64>; 3],
) -> ([f64; 3], usize) {
    use std::arch::x86_64::{
        _mm256_cvtsd_f64, _mm256_loadu_pd, _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    let blocks = xs.len() / 8;
    if blocks == 0 {
        return ([yf, ys, yg], 0);
    }
    for o in [&mut *line, &mut *sig, &mut *hist] {
        o.reserve(8 * blocks);
    }
    let (ll, sl, hl) = (line.len(), sig.len(), hist.len());
    // SAFETY: block `i` loads `xs[8i .. 8i + 8)`, `i < blocks`, and stores values `8i .. 8i + 8`
    // past each column's length, inside the capacity reserved above (each block once: the
    // line, signal and histogram of block `i` in the pass of block `i + 1`, the last after the
    // loop); the lengths are set once all are written.
    unsafe {
        let (lf, ls, lg) = (Lanes::new(fast), Lanes::new(slow), Lanes::new(signal));
        let (mut yf, mut ys, mut yg) = (_mm256_set1_pd(yf), _mm256_set1_pd(ys), _mm256_set1_pd(yg));
        let xp = xs.as_ptr();
        let (lp, sp, hp) = (
            line.as_mut_ptr().add(ll),
            sig.as_mut_ptr().add(sl),
            hist.as_mut_ptr().add(hl),
        );
        // The line of block `$i`, both EMAs moved on.
        macro_rules! line {
            ($i:expr) => {{
                let x = xp.add(8 * $i);
                let (x0, x1) = (_mm256_loadu_pd(x), _mm256_loadu_pd(x.add(4)));
                let (f0, f1, fnext) = lf.block(yf, x0, x1);
                let (s0, s1, snext) = ls.block(ys, x0, x1);
                (yf, ys) = (fnext, snext);
                (_mm256_sub_pd(f0, s0), _mm256_sub_pd(f1, s1))
            }};
        }
        // The signal over block `$i`'s line `$m`, the three values stored.
        macro_rules! finish {
            ($i:expr, $m:expr) => {{
                let (m0, m1) = $m;
                let (g0, g1, gnext) = lg.block(yg, m0, m1);
                yg = gnext;
                let o = 8 * $i;
                _mm256_storeu_pd(lp.add(o), m0);
                _mm256_storeu_pd(lp.add(o + 4), m1);
                _mm256_storeu_pd(sp.add(o), g0);
                _mm256_storeu_pd(sp.add(o + 4), g1);
                _mm256_storeu_pd(hp.add(o), _mm256_sub_pd(m0, g0));
                _mm256_storeu_pd(hp.add(o + 4), _mm256_sub_pd(m1, g1));
            }};
        }
        let mut pm = line!(0);
        for i in 1..blocks {
            let m = line!(i);
            finish!(i - 1, pm);
            pm = m;
        }
        finish!(blocks - 1, pm);
        line.set_len(ll + 8 * blocks);
        sig.set_len(sl + 8 * blocks);
        hist.set_len(hl + 8 * blocks);
        (
            [
                _mm256_cvtsd_f64(yf),
                _mm256_cvtsd_f64(ys),
                _mm256_cvtsd_f64(yg),
            ],
            8 * blocks,
        )
    }
}

/// RSI's values (`ind::rsi`) appended to `out` for whole blocks of eight bars, where [`mode`]
/// is [`Mode::Fused`]: `closes[0]` is the close before the first bar, `(gain, loss)` the
/// averages there, `scan` Wilder's coefficients. Per block, in registers: the eight changes,
/// their gains and losses, both averages' blocks (`Lanes::block`, each chain one
/// multiply-add per eight bars), the values (eight divisions in two instructions), stored in
/// place. Returns the averages after the last block and how many bars were done; `None` in
/// [`Mode::Plain`]. Lane for lane the stream's operations (`split`, [`Scan8`]'s block,
/// `value`): the proptest holds the batch to the stream bit for bit.
#[inline]
pub fn rsi_append(
    scan: &Scan8,
    (gain, loss): (f64, f64),
    closes: &[f64],
    factor: f64,
    out: &mut Vec<f64>,
) -> Option<(f64, f64, usize)> {
    fused_only!(rsi_avx2(scan, (gain, loss), closes, factor, out); scan, gain, loss, closes, factor, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn rsi_avx2(
    scan: &Scan8,
    (gain, loss): (f64, f64),
    closes: &[f64],
    factor: f64,
    out: &mut Vec<f64>,
) -> (f64, f64, usize) {
    use std::arch::x86_64::{
        _CMP_GT_OQ, _CMP_LT_OQ, _mm256_add_pd, _mm256_and_pd, _mm256_andnot_pd, _mm256_cmp_pd,
        _mm256_cvtsd_f64, _mm256_div_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd,
        _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd, _mm256_xor_pd,
    };
    let blocks = closes.len().saturating_sub(1) / 8;
    out.reserve(8 * blocks);
    let len = out.len();
    // SAFETY: block `i` loads `closes[8i .. 8i + 9)` (as two overlapping pairs of four),
    // in bounds as `8·blocks + 1 <= closes.len()`; it stores `8i .. 8i + 8` past `out`'s
    // length, inside the capacity reserved above; the length is set once all are written.
    unsafe {
        let lanes = Lanes::new(scan);
        let (zero, sign) = (_mm256_setzero_pd(), _mm256_set1_pd(-0.0));
        let (lo_eps, hi_eps) = (_mm256_set1_pd(-1e-14), _mm256_set1_pd(1e-14));
        let (hundred, fac) = (_mm256_set1_pd(100.0), _mm256_set1_pd(factor));
        let (mut gv, mut lv) = (_mm256_set1_pd(gain), _mm256_set1_pd(loss));
        let (cp, op) = (closes.as_ptr(), out.as_mut_ptr().add(len));
        // `split`: a loss where the change is below zero (ordered: NaN is a gain).
        macro_rules! split {
            ($d:expr) => {{
                let d = $d;
                let neg = _mm256_cmp_pd::<_CMP_LT_OQ>(d, zero);
                (
                    _mm256_andnot_pd(neg, d),
                    _mm256_and_pd(neg, _mm256_xor_pd(d, sign)),
                )
            }};
        }
        // `value`: 100·gain/(gain + loss), 0 where the sum is TA-Lib's zero, × factor.
        macro_rules! value {
            ($g:expr, $l:expr) => {{
                let (g, l) = ($g, $l);
                let t = _mm256_add_pd(g, l);
                let z = _mm256_and_pd(
                    _mm256_cmp_pd::<_CMP_GT_OQ>(t, lo_eps),
                    _mm256_cmp_pd::<_CMP_LT_OQ>(t, hi_eps),
                );
                let q = _mm256_mul_pd(hundred, _mm256_div_pd(g, t));
                _mm256_mul_pd(_mm256_andnot_pd(z, q), fac)
            }};
        }
        for i in 0..blocks {
            let p = cp.add(8 * i);
            let (u0, d0) = split!(_mm256_sub_pd(_mm256_loadu_pd(p.add(1)), _mm256_loadu_pd(p)));
            let (u1, d1) = split!(_mm256_sub_pd(
                _mm256_loadu_pd(p.add(5)),
                _mm256_loadu_pd(p.add(4))
            ));
            let (g0, g1, gn) = lanes.block(gv, u0, u1);
            let (l0, l1, ln) = lanes.block(lv, d0, d1);
            (gv, lv) = (gn, ln);
            let o = op.add(8 * i);
            _mm256_storeu_pd(o, value!(g0, l0));
            _mm256_storeu_pd(o.add(4), value!(g1, l1));
        }
        out.set_len(len + 8 * blocks);
        (_mm256_cvtsd_f64(gv), _mm256_cvtsd_f64(lv), 8 * blocks)
    }
}

/// AD's line (`ind::ad`) from `ad`, appended to `out` for every whole four bars of the
/// inputs, where [`mode`] is [`Mode::Fused`] (AVX2 present): the four bars' additions in one
/// vector (a division for four), then added to the line one after another, in the stream's
/// order, each value stored straight into `out` (staged through an L1 buffer and copied, the
/// same loop took 0.4 ms more for a million bars: the copy and the chunk edges stall the
/// chain). Returns the line's last value and how many bars it took; `None` in
/// [`Mode::Plain`] (the caller's portable loop does them all).
#[inline]
pub fn ad_append(
    ad: f64,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    out: &mut Vec<f64>,
) -> Option<(f64, usize)> {
    fused_only!(ad_avx2(ad, high, low, close, volume, out); ad, high, low, close, volume, out)
}

/// [`ad_append`]'s loop. A lane is `ind::ad`'s `flow` operation for operation: the range
/// `h − l`, `((c − l) − (h − c)) / range · v`, and +0.0 where the range is not positive
/// (an ordered greater-than: NaN gives +0.0 as the select does).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn ad_avx2(
    mut ad: f64,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    out: &mut Vec<f64>,
) -> (f64, usize) {
    use std::arch::x86_64::{
        _CMP_GT_OQ, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_and_pd, _mm256_castpd256_pd128,
        _mm256_cmp_pd, _mm256_div_pd, _mm256_extractf128_pd, _mm256_loadu_pd, _mm256_mul_pd,
        _mm256_setr_pd, _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    let m = high.len().min(low.len()).min(close.len()).min(volume.len()) / 4 * 4;
    out.reserve(m);
    let base = out.len();
    let zero = _mm256_setzero_pd();
    // SAFETY: step `i` (a multiple of four below `m`) loads `[i, i + 4)` of each input, in
    // bounds as `m` is at most each one's length; it stores `out[base + i .. base + i + 4)`,
    // inside the capacity reserved above (`base + m`), and the length is set to `base + m`
    // only after all `m` values are written.
    unsafe {
        let dst = out.as_mut_ptr().add(base);
        let mut i = 0;
        while i < m {
            let h = _mm256_loadu_pd(high.as_ptr().add(i));
            let l = _mm256_loadu_pd(low.as_ptr().add(i));
            let c = _mm256_loadu_pd(close.as_ptr().add(i));
            let v = _mm256_loadu_pd(volume.as_ptr().add(i));
            let range = _mm256_sub_pd(h, l);
            let num = _mm256_sub_pd(_mm256_sub_pd(c, l), _mm256_sub_pd(h, c));
            let f = _mm256_mul_pd(_mm256_div_pd(num, range), v);
            let f = _mm256_and_pd(f, _mm256_cmp_pd::<_CMP_GT_OQ>(range, zero));
            let (lo, hi) = (_mm256_castpd256_pd128(f), _mm256_extractf128_pd::<1>(f));
            let a0 = ad + _mm_cvtsd_f64(lo);
            let a1 = a0 + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
            let a2 = a1 + _mm_cvtsd_f64(hi);
            let a3 = a2 + _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
            _mm256_storeu_pd(dst.add(i), _mm256_setr_pd(a0, a1, a2, a3));
            ad = a3;
            i += 4;
        }
        out.set_len(base + m);
    }
    (ad, m)
}

/// CCI's values (`ind::cci`) appended to `out` eight bars at a time, where [`mode`] is
/// [`Mode::Fused`] and the window holds at least eight bars (`n >= 8`: no slot is refilled
/// twice within a group). `tp` holds typical prices: bar `j`'s window is `tp[j .. j + n]`, its
/// own price the last; `phase` is the first bar's index modulo `n`. Per group, the eight
/// lanes' windows are laid out slot by slot in `w` (TA-Lib's circular buffer: a lane sees a
/// slot's new bar when the slot was refilled at or before its bar, else the old one — a blend
/// on the rows of the slots refilled inside the group), then the sums in slot order (two
/// chains of `n` adds for eight bars), the means, the deviations' four partial sums, the
/// ratios (eight divisions in two instructions), stored in place. Lane for lane the stream's
/// operations; returns how many bars were done (`None` in [`Mode::Plain`]).
#[inline]
pub fn cci_append(tp: &[f64], n: usize, phase: usize, out: &mut Vec<f64>) -> Option<usize> {
    fused_only!(cci_avx2(tp, n, phase, out); tp, n, phase, out)
}

/// [`cci_append`]'s loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn cci_avx2(tp: &[f64], n: usize, mut phase: usize, out: &mut Vec<f64>) -> usize {
    use std::arch::x86_64::{
        _CMP_NEQ_UQ, _mm256_add_pd, _mm256_and_pd, _mm256_andnot_pd, _mm256_blendv_pd,
        _mm256_broadcast_sd, _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_cmpgt_epi64, _mm256_div_pd,
        _mm256_load_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_epi64x, _mm256_set1_pd,
        _mm256_setr_epi64x, _mm256_setzero_pd, _mm256_store_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    /// A row of the lanes' windows, aligned for whole-vector loads and stores (read and
    /// written through a pointer to the rows).
    #[repr(align(32))]
    #[derive(Clone, Copy)]
    struct Row(#[allow(dead_code)] [f64; 8]);
    if n < 8 || tp.len() < n + 7 {
        return 0;
    }
    let groups = (tp.len() + 1 - n) / 8;
    out.reserve(8 * groups);
    let base = out.len();
    let mut rows = vec![Row([0.0; 8]); n];
    let nf = _mm256_set1_pd(n as f64);
    let c015 = _mm256_set1_pd(0.015);
    let sign = _mm256_set1_pd(-0.0);
    let zero = _mm256_setzero_pd();
    let (lanes_lo, lanes_hi) = (
        _mm256_setr_epi64x(1, 2, 3, 4),
        _mm256_setr_epi64x(5, 6, 7, 8),
    );
    // SAFETY: group `g` reads `tp[8g .. 8g + n + 7)` (the old values at `8g + d − 1` for
    // `1 <= d < n`, the new at `8g + n − 1 + d` for `d < 8`), in bounds as `8g + n + 7 <=
    // tp.len()` for `g < groups`; `rows` has `n` rows of eight, aligned for the aligned loads
    // and stores; the values go to `out[base + 8g .. base + 8g + 8)`, inside the capacity
    // reserved above, and the length is set only after all groups are written.
    unsafe {
        let dst = out.as_mut_ptr().add(base);
        let r = rows.as_mut_ptr().cast::<f64>();
        for g in 0..groups {
            let old = tp.as_ptr().add(8 * g);
            let new = old.add(n - 1);
            let d0 = (n - phase) % n;
            // Slot `s` is row `s`; its `d` runs d0..n, then 0..d0.
            let put = |row: usize, d: usize| {
                let p = r.add(8 * row);
                if d < 8 {
                    let nv = _mm256_broadcast_sd(&*new.add(d));
                    let ov = _mm256_broadcast_sd(&*old.add(d.max(1) - 1));
                    let dv = _mm256_set1_epi64x(d.cast_signed() as i64);
                    let lo = _mm256_castsi256_pd(_mm256_cmpgt_epi64(lanes_lo, dv));
                    let hi = _mm256_castsi256_pd(_mm256_cmpgt_epi64(lanes_hi, dv));
                    _mm256_store_pd(p, _mm256_blendv_pd(ov, nv, lo));
                    _mm256_store_pd(p.add(4), _mm256_blendv_pd(ov, nv, hi));
                } else {
                    let ov = _mm256_broadcast_sd(&*old.add(d - 1));
                    _mm256_store_pd(p, ov);
                    _mm256_store_pd(p.add(4), ov);
                }
            };
            for (row, d) in (d0..n).enumerate() {
                put(row, d);
            }
            for d in 0..d0 {
                put(n - d0 + d, d);
            }
            let (mut s_lo, mut s_hi) = (zero, zero);
            for row in 0..n {
                let p = r.add(8 * row);
                s_lo = _mm256_add_pd(s_lo, _mm256_load_pd(p));
                s_hi = _mm256_add_pd(s_hi, _mm256_load_pd(p.add(4)));
            }
            let (a_lo, a_hi) = (_mm256_div_pd(s_lo, nf), _mm256_div_pd(s_hi, nf));
            let term = |row: usize, half: usize, avg| {
                let v = _mm256_load_pd(r.add(8 * row + 4 * half));
                _mm256_andnot_pd(sign, _mm256_sub_pd(v, avg))
            };
            let mut dev = [zero; 8];
            let mut row = 0;
            while row + 4 <= n {
                for k in 0..4 {
                    dev[k] = _mm256_add_pd(dev[k], term(row + k, 0, a_lo));
                    dev[4 + k] = _mm256_add_pd(dev[4 + k], term(row + k, 1, a_hi));
                }
                row += 4;
            }
            for k in 0..n - row {
                dev[k] = _mm256_add_pd(dev[k], term(row + k, 0, a_lo));
                dev[4 + k] = _mm256_add_pd(dev[4 + k], term(row + k, 1, a_hi));
            }
            for (half, avg) in [(0, a_lo), (1, a_hi)] {
                let dv = &dev[4 * half..4 * half + 4];
                let dv = _mm256_add_pd(_mm256_add_pd(dv[0], dv[1]), _mm256_add_pd(dv[2], dv[3]));
                let num = _mm256_sub_pd(_mm256_loadu_pd(new.add(4 * half)), avg);
                let q = _mm256_div_pd(num, _mm256_mul_pd(c015, _mm256_div_pd(dv, nf)));
                let ok = _mm256_and_pd(
                    _mm256_cmp_pd::<_CMP_NEQ_UQ>(num, zero),
                    _mm256_cmp_pd::<_CMP_NEQ_UQ>(dv, zero),
                );
                _mm256_storeu_pd(dst.add(8 * g + 4 * half), _mm256_and_pd(q, ok));
            }
            phase = (phase + 8) % n;
        }
        out.set_len(base + 8 * groups);
    }
    8 * groups
}

/// WMA's values (`core::WmaCore`) appended to `out` for the whole blocks of eight steps in
/// `new`/`old` (the bars entering and leaving the window), where [`mode`] is [`Mode::Fused`]:
/// `scan` is the running sums' recurrence (`a = b = 1`), `(sub, sum)` TA-Lib's `periodSub`
/// and `periodSum` before the first step (both at the start of a block). Per block, in
/// registers: the window sum's block over the eight changes (`Lanes::block`), the weighted
/// sum's inputs `n·x − Sub` (the window sums shifted one step), its block, the eight values
/// (two divisions), stored in place — where the batch staged four passes through L1 buffers.
/// Lane for lane the stream's operations; returns both sums after the last block and how many
/// steps were done (`None` in [`Mode::Plain`]).
#[inline]
pub fn wma_append(
    scan: &Scan8,
    (nf, divider): (f64, f64),
    (sub, sum): (f64, f64),
    new: &[f64],
    old: &[f64],
    out: &mut Vec<f64>,
) -> Option<(f64, f64, usize)> {
    fused_only!(wma_avx2(scan, (nf, divider), (sub, sum), new, old, out); scan, nf, divider, sub, sum, new, old, out)
}

/// [`wma_append`]'s loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn wma_avx2(
    scan: &Scan8,
    (nf, divider): (f64, f64),
    (sub, sum): (f64, f64),
    new: &[f64],
    old: &[f64],
    out: &mut Vec<f64>,
) -> (f64, f64, usize) {
    use std::arch::x86_64::{
        _mm256_blend_pd, _mm256_cvtsd_f64, _mm256_div_pd, _mm256_loadu_pd, _mm256_mul_pd,
        _mm256_permute4x64_pd, _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    let blocks = new.len().min(old.len()) / 8;
    out.reserve(8 * blocks);
    let base = out.len();
    // SAFETY: block `i` loads `new` and `old` at `[8i, 8i + 8)`, in bounds as `8·blocks` is at
    // most either length; it stores `out[base + 8i .. base + 8i + 8)`, inside the capacity
    // reserved above, and the length is set only after all blocks are written.
    unsafe {
        let lanes = Lanes::new(scan);
        let (nv, dv) = (_mm256_set1_pd(nf), _mm256_set1_pd(divider));
        let (mut sv, mut pv) = (_mm256_set1_pd(sub), _mm256_set1_pd(sum));
        let dst = out.as_mut_ptr().add(base);
        for i in 0..blocks {
            let (xp, gp) = (new.as_ptr().add(8 * i), old.as_ptr().add(8 * i));
            let (x0, x1) = (_mm256_loadu_pd(xp), _mm256_loadu_pd(xp.add(4)));
            let d0 = _mm256_sub_pd(x0, _mm256_loadu_pd(gp));
            let d1 = _mm256_sub_pd(x1, _mm256_loadu_pd(gp.add(4)));
            let (s0, s1, s_next) = lanes.block(sv, d0, d1);
            // Each step's `Sub` before it: the last block's, then this block's first seven.
            let b0 = _mm256_blend_pd::<1>(_mm256_permute4x64_pd::<0b10_01_00_00>(s0), sv);
            let b1 = _mm256_blend_pd::<1>(
                _mm256_permute4x64_pd::<0b10_01_00_00>(s1),
                _mm256_permute4x64_pd::<0xFF>(s0),
            );
            let u0 = _mm256_sub_pd(_mm256_mul_pd(x0, nv), b0);
            let u1 = _mm256_sub_pd(_mm256_mul_pd(x1, nv), b1);
            let (p0, p1, p_next) = lanes.block(pv, u0, u1);
            _mm256_storeu_pd(dst.add(8 * i), _mm256_div_pd(p0, dv));
            _mm256_storeu_pd(dst.add(8 * i + 4), _mm256_div_pd(p1, dv));
            (sv, pv) = (s_next, p_next);
        }
        out.set_len(base + 8 * blocks);
        (_mm256_cvtsd_f64(sv), _mm256_cvtsd_f64(pv), 8 * blocks)
    }
}

/// Appends `k` steps of `W` values to each of the `N` columns, step `i`'s values being
/// `step(i)` (column by column), each stored straight into the column's reserved capacity:
/// for stepwise kernels, T3's and KAMA's (a `push` per output let the compiler keep the
/// running values on the stack across the possible growth; staging a chunk in L1 buffers and
/// copying it out cost MACD's stepwise loop, before it moved to Linear's blocks, 2.53 ms for a
/// million bars against 1.47 stored in place, in a scratch benchmark on a Zen 3). The lengths
/// change only after all `k` steps wrote their values (a panic in `step` leaves the columns as
/// they were).
#[inline(always)]
pub fn append_steps<const N: usize, const W: usize>(
    outs: [&mut Vec<f64>; N],
    k: usize,
    mut step: impl FnMut(usize) -> [[f64; W]; N],
) {
    let mut outs = outs;
    let total = k * W;
    for o in &mut outs {
        o.reserve(total);
    }
    let dst = outs
        .each_mut()
        .map(|o| o.as_mut_ptr().wrapping_add(o.len()));
    for i in 0..k {
        let v = step(i);
        for (d, v) in dst.iter().zip(v) {
            for (j, v) in v.into_iter().enumerate() {
                #[allow(unsafe_code)]
                // SAFETY: `d` points at its column's length, which has room for `k·W` more
                // values (reserved above); `i·W + j < k·W`.
                unsafe {
                    d.add(i * W + j).write(v);
                }
            }
        }
    }
    for o in outs {
        #[allow(unsafe_code)]
        // SAFETY: the `k·W` values after the length were all written by the loop above.
        unsafe {
            o.set_len(o.len() + total);
        }
    }
}

/// A multiply, then an add (two roundings): every CPU.
#[derive(Debug, Clone, Copy)]
pub struct Plain;

/// One fused multiply-add (one rounding).
#[derive(Debug, Clone, Copy)]
pub struct Fused;

impl Arith for Plain {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

impl Arith for Fused {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn scan8_run(c: &Scan8, y: f64, xs: &[f64], old: Option<&[f64]>, out: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if cpu_fused() {
            return match old {
                Some(old) => c.run_avx2::<DIFF>(y, xs, old, out),
                None => c.run_avx2::<PLAIN>(y, xs, xs, out),
            };
        }
        c.run_portable::<Self>(y, xs, old, out)
    }
    #[inline(always)]
    fn scan8_append(c: &Scan8, y: f64, xs: &[f64], old: Option<&[f64]>, out: &mut Vec<f64>) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if cpu_fused() {
            return match old {
                Some(old) => c.append_avx2::<DIFF>(y, (xs, old, xs), out),
                None => c.append_avx2::<PLAIN>(y, (xs, xs, xs), out),
            };
        }
        c.append_portable::<Self>(y, xs, old, out)
    }
    #[inline(always)]
    fn scan8_chain<const K: usize>(
        c: &Scan8,
        ys: [f64; K],
        xs: &[f64],
        out: &mut Vec<f64>,
    ) -> [f64; K] {
        #[cfg(target_arch = "x86_64")]
        if cpu_fused() && (K == 2 || K == 3) {
            return c.chain_avx2::<K>(ys, xs, out);
        }
        c.chain_portable::<Self, K>(ys, xs, out)
    }
    #[inline(always)]
    fn scan8_append_tr(
        c: &Scan8,
        y: f64,
        hlc: (&[f64], &[f64], &[f64]),
        out: &mut Vec<f64>,
    ) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if cpu_fused() {
            return c.append_avx2::<TRUE_RANGE>(y, hlc, out);
        }
        c.append_tr_portable::<Self>(y, hlc, out)
    }
}

/// Which arithmetic the kernels run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Fused,
}

thread_local! {
    static FORCED: Cell<Option<Mode>> = const { Cell::new(None) };
}

/// The arithmetic of this CPU: [`Mode::Fused`] where it has a fused multiply-add the kernels
/// can be compiled for, unless [`force_mode`] set another on this thread.
#[inline]
pub fn mode() -> Mode {
    if let Some(m) = FORCED.with(Cell::get)
        && (m == Mode::Plain || cpu_fused())
    {
        return m;
    }
    if cpu_fused() {
        Mode::Fused
    } else {
        Mode::Plain
    }
}

/// Run this thread's kernels and streams built from now on in `mode` (`None`: the CPU's), for
/// tests and benchmarks that compare the two. [`Mode::Fused`] on a CPU without it stays
/// [`Mode::Plain`]. Returns the mode that will be used.
pub fn force_mode(mode: Option<Mode>) -> Mode {
    FORCED.with(|f| f.set(mode));
    self::mode()
}

#[cfg(all(
    target_arch = "x86_64",
    not(all(target_feature = "fma", target_feature = "avx2"))
))]
#[inline]
fn cpu_fused() -> bool {
    std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(any(
    target_arch = "aarch64",
    all(
        target_arch = "x86_64",
        target_feature = "fma",
        target_feature = "avx2"
    )
))]
#[inline]
fn cpu_fused() -> bool {
    // Compiled for it (aarch64 always has it).
    true
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
fn cpu_fused() -> bool {
    false
}

/// Call a kernel `name::<A: Arith>(args…)` in this CPU's [`mode`], its parameters typed as in
/// its signature: `dispatch!(ema_in(x: &[f64], n: usize) -> Vec<f64>)`. Under [`Mode::Fused`]
/// the kernel (`#[inline(always)]`, as everything numeric it calls) is compiled into a function
/// with `fma` and `avx2` enabled, so its `f64::mul_add` are instructions. (A closure handed to
/// such a function is not enough: the closure is compiled where it is written, without the
/// features, and LLVM left it there, calling the library `fma` per step.)
///
/// `dispatch!(any cci_in(…) -> …)` is the same for a kernel that is not generic: compiled with
/// the features under [`Mode::Fused`] (AVX2's wider vectors; Rust neither contracts nor
/// reorders floating point, so the numbers are the plain build's), or a batch that steps a
/// stream's own code (KC, TSI, ZLEMA, Supertrend), its streams in the [`mode`] they recorded,
/// their `next` `#[inline(always)]` down to the arithmetic.
macro_rules! dispatch {
    ($kernel:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty) => {
        $crate::simd::dispatch!(@go ($($arg: $ty),*) -> $ret,
            $kernel::<$crate::simd::Plain>($($arg),*),
            $kernel::<$crate::simd::Fused>($($arg),*))
    };
    (any $kernel:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty) => {
        $crate::simd::dispatch!(@go ($($arg: $ty),*) -> $ret,
            $kernel($($arg),*),
            $kernel($($arg),*))
    };
    (@go ($($arg:ident : $ty:ty),*) -> $ret:ty, $plain:expr, $fused:expr) => {{
        #[cfg(all(
            target_arch = "x86_64",
            not(all(target_feature = "fma", target_feature = "avx2"))
        ))]
        #[target_feature(enable = "fma,avx2")]
        fn fused($($arg: $ty),*) -> $ret {
            $fused
        }
        #[cfg(not(all(
            target_arch = "x86_64",
            not(all(target_feature = "fma", target_feature = "avx2"))
        )))]
        fn fused($($arg: $ty),*) -> $ret {
            $fused
        }
        match $crate::simd::mode() {
            $crate::simd::Mode::Plain => $plain,
            $crate::simd::Mode::Fused => {
                #[allow(unsafe_code, unused_unsafe)]
                // SAFETY: mode() is Fused only where the CPU reported `fma` and `avx2`
                // (`is_x86_feature_detected!`), the features `fused` is compiled for.
                let out = unsafe { fused($($arg),*) };
                out
            }
        }
    }};
}
pub(crate) use dispatch;

/// Appends `x` to `v` with non-temporal stores (`movntpd`, `movnti`: SSE2, every x86-64 CPU):
/// the values go to memory without first reading the lines they land in (a store that misses
/// the cache otherwise reads its line first: twice the memory traffic for a column that is
/// only written), and without evicting what the cache holds. For final outputs too large for the cache; the
/// caller runs [`store_fence`] before the column leaves it. Elsewhere, a plain append.
#[inline]
pub fn extend_streaming(v: &mut Vec<f64>, x: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_loadu_pd, _mm_stream_pd, _mm_stream_si64};
        v.reserve(x.len());
        let len = v.len();
        let dst = v.as_mut_ptr().wrapping_add(len);
        let mut i = 0;
        // One value with an 8-byte store if the column's end is not 16-byte aligned.
        if !x.is_empty() && !(dst as usize).is_multiple_of(16) {
            #[allow(unsafe_code)]
            // SAFETY: `dst` is the column's end, with room for `x.len()` values (reserved).
            unsafe {
                _mm_stream_si64(dst.cast::<i64>(), x[0].to_bits().cast_signed());
            }
            i = 1;
        }
        while i + 2 <= x.len() {
            #[allow(unsafe_code)]
            // SAFETY: `i + 2 <= x.len()`: the load reads within `x`, the store writes within
            // the reserved capacity; `dst + i` is 16-byte aligned (aligned at `i` = 0 or 1,
            // and `i` advances by two).
            unsafe {
                _mm_stream_pd(dst.add(i), _mm_loadu_pd(x.as_ptr().add(i)));
            }
            i += 2;
        }
        if i < x.len() {
            #[allow(unsafe_code)]
            // SAFETY: `i < x.len()`: within the reserved capacity.
            unsafe {
                _mm_stream_si64(dst.add(i).cast::<i64>(), x[i].to_bits().cast_signed());
            }
        }
        #[allow(unsafe_code)]
        // SAFETY: the `x.len()` values after the length were all written above.
        unsafe {
            v.set_len(len + x.len());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    v.extend_from_slice(x);
}

/// Orders [`extend_streaming`]'s stores before any store after it (`sfence`): run once a
/// column written so is complete, before it is handed on.
#[inline]
pub fn store_fence() {
    #[cfg(target_arch = "x86_64")]
    {
        #[allow(unsafe_code)]
        // SAFETY: `sfence` has no preconditions (SSE, every x86-64 CPU).
        unsafe {
            std::arch::x86_64::_mm_sfence();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_streaming_appends_as_extend_from_slice_does() {
        // Every phase of the column's end against 16 bytes, every length's parity.
        let src: Vec<f64> = (0..40).map(|i| f64::from(i) * 1.5 - 7.0).collect();
        for before in 0..4 {
            for n in [0, 1, 2, 3, 16, 17, 40] {
                let mut v: Vec<f64> = (0..before).map(f64::from).collect();
                let mut want = v.clone();
                extend_streaming(&mut v, &src[..n]);
                extend_streaming(&mut v, &[f64::NAN, -0.0]);
                store_fence();
                want.extend_from_slice(&src[..n]);
                want.extend_from_slice(&[f64::NAN, -0.0]);
                let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&v), bits(&want), "{before} before, {n} appended");
            }
        }
    }

    #[test]
    fn append_steps_appends_every_step_to_every_column() {
        let (mut a, mut b) = (vec![-1.0], Vec::new());
        append_steps([&mut a, &mut b], 5, |i| [[i as f64], [10.0 * i as f64]]);
        assert_eq!(a, [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(b, [0.0, 10.0, 20.0, 30.0, 40.0]);
        append_steps([&mut b], 0, |_| [[f64::NAN]]);
        assert_eq!(b.len(), 5);
        append_steps([&mut a], 2, |i| [[i as f64, -(i as f64), 0.5]]);
        assert_eq!(a[6..], [0.0, -0.0, 0.5, 1.0, -1.0, 0.5]);
    }

    #[test]
    fn fused_rounds_once_plain_twice() {
        // (1 + 2⁻³⁰)² − 1 = 2⁻²⁹ + 2⁻⁶⁰: the product's low bits survive only when fused.
        let a = 1.0 + f64::powi(2.0, -30);
        let exact = f64::powi(2.0, -29) + f64::powi(2.0, -60);
        assert_eq!(Fused::madd(a, a, -1.0), exact);
        assert_eq!(Plain::madd(a, a, -1.0), f64::powi(2.0, -29));
    }

    #[test]
    fn forcing_is_per_thread() {
        assert_eq!(force_mode(Some(Mode::Plain)), Mode::Plain);
        let other = std::thread::spawn(mode).join().ok();
        assert_eq!(
            other,
            Some(if cpu_fused() {
                Mode::Fused
            } else {
                Mode::Plain
            })
        );
        assert_eq!(
            force_mode(None),
            if cpu_fused() {
                Mode::Fused
            } else {
                Mode::Plain
            }
        );
    }
}
