//! Bindings of the market crate's pure functions: option greeks and implied volatility.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stocksblitz_market::greeks::{DEFAULT_RATE, Model};
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
#[pyo3(signature = (price, underlying, strike, years, right, model = "black76", rate = DEFAULT_RATE))]
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
#[pyo3(signature = (underlying, strike, years, vol, right, model = "black76", rate = DEFAULT_RATE))]
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
