//! T3 — TA-Lib T3 (Tillson): six chained EMAs seeded in TA-Lib's staggered way, combined with
//! the volume-factor coefficients.
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone)]
pub struct T3 {
    n: usize,
    vfactor: f64,
    k: f64,
    one_minus_k: f64,
    c: [f64; 4],
    e: [f64; 6],
    /// Running sum used to seed the next EMA stage.
    seed_sum: f64,
    seen: usize,
}

impl T3 {
    pub fn new(length: usize, vfactor: f64) -> Self {
        let n = length.max(1);
        let k = 2.0 / (n as f64 + 1.0);
        let t = vfactor * vfactor;
        let c1 = 0.0 - t * vfactor;
        let c2 = 3.0 * (t - c1);
        let c3 = (0.0 - 6.0) * t - 3.0 * (vfactor - c1);
        let c4 = 1.0 + 3.0 * vfactor - c1 + 3.0 * t;
        T3 {
            n,
            vfactor,
            k,
            one_minus_k: 1.0 - k,
            c: [c1, c2, c3, c4],
            e: [0.0; 6],
            seed_sum: 0.0,
            seen: 0,
        }
    }

    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let n = self.n;
        if n == 1 {
            return x;
        }
        let i = self.seen;
        self.seen += 1;
        let nf = n as f64;
        let (k, omk) = (self.k, self.one_minus_k);
        if i < n {
            // Stage 1: SMA seed of e1.
            self.seed_sum += x;
            if i == n - 1 {
                self.e[0] = self.seed_sum / nf;
                self.seed_sum = self.e[0];
            }
            return f64::NAN;
        }
        // Which stage is being seeded: stage s (1..=5) seeds e[s] over n-1 more inputs.
        let stage = (i - n) / (n - 1) + 1;
        if stage <= 5 {
            // Update e[0..stage] in chain, accumulate e[stage-1] into the seed of e[stage].
            self.e[0] = k * x + omk * self.e[0];
            for j in 1..stage {
                self.e[j] = k * self.e[j - 1] + omk * self.e[j];
            }
            self.seed_sum += self.e[stage - 1];
            if (i - n + 1).is_multiple_of(n - 1) {
                self.e[stage] = self.seed_sum / nf;
                self.seed_sum = self.e[stage];
                if stage == 5 {
                    let [c1, c2, c3, c4] = self.c;
                    return c1 * self.e[5] + c2 * self.e[4] + c3 * self.e[3] + c4 * self.e[2];
                }
            }
            return f64::NAN;
        }
        self.e[0] = k * x + omk * self.e[0];
        for j in 1..6 {
            self.e[j] = k * self.e[j - 1] + omk * self.e[j];
        }
        let [c1, c2, c3, c4] = self.c;
        c1 * self.e[5] + c2 * self.e[4] + c3 * self.e[3] + c4 * self.e[2]
    }
}

impl Indicator for T3 {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = T3::new(self.n, self.vfactor);
    }
}

pub fn t3(x: &[f64], length: usize, vfactor: f64) -> Vec<f64> {
    let n = length.max(1);
    let len = x.len();
    if n == 1 {
        return x.to_vec();
    }
    let mut out = crate::core::Column::new(len);
    let lookback = 6 * (n - 1);
    if len <= lookback {
        return out.finish();
    }
    let nf = n as f64;
    let k = 2.0 / (nf + 1.0);
    let omk = 1.0 - k;
    let mut today = 0;
    let mut e = [0.0f64; 6];
    let mut temp = 0.0;
    for _ in 0..n {
        temp += x[today];
        today += 1;
    }
    e[0] = temp / nf;
    for stage in 1..6 {
        temp = e[stage - 1];
        for _ in 0..n - 1 {
            e[0] = k * x[today] + omk * e[0];
            today += 1;
            for j in 1..stage {
                e[j] = k * e[j - 1] + omk * e[j];
            }
            temp += e[stage - 1];
        }
        e[stage] = temp / nf;
    }
    let t = vfactor * vfactor;
    let c1 = 0.0 - t * vfactor;
    let c2 = 3.0 * (t - c1);
    let c3 = (0.0 - 6.0) * t - 3.0 * (vfactor - c1);
    let c4 = 1.0 + 3.0 * vfactor - c1 + 3.0 * t;
    out.nan_to(lookback);
    out.push(c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2]);
    let [mut e1, mut e2, mut e3, mut e4, mut e5, mut e6] = e;
    out.extend_with(x[lookback + 1..].iter().map(move |&v| {
        e1 = k * v + omk * e1;
        e2 = k * e1 + omk * e2;
        e3 = k * e2 + omk * e3;
        e4 = k * e3 + omk * e4;
        e5 = k * e4 + omk * e5;
        e6 = k * e5 + omk * e6;
        c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3
    }));
    out.finish()
}
