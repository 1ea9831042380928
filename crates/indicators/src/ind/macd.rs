//! MACD — TA-Lib MACD. As in TA-Lib, the fast EMA is seeded where the slow EMA starts (with the
//! mean of the `fast` values ending there), the signal is an EMA of the MACD line, and all three
//! outputs start once the signal is defined.
use crate::Indicator;
use crate::core::{Bar, EmaCore, Ring, lead_after};

#[derive(Debug, Clone)]
pub struct Macd {
    fast_n: usize,
    slow_n: usize,
    signal_n: usize,
    fast: EmaCore,
    slow: EmaCore,
    signal: EmaCore,
    window: Ring,
    seen: usize,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (mut fast, mut slow) = (fast.max(1), slow.max(1));
        if slow < fast {
            std::mem::swap(&mut fast, &mut slow);
        }
        Macd {
            fast_n: fast,
            slow_n: slow,
            signal_n: signal.max(1),
            // Linear's blocks of eight, as the batch's chunked passes.
            fast: EmaCore::new(fast),
            slow: EmaCore::new(slow),
            // The signal's blocks on the EMAs' (see `EmaCore::with_lead`): it seeds
            // `signal − 1` bars after them.
            signal: EmaCore::new(signal.max(1)).with_lead(lead_after(signal.max(1) - 1)),
            window: Ring::new(fast),
            seen: 0,
        }
    }

    /// (macd, signal, histogram)
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64, f64) {
        self.seen += 1;
        let slow = self.slow.next(x);
        if self.seen < self.slow_n {
            self.window.push(x);
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let fast = if self.seen == self.slow_n {
            self.window.push(x);
            let mut sum = 0.0;
            for v in self.window.iter() {
                sum += v;
            }
            let seed = sum / self.fast_n as f64;
            self.fast.seed(seed);
            seed
        } else {
            self.fast.next(x)
        };
        let macd = fast - slow;
        let sig = self.signal.next(macd);
        if self.seen < self.slow_n + self.signal_n - 1 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        (macd, sig, macd - sig)
    }
}

impl Indicator for Macd {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let (m, s, h) = self.next(bar.close);
        out[0] = m;
        out[1] = s;
        out[2] = h;
    }
    fn reset(&mut self) {
        *self = Macd::new(self.fast_n, self.slow_n, self.signal_n);
    }
}

/// (macd, signal, histogram)
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    crate::simd::dispatch!(macd_in(
        x: &[f64],
        fast: usize,
        slow: usize,
        signal: usize,
    ) -> [Vec<f64>; 3])
}

#[inline(always)]
fn macd_in<A: crate::simd::Arith>(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> [Vec<f64>; 3] {
    use crate::core::{CHUNK, Column};
    let len = x.len();
    let mut out: [Column; 3] = std::array::from_fn(|_| Column::new(len));
    let mut s = Macd::new(fast, slow, signal);
    // Through the stream until the three EMAs begin a block on the same bar (the signal's
    // lead-in puts its blocks on the others'). Where the CPU has AVX2, every whole block from
    // there in registers (`simd::macd_append`: one pass, no buffer; 2.15 ms for 1M bars against
    // 3.69 for the chunks below, medians over 10 rounds of alternating processes on a Zen 3).
    // The rest (everything in Mode::Plain) a chunk at a time: the fast EMA into a buffer in L1,
    // the slow one appended to the line's column in place and the line formed over it
    // (fast − slow), the signal appended to its column in place from the line, the histogram
    // from both (each EMA in Linear's blocks of eight).
    let [line, sig, hist] = &mut out;
    let mut i = 0;
    while i < len {
        if let (Some(f), Some(sl), Some(g)) = (
            s.fast.block_start(),
            s.slow.block_start(),
            s.signal.block_start(),
        ) {
            let scans = [s.fast.scan(), s.slow.scan(), s.signal.scan()];
            let cols = [line.values(), sig.values(), hist.values()];
            if let Some(([f, sl, g], done)) =
                crate::simd::macd_append(scans, [f, sl, g], &x[i..], cols)
            {
                s.fast.resume(f);
                s.slow.resume(sl);
                s.signal.resume(g);
                i += done;
            }
            break;
        }
        let (m, g, h) = s.next(x[i]);
        line.push(m);
        sig.push(g);
        hist.push(h);
        i += 1;
    }
    let mut bf = [0.0; CHUNK];
    for xs in x[i..].chunks(CHUNK) {
        let bf = &mut bf[..xs.len()];
        s.fast.feed_into::<A>(xs, bf);
        let (lv, sv) = (line.values(), sig.values());
        let at = lv.len();
        s.slow.feed_append::<A>(xs, lv);
        for (m, &f) in lv[at..].iter_mut().zip(&*bf) {
            *m = f - *m;
        }
        s.signal.feed_append::<A>(&lv[at..], sv);
        hist.extend_with(lv[at..].iter().zip(&sv[at..]).map(|(&m, &g)| m - g));
    }
    out.map(Column::finish)
}

#[cfg(test)]
mod tests {
    use super::{Macd, macd};
    use crate::simd::{Mode, force_mode};

    /// Batch == stream bit for bit in both arithmetics, all three outputs: lengths that end in
    /// the seeding, at the signal's first value, inside a block and across the chunks; the
    /// periods given either way round (the slower is the slow one).
    #[test]
    fn batch_is_the_stream() {
        let x: Vec<f64> = (0..1100)
            .map(|i| 100.0 + f64::from((i * 7919) % 13) * 0.37 - f64::from(i) * 0.05)
            .collect();
        for mode in [Mode::Plain, Mode::Fused] {
            force_mode(Some(mode));
            for (fast, slow, signal) in
                [(12, 26, 9), (26, 12, 9), (1, 1, 1), (3, 5, 2), (5, 40, 17)]
            {
                let first = fast.max(slow) + signal - 2;
                for len in [0, first, first + 1, first + 9, first + 257, 1100] {
                    let got = macd(&x[..len], fast, slow, signal);
                    let mut s = Macd::new(fast, slow, signal);
                    for (i, &v) in x[..len].iter().enumerate() {
                        let (m, g, h) = s.next(v);
                        for (k, want) in [m, g, h].into_iter().enumerate() {
                            assert_eq!(
                                got[k][i].to_bits(),
                                want.to_bits(),
                                "{mode:?} {fast}/{slow}/{signal} output {k} at {i}"
                            );
                        }
                    }
                    if len > first {
                        assert!(
                            got[1][first].is_finite() && (first == 0 || got[1][first - 1].is_nan())
                        );
                    }
                }
            }
            force_mode(None);
        }
    }
}
