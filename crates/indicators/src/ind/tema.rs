//! TEMA — TA-Lib TEMA: 3·EMA − 3·EMA(EMA) + EMA(EMA(EMA)).
use crate::Indicator;
use crate::core::{Bar, EmaCore, lead_after};

#[derive(Debug, Clone)]
pub struct Tema {
    e1: EmaCore,
    e2: EmaCore,
    e3: EmaCore,
}

impl Tema {
    pub fn new(length: usize) -> Self {
        // Each EMA's blocks on the first's (see `EmaCore::with_lead`): the second seeds n − 1
        // bars after the first, the third 2(n − 1).
        let n = length.max(1);
        Tema {
            e1: EmaCore::new(n),
            e2: EmaCore::new(n).with_lead(lead_after(n - 1)),
            e3: EmaCore::new(n).with_lead(lead_after(2 * (n - 1))),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if !self.e1.is_ready() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        if !self.e2.is_ready() {
            return f64::NAN;
        }
        let c = self.e3.next(b);
        c + ((3.0 * a) - (3.0 * b))
    }
}

impl Indicator for Tema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
        self.e3.reset();
    }
}

pub fn tema(x: &[f64], length: usize) -> Vec<f64> {
    crate::simd::dispatch!(tema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn tema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::Column;
    let len = x.len();
    let mut out = Column::new(len);
    // Through the stream until the three EMAs begin a block on the same bar (at most 3n + 5
    // bars), then every whole block of the three in one pass (`Scan8::chain_append`), then
    // the stream for the rest.
    let mut s = Tema::new(length);
    let mut i = 0;
    while i < len {
        if let (Some(a), Some(b), Some(c)) =
            (s.e1.block_start(), s.e2.block_start(), s.e3.block_start())
        {
            let [a, b, c] =
                s.e1.scan()
                    .chain_append::<A, 3>([a, b, c], &x[i..], out.values());
            s.e1.resume(a);
            s.e2.resume(b);
            s.e3.resume(c);
            i += (len - i) / 8 * 8;
            break;
        }
        out.push(s.next(x[i]));
        i += 1;
    }
    out.extend_with(x[i..].iter().map(|&v| s.next(v)));
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Tema, tema};
    use crate::simd::{Mode, force_mode};

    /// Batch == stream bit for bit in both arithmetics: seeding shorter and longer than a
    /// block, lengths that end inside the seeding, at its last bar, inside a block and across
    /// the chunks the batch stages the first two EMAs in.
    #[test]
    fn batch_is_the_stream() {
        let x: Vec<f64> = (0..1200)
            .map(|i| 100.0 + f64::from((i * 7919) % 13) * 0.37 - f64::from(i) * 0.05)
            .collect();
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for n in [1usize, 2, 5, 9, 20, 90] {
                let seeded = 3 * (n - 1);
                for len in [
                    0,
                    seeded,
                    seeded + 1,
                    seeded + 9,
                    seeded + 256,
                    seeded + 257,
                    1200,
                ] {
                    let got = tema(&x[..len], n);
                    assert_eq!(got.len(), len);
                    let mut s = Tema::new(n);
                    for (i, &v) in x[..len].iter().enumerate() {
                        let want = s.next(v);
                        assert_eq!(got[i].to_bits(), want.to_bits(), "{mode:?} n {n} at {i}");
                    }
                    if len > seeded {
                        assert!(
                            got[seeded].is_finite() && (seeded == 0 || got[seeded - 1].is_nan())
                        );
                    }
                }
            }
            force_mode(None);
        }
    }
}
