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
            fast: EmaCore::new(fast),
            slow: EmaCore::new(slow),
            signal: EmaCore::new(signal.max(1)),
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
    use crate::core::{ema_into, ema_k, nan_vec};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let signal = signal.max(1);
    let len = x.len();
    let mut out = [nan_vec(len), nan_vec(len), nan_vec(len)];
    if len < slow {
        return out;
    }
    let mut slow_ema = nan_vec(len);
    ema_into(x, 0, slow, ema_k(slow), &mut slow_ema);
    // The fast EMA starts where the slow one does, seeded with the `fast` values ending there.
    let mut fast_ema = nan_vec(len);
    ema_into(x, slow - fast, fast, ema_k(fast), &mut fast_ema);
    let mut line = nan_vec(len);
    for i in slow - 1..len {
        line[i] = fast_ema[i] - slow_ema[i];
    }
    let mut sig = nan_vec(len);
    ema_into(&line, slow - 1, signal, ema_k(signal), &mut sig);
    let start = slow + signal - 2;
    if start < len {
        for i in start..len {
            out[0][i] = line[i];
            out[1][i] = sig[i];
            out[2][i] = line[i] - sig[i];
        }
    }
    out
}
