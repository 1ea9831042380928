//! DEMA — TA-Lib DEMA: 2·EMA − EMA(EMA).
use crate::Indicator;
use crate::core::{Bar, EmaCore, lead_after};

#[derive(Debug, Clone)]
pub struct Dema {
    e1: EmaCore,
    e2: EmaCore,
}

impl Dema {
    pub fn new(length: usize) -> Self {
        // The second EMA's blocks on the first's (see `EmaCore::with_lead`).
        let n = length.max(1);
        Dema {
            e1: EmaCore::new(n),
            e2: EmaCore::new(n).with_lead(lead_after(n - 1)),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if !self.e1.is_ready() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        (2.0 * a) - b
    }
}

impl Indicator for Dema {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
    }
}

pub fn dema(x: &[f64], length: usize) -> Vec<f64> {
    crate::simd::dispatch!(dema_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn dema_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::Column;
    let len = x.len();
    let mut out = Column::new(len);
    // Through the stream until both EMAs begin a block on the same bar (at most 2n + 6 bars:
    // the second's lead-in puts its blocks on the first's), then every whole block of both in
    // one pass (`Scan8::chain_append`: in registers with AVX2), then the stream for the rest.
    let mut s = Dema::new(length);
    let mut i = 0;
    while i < len {
        if let (Some(a), Some(b)) = (s.e1.block_start(), s.e2.block_start()) {
            let [a, b] =
                s.e1.scan()
                    .chain_append::<A, 2>([a, b], &x[i..], out.values());
            s.e1.resume(a);
            s.e2.resume(b);
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
    use super::{Dema, dema};
    use crate::ind::check::{chained_is_the_stream, textbook_ema};

    /// TA-Lib's DEMA the textbook way: `2·e1 − e2`, `e2` the EMA of `e1` from its first value.
    fn textbook(x: &[f64], n: usize) -> Vec<f64> {
        let e1 = textbook_ema(x, n);
        let first = n - 1;
        let mut out = vec![f64::NAN; x.len()];
        if x.len() > first {
            let e2 = textbook_ema(&e1[first..], n);
            for (i, &b) in e2.iter().enumerate() {
                out[first + i] = 2.0 * e1[first + i] - b;
            }
        }
        out
    }

    /// Batch == stream bit for bit in both arithmetics, around the seeding, the blocks of
    /// eight (the second EMA's blocks start `n − 1` bars after the first's) and the chunks'
    /// edges; both within 1e-12 of the textbook DEMA.
    #[test]
    fn batch_is_the_stream() {
        chained_is_the_stream(
            dema,
            |n| {
                let mut s = Dema::new(n);
                Box::new(move |v| s.next(v))
            },
            |n| 2 * (n - 1),
            textbook,
        );
    }
}
