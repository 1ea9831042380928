//! ATR — TA-Lib ATR: true range from the second bar, seeded with the SMA of the first `length`
//! true ranges, then Wilder smoothing. Length 1 gives the true range itself.
use crate::Indicator;
use crate::core::{Bar, CHUNK, Column, Linear, LinearState, true_range};
use crate::simd::{self, Arith, Mode};

#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    prev_close: f64,
    seen: usize,
    sum: f64,
    lin: Linear,
    atr: LinearState,
    /// The batch's arithmetic ([`simd::mode`] when built).
    mode: Mode,
}

impl Atr {
    pub fn new(length: usize) -> Self {
        Atr {
            n: length.max(1),
            prev_close: f64::NAN,
            seen: 0,
            sum: 0.0,
            lin: Linear::wilder(length),
            atr: LinearState::new(f64::NAN),
            mode: simd::mode(),
        }
    }
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let i = self.seen;
        self.seen += 1;
        let prev = self.prev_close;
        self.prev_close = close;
        if i == 0 {
            return f64::NAN;
        }
        let tr = true_range(high, low, prev);
        let n = self.n;
        if n == 1 {
            return tr;
        }
        if i <= n {
            self.sum += tr;
            if i < n {
                return f64::NAN;
            }
            self.atr = LinearState::new(self.sum / n as f64);
            return self.atr.value();
        }
        self.atr.step_in(self.mode, &self.lin, tr)
    }
}

impl Indicator for Atr {
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.next(bar.high, bar.low, bar.close);
    }
    fn reset(&mut self) {
        *self = Atr::new(self.n);
    }
}

pub fn atr(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    simd::dispatch!(atr_in(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64>)
}

#[inline(always)]
fn atr_in<A: Arith>(high: &[f64], low: &[f64], close: &[f64], length: usize) -> Vec<f64> {
    atr_map::<A>(high, low, close, length, |a, _| a)
}

/// ATR in one pass with `f(atr, close)` written at each bar (ATR itself, or NATR's ratio):
/// indicators derived from ATR pay for one pass over memory, not two.
#[inline(always)]
pub(crate) fn atr_map<A: Arith>(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: usize,
    f: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let n = length.max(1);
    let len = close.len().min(high.len()).min(low.len());
    let mut out = Column::new(close.len());
    if n == 1 {
        out.nan_to(1);
        for i in 1..len {
            out.push(f(true_range(high[i], low[i], close[i - 1]), close[i]));
        }
        return out.finish();
    }
    if len <= n {
        return out.finish();
    }
    let nf = n as f64;
    let mut sum = 0.0;
    for i in 1..=n {
        sum += true_range(high[i], low[i], close[i - 1]);
    }
    let mut atr = sum / nf;
    out.nan_to(n);
    out.push(f(atr, close[n]));
    // Blocks of eight, then stepwise: the stream's formulas, batch and stream agree bit for bit.
    // A chunk at a time: the true ranges formed inside the average's blocks
    // ([`simd::Scan8::append_true_range`]: AVX2 where the CPU has it), the averages stored in
    // place, then `f` over them there while they are in L1 (nothing for ATR itself). Through
    // stack buffers (true ranges, averages, the chunk) the time depended on where those fell
    // against the inputs modulo 4096 (store/load aliasing).
    let lin = Linear::wilder(n);
    let (h, l, c, pc) = (
        &high[n + 1..len],
        &low[n + 1..len],
        &close[n + 1..len],
        &close[n..len - 1],
    );
    let done = h.len() - h.len() % 8;
    let mut at = 0;
    while at < done {
        let end = (at + CHUNK).min(done);
        let col = out.values();
        let start = col.len();
        let hlc = (&h[at..end], &l[at..end], &pc[at..end]);
        atr = lin.scan().append_true_range::<A>(atr, hlc, col);
        for (v, &c) in col[start..].iter_mut().zip(&c[at..end]) {
            *v = f(*v, c);
        }
        at = end;
    }
    let (h, l, c, pc) = (&h[done..], &l[done..], &c[done..], &pc[done..]);
    let mut st = LinearState::new(atr);
    for i in 0..h.len() {
        out.push(f(st.step::<A>(&lin, true_range(h[i], l[i], pc[i])), c[i]));
    }
    out.finish()
}
