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
    use crate::ind::check::{chained_is_the_stream, textbook_ema};

    /// TA-Lib's TEMA the textbook way: `3·e1 − 3·e2 + e3`, each EMA over the one before from
    /// its first value.
    fn textbook(x: &[f64], n: usize) -> Vec<f64> {
        let first = n - 1;
        let e1 = textbook_ema(x, n);
        let mut out = vec![f64::NAN; x.len()];
        if x.len() > 2 * first {
            let e2 = textbook_ema(&e1[first..], n);
            let e3 = textbook_ema(&e2[first..], n);
            for (j, &c) in e3.iter().enumerate() {
                let i = 2 * first + j;
                out[i] = 3.0 * e1[i] - 3.0 * e2[first + j] + c;
            }
        }
        out
    }

    /// Batch == stream bit for bit in both arithmetics: seeding shorter and longer than a
    /// block, lengths that end inside the seeding, at its last bar, inside a block and across
    /// the batch's chunks; both within 1e-12 of the textbook TEMA.
    #[test]
    fn batch_is_the_stream() {
        chained_is_the_stream(
            tema,
            |n| {
                let mut s = Tema::new(n);
                Box::new(move |v| s.next(v))
            },
            |n| 3 * (n - 1),
            textbook,
        );
    }
}
