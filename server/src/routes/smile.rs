//! `GET /fo/iv-smile?underlying&expiry`: one expiry's implied volatilities by strike and the
//! SVI smile fitted through them (the market crate's `Snapshot::smile`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::Serialize;

use super::{ExpiryQuery, date_param, required_underlying};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SmilePointOut {
    pub strike: f64,
    pub iv: Option<f64>,
    /// The option's `iv_source` (`mid:parity`, `ltp:spot`, …), `smile` when the IV is the
    /// fit's (the option has none of its own), `none` without either.
    pub source: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SviOut {
    pub a: f64,
    pub b: f64,
    pub rho: f64,
    pub m: f64,
    pub sigma: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FitOut {
    /// Raw SVI parameters of total implied variance in log-moneyness ln(K/F).
    pub params: SviOut,
    /// Root-mean-square error of the fit in volatility (0.01 = one vol point).
    pub rmse: f64,
    pub points: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SmileResponse {
    pub underlying: String,
    pub expiry: Option<NaiveDate>,
    pub forward: Option<f64>,
    pub years: Option<f64>,
    pub points: Vec<SmilePointOut>,
    /// None when too few strikes have an implied volatility (`fit_error` says why).
    pub fit: Option<FitOut>,
    pub fit_error: Option<String>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `GET /fo/iv-smile`: quoted IVs by strike (the out-of-the-money side) and the SVI fit.
#[utoipa::path(get, path = "/fo/iv-smile", tag = "market", params(ExpiryQuery), security(("bearer" = [])), responses((status = 200, body = SmileResponse)))]
pub(crate) async fn iv_smile(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ExpiryQuery>,
) -> Result<Json<SmileResponse>, ApiError> {
    auth.require_read()?;
    let name = required_underlying(q.underlying.as_deref())?;
    let wanted = date_param("expiry", q.expiry.as_deref())?;
    let now = state.market_now();
    let snap = super::snapshot(&state)?;
    let today = super::ist_today(now);
    let expiry = wanted.or_else(|| snap.underlying(&name)?.nearest_expiry(today));
    let empty = |expiry| SmileResponse {
        underlying: name.clone(),
        expiry,
        forward: None,
        years: None,
        points: Vec::new(),
        fit: None,
        fit_error: Some("no valued options for this expiry".into()),
    };
    let Some(e) = expiry else {
        return Ok(Json(empty(None)));
    };
    let Some(view) = snap.smile(&name, e, now) else {
        return Ok(Json(empty(Some(e))));
    };
    let (fit, fit_error) = match &view.fit {
        Ok(f) => (
            Some(FitOut {
                params: SviOut {
                    a: f.params.a,
                    b: f.params.b,
                    rho: f.params.rho,
                    m: f.params.m,
                    sigma: f.params.sigma,
                },
                rmse: f.rmse,
                points: f.points,
            }),
            None,
        ),
        Err(err) => (None, Some(err.to_string())),
    };
    Ok(Json(SmileResponse {
        underlying: name.clone(),
        expiry: Some(e),
        forward: finite(view.forward),
        years: finite(view.years),
        points: view
            .points
            .iter()
            .map(|p| SmilePointOut {
                strike: p.strike,
                iv: p.iv.and_then(finite),
                source: p.source,
            })
            .collect(),
        fit,
        fit_error,
    }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new().routes(routes!(iv_smile))
}
