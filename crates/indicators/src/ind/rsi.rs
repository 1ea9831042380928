//! RSI — TA-Lib RSI (Wilder smoothing seeded with the mean of the first n changes) × scalar/100.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Linear, LinearState, is_zero};
use crate::simd::{self, Arith, Mode};

/// A change split into (gain, loss) without a branch: TA-Lib counts `d < 0` as a loss and
/// anything else (including NaN, which then propagates) as a gain.
#[inline(always)]
fn split(d: f64) -> (f64, f64) {
    let neg = d < 0.0;
    (if neg { 0.0 } else { d }, if neg { -d } else { 0.0 })
}

/// RSI from the averages: 100·gain/(gain + loss) (0 when both are zero) × scalar/100.
#[inline(always)]
fn value(gain: f64, loss: f64, factor: f64) -> f64 {
    let t = gain + loss;
    (if is_zero(t) { 0.0 } else { 100.0 * (gain / t) }) * factor
}

#[derive(Debug, Clone)]
pub struct Rsi {
    n: usize,
    factor: f64,
    count: usize,
    prev: f64,
    gain: f64,
    loss: f64,
    lin: Linear,
    gains: LinearState,
    losses: LinearState,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Rsi {
    pub fn new(length: usize, scalar: f64) -> Self {
        Rsi {
            n: length.max(1),
            factor: scalar / 100.0,
            count: 0,
            prev: f64::NAN,
            gain: 0.0,
            loss: 0.0,
            lin: Linear::wilder(length),
            gains: LinearState::new(0.0),
            losses: LinearState::new(0.0),
            mode: simd::mode(),
        }
    }

    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let n = self.n as f64;
        if self.count == 0 {
            self.count = 1;
            self.prev = x;
            return f64::NAN;
        }
        let diff = x - self.prev;
        self.prev = x;
        if self.count <= self.n {
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.count += 1;
            if self.count <= self.n {
                return f64::NAN;
            }
            self.loss /= n;
            self.gain /= n;
            self.losses = LinearState::new(self.loss);
            self.gains = LinearState::new(self.gain);
        } else {
            let (up, down) = split(diff);
            self.loss = self.losses.step_in(self.mode, &self.lin, down);
            self.gain = self.gains.step_in(self.mode, &self.lin, up);
        }
        value(self.gain, self.loss, self.factor)
    }
}

impl Indicator for Rsi {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        *self = Rsi {
            count: 0,
            prev: f64::NAN,
            gain: 0.0,
            loss: 0.0,
            ..*self
        };
    }
}

pub fn rsi(x: &[f64], length: usize, scalar: f64) -> Vec<f64> {
    simd::dispatch!(rsi_in(x: &[f64], length: usize, scalar: f64) -> Vec<f64>)
}

#[inline(always)]
fn rsi_in<A: Arith>(x: &[f64], length: usize, scalar: f64) -> Vec<f64> {
    let n = length.max(1);
    let mut out = crate::core::Column::new(x.len());
    if x.len() <= n {
        return out.finish();
    }
    let nf = n as f64;
    let factor = scalar / 100.0;
    let (mut gain, mut loss) = (0.0, 0.0);
    let mut prev = x[0];
    for &v in &x[1..=n] {
        let d = v - prev;
        prev = v;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= nf;
    gain /= nf;
    out.nan_to(n);
    out.push(value(gain, loss, factor));
    // Both averages in blocks of eight (the stream's formulas, one value at a time), a chunk
    // of values at a time in buffers that stay in L1, then appended: each value written once,
    // and no call inside the loops (a `push` may grow its vector: across that call the
    // averages lived on the stack, a store and a reload on their chains).
    let lin = Linear::wilder(n);
    let (mut g, mut l) = (gain, loss);
    // With AVX2, all of it in registers a block at a time, stored in place; the rest (all of
    // it without) through the chunked passes below.
    let done = match simd::rsi_append(lin.scan(), (g, l), &x[n..], factor, out.values()) {
        Some((ga, lo, k)) => {
            (g, l) = (ga, lo);
            prev = x[n + k];
            k
        }
        None => 0,
    };
    let rest = &x[n + 1 + done..];
    let blocks = rest.len() - rest.len() % 8;
    // Four passes per chunk: the gains and losses (vector code), each average through
    // [`Linear::blocks`] (eight bars per link of its chain), then the values (vector code, four
    // divisions at a time). One pass doing all of it per block took 1.15-1.19 times as long
    // (blocks of four; with blocks of eight, LLVM's vectorising of the two averages
    // interleaved spilled registers: 1.4 times).
    let (mut ub, mut db) = ([0.0; CHUNK], [0.0; CHUNK]);
    let (mut gb, mut lb) = ([0.0; CHUNK], [0.0; CHUNK]);
    for cs in rest[..blocks].chunks(CHUNK) {
        let k = cs.len();
        (ub[0], db[0]) = split(cs[0] - prev);
        for (((u, d), &v), &p) in ub[1..k].iter_mut().zip(&mut db[1..k]).zip(&cs[1..]).zip(cs) {
            (*u, *d) = split(v - p);
        }
        prev = cs[k - 1];
        g = lin.blocks::<A>(g, &ub[..k], &mut gb[..k]);
        l = lin.blocks::<A>(l, &db[..k], &mut lb[..k]);
        for ((u, &g), &l) in ub[..k].iter_mut().zip(&gb[..k]).zip(&lb[..k]) {
            *u = value(g, l, factor);
        }
        out.extend(&ub[..k]);
    }
    let (mut gs, mut ls) = (LinearState::new(g), LinearState::new(l));
    for &v in &rest[blocks..] {
        let (up, down) = split(v - prev);
        prev = v;
        let (g, l) = (gs.step::<A>(&lin, up), ls.step::<A>(&lin, down));
        out.push(value(g, l, factor));
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Rsi, rsi};
    use crate::simd::{Mode, force_mode};

    /// Batch == stream bit for bit in both arithmetics, across the cases the block kernel
    /// treats lane by lane: a flat start (both averages zero: the value is 0, not 0/0), falls
    /// and rises, a flat stretch long enough for the averages to decay below TA-Lib's zero,
    /// a NaN, and lengths around the blocks of eight.
    #[test]
    fn batch_is_the_stream_through_flat_and_nan_stretches() {
        let mut x = vec![100.0; 40];
        x.extend((0..300).map(|i| 100.0 + f64::from((i * 7919) % 23) * 0.1 - 1.1));
        x.extend(std::iter::repeat_n(99.0, 700));
        x.extend((0..50).map(|i| 99.0 - f64::from(i) * 0.01));
        x.push(f64::NAN);
        x.extend((0..30).map(|i| 98.0 + f64::from(i) * 0.02));
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for n in [1usize, 2, 14] {
                for len in [x.len(), x.len() - 3, 47, 9 + n] {
                    let got = rsi(&x[..len], n, 100.0);
                    let mut s = Rsi::new(n, 100.0);
                    for (i, &v) in x[..len].iter().enumerate() {
                        let want = s.next(v);
                        assert_eq!(got[i].to_bits(), want.to_bits(), "{mode:?} n {n} at {i}");
                    }
                }
                let got = rsi(&x, n, 100.0);
                assert_eq!(got[n + 5], 0.0, "flat start");
                assert_eq!(got[1000], 0.0, "decayed below TA-Lib's zero");
            }
            force_mode(None);
        }
    }
}
