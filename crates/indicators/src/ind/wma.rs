//! WMA — TA-Lib WMA (linear weights, newest heaviest).
use crate::Indicator;
use crate::core::{Bar, WmaCore};

#[derive(Debug, Clone)]
pub struct Wma(WmaCore);

impl Wma {
    pub fn new(length: usize) -> Self {
        Wma(WmaCore::new(length))
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.0.next(x)
    }
}

impl Indicator for Wma {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

pub fn wma(x: &[f64], length: usize) -> Vec<f64> {
    crate::simd::dispatch!(wma_in(x: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn wma_in<A: crate::simd::Arith>(x: &[f64], length: usize) -> Vec<f64> {
    use crate::core::{CHUNK, Column};
    let n = length.max(1);
    let len = x.len();
    let mut out = Column::new(len);
    // The warm-up through the stream itself (its last bar the first anchor), then the anchors
    // from their windows and, between them, the steps: where the CPU has AVX2, their whole
    // blocks in registers and stored in place (`WmaCore::blocks_append`: 0.79-0.87 of TA-Lib's
    // time in one process on a Zen 5, against 1.20-1.54 for the staged passes); otherwise (and
    // for a last part block) a chunk at a time in L1: the window sums (their changes formed
    // in the blocks' loop), the weighted sums' inputs (vector code), the weighted sums, the
    // values (vector divisions), appended.
    let mut st = WmaCore::new(n);
    let warm = n.min(len);
    out.extend_with(x[..warm].iter().map(|&v| st.next(v)));
    let (mut u, mut v) = ([0.0; CHUNK], [0.0; CHUNK]);
    let mut i = warm;
    while i < len {
        if st.anchors_next() {
            out.push(st.anchor(&x[i + 1 - n..=i]));
            i += 1;
            continue;
        }
        let end = (i + st.steps_left().min(CHUNK)).min(len);
        i += st.blocks_append(&x[i..end], &x[i - n..end - n], out.values());
        let k = end - i;
        st.values_into::<A>(&x[i..end], &x[i - n..end - n], &mut u[..k], &mut v[..k]);
        out.extend(&v[..k]);
        i = end;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Wma, wma};

    /// Batch == stream bit for bit (across several anchors), within 1e-12 of the weighted
    /// mean computed directly; WMA(1) is the input. In both arithmetics: the fused one runs
    /// the whole blocks in registers (`simd::wma_append`), the plain one the staged passes.
    #[test]
    fn batch_is_the_stream() {
        use crate::simd::{Mode, force_mode};
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            crate::ind::check::batch_is_the_stream(
                wma,
                |n| {
                    let mut s = Wma::new(n);
                    Box::new(move |v| s.next(v))
                },
                |w| {
                    let n = w.len();
                    let weighted: f64 =
                        w.iter().enumerate().map(|(j, &v)| v * (j + 1) as f64).sum();
                    weighted / (n * (n + 1) / 2) as f64
                },
            );
            force_mode(None);
        }
    }
}
