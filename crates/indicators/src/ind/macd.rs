//! MACD — TA-Lib MACD. As in TA-Lib, the fast EMA is seeded where the slow EMA starts (with the
//! mean of the `fast` values ending there), the signal is an EMA of the MACD line, and all three
//! outputs start once the signal is defined.
use crate::Indicator;
use crate::core::{Bar, EmaCore, Ring};

#[derive(Debug, Clone)]
pub struct Macd {
    fast_n: usize,
    slow_n: usize,
    signal_n: usize,
    fast: EmaCore,
    slow: EmaCore,
    signal: EmaCore,
    window: Ring,
    seen: usize,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (mut fast, mut slow) = (fast.max(1), slow.max(1));
        if slow < fast {
            std::mem::swap(&mut fast, &mut slow);
        }
        Macd {
            fast_n: fast,
            slow_n: slow,
            signal_n: signal.max(1),
            // One step per value, as the batch's fused loop (three recurrences in one pass
            // overlap on their own; in blocks of four they would cost more work, not less).
            fast: EmaCore::stepwise(fast),
            slow: EmaCore::stepwise(slow),
            signal: EmaCore::stepwise(signal.max(1)),
            window: Ring::new(fast),
            seen: 0,
        }
    }

    /// (macd, signal, histogram)
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64, f64) {
        self.seen += 1;
        let slow = self.slow.next(x);
        if self.seen < self.slow_n {
            self.window.push(x);
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let fast = if self.seen == self.slow_n {
            self.window.push(x);
            let mut sum = 0.0;
            for v in self.window.iter() {
                sum += v;
            }
            let seed = sum / self.fast_n as f64;
            self.fast.seed(seed);
            seed
        } else {
            self.fast.next(x)
        };
        let macd = fast - slow;
        let sig = self.signal.next(macd);
        if self.seen < self.slow_n + self.signal_n - 1 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        (macd, sig, macd - sig)
    }
}

impl Indicator for Macd {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (m, s, h) = self.next(bar.close);
        out[0] = m;
        out[1] = s;
        out[2] = h;
    }
    fn reset(&mut self) {
        *self = Macd::new(self.fast_n, self.slow_n, self.signal_n);
    }
}

/// (macd, signal, histogram)
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    crate::simd::dispatch!(macd_in(
        x: &[f64],
        fast: usize,
        slow: usize,
        signal: usize,
    ) -> [Vec<f64>; 3])
}

#[inline(always)]
fn macd_in<A: crate::simd::Arith>(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> [Vec<f64>; 3] {
    use crate::core::{Column, ema_k, ema_step};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let signal = signal.max(1);
    let len = x.len();
    let mut out: [Column; 3] = std::array::from_fn(|_| Column::new(len));
    let start = slow + signal - 2;
    if start >= len {
        return out.map(Column::finish);
    }
    let mean = |v: &[f64]| {
        let mut sum = 0.0;
        for a in v {
            sum += a;
        }
        sum / v.len() as f64
    };
    let (ks, kf, kg) = (ema_k(slow), ema_k(fast), ema_k(signal));
    let (oks, okf, okg) = (1.0 - ks, 1.0 - kf, 1.0 - kg);
    // Both EMAs start at slow − 1: the slow one seeded with the first `slow` values, the fast
    // one with the `fast` values ending there (TA-Lib). The MACD line before the signal starts
    // only seeds the signal (TA-Lib's alignment: the line is output from `start` on).
    let mut s = mean(&x[..slow]);
    let mut f = mean(&x[slow - fast..slow]);
    let mut warm = Vec::with_capacity(signal);
    warm.push(f - s);
    for &v in &x[slow..=start] {
        s = ema_step::<A>(s, v, ks, oks);
        f = ema_step::<A>(f, v, kf, okf);
        warm.push(f - s);
    }
    let mut g = mean(&warm);
    let m = f - s;
    let [line, sig, hist] = &mut out;
    for c in [&mut *line, &mut *sig, &mut *hist] {
        c.nan_to(start);
    }
    line.push(m);
    sig.push(g);
    hist.push(m - g);
    // Each step's three values stored straight into the columns (each written once, no
    // buffer to copy from, the averages in registers).
    let rest = &x[start + 1..];
    crate::simd::append_steps(
        [line.values(), sig.values(), hist.values()],
        rest.len(),
        |i| {
            let v = rest[i];
            s = ema_step::<A>(s, v, ks, oks);
            f = ema_step::<A>(f, v, kf, okf);
            let m = f - s;
            g = ema_step::<A>(g, m, kg, okg);
            [[m], [g], [m - g]]
        },
    );
    out.map(Column::finish)
}
