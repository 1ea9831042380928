//! AO — Awesome Oscillator: SMA(hl2, fast) − SMA(hl2, slow), hl2 = (high + low) / 2.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column};
use crate::ind::sma::Sma;
use crate::simd::{self, Arith};

#[derive(Debug, Clone)]
pub struct Ao {
    fast_n: usize,
    slow_n: usize,
    fast: Sma,
    slow: Sma,
}

impl Ao {
    pub fn new(fast: usize, slow: usize) -> Self {
        let (fast_n, slow_n) = (fast.max(1), slow.max(1));
        Ao {
            fast_n,
            slow_n,
            fast: Sma::new(fast_n),
            slow: Sma::new(slow_n),
        }
    }
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> f64 {
        let hl2 = (high + low) / 2.0;
        self.fast.next(hl2) - self.slow.next(hl2)
    }
}

impl Indicator for Ao {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low);
    }
    fn reset(&mut self) {
        *self = Ao::new(self.fast_n, self.slow_n);
    }
}

/// Batch AO: [`Sma`]'s two running sums over hl2, the stream's numbers bit for bit.
pub fn ao(high: &[f64], low: &[f64], fast: usize, slow: usize) -> Vec<f64> {
    simd::dispatch!(ao_in(
        high: &[f64],
        low: &[f64],
        fast: usize,
        slow: usize,
    ) -> Vec<f64>)
}

#[inline(always)]
fn ao_in<A: Arith>(high: &[f64], low: &[f64], fast: usize, slow: usize) -> Vec<f64> {
    let len = high.len().min(low.len());
    let mut out = Column::new(high.len());
    // The warm-up through the stream itself; then a chunk at a time in L1: hl2 of the chunk's
    // bars (after those of the `max(fast, slow)` bars before it, kept from the last chunk),
    // the fast means appended to the column ([`Sma::means_append`]), the slow ones
    // ([`Sma::means_into`]) taken off them in place.
    let mut st = Ao::new(fast, slow);
    let warm = st.fast_n.max(st.slow_n).min(len);
    for (&h, &l) in high[..warm].iter().zip(&low[..warm]) {
        out.push(st.next(h, l));
    }
    let (fast, slow) = (st.fast_n, st.slow_n);
    let back = fast.max(slow);
    // hl2 of the `back` bars before the chunk, then of the chunk's: each bar's once.
    let mut m = vec![0.0; back + CHUNK];
    for (((o, &h), &l), _) in m.iter_mut().zip(high).zip(low).zip(0..warm) {
        *o = (h + l) / 2.0;
    }
    let mut sm = [0.0; CHUNK];
    let mut i = warm;
    while i < len {
        let end = (i + CHUNK).min(len);
        let k = end - i;
        for ((o, &h), &l) in m[back..back + k]
            .iter_mut()
            .zip(&high[i..end])
            .zip(&low[i..end])
        {
            *o = (h + l) / 2.0;
        }
        let now = &m[back..back + k];
        let (gf, gs) = (
            &m[back - fast..back - fast + k],
            &m[back - slow..back - slow + k],
        );
        // The fast means stored in the column, the slow ones taken off them there.
        let col = out.values();
        let start = col.len();
        st.fast.means_append::<A>(now, gf, col);
        st.slow.means_into::<A>(now, gs, &mut sm[..k]);
        for (f, &s) in col[start..].iter_mut().zip(&sm[..k]) {
            *f -= s;
        }
        m.copy_within(k..k + back, 0);
        i = end;
    }
    out.finish()
}
