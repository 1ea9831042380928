//! MOM — TA-Lib MOM: x − x[n bars ago].
use crate::Indicator;
use crate::core::{Bar, Ring};

#[derive(Debug, Clone)]
pub struct Mom {
    ring: Ring,
}

impl Mom {
    pub fn new(length: usize) -> Self {
        Mom {
            ring: Ring::new(length.max(1) + 1),
        }
    }
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.ring.push(x);
        if !self.ring.is_full() {
            return f64::NAN;
        }
        x - self.ring.oldest()
    }
}

impl Indicator for Mom {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.close);
    }
    fn reset(&mut self) {
        self.ring.clear();
    }
}

pub fn mom(x: &[f64], length: usize) -> Vec<f64> {
    let n = length.max(1);
    // Written once: NaN for the warm-up, then the differences (one vectorised pass, no NaN
    // fill of memory the differences then overwrite).
    let mut out = crate::core::Column::new(x.len());
    out.nan_to(n);
    if x.len() > n {
        out.extend_with(x[n..].iter().zip(x).map(|(&new, &old)| new - old));
    }
    out.finish()
}
