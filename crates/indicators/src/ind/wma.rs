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
    // The warm-up through the stream itself, then a chunk at a time in L1: the window sums
    // (their changes formed in the blocks' loop), the weighted sums' inputs (vector code),
    // the weighted sums, the values (vector divisions), appended.
    let mut st = WmaCore::new(n);
    let warm = n.min(len);
    out.extend_with(x[..warm].iter().map(|&v| st.next(v)));
    let (mut u, mut v) = ([0.0; CHUNK], [0.0; CHUNK]);
    for (new, old) in x[warm..].chunks(CHUNK).zip(x.chunks(CHUNK)) {
        let k = new.len();
        st.values_into::<A>(new, &old[..k], &mut u[..k], &mut v[..k]);
        out.extend(&v[..k]);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Wma, wma};

    /// Batch and stream agree bit for bit around the warm-up and the blocks' edges, within
    /// 1e-12 of the weighted mean computed directly.
    #[test]
    fn batch_is_the_stream() {
        for n in [1usize, 2, 3, 7, 8, 9, 30] {
            for len in [
                0,
                1,
                n.saturating_sub(1),
                n,
                n + 1,
                n + 7,
                n + 8,
                n + 9,
                700,
            ] {
                let x: Vec<f64> = (0..len)
                    .map(|i| 100.0 + ((i * 7919) % 13) as f64 * 0.37 - i as f64 * 0.05)
                    .collect();
                let batch = wma(&x, n);
                assert_eq!(batch.len(), len);
                let mut s = Wma::new(n);
                let div = (n * (n + 1) / 2) as f64;
                for (i, &v) in x.iter().enumerate() {
                    let want = s.next(v);
                    assert_eq!(batch[i].to_bits(), want.to_bits(), "n {n} len {len} at {i}");
                    if i + 1 >= n {
                        let w = &x[i + 1 - n..=i];
                        let exact: f64 = w
                            .iter()
                            .enumerate()
                            .map(|(j, &v)| v * (j + 1) as f64)
                            .sum::<f64>()
                            / div;
                        assert!((want - exact).abs() <= 1e-12 * exact.abs(), "n {n} at {i}");
                    }
                }
                if n == 1 {
                    assert_eq!(batch, x);
                }
            }
        }
    }
}
