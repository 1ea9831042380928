//! The margin model: an ESTIMATE of the exchange's SPAN method, not its output.
//!
//! Per underlying, the portfolio (futures and options of every expiry, plus pending orders as if
//! filled) is revalued with Black-76 at each option's implied volatility under 16 scenarios:
//! price moves of 0, ±⅓, ±⅔ and ±1 price scan range, each with volatility up and down by the
//! volatility scan range, and two extreme moves of ±2 ranges whose loss counts at 35 %. The SPAN
//! requirement is the worst scenario loss, at least the short-option minimum (a rate of the
//! underlying's notional per net short option unit). Exposure margin is added on notional: every
//! future, and every short option on the underlying's price (long options need only their
//! premium, paid in cash). As in SPAN, the value of long options (net option value) is credited
//! against the worst loss: a long option alone needs no margin, and a spread needs less than its
//! short leg. Hedges therefore reduce margin: a short straddle needs less than its
//! two legs alone. Parameters (`data/margins.json`) carry their sources and date.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use stocksblitz_symbols::Right;

use crate::money::Paise;

/// Risk parameters of one underlying (fractions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnderlyingParams {
    /// Price scan range as a fraction of the price (0.08 = 8 %).
    pub price_scan: f64,
    /// Volatility scan range, relative (0.25: volatility × 1.25 and × 0.75).
    pub vol_scan: f64,
    /// Exposure margin on notional.
    pub exposure: f64,
    /// Short-option minimum per net short option unit, on the underlying's price.
    pub short_option_min: f64,
    /// Volatility used for an option whose implied volatility cannot be had.
    pub default_vol: f64,
}

/// The margin parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginParams {
    #[serde(default)]
    pub about: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub effective_from: Option<chrono::NaiveDate>,
    /// Risk-free rate for Black-76 discounting (continuously compounded).
    pub rate: f64,
    pub extreme_move_multiple: f64,
    pub extreme_move_weight: f64,
    pub index_default: UnderlyingParams,
    pub stock_default: UnderlyingParams,
    pub underlyings: BTreeMap<String, UnderlyingParams>,
    /// Margin of an intraday (MIS) equity position, fraction of its value.
    pub equity_intraday_margin: f64,
}

/// Why margin parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("margin parameters: {0}")]
pub struct MarginParamsError(pub String);

static EMBEDDED: LazyLock<Result<MarginParams, MarginParamsError>> =
    LazyLock::new(|| MarginParams::from_json(include_str!("../data/margins.json")));

impl MarginParams {
    /// The parameters shipped with the crate.
    pub fn embedded() -> Result<&'static MarginParams, MarginParamsError> {
        EMBEDDED.as_ref().map_err(Clone::clone)
    }

    pub fn from_json(text: &str) -> Result<MarginParams, MarginParamsError> {
        let p: MarginParams =
            serde_json::from_str(text).map_err(|e| MarginParamsError(e.to_string()))?;
        let check = |name: &str, u: &UnderlyingParams| {
            let ok = |v: f64, hi: f64| v.is_finite() && (0.0..=hi).contains(&v);
            if !(ok(u.price_scan, 1.0)
                && u.price_scan > 0.0
                && ok(u.vol_scan, 0.9)
                && ok(u.exposure, 1.0)
                && ok(u.short_option_min, 1.0)
                && ok(u.default_vol, 5.0)
                && u.default_vol > 0.0)
            {
                return Err(MarginParamsError(format!(
                    "{name}: a parameter is out of range"
                )));
            }
            Ok(())
        };
        check("index_default", &p.index_default)?;
        check("stock_default", &p.stock_default)?;
        for (k, u) in &p.underlyings {
            check(k, u)?;
        }
        let globals_ok = p.rate.is_finite()
            && (0.0..0.5).contains(&p.rate)
            && p.extreme_move_multiple.is_finite()
            && p.extreme_move_multiple >= 1.0
            && (0.0..=1.0).contains(&p.extreme_move_weight)
            && p.equity_intraday_margin > 0.0
            && p.equity_intraday_margin <= 1.0;
        if !globals_ok {
            return Err(MarginParamsError(
                "a global parameter is out of range".into(),
            ));
        }
        Ok(p)
    }

    /// The parameters of `underlying`.
    pub fn for_underlying(&self, underlying: &str, is_index: bool) -> &UnderlyingParams {
        self.underlyings.get(underlying).unwrap_or(if is_index {
            &self.index_default
        } else {
            &self.stock_default
        })
    }
}

/// One leg of an underlying's portfolio, in rupees and years.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leg {
    /// Signed units (long +, short −).
    pub quantity: i64,
    pub kind: LegKind,
    /// The forward for the leg's expiry (a future's own price), rupees.
    pub forward: f64,
    /// Years to expiry (options).
    pub years: f64,
    /// Volatility to revalue at (options).
    pub vol: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LegKind {
    Future,
    Option { strike: f64, right: Right },
}

/// The margin of one underlying's portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortfolioMargin {
    /// max(worst scenario loss, short-option minimum).
    pub span: Paise,
    pub exposure: Paise,
    /// The worst scenario's loss less the value of the long options.
    pub scan_loss: Paise,
    pub short_option_min: Paise,
    /// Index of the worst scenario (see [`SCENARIOS`]).
    pub worst_scenario: u8,
}

impl PortfolioMargin {
    pub fn total(&self) -> Paise {
        self.span + self.exposure
    }
}

/// The 16 risk scenarios: (price move in scan ranges, volatility direction, weight).
pub const SCENARIOS: [(f64, f64, f64); 16] = [
    (0.0, 1.0, 1.0),
    (0.0, -1.0, 1.0),
    (1.0 / 3.0, 1.0, 1.0),
    (1.0 / 3.0, -1.0, 1.0),
    (-1.0 / 3.0, 1.0, 1.0),
    (-1.0 / 3.0, -1.0, 1.0),
    (2.0 / 3.0, 1.0, 1.0),
    (2.0 / 3.0, -1.0, 1.0),
    (-2.0 / 3.0, 1.0, 1.0),
    (-2.0 / 3.0, -1.0, 1.0),
    (1.0, 1.0, 1.0),
    (1.0, -1.0, 1.0),
    (-1.0, 1.0, 1.0),
    (-1.0, -1.0, 1.0),
    // Extreme moves (multiple and weight from the parameters), volatility unchanged.
    (f64::INFINITY, 0.0, 0.0),
    (f64::NEG_INFINITY, 0.0, 0.0),
];

fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Undiscounted Black-76 value given ln(F/K), the total standard deviation and F, K.
#[inline]
fn black(ln_fk: f64, sd: f64, f: f64, k: f64, right: Right) -> f64 {
    if sd <= 1e-12 {
        return match right {
            Right::Call => (f - k).max(0.0),
            Right::Put => (k - f).max(0.0),
        };
    }
    let d1 = ln_fk / sd + 0.5 * sd;
    let d2 = d1 - sd;
    match right {
        Right::Call => f * norm_cdf(d1) - k * norm_cdf(d2),
        Right::Put => k * norm_cdf(-d2) - f * norm_cdf(-d1),
    }
}

struct Prepared {
    qty: f64,
    fwd: f64,
    /// Option only: strike, ln(F/K), sd at base / up / down, discount factor, right.
    opt: Option<(f64, f64, [f64; 3], f64, Right)>,
    base: f64,
}

/// The SPAN-style margin of one underlying's portfolio; `spot` is the underlying's price.
pub fn portfolio_margin(
    params: &UnderlyingParams,
    global: &MarginParams,
    spot: f64,
    legs: &[Leg],
) -> PortfolioMargin {
    if legs.is_empty() || !(spot.is_finite() && spot > 0.0) {
        return PortfolioMargin::default();
    }
    let mut prepared: Vec<Prepared> = Vec::with_capacity(legs.len());
    let mut exposure = 0.0;
    let mut long_value = 0.0;
    let (mut short_units, mut long_units) = (0i64, 0i64);
    for leg in legs {
        if leg.quantity == 0 || !(leg.forward.is_finite() && leg.forward > 0.0) {
            continue;
        }
        let qty = leg.quantity as f64;
        match leg.kind {
            LegKind::Future => {
                exposure += params.exposure * qty.abs() * leg.forward;
                prepared.push(Prepared {
                    qty,
                    fwd: leg.forward,
                    opt: None,
                    base: leg.forward,
                });
            }
            LegKind::Option { strike, right } => {
                if !(strike.is_finite() && strike > 0.0) {
                    continue;
                }
                if leg.quantity < 0 {
                    exposure += params.exposure * qty.abs() * spot;
                    short_units += -leg.quantity;
                } else {
                    long_units += leg.quantity;
                }
                let years = if leg.years.is_finite() {
                    leg.years.max(1.0 / (365.0 * 24.0))
                } else {
                    1.0 / (365.0 * 24.0)
                };
                let vol = if leg.vol.is_finite() && leg.vol > 0.0 {
                    leg.vol
                } else {
                    params.default_vol
                };
                let st = years.sqrt();
                let sds = [
                    vol * st,
                    vol * (1.0 + params.vol_scan) * st,
                    (vol * (1.0 - params.vol_scan)).max(1e-4) * st,
                ];
                let df = (-global.rate * years).exp();
                let ln_fk = (leg.forward / strike).ln();
                let base = df * black(ln_fk, sds[0], leg.forward, strike, right);
                if leg.quantity > 0 {
                    long_value += qty * base;
                }
                prepared.push(Prepared {
                    qty,
                    fwd: leg.forward,
                    opt: Some((strike, ln_fk, sds, df, right)),
                    base,
                });
            }
        }
    }
    let mut worst = 0.0f64;
    let mut worst_i = 0u8;
    for (i, &(mv, vol_dir, weight)) in SCENARIOS.iter().enumerate() {
        let (m, w, vol_i) = if mv.is_infinite() {
            let m = params.price_scan * global.extreme_move_multiple * mv.signum();
            (m, global.extreme_move_weight, 0usize)
        } else {
            let vi = if vol_dir > 0.0 { 1 } else { 2 };
            (params.price_scan * mv, weight, vi)
        };
        let ln_m = (1.0 + m).ln();
        let mut pnl = 0.0;
        for p in &prepared {
            let f2 = p.fwd * (1.0 + m);
            let v2 = match p.opt {
                None => f2,
                Some((k, ln_fk, sds, df, right)) => {
                    df * black(ln_fk + ln_m, sds[vol_i], f2, k, right)
                }
            };
            pnl += p.qty * (v2 - p.base);
        }
        let loss = -pnl * w;
        if loss > worst {
            worst = loss;
            worst_i = i as u8;
        }
    }
    let somc = params.short_option_min * spot * (short_units - long_units).max(0) as f64;
    let to_paise = |rupees: f64| -> Paise {
        let p = (rupees * 100.0).ceil();
        if p.is_finite() && p > 0.0 {
            p.min(9e15) as Paise
        } else {
            0
        }
    };
    let scan_loss = to_paise((worst - long_value).max(0.0));
    let short_option_min = to_paise(somc);
    PortfolioMargin {
        span: scan_loss.max(short_option_min),
        exposure: to_paise(exposure),
        scan_loss,
        short_option_min,
        worst_scenario: worst_i,
    }
}
