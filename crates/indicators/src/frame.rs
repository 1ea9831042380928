//! The generic entry point: compute an indicator by id over a frame of columns.

use crate::error::IndicatorError;
use crate::id::IndicatorId;
use crate::registry::{IndicatorDef, Input};

/// Columns of OHLCV (+ optional epoch-second times). Columns an indicator needs must be present
/// and every present column must have the same length.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frame<'a> {
    pub open: Option<&'a [f64]>,
    pub high: Option<&'a [f64]>,
    pub low: Option<&'a [f64]>,
    pub close: Option<&'a [f64]>,
    pub volume: Option<&'a [f64]>,
    pub time: Option<&'a [i64]>,
}

impl<'a> Frame<'a> {
    /// A frame of closes only.
    pub fn from_close(close: &'a [f64]) -> Self {
        Frame {
            close: Some(close),
            ..Frame::default()
        }
    }

    pub fn column(&self, input: Input) -> Option<&'a [f64]> {
        match input {
            Input::Open => self.open,
            Input::High => self.high,
            Input::Low => self.low,
            Input::Close => self.close,
            Input::Volume => self.volume,
        }
    }

    // Accessors for validated frames (missing columns read as empty; `compute` checks first).
    pub(crate) fn high(&self) -> &'a [f64] {
        self.high.unwrap_or_default()
    }
    pub(crate) fn low(&self) -> &'a [f64] {
        self.low.unwrap_or_default()
    }
    pub(crate) fn close(&self) -> &'a [f64] {
        self.close.unwrap_or_default()
    }
    pub(crate) fn volume(&self) -> &'a [f64] {
        self.volume.unwrap_or_default()
    }

    /// Check that `def`'s inputs are present and all columns agree in length; returns the length.
    pub fn validate(&self, def: &IndicatorDef) -> Result<usize, IndicatorError> {
        for input in def.inputs {
            if self.column(*input).is_none() {
                return Err(IndicatorError::MissingInput {
                    indicator: def.name,
                    input: input.as_str(),
                });
            }
        }
        // Lengths are checked against close when given (the column every caller has), else the
        // indicator's first input.
        let reference = if self.close.is_some() {
            Input::Close
        } else {
            def.inputs.first().copied().unwrap_or(Input::Close)
        };
        let len = self.column(reference).map_or(0, <[f64]>::len);
        let cols = [
            ("open", self.open.map(<[f64]>::len)),
            ("high", self.high.map(<[f64]>::len)),
            ("low", self.low.map(<[f64]>::len)),
            ("close", self.close.map(<[f64]>::len)),
            ("volume", self.volume.map(<[f64]>::len)),
            ("time", self.time.map(<[i64]>::len)),
        ];
        for (name, l) in cols {
            if let Some(l) = l
                && l != len
            {
                return Err(IndicatorError::LengthMismatch {
                    input: name,
                    len: l,
                    expected: len,
                });
            }
        }
        Ok(len)
    }
}

/// The result of a batch computation: one series per output, each as long as the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub names: &'static [&'static str],
    pub series: Vec<Vec<f64>>,
}

impl Output {
    /// The series of a named output.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.series.get(i))
            .map(Vec::as_slice)
    }
    /// The first (or only) series.
    pub fn first(&self) -> &[f64] {
        self.series.first().map(Vec::as_slice).unwrap_or_default()
    }
}

/// Compute `id` over `frame` in one batch.
pub fn compute(id: &IndicatorId, frame: &Frame<'_>) -> Result<Output, IndicatorError> {
    let def = id.def();
    frame.validate(def)?;
    let series = (def.batch)(frame, id.params());
    Ok(Output {
        names: def.outputs,
        series,
    })
}
