//! AD — TA-Lib AD (Chaikin accumulation/distribution line).
use crate::Indicator;
use crate::core::Bar;

#[derive(Debug, Clone, Default)]
pub struct Ad {
    ad: f64,
}

impl Ad {
    pub fn new() -> Self {
        Ad { ad: 0.0 }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let range = high - low;
        if range > 0.0 {
            self.ad += (((close - low) - (high - close)) / range) * volume;
        }
        self.ad
    }
}

impl Indicator for Ad {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close, bar.volume);
    }
    fn reset(&mut self) {
        self.ad = 0.0;
    }
}

pub fn ad(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Vec<f64> {
    let len = close.len();
    let len_all = len.min(high.len()).min(low.len()).min(volume.len());
    let mut out = Vec::with_capacity(len);
    let mut ad = 0.0;
    // Zipped columns, each value written once.
    out.extend(
        high[..len_all]
            .iter()
            .zip(&low[..len_all])
            .zip(&close[..len_all])
            .zip(&volume[..len_all])
            .map(move |(((&h, &l), &c), &v)| {
                let range = h - l;
                if range > 0.0 {
                    ad += (((c - l) - (h - c)) / range) * v;
                }
                ad
            }),
    );
    out.resize(len, f64::NAN);
    out
}
