//! Bindings of the market crate's pure functions: option greeks and implied volatility.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stocksblitz_market::greeks::{DEFAULT_RATE, Model};
use stocksblitz_market::smile::{SmileFit, fit_svi};
use stocksblitz_symbols::Right;

fn right_of(s: &str) -> PyResult<Right> {
    match s.to_ascii_uppercase().as_str() {
        "CE" | "C" | "CALL" => Ok(Right::Call),
        "PE" | "P" | "PUT" => Ok(Right::Put),
        other => Err(PyValueError::new_err(format!(
            "right must be CE or PE, got {other:?}"
        ))),
    }
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
pub fn option_greeks<'py>(
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
pub fn option_price(
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
pub fn fit_smile(
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
