//! STOCH — TA-Lib STOCH: fast %K over `k` bars, slow %K = SMA(fast %K, smooth_k),
//! %D = SMA(slow %K, d). Both outputs start once %D is defined (TA-Lib's alignment).
use crate::Indicator;
use crate::core::{Bar, RollingExtreme, SmaCore, for_each_high_low};

#[derive(Debug, Clone)]
pub struct StochCore {
    k: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
    slow_k: SmaCore,
    slow_d: SmaCore,
    seen: usize,
}

impl StochCore {
    pub fn new(k: usize, d: usize, smooth_k: usize) -> Self {
        let k = k.max(1);
        StochCore {
            k,
            hi: RollingExtreme::max(k),
            lo: RollingExtreme::min(k),
            slow_k: SmaCore::new(smooth_k),
            slow_d: SmaCore::new(d),
            seen: 0,
        }
    }

    /// Returns (slow %K, %D), NaN until %D is defined.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64) {
        let highest = self.hi.push_value(high);
        let lowest = self.lo.push_value(low);
        self.seen += 1;
        if self.seen < self.k {
            return (f64::NAN, f64::NAN);
        }
        let diff = (highest - lowest) / 100.0;
        let fast_k = if diff == 0.0 {
            0.0
        } else {
            (close - lowest) / diff
        };
        let sk = self.slow_k.next(fast_k);
        if sk.is_nan() && self.seen < self.k + self.slow_k.period() - 1 {
            return (f64::NAN, f64::NAN);
        }
        let sd = self.slow_d.next(sk);
        if self.seen < self.k + self.slow_k.period() + self.slow_d.period() - 2 {
            return (f64::NAN, f64::NAN);
        }
        (sk, sd)
    }

    pub fn reset(&mut self) {
        self.hi.clear();
        self.lo.clear();
        self.slow_k.reset();
        self.slow_d.reset();
        self.seen = 0;
    }
}

#[derive(Debug, Clone)]
pub struct Stoch(StochCore);

impl Stoch {
    pub fn new(k: usize, d: usize, smooth_k: usize) -> Self {
        Stoch(StochCore::new(k, d, smooth_k))
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> (f64, f64) {
        self.0.next(high, low, close)
    }
}

impl Indicator for Stoch {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (k, d) = self.next(bar.high, bar.low, bar.close);
        out[0] = k;
        out[1] = d;
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

/// (k, d)
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    d: usize,
    smooth_k: usize,
) -> [Vec<f64>; 2] {
    let (k, d, smooth_k) = (k.max(1), d.max(1), smooth_k.max(1));
    let len = close.len();
    let mut slow_k = crate::core::nan_vec(len);
    let mut slow_d = crate::core::nan_vec(len);
    // TA-Lib aligns both outputs to the start of %D.
    let start = k + smooth_k + d - 3;
    // One pass: fast %K feeds the stream's own SMA cores (slow %K, then %D), so the values are
    // those of the streaming indicator and of three separate TA-Lib passes, bit for bit,
    // without the intermediate series.
    let (mut sma_k, mut sma_d) = (SmaCore::new(smooth_k), SmaCore::new(d));
    let (mut j, mut m) = (0usize, 0usize);
    let hl_len = high.len().min(low.len()).min(len);
    for_each_high_low(&high[..hl_len], &low[..hl_len], k, |i, highest, lowest| {
        let diff = (highest - lowest) / 100.0;
        let fast = if diff == 0.0 {
            0.0
        } else {
            (close[i] - lowest) / diff
        };
        let sk = sma_k.next(fast);
        j += 1;
        if j < smooth_k {
            return;
        }
        let sd = sma_d.next(sk);
        m += 1;
        if m < d {
            return;
        }
        if i >= start {
            slow_k[i] = sk;
        }
        slow_d[i] = sd;
    });
    [slow_k, slow_d]
}
