//! FISHER — Ehlers' Fisher transform of hl2 over a rolling window of `length` bars:
//! pos = (hl2 − min)/max(max − min, 0.001) − 0.5; v = 0.66·pos + 0.67·v_prev clamped to ±0.999;
//! fisher = 0.5·ln((1 + v)/(1 − v)) + 0.5·fisher_prev; signal = fisher `signal` bars earlier.
use crate::Indicator;
use crate::core::{Bar, Ring, RollingExtreme};

#[derive(Debug, Clone)]
pub struct Fisher {
    n: usize,
    lag: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
    v: f64,
    fisher: f64,
    history: Ring,
}

impl Fisher {
    pub fn new(length: usize, signal: usize) -> Self {
        let n = length.max(1);
        Fisher {
            n,
            lag: signal,
            hi: RollingExtreme::max(n),
            lo: RollingExtreme::min(n),
            v: 0.0,
            fisher: 0.0,
            history: Ring::new(signal + 1),
        }
    }
    /// (fisher, signal)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> (f64, f64) {
        let hl2 = (high + low) / 2.0;
        let (mx, _) = self.hi.push(hl2);
        let (mn, _) = self.lo.push(hl2);
        if (self.hi.count() as usize) < self.n {
            return (f64::NAN, f64::NAN);
        }
        let range = (mx - mn).max(0.001);
        let pos = (hl2 - mn) / range - 0.5;
        self.v = (0.66 * pos + 0.67 * self.v).clamp(-0.999, 0.999);
        self.fisher = 0.5 * ((1.0 + self.v) / (1.0 - self.v)).ln() + 0.5 * self.fisher;
        self.history.push(self.fisher);
        let signal = if self.history.is_full() {
            self.history.oldest()
        } else {
            f64::NAN
        };
        (self.fisher, signal)
    }
}

impl Indicator for Fisher {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (f, s) = self.next(bar.high, bar.low);
        out[0] = f;
        out[1] = s;
    }
    fn reset(&mut self) {
        *self = Fisher::new(self.n, self.lag);
    }
}

/// (fisher, signal)
pub fn fisher(high: &[f64], low: &[f64], length: usize, signal: usize) -> [Vec<f64>; 2] {
    let mut s = Fisher::new(length, signal);
    let (mut a, mut b) = (
        Vec::with_capacity(high.len()),
        Vec::with_capacity(high.len()),
    );
    for i in 0..high.len() {
        let (f, g) = s.next(high[i], low[i]);
        a.push(f);
        b.push(g);
    }
    [a, b]
}
