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
    use crate::core::{ema_k, ema_step, nan_vec};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let signal = signal.max(1);
    let len = x.len();
    let mut out = [nan_vec(len), nan_vec(len), nan_vec(len)];
    let start = slow + signal - 2;
    if start >= len {
        return out;
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
    // one with the `fast` values ending there (TA-Lib).
    let mut s = mean(&x[..slow]);
    let mut f = mean(&x[slow - fast..slow]);
    let [line, sig, hist] = &mut out;
    line[slow - 1] = f - s;
    for i in slow..=start {
        s = ema_step(s, x[i], ks, oks);
        f = ema_step(f, x[i], kf, okf);
        line[i] = f - s;
    }
    let mut g = mean(&line[slow - 1..=start]);
    sig[start] = g;
    hist[start] = line[start] - g;
    // Zipped slices: no bounds checks in the loop.
    let rest = start + 1;
    for (((&v, l), sg), h) in x[rest..]
        .iter()
        .zip(&mut line[rest..])
        .zip(&mut sig[rest..])
        .zip(&mut hist[rest..])
    {
        s = ema_step(s, v, ks, oks);
        f = ema_step(f, v, kf, okf);
        let m = f - s;
        g = ema_step(g, m, kg, okg);
        *l = m;
        *sg = g;
        *h = m - g;
    }
    // The MACD line starts with the signal (TA-Lib's alignment).
    line[..start].fill(f64::NAN);
    out
}
