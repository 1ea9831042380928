//! `GET /quote?symbol=…` (or `symbols=a,b,c`): an instrument's own latest quote from the
//! snapshot — an option's or a future's price is its own, never the index's.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::ingest::now_ms;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most symbols in one request.
pub(crate) const MAX_SYMBOLS: usize = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QuoteQuery {
    #[param(value_type = Option<crate::wire::schema::Symbol>, inline)]
    pub symbol: Option<String>,
    /// Up to 50 symbols, comma-separated (give `symbol` or `symbols`, not both).
    #[param(value_type = Option<crate::wire::schema::SymbolList>, inline, style = Form, explode = false)]
    pub symbols: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GreeksOut {
    /// None when the price has no time value (the greeks are then the limits).
    pub iv: Option<f64>,
    /// `feed`, `intrinsic`, or `<price>:<forward>` (`mid`/`ltp` against `parity`/`future`/`spot`).
    pub iv_source: Option<&'static str>,
    pub delta: Option<f64>,
    pub gamma: Option<f64>,
    pub theta: Option<f64>,
    pub vega: Option<f64>,
    pub rho: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QuoteOut {
    pub symbol: String,
    pub tradingsymbol: String,
    pub kind: &'static str,
    pub ltp: Option<f64>,
    pub open: Option<f64>,
    pub high: Option<f64>,
    pub low: Option<f64>,
    pub close: Option<f64>,
    pub volume: Option<u64>,
    pub oi: Option<u64>,
    /// The touch and the units there; null when the feed sends no book (`book: "unknown"`).
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_qty: Option<u64>,
    pub ask_qty: Option<u64>,
    /// `depth` (levels known, in `depth`), `top` (the touch), or `unknown`.
    pub book: &'static str,
    /// Units of the last trade, when the feed says.
    pub last_quantity: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<DepthOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeks: Option<GreeksOut>,
    pub ts: Option<i64>,
    pub age_ms: Option<i64>,
    /// `valid`, `stale` or `no_data`.
    pub state: &'static str,
}

/// One price level of the book.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LevelOut {
    pub price: f64,
    pub quantity: u64,
    pub orders: u64,
}

/// Market depth, best first on each side.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DepthOut {
    pub buy: Vec<LevelOut>,
    pub sell: Vec<LevelOut>,
}

impl DepthOut {
    pub(crate) fn from(d: &stocksblitz_market::tick::Depth) -> Self {
        let side = |v: &[stocksblitz_market::tick::Level]| {
            v.iter()
                .map(|l| LevelOut {
                    price: l.price,
                    quantity: l.quantity,
                    orders: l.orders,
                })
                .collect()
        };
        DepthOut {
            buy: side(&d.buy),
            sell: side(&d.sell),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum QuoteResponse {
    One(Box<QuoteOut>),
    Many { quotes: Vec<QuoteOut> },
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn build(state: &AppState, raw: &str, now: i64) -> Result<QuoteOut, ApiError> {
    let sym = super::instrument(state, "symbol", Some(raw))?;
    let kind = sym.kind.as_str();
    let Some(view) = state
        .engine
        .quote(&sym.tradingsymbol, now, state.age_basis())?
    else {
        return Ok(QuoteOut {
            symbol: raw.trim().to_string(),
            tradingsymbol: sym.tradingsymbol.to_string(),
            kind,
            ltp: None,
            open: None,
            high: None,
            low: None,
            close: None,
            volume: None,
            oi: None,
            bid: None,
            ask: None,
            bid_qty: None,
            ask_qty: None,
            book: "unknown",
            last_quantity: None,
            depth: None,
            greeks: None,
            ts: None,
            age_ms: None,
            state: "no_data",
        });
    };
    let q = &view.quote;
    Ok(QuoteOut {
        symbol: raw.trim().to_string(),
        tradingsymbol: q.tradingsymbol.to_string(),
        kind,
        ltp: finite(q.ltp),
        open: finite(q.open),
        high: finite(q.high),
        low: finite(q.low),
        close: finite(q.ltp),
        volume: Some(q.volume),
        oi: q.oi,
        bid: q.bid,
        ask: q.ask,
        bid_qty: q.bid_qty,
        ask_qty: q.ask_qty,
        book: q.book_state(),
        last_quantity: q.last_quantity,
        depth: q.depth.as_deref().map(DepthOut::from),
        greeks: q.greeks.map(|g| GreeksOut {
            iv: g.iv.and_then(finite),
            iv_source: q
                .iv_source
                .map(stocksblitz_market::snapshot::IvSource::as_str),
            delta: finite(g.delta),
            gamma: finite(g.gamma),
            theta: finite(g.theta),
            vega: finite(g.vega),
            rho: finite(g.rho),
        }),
        ts: Some(q.exchange_ts_ms / 1000),
        age_ms: Some(view.age_ms),
        state: view.freshness.as_str(),
    })
}

#[utoipa::path(get, path = "/quote", tag = "market", params(QuoteQuery), security(("bearer" = [])), responses((status = 200, body = QuoteResponse)))]
pub(crate) async fn quote(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteResponse>, ApiError> {
    auth.require_read()?;
    let now = now_ms();
    match (q.symbol.as_deref(), q.symbols.as_deref()) {
        (Some(one), None) => Ok(Json(QuoteResponse::One(Box::new(build(&state, one, now)?)))),
        (None, Some(many)) => {
            let list: Vec<&str> = many
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            super::list_size("symbols", list.len(), MAX_SYMBOLS, "symbols")?;
            let quotes = list
                .iter()
                .map(|s| build(&state, s, now))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(QuoteResponse::Many { quotes }))
        }
        (Some(_), Some(_)) => Err(ApiError::bad_param(
            "symbol",
            "give symbol or symbols, not both",
        )),
        (None, None) => Err(ApiError::bad_param("symbol", "is required")),
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new().routes(routes!(quote))
}
