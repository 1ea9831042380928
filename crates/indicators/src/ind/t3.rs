//! T3 — TA-Lib T3 (Tillson): six chained EMAs seeded in TA-Lib's staggered way, combined with
//! the volume-factor coefficients.
use crate::Indicator;
use crate::core::{Bar, ema_step};
use crate::simd::{self, Arith, Fused, Mode, Plain};

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
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
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
            mode: simd::mode(),
        }
    }

    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        match self.mode {
            Mode::Plain => self.next_in::<Plain>(x),
            Mode::Fused => self.next_in::<Fused>(x),
        }
    }

    #[inline(always)]
    fn next_in<A: Arith>(&mut self, x: f64) -> f64 {
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
            self.e[0] = ema_step::<A>(self.e[0], x, k, omk);
            for j in 1..stage {
                self.e[j] = ema_step::<A>(self.e[j], self.e[j - 1], k, omk);
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
        self.e[0] = ema_step::<A>(self.e[0], x, k, omk);
        for j in 1..6 {
            self.e[j] = ema_step::<A>(self.e[j], self.e[j - 1], k, omk);
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
    simd::dispatch!(t3_in(x: &[f64], length: usize, vfactor: f64) -> Vec<f64>)
}

#[inline(always)]
fn t3_in<A: Arith>(x: &[f64], length: usize, vfactor: f64) -> Vec<f64> {
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
            e[0] = ema_step::<A>(e[0], x[today], k, omk);
            today += 1;
            for j in 1..stage {
                e[j] = ema_step::<A>(e[j], e[j - 1], k, omk);
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
    // The six EMAs skewed in time: in each step stage j advances to time t − j, so that the six
    // updates depend only on the previous step's values (one multiply and one add deep, the
    // six side by side) instead of each on the one before it in the same bar (six deep: the
    // out-of-order window fills and the loop ran at about twice the chain's latency). Every
    // stage value is the stream's, formula for formula: bit for bit the same numbers.
    // First the triangle that fills the pipeline: tri[j][d] = stage j at time lookback + d.
    // Inputs past the series are 0: they only reach stage values no output uses.
    let input = |t: usize| x.get(t).copied().unwrap_or(0.0);
    let mut tri = [[0.0f64; 6]; 6];
    for (row, &v) in tri.iter_mut().zip(&e) {
        row[0] = v;
    }
    for d in 1..6 {
        for j in 0..6 - d {
            let from = if j == 0 {
                input(lookback + d)
            } else {
                tri[j - 1][d]
            };
            tri[j][d] = ema_step::<A>(tri[j][d - 1], from, k, omk);
        }
    }
    // Front at time lookback + 5: stage j holds its value at lookback + 5 − j. The output for
    // time τ needs stages 3..6 at τ: stage 6 from this step, 5 from the last one, 4 from two
    // steps back (h4), 3 from three (h3b).
    let [mut s1, mut s2, mut s3, mut s4, mut s5, mut s6] = std::array::from_fn(|j| tri[j][5 - j]);
    let (mut h4, mut h3a, mut h3b) = (tri[3][1], tri[2][2], tri[2][1]);
    let steps = len - lookback - 1;
    // The inputs past the series' end (at most five) are zeros, as above. Each value stored
    // straight into the column ([`crate::simd::append_steps`]; staged through an L1 buffer
    // and copied out, the copy and the buffer's aliasing with the input cost time).
    let main = x.get(lookback + 6..).unwrap_or(&[]);
    let zeros = [0.0f64; 6];
    for part in [main, &zeros[..steps - main.len()]] {
        crate::simd::append_steps([out.values()], part.len(), |i| {
            let v = part[i];
            let n1 = ema_step::<A>(s1, v, k, omk);
            let n2 = ema_step::<A>(s2, s1, k, omk);
            let n3 = ema_step::<A>(s3, s2, k, omk);
            let n4 = ema_step::<A>(s4, s3, k, omk);
            let n5 = ema_step::<A>(s5, s4, k, omk);
            let n6 = ema_step::<A>(s6, s5, k, omk);
            let o = c1 * n6 + c2 * s5 + c3 * h4 + c4 * h3b;
            (h3b, h3a, h4) = (h3a, s3, s4);
            (s1, s2, s3, s4, s5, s6) = (n1, n2, n3, n4, n5, n6);
            [[o]]
        });
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{T3, t3};

    /// The skewed batch fills and drains its pipeline around the series' ends: every length
    /// from empty to a dozen bars past the warm-up, several periods, against the stream bit for
    /// bit.
    #[test]
    fn batch_is_the_stream_at_every_length() {
        for n in 2..=6 {
            for len in 0..=6 * (n - 1) + 12 {
                let x: Vec<f64> = (0..len)
                    .map(|i| 100.0 + ((i * 7919) % 13) as f64 * 0.37 - i as f64 * 0.05)
                    .collect();
                let batch = t3(&x, n, 0.7);
                let mut s = T3::new(n, 0.7);
                for (i, &v) in x.iter().enumerate() {
                    let want = s.next(v);
                    assert_eq!(
                        batch[i].to_bits(),
                        want.to_bits(),
                        "n {n} len {len} at {i}: batch {} stream {want}",
                        batch[i]
                    );
                }
                assert_eq!(batch.len(), len);
            }
        }
    }
}
