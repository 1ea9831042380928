//! Technical indicators for stocksblitz: 37 indicators, each computed two ways over one
//! definition — batch over `f64` slices and streaming bar by bar — matching TA-Lib where TA-Lib
//! defines the indicator.
//!
//! - [`registry`]: the registry (one table: names, categories, parameters, outputs).
//! - [`IndicatorId`]: id parsing and canonicalisation (`RSI_14` ≡ `RSI_14_100` ≡ `rsi`).
//! - [`compute`]: one entry point over a [`Frame`] of OHLCV(+time) columns.
//! - [`ind`]: the indicators themselves, one module each, usable directly from Rust.
//!
//! Pure: no I/O, no allocation per streaming update, no panic on any input.
// `unsafe` only in `simd`: the fused multiply-add dispatch and two AVX2 loops (safety argued there).
#![deny(unsafe_code)]
// Numeric kernels index several parallel columns by position; iterator chains would hide that.
#![allow(clippy::needless_range_loop)]

pub mod core;
mod describe;
mod error;
mod frame;
mod id;
pub mod ind;
pub mod registry;
pub mod simd;

pub use crate::core::Bar;
pub use describe::{Description, Number, ParamDescription, describe};
pub use error::IndicatorError;
pub use frame::{Frame, Output, compute};
pub use id::{CUMULATIVE_WINDOW, IndicatorId, MAX_RECURSIVE_WARMUP};
pub use registry::{Category, IndicatorDef, Input, Memory, ParamDef, ParamKind, REGISTRY, find};

/// Largest number of outputs of any indicator (CPR has nine).
pub const MAX_OUTPUTS: usize = 9;

/// A streaming indicator: feed bars one at a time.
pub trait Indicator: Send + Sync + std::fmt::Debug {
    /// Consume one bar; write the newest value of each output into `out` (NaN while undefined).
    /// `out` has at least as many slots as the indicator has outputs.
    fn update(&mut self, bar: &Bar, out: &mut [f64]);
    /// Forget all state.
    fn reset(&mut self);
}

/// A streaming instance built from an id, with its output buffer.
#[derive(Debug)]
pub struct Stream {
    id: IndicatorId,
    inner: Box<dyn Indicator>,
    out: [f64; MAX_OUTPUTS],
}

impl Stream {
    pub fn new(id: IndicatorId) -> Self {
        let inner = (id.def().build)(id.params());
        Stream {
            id,
            inner,
            out: [f64::NAN; MAX_OUTPUTS],
        }
    }
    /// Parse an id and build its stream.
    pub fn parse(id: &str) -> Result<Self, IndicatorError> {
        IndicatorId::parse(id).map(Stream::new)
    }
    pub fn id(&self) -> &IndicatorId {
        &self.id
    }
    /// Output names, in the order of [`Stream::update`]'s values.
    pub fn outputs(&self) -> &'static [&'static str] {
        self.id.def().outputs
    }
    /// Feed one bar; returns the newest value of every output.
    #[inline]
    pub fn update(&mut self, bar: &Bar) -> &[f64] {
        let n = self.id.def().outputs.len();
        self.inner.update(bar, &mut self.out[..n]);
        &self.out[..n]
    }
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}
