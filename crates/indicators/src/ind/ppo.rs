//! PPO — TA-Lib PPO with SMAs: ((SMA(fast) − SMA(slow)) / SMA(slow)) · 100 (0 when the slow SMA
//! is 0); signal = EMA(ppo, signal); histogram = ppo − signal.
use crate::Indicator;
use crate::core::{Bar, EmaCore, SmaCore, is_zero};

#[derive(Debug, Clone)]
pub struct Ppo {
    fast: SmaCore,
    slow: SmaCore,
    signal: EmaCore,
    slow_n: usize,
    seen: usize,
}

impl Ppo {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (mut fast, mut slow) = (fast.max(1), slow.max(1));
        if slow < fast {
            std::mem::swap(&mut fast, &mut slow);
        }
        Ppo {
            fast: SmaCore::new(fast),
            slow: SmaCore::new(slow),
            signal: EmaCore::new(signal),
            slow_n: slow,
            seen: 0,
        }
    }
    /// (ppo, signal, histogram)
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64, f64) {
        let f = self.fast.next(x);
        let s = self.slow.next(x);
        self.seen += 1;
        if self.seen < self.slow_n {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let ppo = if is_zero(s) {
            0.0
        } else {
            ((f - s) / s) * 100.0
        };
        let sig = self.signal.next(ppo);
        (ppo, sig, ppo - sig)
    }
}

impl Indicator for Ppo {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (p, s, h) = self.next(bar.close);
        out[0] = p;
        out[1] = s;
        out[2] = h;
    }
    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
    }
}

pub fn ppo(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    use crate::core::{ema_into, ema_k, nan_vec, sma_into};
    let (mut fast, mut slow) = (fast.max(1), slow.max(1));
    if slow < fast {
        std::mem::swap(&mut fast, &mut slow);
    }
    let len = x.len();
    let (mut f, mut s) = (nan_vec(len), nan_vec(len));
    sma_into(x, 0, fast, &mut f);
    sma_into(x, 0, slow, &mut s);
    let mut ppo = nan_vec(len);
    if len >= slow {
        for i in slow - 1..len {
            ppo[i] = if is_zero(s[i]) {
                0.0
            } else {
                ((f[i] - s[i]) / s[i]) * 100.0
            };
        }
    }
    let mut sig = nan_vec(len);
    ema_into(&ppo, slow - 1, signal, ema_k(signal), &mut sig);
    let hist = ppo.iter().zip(&sig).map(|(p, s)| p - s).collect();
    [ppo, sig, hist]
}
