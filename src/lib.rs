//! PyO3 bindings: the `stocksblitz._native` extension module.
//!
//! Thin adapters only: every parse, calendar query and the server itself live in the crates.

// PyO3 methods take `&self` whether they read it or not.
#![allow(clippy::unused_self)]

use chrono::NaiveDate;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use stocksblitz_symbols::{Calendar, ExpiryKind, InstrumentSpec, Symbol, SymbolError, ist_date};

mod aio;
mod client;
mod market;
mod ta;

/// mimalloc keeps freed memory for reuse: large indicator outputs (8 MB for a million bars) would
/// otherwise be unmapped on free and page-faulted back in on every call (polars does the same
/// with jemalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Python exception class `stocksblitz.exceptions.<name>` (ValueError if the package is
/// not importable, which only happens when `_native` is loaded on its own).
fn py_exception(py: Python<'_>, name: &'static str, msg: String) -> PyErr {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || {
        py.import("stocksblitz.exceptions").map(Bound::unbind)
    });
    match module
        .and_then(|m| m.bind(py).getattr(name))
        .and_then(|c| Ok(c.cast_into::<PyType>()?))
    {
        Ok(cls) => PyErr::from_type(cls, msg),
        Err(_) => PyValueError::new_err(msg),
    }
}

fn symbol_error(py: Python<'_>, e: &SymbolError) -> PyErr {
    py_exception(py, "InvalidSymbolError", e.to_string())
}

/// A parsed trading symbol (offline; no I/O).
#[pyclass(frozen, name = "SymbolInfo", module = "stocksblitz")]
struct PySymbolInfo {
    inner: Symbol,
}

#[pymethods]
impl PySymbolInfo {
    /// `index`, `equity`, `future` or `option`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    /// `NSE`, `BSE`, `NFO` or `BFO`.
    #[getter]
    fn exchange(&self) -> &'static str {
        self.inner.exchange.as_str()
    }
    #[getter]
    fn underlying(&self) -> &str {
        &self.inner.underlying
    }
    #[getter]
    fn expiry(&self) -> Option<NaiveDate> {
        self.inner.expiry
    }
    #[getter]
    fn is_weekly(&self) -> bool {
        self.inner.is_weekly
    }
    #[getter]
    fn strike(&self) -> Option<f64> {
        self.inner.strike.map(stocksblitz_symbols::Strike::value)
    }
    /// `CE` or `PE` for options.
    #[getter]
    fn option_type(&self) -> Option<&'static str> {
        self.inner.right.map(stocksblitz_symbols::Right::as_str)
    }
    #[getter]
    fn tradingsymbol(&self) -> &str {
        &self.inner.tradingsymbol
    }
    /// Strike interval of the underlying's option chain, when known.
    #[getter]
    fn strike_step(&self) -> Option<u32> {
        self.inner.index().and_then(|i| i.strike_step)
    }
    /// Units per lot from the contract-spec table (1 for equities; None for indices and
    /// stock derivatives the table does not cover).
    #[getter]
    fn lot_size(&self) -> Option<u32> {
        stocksblitz_symbols::ContractTable::embedded()
            .spec(&self.inner)
            .map(|s| s.lot_size)
    }
    /// Price grid in rupees (0.05 for index derivatives, 0.01 for equities; None where
    /// `lot_size` is None).
    #[getter]
    fn tick_size(&self) -> Option<f64> {
        stocksblitz_symbols::ContractTable::embedded()
            .spec(&self.inner)
            .map(|s| f64::from(s.tick_paise) / 100.0)
    }
    /// The exchange's quantity-freeze limit of one order (None: no limit, or no spec).
    #[getter]
    fn freeze_qty(&self) -> Option<u32> {
        stocksblitz_symbols::ContractTable::embedded()
            .spec(&self.inner)
            .map(|s| s.freeze_qty)
            .filter(|q| *q != u32::MAX)
    }
    /// Whether the contract has expired now (expiry day 15:30 IST).
    #[getter]
    fn is_expired(&self) -> bool {
        self.inner.is_expired_at(chrono::Utc::now())
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("exchange", self.exchange())?;
        d.set_item("underlying", self.underlying())?;
        d.set_item("expiry", self.expiry())?;
        d.set_item("is_weekly", self.is_weekly())?;
        d.set_item("strike", self.strike())?;
        d.set_item("option_type", self.option_type())?;
        d.set_item("tradingsymbol", self.tradingsymbol())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        let mut out = format!(
            "SymbolInfo({:?}, kind={:?}, exchange={:?}, underlying={:?}",
            s.tradingsymbol.as_str(),
            s.kind.as_str(),
            s.exchange.as_str(),
            s.underlying.as_str()
        );
        if let Some(e) = s.expiry {
            out.push_str(&format!(
                ", expiry={e}, is_weekly={}",
                if s.is_weekly { "True" } else { "False" }
            ));
        }
        if let (Some(k), Some(r)) = (s.strike, s.right) {
            out.push_str(&format!(", strike={}, option_type={:?}", k, r.as_str()));
        }
        out.push(')');
        out
    }
    fn __str__(&self) -> &str {
        &self.inner.tradingsymbol
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PySymbolInfo>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }
}

/// Parse one symbol. Raises InvalidSymbolError with the parser's message.
#[pyfunction]
fn parse_symbol(py: Python<'_>, symbol: &str) -> PyResult<PySymbolInfo> {
    stocksblitz_symbols::parse(symbol)
        .map(|inner| PySymbolInfo { inner })
        .map_err(|e| symbol_error(py, &e))
}

/// Parse many symbols in one call (the GIL is released while parsing).
/// errors="raise" raises on the first bad symbol (naming its index); errors="none" puts None.
#[pyfunction]
#[pyo3(signature = (symbols, errors = "raise"))]
fn parse_symbols<'py>(
    py: Python<'py>,
    symbols: Vec<String>,
    errors: &str,
) -> PyResult<Bound<'py, PyList>> {
    let raise = match errors {
        "raise" => true,
        "none" => false,
        other => {
            return Err(PyValueError::new_err(format!(
                "errors must be \"raise\" or \"none\", got {other:?}"
            )));
        }
    };
    let parsed: Vec<Result<Symbol, SymbolError>> = py.detach(|| {
        symbols
            .iter()
            .map(|s| stocksblitz_symbols::parse(s))
            .collect()
    });
    if raise && let Some((i, Err(e))) = parsed.iter().enumerate().find(|(_, r)| r.is_err()) {
        return Err(py_exception(
            py,
            "InvalidSymbolError",
            format!("symbols[{i}]: {e}"),
        ));
    }
    // Creating a million objects would trigger the cyclic GC hundreds of times over a growing
    // heap (it more than doubles the cost); none of these objects can form cycles.
    let _gc = GcPause::new(py, parsed.len() > 10_000);
    let items = parsed
        .into_iter()
        .map(|r| match r {
            Ok(inner) => Bound::new(py, PySymbolInfo { inner }).map(Bound::into_any),
            Err(_) => Ok(py.None().into_bound(py)),
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Pauses Python's cyclic garbage collector while alive (restores the previous state on drop).
struct GcPause<'py> {
    gc: Option<Bound<'py, PyModule>>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>, wanted: bool) -> Self {
        let gc = wanted.then(|| py.import("gc").ok()).flatten().filter(|gc| {
            gc.call_method0("isenabled")
                .and_then(|v| v.extract::<bool>())
                .unwrap_or(false)
        });
        if let Some(gc) = &gc {
            let _ = gc.call_method0("disable");
        }
        GcPause { gc }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            let _ = gc.call_method0("enable");
        }
    }
}

/// Parse an `@` instrument spec offline into a dict (None for omitted parts).
#[pyfunction]
fn parse_spec<'py>(py: Python<'py>, spec: &str) -> PyResult<Bound<'py, PyDict>> {
    let s = InstrumentSpec::parse(spec)
        .map_err(|e| py_exception(py, "InvalidSymbolError", e.to_string()))?;
    let d = PyDict::new(py);
    d.set_item("spec", s.to_string())?;
    d.set_item("exchange", s.exchange.as_str())?;
    d.set_item("underlying", s.underlying.as_str())?;
    let text = s.to_string();
    let parts: Vec<&str> = text.split('@').collect();
    d.set_item("expiry", parts.get(2).copied())?;
    d.set_item("right", s.right.map(stocksblitz_symbols::Right::as_str))?;
    d.set_item("strike", parts.get(4).copied())?;
    Ok(d)
}

/// The next `n` expiries of `underlying` on or after `start` (today when omitted).
/// kind="weekly" lists every weekly expiry (empty for underlyings without weekly series);
/// kind="monthly" the monthly ones.
#[pyfunction]
#[pyo3(signature = (underlying, n = 4, kind = "weekly", start = None))]
fn next_expiries(
    py: Python<'_>,
    underlying: &str,
    n: usize,
    kind: &str,
    start: Option<NaiveDate>,
) -> PyResult<Vec<NaiveDate>> {
    if n > 520 {
        return Err(PyValueError::new_err(format!(
            "n must be at most 520, got {n}"
        )));
    }
    let sym = stocksblitz_symbols::parse(underlying).map_err(|e| symbol_error(py, &e))?;
    let kind = match kind {
        "weekly" => ExpiryKind::Weekly,
        "monthly" => ExpiryKind::Monthly,
        other => {
            return Err(PyValueError::new_err(format!(
                "kind must be \"weekly\" or \"monthly\", got {other:?}"
            )));
        }
    };
    let from = start.unwrap_or_else(|| ist_date(chrono::Utc::now()));
    Ok(Calendar::embedded().expiries_of(&sym.underlying, kind, from, n))
}

/// The lexicon sentiment of a text (what the server scores news with): `(compound, label)`,
/// compound in [-1, 1], label positive / negative / neutral. `finance=False` scores with the
/// VADER lexicon alone.
#[pyfunction]
#[pyo3(signature = (text, finance = true))]
fn news_sentiment(text: &str, finance: bool) -> (f64, &'static str) {
    let which = if finance {
        stocksblitz_news::Lexicon::Finance
    } else {
        stocksblitz_news::Lexicon::Vader
    };
    let s = stocksblitz_news::score_with(text, which);
    (s.compound, s.label.as_str())
}

/// Run the bundled server with command-line arguments (argv[0] is the program name).
/// Blocks until SIGINT/SIGTERM with the GIL released; returns the exit code.
#[pyfunction]
fn run_server(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| stocksblitz_server::run(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PySymbolInfo>()?;
    m.add_function(wrap_pyfunction!(parse_symbol, m)?)?;
    m.add_function(wrap_pyfunction!(parse_symbols, m)?)?;
    m.add_function(wrap_pyfunction!(parse_spec, m)?)?;
    m.add_function(wrap_pyfunction!(next_expiries, m)?)?;
    m.add_function(wrap_pyfunction!(news_sentiment, m)?)?;
    m.add_function(wrap_pyfunction!(run_server, m)?)?;
    m.add_class::<ta::TaStream>()?;
    m.add_class::<ta::StreamValues>()?;
    aio::register(m)?;
    m.add_function(wrap_pyfunction!(ta::ta_registry, m)?)?;
    m.add_function(wrap_pyfunction!(ta::ta_arithmetic, m)?)?;
    m.add_function(wrap_pyfunction!(ta::ta_canonical, m)?)?;
    m.add_function(wrap_pyfunction!(ta::ta_compute, m)?)?;
    m.add_function(wrap_pyfunction!(ta::ta_call, m)?)?;
    m.add_function(wrap_pyfunction!(market::option_greeks, m)?)?;
    m.add_function(wrap_pyfunction!(market::option_greeks_vec, m)?)?;
    m.add_function(wrap_pyfunction!(market::option_iv_vec, m)?)?;
    m.add_function(wrap_pyfunction!(market::option_price_vec, m)?)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PyStream>()?;
    m.add_function(wrap_pyfunction!(client::timeframe_canonical, m)?)?;
    m.add_function(wrap_pyfunction!(client::timeframes, m)?)?;
    m.add_function(wrap_pyfunction!(market::option_price, m)?)?;
    m.add_function(wrap_pyfunction!(market::fit_smile, m)?)?;
    m.add_class::<market::PySmile>()?;
    Ok(())
}
