//! Bindings of the indicators crate: registry, batch compute over numpy arrays (GIL released,
//! outputs handed to numpy without a copy) and streaming instances.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stocksblitz_indicators::{Bar, Frame, IndicatorError, IndicatorId, REGISTRY, Stream, compute};

fn value_error(e: IndicatorError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Parse `id` (`RSI_14`) or, with `params`, build it from a name and named parameters.
fn make_id(id: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<IndicatorId> {
    match params {
        None => IndicatorId::parse(id).map_err(value_error),
        Some(d) => {
            let mut named: Vec<(String, f64)> = Vec::with_capacity(d.len());
            for (k, v) in d.iter() {
                let key: String = k.extract()?;
                let val: f64 = v.extract().map_err(|_| {
                    PyValueError::new_err(format!(
                        "parameter {key} must be a number, got {}",
                        v.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                })?;
                named.push((key, val));
            }
            IndicatorId::with_named(id, named.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(value_error)
        }
    }
}

/// The arithmetic the indicators run on this thread: "fused" (one fused multiply-add on each
/// recurrence's chain, where the CPU has it, as TA-Lib's own build does) or "plain" (a multiply
/// then an add, bit-identical on every CPU). `force` ("fused", "plain" or "auto": the CPU's) sets
/// it for this thread first; streams keep the mode they were built in. Returns the mode now in
/// effect ("fused" asked on a CPU without it gives "plain").
#[pyfunction]
#[pyo3(signature = (force = None))]
pub(crate) fn ta_arithmetic(force: Option<&str>) -> PyResult<&'static str> {
    use stocksblitz_indicators::simd::{self, Mode};
    let mode = match force {
        None => simd::mode(),
        Some(f) => simd::force_mode(match f {
            "auto" => None,
            "fused" => Some(Mode::Fused),
            "plain" => Some(Mode::Plain),
            other => {
                return Err(PyValueError::new_err(format!(
                    "arithmetic must be \"auto\", \"fused\" or \"plain\", got {other:?}"
                )));
            }
        }),
    };
    Ok(match mode {
        Mode::Fused => "fused",
        Mode::Plain => "plain",
    })
}

/// The registry as a list of dicts (name, display_name, category, description, parameters,
/// inputs, outputs, uses_time, memory): the indicators crate's description, the one the server's
/// `/indicators/list` serves.
#[pyfunction]
pub(crate) fn ta_registry(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let all: Vec<_> = REGISTRY
        .iter()
        .map(stocksblitz_indicators::describe)
        .collect();
    let text = serde_json::to_string(&all)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// The canonical form of an id (`rsi_14` → `RSI_14_100`).
#[pyfunction]
#[pyo3(signature = (id, params = None))]
pub(crate) fn ta_canonical(id: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    make_id(id, params).map(|i| i.canonical())
}

/// The optional numpy columns both compute entry points take.
struct Columns<'py> {
    open: Option<PyReadonlyArray1<'py, f64>>,
    high: Option<PyReadonlyArray1<'py, f64>>,
    low: Option<PyReadonlyArray1<'py, f64>>,
    close: Option<PyReadonlyArray1<'py, f64>>,
    volume: Option<PyReadonlyArray1<'py, f64>>,
    time: Option<PyReadonlyArray1<'py, i64>>,
}

impl Columns<'_> {
    /// Borrow the columns as a [`Frame`]; `not_contiguous(column name)` makes the error for a
    /// column numpy cannot hand over as one slice.
    fn frame(&self, not_contiguous: fn(&str) -> PyErr) -> PyResult<Frame<'_>> {
        fn col<'a>(
            n: &str,
            a: Option<&'a PyReadonlyArray1<'_, f64>>,
            err: fn(&str) -> PyErr,
        ) -> PyResult<Option<&'a [f64]>> {
            a.map(|arr| arr.as_slice().map_err(|_| err(n))).transpose()
        }
        Ok(Frame {
            open: col("open", self.open.as_ref(), not_contiguous)?,
            high: col("high", self.high.as_ref(), not_contiguous)?,
            low: col("low", self.low.as_ref(), not_contiguous)?,
            close: col("close", self.close.as_ref(), not_contiguous)?,
            volume: col("volume", self.volume.as_ref(), not_contiguous)?,
            time: self
                .time
                .as_ref()
                .map(|t| t.as_slice().map_err(|_| not_contiguous("time")))
                .transpose()?,
        })
    }
}

/// Run the batch kernel, releasing the GIL for inputs large enough to be worth it.
fn run(
    py: Python<'_>,
    id: &IndicatorId,
    frame: &Frame<'_>,
) -> PyResult<stocksblitz_indicators::Output> {
    let len = frame.close.or(frame.high).map_or(0, <[f64]>::len);
    if len < 4096 {
        compute(id, frame)
    } else {
        py.detach(|| compute(id, frame))
    }
    .map_err(value_error)
}

/// Compute an indicator over numpy columns; returns {output name: array}.
#[pyfunction]
#[pyo3(signature = (id, params = None, open = None, high = None, low = None, close = None, volume = None, time = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn ta_compute<'py>(
    py: Python<'py>,
    id: &str,
    params: Option<&Bound<'py, PyDict>>,
    open: Option<PyReadonlyArray1<'py, f64>>,
    high: Option<PyReadonlyArray1<'py, f64>>,
    low: Option<PyReadonlyArray1<'py, f64>>,
    close: Option<PyReadonlyArray1<'py, f64>>,
    volume: Option<PyReadonlyArray1<'py, f64>>,
    time: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let id = make_id(id, params)?;
    let cols = Columns {
        open,
        high,
        low,
        close,
        volume,
        time,
    };
    let frame = cols.frame(|n| {
        PyValueError::new_err(format!(
            "{n} must be a contiguous {} array",
            if n == "time" { "int64" } else { "float64" }
        ))
    })?;
    let out = run(py, &id, &frame)?;
    let dict = PyDict::new(py);
    for (name, series) in out.names.iter().zip(out.series) {
        dict.set_item(*name, PyArray1::from_vec(py, series))?;
    }
    Ok(dict)
}

/// Fast path of the generated `ta.<name>()` functions: registry name, positional parameter
/// values, float64 contiguous columns. Returns the array (single output) or a dict of arrays.
/// Raises TypeError when a column is not a contiguous float64 array (the Python side then
/// converts and retries), ValueError for bad parameters or inputs.
#[pyfunction]
#[pyo3(signature = (name, params, open, high, low, close, volume, time))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn ta_call<'py>(
    py: Python<'py>,
    name: &str,
    params: Vec<f64>,
    open: Option<PyReadonlyArray1<'py, f64>>,
    high: Option<PyReadonlyArray1<'py, f64>>,
    low: Option<PyReadonlyArray1<'py, f64>>,
    close: Option<PyReadonlyArray1<'py, f64>>,
    volume: Option<PyReadonlyArray1<'py, f64>>,
    time: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<Bound<'py, PyAny>> {
    let id = IndicatorId::with_values(name, &params).map_err(value_error)?;
    let cols = Columns {
        open,
        high,
        low,
        close,
        volume,
        time,
    };
    // TypeError: the Python side converts the columns and retries.
    let frame = cols.frame(|n| PyTypeError::new_err(format!("{n} is not contiguous")))?;
    let out = run(py, &id, &frame)?;
    if out.series.len() == 1 {
        let series = out.series.into_iter().next().unwrap_or_default();
        return Ok(PyArray1::from_vec(py, series).into_any());
    }
    let dict = PyDict::new(py);
    for (name, series) in out.names.iter().zip(out.series) {
        dict.set_item(*name, PyArray1::from_vec(py, series))?;
    }
    Ok(dict.into_any())
}

/// A streaming indicator instance.
/// Bar-by-bar indicator (Python: `stocksblitz.ta.Stream`, a thin subclass). `update` returns a
/// float for one output and a [`StreamValues`] for several: no dict or list per update.
#[pyclass(name = "TaStream", module = "stocksblitz", subclass)]
pub struct TaStream {
    inner: Stream,
}

#[pymethods]
impl TaStream {
    #[new]
    #[pyo3(signature = (id, **params))]
    fn new(id: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let params = params.filter(|d| !d.is_empty());
        Ok(TaStream {
            inner: Stream::new(make_id(id, params)?),
        })
    }
    /// The canonical id.
    #[getter]
    fn id(&self) -> String {
        self.inner.id().canonical()
    }
    #[getter]
    fn outputs(&self) -> Vec<&'static str> {
        self.inner.outputs().to_vec()
    }
    /// Feed one bar; returns the newest value (float) or, for several outputs, a
    /// `StreamValues` (NaN while warming up).
    #[pyo3(signature = (close = f64::NAN, high = None, low = None, open = None, volume = f64::NAN, time = None))]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn update(
        &mut self,
        py: Python<'_>,
        close: f64,
        high: Option<f64>,
        low: Option<f64>,
        open: Option<f64>,
        volume: f64,
        time: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let bar = Bar {
            time,
            open: open.unwrap_or(close),
            high: high.unwrap_or(close),
            low: low.unwrap_or(close),
            close,
            volume,
        };
        let names = self.inner.outputs();
        let out = self.inner.update(&bar);
        if let [v] = out {
            return Ok(pyo3::types::PyFloat::new(py, *v).into_any().unbind());
        }
        let mut values = [f64::NAN; stocksblitz_indicators::MAX_OUTPUTS];
        values[..out.len()].copy_from_slice(out);
        Ok(Py::new(py, StreamValues { names, values })?.into_any())
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn __repr__(&self) -> String {
        format!("Stream('{}')", self.inner.id().canonical())
    }
}

/// The outputs of one multi-output stream update, by name or position: `v.upper`,
/// `v["upper"]`, `v[0]`, `upper, middle, lower = v`; `keys()`, `items()`, `to_dict()`.
#[pyclass(name = "StreamValues", module = "stocksblitz.ta", frozen, sequence)]
pub struct StreamValues {
    names: &'static [&'static str],
    values: [f64; stocksblitz_indicators::MAX_OUTPUTS],
}

impl StreamValues {
    fn find(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| *n == name)
            .map(|i| self.values[i])
    }
}

#[pymethods]
impl StreamValues {
    fn __len__(&self) -> usize {
        self.names.len()
    }
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<f64> {
        if let Ok(name) = key.cast::<pyo3::types::PyString>() {
            let name = name.to_cow()?;
            return self.find(&name).ok_or_else(|| {
                pyo3::exceptions::PyKeyError::new_err(format!(
                    "{name:?}: the outputs are {}",
                    self.names.join(", ")
                ))
            });
        }
        let i: isize = key
            .extract()
            .map_err(|_| PyTypeError::new_err("index with an output name or a position"))?;
        let n = self.names.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if (0..n).contains(&j) {
            Ok(self.values[j as usize])
        } else {
            Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "index {i} out of range for {n} outputs"
            )))
        }
    }
    fn __getattr__(&self, name: &str) -> PyResult<f64> {
        self.find(name).ok_or_else(|| {
            pyo3::exceptions::PyAttributeError::new_err(format!(
                "no output {name:?}: the outputs are {}",
                self.names.join(", ")
            ))
        })
    }
    fn __contains__(&self, name: &str) -> bool {
        self.names.contains(&name)
    }
    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let t = pyo3::types::PyTuple::new(py, &self.values[..self.names.len()])?;
        Ok(t.try_iter()?.into_any().unbind())
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<StreamValues>() {
            Ok(o) => {
                let o = o.get();
                o.names == self.names
                    && o.values[..o.names.len()]
                        .iter()
                        .zip(&self.values)
                        .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
            }
            Err(_) => false,
        }
    }
    /// The output names, in order.
    fn keys(&self) -> Vec<&'static str> {
        self.names.to_vec()
    }
    fn values(&self) -> Vec<f64> {
        self.values[..self.names.len()].to_vec()
    }
    fn items(&self) -> Vec<(&'static str, f64)> {
        self.names.iter().copied().zip(self.values).collect()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.names.iter().zip(self.values) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .names
            .iter()
            .zip(self.values)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("StreamValues({})", parts.join(", "))
    }
}
