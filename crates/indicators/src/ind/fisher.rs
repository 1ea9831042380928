//! FISHER — Ehlers' Fisher transform of hl2 over a rolling window of `length` bars:
//! pos = (hl2 − min)/max(max − min, 0.001) − 0.5; v = 0.66·pos + 0.67·v_prev clamped to ±0.999;
//! fisher = 0.5·ln((1 + v)/(1 − v)) + 0.5·fisher_prev; signal = fisher `signal` bars earlier.
use crate::Indicator;
use crate::core::{Bar, Ring, RollingExtreme, rolling_max, rolling_min};

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
        let mx = self.hi.push_value(hl2);
        let mn = self.lo.push_value(hl2);
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
    let n = length.max(1);
    let len = high.len();
    let hl2: Vec<f64> = high.iter().zip(low).map(|(h, l)| (h + l) / 2.0).collect();
    let (mx, mn) = (rolling_max(&hl2, n), rolling_min(&hl2, n));
    let (mut f, mut s) = (crate::core::nan_vec(len), crate::core::nan_vec(len));
    let (mut v, mut fisher) = (0.0f64, 0.0f64);
    for i in n.saturating_sub(1)..len {
        let range = (mx[i] - mn[i]).max(0.001);
        let pos = (hl2[i] - mn[i]) / range - 0.5;
        v = (0.66 * pos + 0.67 * v).clamp(-0.999, 0.999);
        fisher = 0.5 * ((1.0 + v) / (1.0 - v)).ln() + 0.5 * fisher;
        f[i] = fisher;
        if i >= n - 1 + signal {
            s[i] = f[i - signal];
        }
    }
    [f, s]
}
