//! Kite's market data from our snapshot and store: `GET /quote`, `/quote/ohlc`, `/quote/ltp`
//! (`i=NFO:NIFTY26DECFUT`, repeated), `GET /instruments[/{exchange}]` (Kite's CSV columns),
//! `GET /instruments/historical/{instrument_token}/{interval}`.
//!
//! Instrument tokens are the feed's; an instrument the feed sent without one gets a stable
//! token derived from its tradingsymbol (FNV-1a, high bit set so it never meets a feed token).

mod historical;
mod instruments;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use stocksblitz_market::snapshot::Quote;
use stocksblitz_market::tick::TickKind;
use stocksblitz_market::timeframe::Timeframe;

use super::{KiteAuth, KiteError, KiteResult, ok, strip_exchange};
use crate::ingest::now_ms;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KiteQuotesEnvelope, BTreeMap<String, FullQuote>);
super::kite_envelope!(KiteOhlcEnvelope, BTreeMap<String, OhlcQuote>);
super::kite_envelope!(KiteLtpEnvelope, BTreeMap<String, LtpQuote>);

/// The instrument token Kite clients see for a snapshot quote.
pub(crate) fn token_of(q: &Quote) -> u64 {
    q.token.unwrap_or_else(|| derived_token(&q.tradingsymbol))
}

fn derived_token(sym: &str) -> u64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in sym.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    u64::from(h | 0x8000_0000)
}

/// The tokens of the snapshot's instruments, by tradingsymbol (one read of the snapshot).
pub(crate) struct Tokens(HashMap<String, u64>);

impl Tokens {
    pub(crate) fn of(state: &AppState) -> Result<Tokens, KiteError> {
        let snap = crate::routes::snapshot(state)?;
        Ok(Tokens(
            snap.quotes()
                .map(|q| (q.tradingsymbol.to_string(), token_of(q)))
                .collect(),
        ))
    }

    pub(crate) fn token(&self, sym: &str) -> u64 {
        self.0
            .get(sym)
            .copied()
            .unwrap_or_else(|| derived_token(sym))
    }
}

/// Kite's exchange and segment of a quote.
fn exchange_segment(q: &Quote) -> (&'static str, &'static str) {
    let bse = q.underlying == "SENSEX" || q.underlying == "BANKEX";
    match (q.kind, bse) {
        (TickKind::Index, false) => ("NSE", "INDICES"),
        (TickKind::Index, true) => ("BSE", "INDICES"),
        (TickKind::Equity, false) => ("NSE", "NSE"),
        (TickKind::Equity, true) => ("BSE", "BSE"),
        (TickKind::Future, false) => ("NFO", "NFO-FUT"),
        (TickKind::Future, true) => ("BFO", "BFO-FUT"),
        (TickKind::Option, false) => ("NFO", "NFO-OPT"),
        (TickKind::Option, true) => ("BFO", "BFO-OPT"),
    }
}

fn instrument_type(q: &Quote) -> &'static str {
    match (q.kind, q.right) {
        (TickKind::Future, _) => "FUT",
        (TickKind::Option, Some(stocksblitz_symbols::Right::Call)) => "CE",
        (TickKind::Option, _) => "PE",
        _ => "EQ",
    }
}

/// Most instruments one quote request may name (Kite's limit for `/quote`; `/ltp` allows 1000).
const MAX_QUOTE: usize = 500;
const MAX_LTP: usize = 1000;

fn instruments_param(params: &[(String, String)], max: usize) -> Result<Vec<&str>, KiteError> {
    let list: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "i")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if list.is_empty() {
        return Err(KiteError::input(
            "Missing `i` (instruments as EXCHANGE:TRADINGSYMBOL)",
        ));
    }
    if list.len() > max {
        return Err(KiteError::input(format!(
            "At most {max} instruments, got {}",
            list.len()
        )));
    }
    if let Some(long) = list.iter().find(|s| s.len() > 80) {
        return Err(KiteError::input(format!(
            "Invalid instrument {:?}",
            long.chars().take(40).collect::<String>()
        )));
    }
    Ok(list)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Ohlc {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    /// The previous session's close; null: the feed did not send one.
    pub close: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DepthLevel {
    pub price: f64,
    pub quantity: i64,
    pub orders: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Depth {
    pub buy: Vec<DepthLevel>,
    pub sell: Vec<DepthLevel>,
}

/// Kite's full quote (the fields our feed has; sizes the feed does not send are 0).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FullQuote {
    pub instrument_token: u64,
    pub timestamp: String,
    pub last_trade_time: String,
    pub last_price: f64,
    pub last_quantity: i64,
    pub buy_quantity: i64,
    pub sell_quantity: i64,
    pub volume: u64,
    pub average_price: f64,
    pub oi: u64,
    pub oi_day_high: u64,
    pub oi_day_low: u64,
    /// Change against the previous close; null when the close is unknown.
    pub net_change: Option<f64>,
    pub lower_circuit_limit: f64,
    pub upper_circuit_limit: f64,
    pub ohlc: Ohlc,
    pub depth: Depth,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OhlcQuote {
    pub instrument_token: u64,
    pub last_price: f64,
    pub ohlc: Ohlc,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LtpQuote {
    pub instrument_token: u64,
    pub last_price: f64,
}

fn ohlc(q: &Quote) -> Ohlc {
    Ohlc {
        open: q.open,
        high: q.high,
        low: q.low,
        close: None,
    }
}

/// Kite's five levels a side: the feed's depth, else the touch with its size, padded with
/// empty levels as Kite pads them.
fn side(
    levels: Option<&[stocksblitz_market::tick::Level]>,
    touch: Option<f64>,
    qty: Option<u64>,
) -> Vec<DepthLevel> {
    let count = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut out: Vec<DepthLevel> = match (levels, touch) {
        (Some(l), _) if !l.is_empty() => l
            .iter()
            .map(|x| DepthLevel {
                price: x.price,
                quantity: count(x.quantity),
                orders: count(x.orders),
            })
            .collect(),
        (_, Some(price)) => vec![DepthLevel {
            price,
            quantity: qty.map_or(0, count),
            orders: i64::from(qty.is_some()),
        }],
        _ => Vec::new(),
    };
    while out.len() < 5 {
        out.push(DepthLevel {
            price: 0.0,
            quantity: 0,
            orders: 0,
        });
    }
    out
}

fn full(q: &Quote) -> FullQuote {
    let ts = super::ist_text(q.exchange_ts_ms);
    let depth = q.depth.as_deref();
    let buy = side(depth.map(|d| d.buy.as_slice()), q.bid, q.bid_qty);
    let sell = side(depth.map(|d| d.sell.as_slice()), q.ask, q.ask_qty);
    FullQuote {
        instrument_token: token_of(q),
        timestamp: ts.clone(),
        last_trade_time: ts,
        last_price: q.ltp,
        last_quantity: q
            .last_quantity
            .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)),
        // Kite's totals are the whole book's; ours are what the feed shows.
        buy_quantity: buy.iter().map(|l| l.quantity).sum(),
        sell_quantity: sell.iter().map(|l| l.quantity).sum(),
        volume: q.volume,
        average_price: 0.0,
        oi: q.oi.unwrap_or(0),
        oi_day_high: 0,
        oi_day_low: 0,
        net_change: None,
        lower_circuit_limit: 0.0,
        upper_circuit_limit: 0.0,
        ohlc: ohlc(q),
        depth: Depth { buy, sell },
    }
}

/// The quotes asked for, keyed as asked (instruments the snapshot lacks are left out, as Kite
/// leaves out unknown instruments).
fn quotes<T>(
    state: &AppState,
    params: &[(String, String)],
    max: usize,
    f: impl Fn(&Quote) -> T,
) -> Result<BTreeMap<String, T>, KiteError> {
    let list = instruments_param(params, max)?;
    let snap = crate::routes::snapshot(state)?;
    Ok(list
        .into_iter()
        .filter_map(|i| snap.get(strip_exchange(i)).map(|q| (i.to_string(), f(q))))
        .collect())
}

/// `GET /kite/quote?i=NFO:NIFTY26DECFUT&i=NSE:NIFTY 50`: full quotes.
#[utoipa::path(get, path = "/kite/quote", tag = "kite", params(("i" = Vec<String>, Query, description = "EXCHANGE:TRADINGSYMBOL, repeated")), security(("bearer" = [])), responses((status = 200, body = KiteQuotesEnvelope)))]
pub(crate) async fn quote(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Query(params): Query<Vec<(String, String)>>,
) -> KiteResult<BTreeMap<String, FullQuote>> {
    auth.read()?;
    Ok(ok(quotes(&state, &params, MAX_QUOTE, full)?))
}

/// `GET /kite/quote/ohlc`.
#[utoipa::path(get, path = "/kite/quote/ohlc", tag = "kite", params(("i" = Vec<String>, Query)), security(("bearer" = [])), responses((status = 200, body = KiteOhlcEnvelope)))]
pub(crate) async fn quote_ohlc(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Query(params): Query<Vec<(String, String)>>,
) -> KiteResult<BTreeMap<String, OhlcQuote>> {
    auth.read()?;
    Ok(ok(quotes(&state, &params, MAX_LTP, |q| OhlcQuote {
        instrument_token: token_of(q),
        last_price: q.ltp,
        ohlc: ohlc(q),
    })?))
}

/// `GET /kite/quote/ltp`.
#[utoipa::path(get, path = "/kite/quote/ltp", tag = "kite", params(("i" = Vec<String>, Query)), security(("bearer" = [])), responses((status = 200, body = KiteLtpEnvelope)))]
pub(crate) async fn quote_ltp(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Query(params): Query<Vec<(String, String)>>,
) -> KiteResult<BTreeMap<String, LtpQuote>> {
    auth.read()?;
    Ok(ok(quotes(&state, &params, MAX_LTP, |q| LtpQuote {
        instrument_token: token_of(q),
        last_price: q.ltp,
    })?))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(quote_ohlc))
        .routes(routes!(quote_ltp))
        .routes(routes!(instruments::instruments))
        .routes(routes!(instruments::instruments_of))
        .routes(routes!(historical::historical))
}
