//! AD — TA-Lib AD (Chaikin accumulation/distribution line).
use crate::Indicator;
use crate::core::{Bar, CHUNK};

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
    crate::simd::dispatch!(any ad_in(
        high: &[f64],
        low: &[f64],
        close: &[f64],
        volume: &[f64]
    ) -> Vec<f64>)
}

/// The bar's addition to the line: TA-Lib adds nothing where the range is not positive; here
/// that is +0.0 (the line never holds −0.0, so adding +0.0 leaves it bit for bit) through a
/// select, so that a chunk's additions are vector code, their divisions four at a time.
#[inline(always)]
fn flow(high: f64, low: f64, close: f64, volume: f64) -> f64 {
    let range = high - low;
    crate::core::select(
        range > 0.0,
        (((close - low) - (high - close)) / range) * volume,
        0.0,
    )
}

#[inline(always)]
fn ad_in(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Vec<f64> {
    let len = close.len();
    let len_all = len.min(high.len()).min(low.len()).min(volume.len());
    let mut out = crate::core::Column::new(len);
    // With AVX2, whole fours in vector code written in place; the rest (all of it without)
    // a chunk at a time in L1: the additions (vector code), then the running sum (one add per
    // bar on its chain), appended.
    let (mut ad, mut start) = crate::simd::ad_append(
        0.0,
        &high[..len_all],
        &low[..len_all],
        &close[..len_all],
        &volume[..len_all],
        out.values(),
    )
    .unwrap_or((0.0, 0));
    let mut buf = [0.0f64; CHUNK];
    while start < len_all {
        let end = (start + CHUNK).min(len_all);
        let k = end - start;
        for ((((b, &h), &l), &c), &v) in buf[..k]
            .iter_mut()
            .zip(&high[start..end])
            .zip(&low[start..end])
            .zip(&close[start..end])
            .zip(&volume[start..end])
        {
            *b = flow(h, l, c, v);
        }
        for b in &mut buf[..k] {
            ad += *b;
            *b = ad;
        }
        out.extend(&buf[..k]);
        start = end;
    }
    out.finish()
}
