//! Market-data routes: `/candles`, `/instruments`, `/instruments/resolve`, `/fo/expiries`,
//! `/fo/option-chain`. Bars come from the engine's series reader; expiries, chains and resolved
//! specs from the engine's `chain` module; these handlers shape them for the wire.

mod chain;
mod instruments;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stocksblitz_engine::BarWindow;
use stocksblitz_market::snapshot::Quote;
use stocksblitz_market::tick::TickKind;
use stocksblitz_symbols::InstrumentSpec;

use super::{
    Count, ExpiryQuery, bounded, date_param, instrument, required_underlying, timeframe,
    underlying_name,
};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::ingest::now_ms;
use crate::state::AppState;
use crate::wire::quotes::QuoteOut;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most candles in one response.
pub(crate) const MAX_CANDLES: usize = 5000;
/// Most instruments in one `/instruments` page.
pub(crate) const MAX_INSTRUMENTS_PAGE: usize = 1000;
/// Expiries listed ahead by `/fo/expiries`.
const WEEKLY_AHEAD: usize = 4;
const MONTHLY_AHEAD: usize = 3;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CandlesQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[param(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 5000)]
    pub limit: Option<super::Count>,
    /// Epoch seconds.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 253_402_300_799_i64)]
    pub from: Option<super::Count>,
    /// Epoch seconds.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 253_402_300_799_i64)]
    pub to: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CandleOut {
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: u64,
    pub oi: Option<u64>,
    pub complete: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CandlesResponse {
    pub symbol: String,
    pub timeframe: &'static str,
    pub candles: Vec<CandleOut>,
}

/// `GET /candles`: oldest first; the last may be the forming bar (`complete: false`).
#[utoipa::path(get, path = "/candles", tag = "market", params(CandlesQuery), security(("bearer" = [])), responses((status = 200, body = CandlesResponse)))]
pub(crate) async fn candles(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CandlesQuery>,
) -> Result<Json<CandlesResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let limit = bounded("limit", q.limit.map(Count::get), 100, 1, MAX_CANDLES)?;
    let (from, to) = (
        super::epoch_param("from", q.from)?,
        super::epoch_param("to", q.to)?,
    );
    let (bars, forming) = state
        .engine
        .bars(&sym.tradingsymbol, tf, BarWindow { from, to, limit })
        .await?;
    let n = bars.len();
    let candles = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| CandleOut {
            time: b.start,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            oi: b.oi,
            complete: !(forming && i + 1 == n),
        })
        .collect();
    Ok(Json(CandlesResponse {
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        candles,
    }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(candles))
        .routes(routes!(instruments::instruments))
        .routes(routes!(instruments::resolve))
        .routes(routes!(chain::expiries))
        .routes(routes!(chain::option_chain))
}
