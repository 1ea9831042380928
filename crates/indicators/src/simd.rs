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
//!   modes. Tried and left baseline, no faster or slower with AVX2: CCI (1.16-1.23 of the
//!   time; 1.14-1.31 again with its incremental mean), AROON, SMA, WMA, AD, OBV, MOM. (MAMA,
//!   PSAR and ADX are generic: MAMA's period, PSAR's step toward the extreme — TA-Lib's FMA
//!   build contracts it too, so the fused SAR is TA-Lib's bit for bit — and ADX's Wilder sums
//!   have multiply-adds.)
//!
//! The `unsafe` is one call, written once, in `dispatch!`: a `#[target_feature]` function may
//! only be called where the CPU is known to have the feature, and [`mode`] returns
//! [`Mode::Fused`] only after `is_x86_feature_detected!` reported both `fma` and `avx2`.
use std::cell::Cell;

/// How a kernel computes `a·b + c`.
pub trait Arith: Copy {
    /// `a·b + c`: rounded once ([`Fused`]) or twice ([`Plain`]).
    fn madd(a: f64, b: f64, c: f64) -> f64;
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

#[cfg(test)]
mod tests {
    use super::*;

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
