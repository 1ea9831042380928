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
    let mut s = Macd::new(fast, slow, signal);
    let mut out = [
        Vec::with_capacity(x.len()),
        Vec::with_capacity(x.len()),
        Vec::with_capacity(x.len()),
    ];
    for &v in x {
        let (a, b, c) = s.next(v);
        out[0].push(a);
        out[1].push(b);
        out[2].push(c);
    }
    out
}
