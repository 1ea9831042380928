//! PSAR — TA-Lib SAR (Wilder's parabolic stop and reverse), plus the trend: +1 while the SAR is
//! below price (long), −1 while above.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column, select};
use crate::simd::{self, Arith, Fused, Mode, Plain};

#[derive(Debug, Clone, Copy)]
pub struct Psar {
    accel: f64,
    max: f64,
    seen: usize,
    is_long: bool,
    af: f64,
    ep: f64,
    sar: f64,
    new_high: f64,
    new_low: f64,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Psar {
    pub fn new(af: f64, max_af: f64) -> Self {
        let accel = if af > max_af { max_af } else { af };
        Psar {
            accel,
            max: max_af,
            seen: 0,
            is_long: true,
            af: accel,
            ep: f64::NAN,
            sar: f64::NAN,
            new_high: f64::NAN,
            new_low: f64::NAN,
            mode: simd::mode(),
        }
    }

    /// (sar, trend)
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> (f64, f64) {
        let i = self.seen;
        self.seen += 1;
        if i == 0 {
            self.new_high = high;
            self.new_low = low;
            return (f64::NAN, f64::NAN);
        }
        if i == 1 {
            // Direction from the first bar pair's −DM: long unless the low fell more.
            let diff_m = self.new_low - low;
            let diff_p = high - self.new_high;
            let minus_dm = if diff_m > 0.0 && diff_p < diff_m {
                diff_m
            } else {
                0.0
            };
            self.is_long = minus_dm <= 0.0;
            if self.is_long {
                self.ep = high;
                self.sar = self.new_low;
            } else {
                self.ep = low;
                self.sar = self.new_high;
            }
            self.new_low = low;
            self.new_high = high;
        }
        match self.mode {
            Mode::Plain => self.step::<Plain>(high, low),
            Mode::Fused => self.step::<Fused>(high, low),
        }
    }

    /// One bar once the direction is set (from the second bar on).
    #[inline(always)]
    fn step<A: Arith>(&mut self, high: f64, low: f64) -> (f64, f64) {
        let prev_low = self.new_low;
        let prev_high = self.new_high;
        self.new_low = low;
        self.new_high = high;
        // TA-Lib clamps against the previous bar's extreme, then this bar's: the same as one
        // clamp against the tighter of the two (ignoring NaN as each clamp does), found off the
        // SAR's bar-to-bar dependency (one compare on it instead of two).
        let lows = prev_low.tighter_low(low);
        let highs = prev_high.tighter_high(high);
        let out;
        if self.is_long {
            if low <= self.sar {
                self.is_long = false;
                self.sar = self.ep.max_keep(highs);
                out = self.sar;
                self.af = self.accel;
                self.ep = low;
                self.advance::<A>();
                self.sar = self.sar.max_keep(highs);
            } else {
                out = self.sar;
                self.extend(high > self.ep, high);
                self.advance::<A>();
                self.sar = self.sar.min_keep(lows);
            }
        } else if high >= self.sar {
            self.is_long = true;
            self.sar = self.ep.min_keep(lows);
            out = self.sar;
            self.af = self.accel;
            self.ep = high;
            self.advance::<A>();
            self.sar = self.sar.min_keep(lows);
        } else {
            out = self.sar;
            self.extend(low < self.ep, low);
            self.advance::<A>();
            self.sar = self.sar.max_keep(highs);
        }
        (out, if self.is_long { 1.0 } else { -1.0 })
    }

    /// TA-Lib's step toward the extreme, `sar + af·(ep − sar)`: a multiply-add in the fused
    /// build, as TA-Lib's own FMA build compiles it (bit for bit the wheel's SAR on a CPU with
    /// FMA). Not `sar·(1 − af) + af·ep`, one link shorter on the chain: a SAR compared with a
    /// low one ulp apart decides a reversal, and everything after it.
    #[inline(always)]
    fn advance<A: Arith>(&mut self) {
        self.sar = A::madd(self.af, self.ep - self.sar, self.sar);
    }

    /// A new extreme point in the trend's direction (`beyond`): it becomes the EP and the
    /// acceleration steps up to its cap. Selects, not branches: whether a bar makes a new
    /// extreme is the data's to decide, about one bar in three on a random walk.
    #[inline(always)]
    fn extend(&mut self, beyond: bool, price: f64) {
        let stepped = self.af + self.accel;
        let capped = if stepped > self.max {
            self.max
        } else {
            stepped
        };
        self.ep = select(beyond, price, self.ep);
        self.af = select(beyond, capped, self.af);
    }
}

/// TA-Lib's clamping: `if (sar < bound) sar = bound` (NaN bounds leave the value alone).
trait Keep {
    fn max_keep(self, bound: f64) -> f64;
    fn min_keep(self, bound: f64) -> f64;
    /// The bound that `min_keep(self).min_keep(other)` amounts to: the lower, a NaN skipped.
    fn tighter_low(self, other: f64) -> f64;
    /// The bound that `max_keep(self).max_keep(other)` amounts to: the higher, a NaN skipped.
    fn tighter_high(self, other: f64) -> f64;
}

impl Keep for f64 {
    #[inline]
    fn max_keep(self, bound: f64) -> f64 {
        if self < bound { bound } else { self }
    }
    #[inline]
    fn min_keep(self, bound: f64) -> f64 {
        if self > bound { bound } else { self }
    }
    #[inline]
    fn tighter_low(self, other: f64) -> f64 {
        if self.is_nan() || self > other {
            other
        } else {
            self
        }
    }
    #[inline]
    fn tighter_high(self, other: f64) -> f64 {
        if self.is_nan() || self < other {
            other
        } else {
            self
        }
    }
}

impl Indicator for Psar {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (s, t) = self.next(bar.high, bar.low);
        out[0] = s;
        out[1] = t;
    }
    fn reset(&mut self) {
        *self = Psar::new(self.accel, self.max);
    }
}

/// (sar, trend)
pub fn psar(high: &[f64], low: &[f64], af: f64, max_af: f64) -> [Vec<f64>; 2] {
    simd::dispatch!(psar_in(high: &[f64], low: &[f64], af: f64, max_af: f64) -> [Vec<f64>; 2])
}

#[inline(always)]
fn psar_in<A: Arith>(high: &[f64], low: &[f64], af: f64, max_af: f64) -> [Vec<f64>; 2] {
    let len = high.len().min(low.len());
    let mut s = Psar::new(af, max_af);
    let (mut sar, mut trend) = (Column::new(high.len()), Column::new(high.len()));
    // The first two bars set the direction; then one step per bar, a chunk at a time into
    // buffers in L1, appended (each value written once).
    for i in 0..len.min(2) {
        let (v, t) = s.next(high[i], low[i]);
        sar.push(v);
        trend.push(t);
    }
    if len > 2 {
        let (mut sb, mut tb) = ([0.0; CHUNK], [0.0; CHUNK]);
        for (hs, ls) in high[2..len].chunks(CHUNK).zip(low[2..len].chunks(CHUNK)) {
            let k = hs.len();
            // The chunk's own copy of the state, in registers (f64 registers do not survive
            // the appends' calls).
            let mut st = s;
            for (((&h, &l), o), t) in hs.iter().zip(ls).zip(&mut sb[..k]).zip(&mut tb[..k]) {
                (*o, *t) = st.step::<A>(h, l);
            }
            s = st;
            sar.extend(&sb[..k]);
            trend.extend(&tb[..k]);
        }
    }
    [sar.finish(), trend.finish()]
}

#[cfg(test)]
mod tests {
    use super::Keep;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            6 => (-3i32..4).prop_map(f64::from),
            2 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(-0.0),
        ]
    }

    proptest! {
        /// One clamp against the tighter bound is the two clamps in a row, bit for bit (NaN,
        /// infinities, signed zeros and ties included): the step's reordering changes no SAR.
        #[test]
        fn one_clamp_is_two(s in value(), a in value(), b in value()) {
            prop_assert_eq!(
                s.min_keep(a).min_keep(b).to_bits(),
                s.min_keep(a.tighter_low(b)).to_bits()
            );
            prop_assert_eq!(
                s.max_keep(a).max_keep(b).to_bits(),
                s.max_keep(a.tighter_high(b)).to_bits()
            );
        }
    }
}
