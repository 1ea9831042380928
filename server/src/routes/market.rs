//! Market-data routes: `/candles`, `/instruments`, `/instruments/resolve`, `/fo/expiries`,
//! `/fo/option-chain`. Bars come from the series reader, quotes from the snapshot, expiries
//! from the symbols crate's calendar, chain analytics from the market crate.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stocksblitz_engine::BarWindow;
use stocksblitz_market::chain::{max_pain, pcr_oi};
use stocksblitz_market::snapshot::{Quote, Snapshot};
use stocksblitz_market::tick::TickKind;
use stocksblitz_symbols::{Calendar, ExpiryKind, InstrumentSpec, ResolveContext, Symbol};

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
pub const MAX_CANDLES: usize = 5000;
/// Most instruments in one `/instruments` page.
pub const MAX_INSTRUMENTS_PAGE: usize = 1000;
/// Expiries listed ahead by `/fo/expiries`.
const WEEKLY_AHEAD: usize = 4;
const MONTHLY_AHEAD: usize = 3;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandlesQuery {
    #[param(example = "NIFTY 50")]
    pub symbol: Option<String>,
    #[param(example = "5m")]
    pub timeframe: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1)]
    pub limit: Option<super::Count>,
    /// Epoch seconds.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub from: Option<super::Count>,
    /// Epoch seconds.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub to: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CandleOut {
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
pub struct CandlesResponse {
    pub symbol: String,
    pub timeframe: &'static str,
    pub candles: Vec<CandleOut>,
}

/// `GET /candles`: oldest first; the last may be the forming bar (`complete: false`).
#[utoipa::path(get, path = "/candles", tag = "market", params(CandlesQuery), security(("bearer" = [])), responses((status = 200, body = CandlesResponse)))]
pub async fn candles(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CandlesQuery>,
) -> Result<Json<CandlesResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let limit = bounded("limit", q.limit.map(Count::get), 100, 1, MAX_CANDLES)?;
    let (from, to) = (q.from.map(Count::get), q.to.map(Count::get));
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

/// Weekly and monthly expiries of `underlying` not yet expired at `now_ms`.
fn listed_expiries(
    underlying: &str,
    weekly_n: usize,
    monthly_n: usize,
    now_ms: i64,
) -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let cal = Calendar::embedded();
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    (
        cal.live_expiries(underlying, ExpiryKind::Weekly, now, weekly_n),
        cal.live_expiries(underlying, ExpiryKind::Monthly, now, monthly_n),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnderlyingQuery {
    #[param(example = "NIFTY")]
    pub underlying: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpiriesResponse {
    pub underlying: String,
    pub weekly: Vec<NaiveDate>,
    pub monthly: Vec<NaiveDate>,
}

/// `GET /fo/expiries`: the coming weekly (where listed) and monthly expiries.
#[utoipa::path(get, path = "/fo/expiries", tag = "market", params(UnderlyingQuery), security(("bearer" = [])), responses((status = 200, body = ExpiriesResponse)))]
pub async fn expiries(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UnderlyingQuery>,
) -> Result<Json<ExpiriesResponse>, ApiError> {
    auth.require_read()?;
    let name = required_underlying(q.underlying.as_deref())?;
    let (weekly, monthly) = listed_expiries(&name, WEEKLY_AHEAD, MONTHLY_AHEAD, state.market_now());
    Ok(Json(ExpiriesResponse {
        underlying: name,
        weekly,
        monthly,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainStrike {
    pub strike: f64,
    pub call: Option<QuoteOut>,
    pub put: Option<QuoteOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainResponse {
    pub underlying: String,
    pub spot: Option<f64>,
    pub expiry: Option<NaiveDate>,
    pub strikes: Vec<ChainStrike>,
    pub pcr_oi: Option<f64>,
    pub max_pain: Option<f64>,
}

/// `GET /fo/option-chain`: one expiry's strikes with both sides' quotes, PCR by OI and max pain
/// by OI. Without `expiry`, the nearest one quoted.
#[utoipa::path(get, path = "/fo/option-chain", tag = "market", params(ExpiryQuery), security(("bearer" = [])), responses((status = 200, body = ChainResponse)))]
pub async fn option_chain(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ExpiryQuery>,
) -> Result<Json<ChainResponse>, ApiError> {
    auth.require_read()?;
    let name = required_underlying(q.underlying.as_deref())?;
    let wanted = date_param("expiry", q.expiry.as_deref())?;
    let (now, wall, basis) = (state.market_now(), now_ms(), state.age_basis());
    let snap = super::snapshot(&state)?;
    let Some(view) = snap.underlying(&name) else {
        return Ok(Json(ChainResponse {
            underlying: name,
            spot: None,
            expiry: wanted,
            strikes: Vec::new(),
            pcr_oi: None,
            max_pain: None,
        }));
    };
    let today = super::ist_today(now);
    let expiry = wanted.or_else(|| view.nearest_expiry(today));
    let mut strikes: Vec<ChainStrike> = Vec::new();
    // Options without an IV of their own (no time value) get the expiry's smile there.
    let smile = expiry
        .and_then(|e| snap.smile(&name, e, now))
        .and_then(|v| v.fit.ok());
    let out = |o: &Quote| {
        let mut q = QuoteOut::from(o, wall, basis);
        if q.iv.is_none()
            && let (Some(fit), Some(k)) = (&smile, o.strike)
        {
            q.smile_iv = Some(fit.iv(k)).filter(|v| v.is_finite() && *v > 0.0);
        }
        q
    };
    if let Some(e) = expiry {
        let mut legs: Vec<&Quote> = view
            .options
            .iter()
            .copied()
            .filter(|o| o.expiry == Some(e))
            .collect();
        legs.sort_by(|a, b| a.strike.unwrap_or(0.0).total_cmp(&b.strike.unwrap_or(0.0)));
        for o in legs {
            let Some(k) = o.strike else { continue };
            if strikes.last().is_none_or(|s| s.strike != k) {
                strikes.push(ChainStrike {
                    strike: k,
                    call: None,
                    put: None,
                });
            }
            if let Some(row) = strikes.last_mut() {
                match o.right {
                    Some(stocksblitz_symbols::Right::Call) => row.call = Some(out(o)),
                    Some(stocksblitz_symbols::Right::Put) => row.put = Some(out(o)),
                    None => {}
                }
            }
        }
    }
    let rows = expiry.map(|e| view.chain_rows(e)).unwrap_or_default();
    Ok(Json(ChainResponse {
        underlying: name,
        spot: view.index.map(|q| q.ltp).filter(|v| v.is_finite()),
        expiry,
        strikes,
        pcr_oi: pcr_oi(&rows).filter(|v| v.is_finite()),
        max_pain: max_pain(&rows),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstrumentsQuery {
    #[param(example = "NIFTY")]
    pub underlying: Option<String>,
    pub kind: Option<String>,
    pub expiry: Option<String>,
    pub right: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1)]
    pub limit: Option<super::Count>,
    #[param(value_type = Option<u64>, minimum = 0)]
    pub offset: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstrumentOut {
    pub tradingsymbol: String,
    pub token: Option<u64>,
    pub kind: &'static str,
    pub underlying: String,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<&'static str>,
    pub lot_size: Option<u32>,
    pub tick_size: Option<f64>,
    pub exchange: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstrumentsResponse {
    pub total: usize,
    pub instruments: Vec<InstrumentOut>,
}

fn instrument_out(q: &Quote) -> InstrumentOut {
    let sym = stocksblitz_symbols::parse(&q.tradingsymbol).ok();
    InstrumentOut {
        tradingsymbol: q.tradingsymbol.to_string(),
        token: q.token,
        kind: q.kind.as_str(),
        underlying: q.underlying.to_string(),
        expiry: q.expiry,
        strike: q.strike,
        right: q.right.map(|r| r.as_str()),
        lot_size: q.lot_size,
        tick_size: q.tick_size,
        exchange: sym.map_or("NSE", |s| s.exchange.as_str()),
    }
}

/// `GET /instruments`: the instruments quoted by the feed, filtered and paged (sorted by
/// underlying, kind, expiry, strike).
#[utoipa::path(get, path = "/instruments", tag = "market", params(InstrumentsQuery), security(("bearer" = [])), responses((status = 200, body = InstrumentsResponse)))]
pub async fn instruments(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<InstrumentsQuery>,
) -> Result<Json<InstrumentsResponse>, ApiError> {
    auth.require_read()?;
    let underlying = match q
        .underlying
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(underlying_name(raw)?),
        None => None,
    };
    let kind = match q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(match k.to_ascii_lowercase().as_str() {
            "index" => TickKind::Index,
            "future" | "fut" => TickKind::Future,
            "option" | "opt" => TickKind::Option,
            "equity" | "eq" => TickKind::Equity,
            _ => {
                return Err(ApiError::bad_param(
                    "kind",
                    format!(
                        "expected index, future, option or equity, got {:?}",
                        k.chars().take(32).collect::<String>()
                    ),
                ));
            }
        }),
    };
    let expiry = date_param("expiry", q.expiry.as_deref())?;
    let right = match q.right.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(r) => Some(
            r.parse::<stocksblitz_symbols::Right>()
                .map_err(|e| ApiError::bad_param("right", e))?,
        ),
    };
    let limit = bounded(
        "limit",
        q.limit.map(Count::get),
        100,
        1,
        MAX_INSTRUMENTS_PAGE,
    )?;
    let offset = bounded("offset", q.offset.map(Count::get), 0, 0, 1_000_000)?;
    let snap = super::snapshot(&state)?;
    let mut all: Vec<&Quote> = snap
        .quotes()
        .filter(|x| underlying.as_deref().is_none_or(|u| x.underlying == u))
        .filter(|x| kind.is_none_or(|k| x.kind == k))
        .filter(|x| expiry.is_none_or(|e| x.expiry == Some(e)))
        .filter(|x| right.is_none_or(|r| x.right == Some(r)))
        .collect();
    all.sort_by(|a, b| {
        (
            a.underlying.as_str(),
            a.kind.as_str(),
            a.expiry,
            a.right.map(|r| r.as_str()),
        )
            .cmp(&(
                b.underlying.as_str(),
                b.kind.as_str(),
                b.expiry,
                b.right.map(|r| r.as_str()),
            ))
            .then(a.strike.unwrap_or(0.0).total_cmp(&b.strike.unwrap_or(0.0)))
            .then(a.tradingsymbol.cmp(&b.tradingsymbol))
    });
    let total = all.len();
    let instruments = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(instrument_out)
        .collect();
    Ok(Json(InstrumentsResponse { total, instruments }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    #[param(example = "NSE@NIFTY@Nw@Call@ATM")]
    pub spec: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResolveResponse {
    pub spec: String,
    pub tradingsymbol: String,
    pub kind: &'static str,
    pub underlying: String,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<&'static str>,
    pub exchange: &'static str,
    pub spot: f64,
}

fn spot_of(snap: &Snapshot, underlying: &str) -> Option<f64> {
    let view = snap.underlying(underlying)?;
    view.index
        .map(|q| q.ltp)
        .or_else(|| view.futures.first().map(|q| q.ltp))
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// `GET /instruments/resolve?spec=NSE@NIFTY@Nw+1@Put@OTM2`: the instrument the spec names now
/// (strikes relative to the live spot, expiries from the calendar).
#[utoipa::path(get, path = "/instruments/resolve", tag = "market", params(ResolveQuery), security(("bearer" = [])), responses((status = 200, body = ResolveResponse)))]
pub async fn resolve(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ResolveQuery>,
) -> Result<Json<ResolveResponse>, ApiError> {
    auth.require_read()?;
    let raw = q
        .spec
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("spec", "is required"))?;
    let spec = InstrumentSpec::parse(raw).map_err(|e| ApiError::bad_param("spec", e))?;
    let (weekly, monthly) = listed_expiries(&spec.underlying, 8, 6, state.market_now());
    let spot = {
        let snap = super::snapshot(&state)?;
        spot_of(&snap, &spec.underlying)
    };
    let needs_spot = spec.strike.is_some();
    let spot = match (spot, needs_spot) {
        (Some(s), _) => s,
        (None, false) => 0.0,
        (None, true) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_spot",
                format!(
                    "no live price for {} yet: a relative strike cannot be resolved",
                    spec.underlying
                ),
            ));
        }
    };
    let ctx = ResolveContext {
        spot,
        strike_step: None,
        weekly: &weekly,
        monthly: &monthly,
    };
    let sym: Symbol = spec
        .resolve(&ctx)
        .map_err(|e| ApiError::bad_param("spec", e))?;
    Ok(Json(ResolveResponse {
        spec: raw.to_string(),
        tradingsymbol: sym.tradingsymbol.to_string(),
        kind: sym.kind.as_str(),
        underlying: sym.underlying.to_string(),
        expiry: sym.expiry,
        strike: sym.strike.map(|s| s.value()),
        right: sym.right.map(|r| r.as_str()),
        exchange: sym.exchange.as_str(),
        spot,
    }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(candles))
        .routes(routes!(instruments))
        .routes(routes!(resolve))
        .routes(routes!(expiries))
        .routes(routes!(option_chain))
}
