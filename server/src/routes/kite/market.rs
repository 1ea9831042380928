//! Kite's market data from our snapshot and store: `GET /quote`, `/quote/ohlc`, `/quote/ltp`
//! (`i=NFO:NIFTY26DECFUT`, repeated), `GET /instruments[/{exchange}]` (Kite's CSV columns),
//! `GET /instruments/historical/{instrument_token}/{interval}`.
//!
//! Instrument tokens are the feed's; an instrument the feed sent without one gets a stable
//! token derived from its tradingsymbol (FNV-1a, high bit set so it never meets a feed token).

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
super::kite_envelope!(KiteCandlesEnvelope, Candles);

/// The instrument token Kite clients see for a snapshot quote.
pub fn token_of(q: &Quote) -> u64 {
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
pub struct Tokens(HashMap<String, u64>);

impl Tokens {
    pub fn of(state: &AppState) -> Result<Tokens, KiteError> {
        let snap = crate::routes::snapshot(state)?;
        Ok(Tokens(
            snap.quotes()
                .map(|q| (q.tradingsymbol.to_string(), token_of(q)))
                .collect(),
        ))
    }

    pub fn token(&self, sym: &str) -> u64 {
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
pub struct Ohlc {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    /// The previous session's close; null: the feed did not send one.
    pub close: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepthLevel {
    pub price: f64,
    pub quantity: i64,
    pub orders: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Depth {
    pub buy: Vec<DepthLevel>,
    pub sell: Vec<DepthLevel>,
}

/// Kite's full quote (the fields our feed has; sizes the feed does not send are 0).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FullQuote {
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
pub struct OhlcQuote {
    pub instrument_token: u64,
    pub last_price: f64,
    pub ohlc: Ohlc,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LtpQuote {
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
pub async fn quote(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Query(params): Query<Vec<(String, String)>>,
) -> KiteResult<BTreeMap<String, FullQuote>> {
    auth.read()?;
    Ok(ok(quotes(&state, &params, MAX_QUOTE, full)?))
}

/// `GET /kite/quote/ohlc`.
#[utoipa::path(get, path = "/kite/quote/ohlc", tag = "kite", params(("i" = Vec<String>, Query)), security(("bearer" = [])), responses((status = 200, body = KiteOhlcEnvelope)))]
pub async fn quote_ohlc(
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
pub async fn quote_ltp(
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

const EXCHANGES: &[&str] = &["NSE", "NFO", "BSE", "BFO"];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn instruments_csv(state: &AppState, exchange: Option<&str>) -> Result<Response, KiteError> {
    let snap = crate::routes::snapshot(state)?;
    let mut rows: Vec<&Quote> = snap
        .quotes()
        .filter(|q| exchange.is_none_or(|x| exchange_segment(q).0 == x))
        .collect();
    rows.sort_by(|a, b| a.tradingsymbol.cmp(&b.tradingsymbol));
    let mut out = String::from(
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n",
    );
    for q in rows {
        let (ex, seg) = exchange_segment(q);
        let token = token_of(q);
        let name = if q.kind == TickKind::Index {
            q.tradingsymbol.as_str()
        } else {
            q.underlying.as_str()
        };
        out.push_str(&format!(
            "{token},{},{},{},{},{},{},{},{},{},{seg},{ex}\n",
            token / 256,
            csv_field(&q.tradingsymbol),
            csv_field(name),
            q.ltp,
            q.expiry.map(|d| d.to_string()).unwrap_or_default(),
            q.strike.unwrap_or(0.0),
            q.tick_size.unwrap_or(0.05),
            q.lot_size.unwrap_or(1),
            instrument_type(q),
        ));
    }
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// `GET /kite/instruments`: every quoted instrument as Kite's CSV.
#[utoipa::path(get, path = "/kite/instruments", tag = "kite", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn instruments(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> Result<Response, KiteError> {
    auth.read()?;
    instruments_csv(&state, None)
}

/// `GET /kite/instruments/{exchange}`: one exchange's instruments (NSE, NFO, BSE, BFO).
#[utoipa::path(get, path = "/kite/instruments/{exchange}", tag = "kite", params(("exchange" = String, Path)), security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = super::KiteErrorBody)))]
pub async fn instruments_of(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(exchange): Path<String>,
) -> Result<Response, KiteError> {
    auth.read()?;
    let ex = exchange.trim().to_ascii_uppercase();
    if !EXCHANGES.contains(&ex.as_str()) {
        return Err(KiteError::input(format!(
            "Invalid exchange {:?} (one of {})",
            exchange.chars().take(16).collect::<String>(),
            EXCHANGES.join(", ")
        )));
    }
    instruments_csv(&state, Some(&ex))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoricalQuery {
    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (IST).
    pub from: Option<String>,
    pub to: Option<String>,
    /// `1` to include open interest.
    pub oi: Option<String>,
    pub continuous: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candles {
    /// `[time, open, high, low, close, volume(, oi)]`, time as `YYYY-MM-DDTHH:MM:SS+0530`.
    pub candles: Vec<Vec<serde_json::Value>>,
}

fn ist_param(name: &str, raw: Option<&str>, end_of_day: bool) -> Result<i64, KiteError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| KiteError::input(format!("Missing `{name}`")))?;
    let dt = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| {
                if end_of_day {
                    d.and_hms_opt(23, 59, 59).unwrap_or_default()
                } else {
                    d.and_hms_opt(0, 0, 0).unwrap_or_default()
                }
            })
        })
        .map_err(|_| {
            KiteError::input(format!(
                "Invalid `{name}`: {:?} (YYYY-MM-DD HH:MM:SS)",
                raw.chars().take(32).collect::<String>()
            ))
        })?;
    Ok(dt.and_utc().timestamp() - stocksblitz_market::IST_OFFSET_SECS)
}

/// Most candles one request returns.
const MAX_CANDLES: usize = 20_000;

/// `GET /kite/instruments/historical/{instrument_token}/{interval}`: candles from our store
/// (interval: minute, 3minute, 5minute, 10minute, 15minute, 30minute, 60minute, day).
#[utoipa::path(get, path = "/kite/instruments/historical/{instrument_token}/{interval}", tag = "kite", params(("instrument_token" = u64, Path), ("interval" = String, Path), HistoricalQuery), security(("bearer" = [])), responses((status = 200, body = KiteCandlesEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub async fn historical(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path((token, interval)): Path<(String, String)>,
    Query(q): Query<HistoricalQuery>,
) -> KiteResult<Candles> {
    auth.read()?;
    let token: u64 = token.trim().parse().map_err(|_| {
        KiteError::input(format!(
            "Invalid instrument token {:?}",
            token.chars().take(24).collect::<String>()
        ))
    })?;
    let tf = Timeframe::parse(&interval)
        .map_err(|e| KiteError::input(format!("Invalid interval: {e}")))?;
    let from = ist_param("from", q.from.as_deref(), false)?;
    let to = ist_param("to", q.to.as_deref(), true)?;
    if from > to {
        return Err(KiteError::input("`from` is after `to`"));
    }
    let with_oi = matches!(q.oi.as_deref(), Some("1" | "true"));
    let sym = {
        let snap = crate::routes::snapshot(&state)?;
        snap.quotes()
            .find(|x| token_of(x) == token)
            .map(|x| x.tradingsymbol.to_string())
    }
    .ok_or_else(|| KiteError::input(format!("Unknown instrument token {token}")))?;
    let now = now_ms() / 1000;
    let to = to.min(now);
    let span = usize::try_from((to - from).max(0) / 60 / tf.minutes().max(1) as i64 + 2)
        .unwrap_or(MAX_CANDLES);
    let window = stocksblitz_engine::BarWindow {
        from: Some(from),
        to: Some(to),
        limit: span.min(MAX_CANDLES),
    };
    let (bars, _) = state
        .engine
        .bars(&sym, tf, window)
        .await
        .map_err(crate::error::ApiError::from)?;
    let candles = bars
        .into_iter()
        .map(|b| {
            let t =
                chrono::DateTime::from_timestamp(b.start + stocksblitz_market::IST_OFFSET_SECS, 0)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S+0530").to_string())
                    .unwrap_or_default();
            let mut row = vec![
                serde_json::json!(t),
                serde_json::json!(b.open),
                serde_json::json!(b.high),
                serde_json::json!(b.low),
                serde_json::json!(b.close),
                serde_json::json!(b.volume),
            ];
            if with_oi {
                row.push(serde_json::json!(b.oi.unwrap_or(0)));
            }
            row
        })
        .collect();
    Ok(ok(Candles { candles }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(quote_ohlc))
        .routes(routes!(quote_ltp))
        .routes(routes!(instruments))
        .routes(routes!(instruments_of))
        .routes(routes!(historical))
}
