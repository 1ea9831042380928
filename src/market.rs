//! Bindings of the market crate's pure functions: option greeks and implied volatility.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stocksblitz_market::greeks::{DEFAULT_RATE, Model};
use stocksblitz_market::smile::{SmileFit, fit_svi};
use stocksblitz_symbols::Right;

fn right_of(s: &str) -> PyResult<Right> {
    s.parse::<Right>()
        .map_err(|e| PyValueError::new_err(format!("right must be CE or PE, got {:?}", e.0)))
}

fn model_of(model: &str, underlying: f64, rate: f64) -> PyResult<Model> {
    match model {
        "black76" => Ok(Model::Black76 {
            forward: underlying,
            rate,
        }),
        "bs" | "black_scholes" => Ok(Model::BlackScholes {
            spot: underlying,
            rate,
        }),
        other => Err(PyValueError::new_err(format!(
            "model must be \"black76\" or \"bs\", got {other:?}"
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
/// Implied volatility and greeks of an option price: a dict (iv, delta, gamma, theta per day,
/// vega per vol point, rho per 1%) or None when the price admits no volatility.
#[pyfunction]
#[pyo3(
    signature = (price, underlying, strike, years, right, model = "black76", rate = DEFAULT_RATE),
    text_signature = "(price, underlying, strike, years, right, model='black76', rate=0.065)"
)]
pub(crate) fn option_greeks<'py>(
    py: Python<'py>,
    price: f64,
    underlying: f64,
    strike: f64,
    years: f64,
    right: &str,
    model: &str,
    rate: f64,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let m = model_of(model, underlying, rate)?;
    let Some(g) = m.solve(price, strike, years, right_of(right)?) else {
        return Ok(None);
    };
    let d = PyDict::new(py);
    d.set_item("iv", g.iv)?;
    d.set_item("delta", g.delta)?;
    d.set_item("gamma", g.gamma)?;
    d.set_item("theta", g.theta)?;
    d.set_item("vega", g.vega)?;
    d.set_item("rho", g.rho)?;
    Ok(Some(d))
}

/// Model price of an option at volatility `vol`.
#[pyfunction]
#[pyo3(
    signature = (underlying, strike, years, vol, right, model = "black76", rate = DEFAULT_RATE),
    text_signature = "(underlying, strike, years, vol, right, model='black76', rate=0.065)"
)]
pub(crate) fn option_price(
    underlying: f64,
    strike: f64,
    years: f64,
    vol: f64,
    right: &str,
    model: &str,
    rate: f64,
) -> PyResult<f64> {
    Ok(model_of(model, underlying, rate)?.price(strike, years, vol, right_of(right)?))
}

/// An SVI smile fitted to one expiry's implied volatilities (the market crate's `fit_svi`).
#[pyclass(name = "Smile", module = "stocksblitz._native", frozen)]
pub struct PySmile {
    fit: SmileFit,
}

#[pymethods]
impl PySmile {
    /// The smile's implied volatility at `strike`.
    fn iv(&self, strike: f64) -> PyResult<f64> {
        if !(strike.is_finite() && strike > 0.0) {
            return Err(PyValueError::new_err(format!(
                "strike must be a positive number, got {strike}"
            )));
        }
        Ok(self.fit.iv(strike))
    }

    /// Gatheral's butterfly condition g(k) ≥ 0 at every strike (no butterfly arbitrage).
    fn butterfly_ok(&self, strikes: Vec<f64>) -> bool {
        self.fit.butterfly_ok(&strikes)
    }

    /// Raw SVI parameters of total variance: a, b, rho, m, sigma.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.fit.params;
        let d = PyDict::new(py);
        d.set_item("a", p.a)?;
        d.set_item("b", p.b)?;
        d.set_item("rho", p.rho)?;
        d.set_item("m", p.m)?;
        d.set_item("sigma", p.sigma)?;
        Ok(d)
    }

    /// Root-mean-square error of the fit, in volatility (0.01 = one vol point).
    #[getter]
    fn rmse(&self) -> f64 {
        self.fit.rmse
    }

    #[getter]
    fn forward(&self) -> f64 {
        self.fit.forward
    }

    #[getter]
    fn years(&self) -> f64 {
        self.fit.years
    }

    fn __repr__(&self) -> String {
        let p = self.fit.params;
        format!(
            "Smile(forward={}, years={:.6}, a={:.6}, b={:.6}, rho={:.4}, m={:.4}, sigma={:.4}, rmse={:.5})",
            self.fit.forward, self.fit.years, p.a, p.b, p.rho, p.m, p.sigma, self.fit.rmse
        )
    }
}

/// Fit an SVI smile to `(strike, implied vol)` points of one expiry; ValueError when there are
/// too few points or the forward / years are not positive.
#[pyfunction]
pub(crate) fn fit_smile(
    py: Python<'_>,
    strikes: Vec<f64>,
    ivs: Vec<f64>,
    forward: f64,
    years: f64,
) -> PyResult<PySmile> {
    if strikes.len() != ivs.len() {
        return Err(PyValueError::new_err(format!(
            "strikes and ivs differ in length: {} vs {}",
            strikes.len(),
            ivs.len()
        )));
    }
    if strikes.len() > 10_000 {
        return Err(PyValueError::new_err("at most 10000 points"));
    }
    let pts: Vec<(f64, f64)> = strikes.into_iter().zip(ivs).collect();
    let fit = py
        .detach(|| fit_svi(forward, years, &pts))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PySmile { fit })
}

/// A numeric argument of the vectorised option functions: a number, or a 1-D array of them
/// (any sequence numpy converts to float64).
enum Num<'py> {
    One(f64),
    Many(numpy::PyArrayLike1<'py, f64, numpy::AllowTypeChange>),
}

impl<'py> Num<'py> {
    fn of(name: &str, v: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(x) = v.extract::<f64>() {
            return Ok(Num::One(x));
        }
        v.extract().map(Num::Many).map_err(|_| {
            PyValueError::new_err(format!("{name} must be a number or a 1-D array of numbers"))
        })
    }

    fn len(&self) -> Option<usize> {
        match self {
            Num::One(_) => None,
            Num::Many(a) => Some(a.as_array().len()),
        }
    }

    /// The values as a slice with the stride the broadcast needs (len 1: repeated).
    fn view(&self) -> PyResult<Col<'_>> {
        match self {
            Num::One(x) => Ok(Col::One(*x)),
            Num::Many(a) => {
                let s = a
                    .as_slice()
                    .map_err(|e| PyValueError::new_err(format!("array not contiguous: {e}")))?;
                Ok(if s.len() == 1 {
                    Col::One(s[0])
                } else {
                    Col::Many(s)
                })
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Col<'a> {
    One(f64),
    Many(&'a [f64]),
}

impl Col<'_> {
    #[inline]
    fn at(&self, i: usize) -> f64 {
        match self {
            Col::One(x) => *x,
            Col::Many(s) => s[i],
        }
    }
}

/// A right spelled in `chars` (code points, NUL-padded as numpy stores them).
fn right_of_chars(chars: &[u32]) -> PyResult<Right> {
    let mut buf = [0u8; 4];
    let mut n = 0;
    for &c in chars.iter().take_while(|&&c| c != 0) {
        match u8::try_from(c) {
            Ok(b) if n < 4 && b.is_ascii() => buf[n] = b.to_ascii_uppercase(),
            _ => return right_of(&utf32_lossy(chars)),
        }
        n += 1;
    }
    match Right::from_ascii(&buf[..n]) {
        Some(r) => Ok(r),
        None => right_of(&String::from_utf8_lossy(&buf[..n])),
    }
}

fn utf32_lossy(chars: &[u32]) -> String {
    chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// A numpy array of fixed-width strings (dtype `<U{N}`), read in place — no Python object per
/// element (1M rights: milliseconds, not a third of a second).
fn fixed_rights<const N: usize>(v: &Bound<'_, PyAny>) -> Option<PyResult<Vec<Right>>> {
    use numpy::PyArrayMethods as _;
    let a = v.cast::<numpy::PyArray1<numpy::PyFixedUnicode<N>>>().ok()?;
    let r = a.readonly();
    Some(match r.as_slice() {
        Ok(items) => items.iter().map(|s| right_of_chars(&s.0)).collect(),
        Err(_) => r.as_array().iter().map(|s| right_of_chars(&s.0)).collect(),
    })
}

/// `right`: one of CE/PE/call/put, or a sequence of them.
fn rights_of(v: &Bound<'_, PyAny>) -> PyResult<Vec<Right>> {
    if let Ok(s) = v.extract::<String>() {
        return Ok(vec![right_of(&s)?]);
    }
    for fast in [
        fixed_rights::<1>,
        fixed_rights::<2>,
        fixed_rights::<3>,
        fixed_rights::<4>,
    ] {
        if let Some(r) = fast(v) {
            return r;
        }
    }
    let items: Vec<String> = v
        .try_iter()
        .and_then(|it| it.map(|x| x?.str()?.extract::<String>()).collect())
        .map_err(|_| PyValueError::new_err("right must be CE/PE/call/put or a sequence of them"))?;
    items.iter().map(|s| right_of(s)).collect()
}

/// The broadcast length of the arguments (each a scalar, or of length n or 1).
fn broadcast(args: &[(&str, Option<usize>)]) -> PyResult<usize> {
    let n = args
        .iter()
        .filter_map(|(_, l)| *l)
        .filter(|&l| l != 1)
        .max()
        .unwrap_or(1);
    for (name, l) in args {
        if let Some(l) = l
            && *l != n
            && *l != 1
        {
            return Err(PyValueError::new_err(format!(
                "{name} has {l} values where the other arguments have {n} (broadcast: equal lengths, or one value)"
            )));
        }
    }
    Ok(n)
}

fn model_fn(model: &str) -> PyResult<fn(f64, f64) -> Model> {
    match model {
        "black76" => Ok(|forward, rate| Model::Black76 { forward, rate }),
        "bs" | "black_scholes" => Ok(|spot, rate| Model::BlackScholes { spot, rate }),
        other => Err(PyValueError::new_err(format!(
            "model must be \"black76\" or \"bs\", got {other:?}"
        ))),
    }
}

/// The four numeric columns — (price or vol, underlying, strike, years) — and the rights,
/// checked and broadcast.
struct Batch<'a> {
    n: usize,
    cols: [Col<'a>; 4],
    rights: Vec<Right>,
    rate: f64,
    model: fn(f64, f64) -> Model,
}

impl Batch<'_> {
    #[inline]
    fn right(&self, i: usize) -> Right {
        if self.rights.len() == 1 {
            self.rights[0]
        } else {
            self.rights[i]
        }
    }

    /// Run `f(model, a, strike, years, right)` for every option with the GIL released, `a`
    /// being the first column.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Fn(&Model, f64, f64, f64, Right) -> T + Sync,
    ) -> Vec<T> {
        py.detach(|| {
            (0..self.n)
                .map(|i| {
                    let m = (self.model)(self.cols[1].at(i), self.rate);
                    f(
                        &m,
                        self.cols[0].at(i),
                        self.cols[2].at(i),
                        self.cols[3].at(i),
                        self.right(i),
                    )
                })
                .collect()
        })
    }
}

/// The numeric arguments of a vectorised call, the first named `first` (price, or vol).
fn nums<'py>(
    first: (&'static str, &Bound<'py, PyAny>),
    underlying: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    years: &Bound<'py, PyAny>,
) -> PyResult<[(&'static str, Num<'py>); 4]> {
    Ok([
        (first.0, Num::of(first.0, first.1)?),
        ("underlying", Num::of("underlying", underlying)?),
        ("strike", Num::of("strike", strike)?),
        ("years", Num::of("years", years)?),
    ])
}

/// Check the arguments of a vectorised call and broadcast them.
fn batch<'a>(
    nums: &'a [(&'static str, Num<'_>); 4],
    right: &Bound<'_, PyAny>,
    model: &str,
    rate: f64,
) -> PyResult<Batch<'a>> {
    let rights = rights_of(right)?;
    let mut lens: Vec<(&str, Option<usize>)> = nums.iter().map(|(n, v)| (*n, v.len())).collect();
    lens.push(("right", (rights.len() != 1).then_some(rights.len())));
    let n = broadcast(&lens)?;
    if !rate.is_finite() {
        return Err(PyValueError::new_err("rate must be a finite number"));
    }
    let cols = [
        nums[0].1.view()?,
        nums[1].1.view()?,
        nums[2].1.view()?,
        nums[3].1.view()?,
    ];
    Ok(Batch {
        n,
        cols,
        rights,
        rate,
        model: model_fn(model)?,
    })
}

/// Vectorised model prices: arrays (or numbers) broadcast together; NaN where an input is
/// not a valid number.
#[pyfunction]
#[pyo3(
    signature = (underlying, strike, years, vol, right, model = "black76", rate = DEFAULT_RATE),
    text_signature = "(underlying, strike, years, vol, right, model='black76', rate=0.065)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn option_price_vec<'py>(
    py: Python<'py>,
    underlying: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    years: &Bound<'py, PyAny>,
    vol: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    model: &str,
    rate: f64,
) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
    let args = nums(("vol", vol), underlying, strike, years)?;
    let b = batch(&args, right, model, rate)?;
    let out = b.run(py, |m, vol, k, t, r| {
        if vol > 0.0 && k > 0.0 && t > 0.0 {
            m.price(k, t, vol, r)
        } else {
            f64::NAN
        }
    });
    Ok(numpy::PyArray1::from_vec(py, out))
}

/// Vectorised implied volatility: NaN where no volatility fits the price.
#[pyfunction]
#[pyo3(
    signature = (price, underlying, strike, years, right, model = "black76", rate = DEFAULT_RATE),
    text_signature = "(price, underlying, strike, years, right, model='black76', rate=0.065)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn option_iv_vec<'py>(
    py: Python<'py>,
    price: &Bound<'py, PyAny>,
    underlying: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    years: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    model: &str,
    rate: f64,
) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
    let args = nums(("price", price), underlying, strike, years)?;
    let b = batch(&args, right, model, rate)?;
    let out = b.run(py, |m, p, k, t, r| {
        m.implied_vol(p, k, t, r).unwrap_or(f64::NAN)
    });
    Ok(numpy::PyArray1::from_vec(py, out))
}

/// Vectorised implied volatility and greeks: a dict of arrays (iv, delta, gamma, theta per
/// day, vega per vol point, rho per 1%), NaN where no volatility fits the price.
#[pyfunction]
#[pyo3(
    signature = (price, underlying, strike, years, right, model = "black76", rate = DEFAULT_RATE),
    text_signature = "(price, underlying, strike, years, right, model='black76', rate=0.065)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn option_greeks_vec<'py>(
    py: Python<'py>,
    price: &Bound<'py, PyAny>,
    underlying: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    years: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    model: &str,
    rate: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let args = nums(("price", price), underlying, strike, years)?;
    let b = batch(&args, right, model, rate)?;
    let n = b.n;
    let cols = py.detach(|| {
        let mut c: [Vec<f64>; 6] = std::array::from_fn(|_| Vec::with_capacity(n));
        for i in 0..n {
            let m = (b.model)(b.cols[1].at(i), b.rate);
            let g = m.solve(
                b.cols[0].at(i),
                b.cols[2].at(i),
                b.cols[3].at(i),
                b.right(i),
            );
            let row = g.map_or([f64::NAN; 6], |g| g.row());
            for (col, v) in c.iter_mut().zip(row) {
                col.push(v);
            }
        }
        c
    });
    let d = PyDict::new(py);
    for (name, col) in ["iv", "delta", "gamma", "theta", "vega", "rho"]
        .into_iter()
        .zip(cols)
    {
        d.set_item(name, numpy::PyArray1::from_vec(py, col))?;
    }
    Ok(d)
}
