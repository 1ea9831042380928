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
    let n = length.max(1);
    let len = x.len();
    if len < n {
        return crate::core::nan_vec(len);
    }
    let divider = ((n * (n + 1)) >> 1) as f64;
    let nf = n as f64;
    let (mut period_sub, mut period_sum) = (0.0, 0.0);
    for (i, &v) in x[..n - 1].iter().enumerate() {
        period_sub += v;
        period_sum += v * (i + 1) as f64;
    }
    // Written once: the warm-up's NaNs, the first value (nothing trails it yet), then every
    // later value from its bar and the one leaving the window — TA-Lib's running sums, in
    // its order of operations.
    let mut out = crate::core::Column::new(len);
    out.nan_to(n - 1);
    period_sub += x[n - 1];
    period_sum += x[n - 1] * nf;
    out.push(period_sum / divider);
    period_sum -= period_sub;
    out.extend_with(
        x[n..]
            .iter()
            .zip(&x[..len - n])
            .map(move |(&v, &trailing)| {
                period_sub += v;
                period_sub -= trailing;
                period_sum += v * nf;
                let o = period_sum / divider;
                period_sum -= period_sub;
                o
            }),
    );
    out.finish()
}
