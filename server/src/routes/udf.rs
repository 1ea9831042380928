//! TradingView UDF routes (the old frontend used them).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use stocksblitz_symbols::{Kind, Symbol, parse};

use stocksblitz_market::Timeframe;

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Resolutions offered to TradingView: the timeframe table's, in its order.
const RESOLUTIONS: [&str; 8] = {
    let mut out = [""; 8];
    let mut i = 0;
    while i < 8 {
        out[i] = Timeframe::ALL[i].udf_resolution();
        i += 1;
    }
    out
};
/// Most bars in one UDF `/history` answer.
pub(crate) const MAX_HISTORY_BARS: usize = 5000;
/// Most results of `/search`.
pub(crate) const MAX_SEARCH: usize = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SymbolsQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SymbolInfo {
    pub name: String,
    pub ticker: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub exchange: &'static str,
    pub listed_exchange: &'static str,
    pub session: &'static str,
    pub timezone: &'static str,
    pub minmov: u32,
    pub pricescale: u32,
    pub has_intraday: bool,
    pub has_daily: bool,
    pub volume_precision: u32,
    pub supported_resolutions: &'static [&'static str],
    pub underlying: String,
    pub expiry: Option<String>,
    pub strike: Option<f64>,
    pub option_type: Option<&'static str>,
}

impl SymbolInfo {
    fn from_symbol(sym: &Symbol) -> Self {
        let kind = match sym.kind {
            Kind::Index => "index",
            Kind::Equity => "stock",
            Kind::Future => "futures",
            Kind::Option => "option",
        };
        let description = match sym.kind {
            Kind::Index | Kind::Equity => sym.tradingsymbol.to_string(),
            Kind::Future => format!("{} futures, expiry {}", sym.underlying, fmt_date(sym)),
            Kind::Option => format!(
                "{} {} {} option, expiry {}",
                sym.underlying,
                sym.strike.map(|s| s.to_string()).unwrap_or_default(),
                sym.right
                    .map(stocksblitz_symbols::Right::as_str)
                    .unwrap_or_default(),
                fmt_date(sym)
            ),
        };
        SymbolInfo {
            name: sym.tradingsymbol.to_string(),
            ticker: sym.tradingsymbol.to_string(),
            description,
            kind,
            exchange: sym.exchange.as_str(),
            listed_exchange: sym.exchange.as_str(),
            session: "0915-1530",
            timezone: "Asia/Kolkata",
            minmov: 5,
            pricescale: 100,
            has_intraday: true,
            has_daily: true,
            volume_precision: 0,
            supported_resolutions: &RESOLUTIONS,
            underlying: sym.underlying.to_string(),
            expiry: sym.expiry.map(|d| d.to_string()),
            strike: sym.strike.map(stocksblitz_symbols::Strike::value),
            option_type: sym.right.map(stocksblitz_symbols::Right::as_str),
        }
    }
}

fn fmt_date(sym: &Symbol) -> String {
    sym.expiry.map(|d| d.to_string()).unwrap_or_default()
}

/// `GET /symbols?symbol=` — symbol information parsed by the symbols crate.
#[utoipa::path(get, path = "/symbols", tag = "udf", params(SymbolsQuery), responses((status = 200, body = SymbolInfo)))]
pub(crate) async fn symbols(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SymbolsQuery>,
) -> Result<Json<SymbolInfo>, ApiError> {
    let raw = q
        .symbol
        .ok_or_else(|| ApiError::bad_param("symbol", "is required"))?;
    let sym = parse(&raw).map_err(|e| ApiError::bad_param("symbol", e))?;
    if sym.is_expired_at(
        chrono::DateTime::from_timestamp_millis(state.market_now()).unwrap_or_default(),
    ) {
        let expiry = fmt_date(&sym);
        return Err(ApiError::not_found(
            "contract_expired",
            format!("{sym}: contract expired on {expiry}"),
        ));
    }
    Ok(Json(SymbolInfo::from_symbol(&sym)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UdfConfig {
    pub supported_resolutions: &'static [&'static str],
    pub supports_group_request: bool,
    pub supports_marks: bool,
    pub supports_search: bool,
    pub supports_timescale_marks: bool,
    pub supports_time: bool,
    pub exchanges: Vec<serde_json::Value>,
    pub symbols_types: Vec<serde_json::Value>,
}

/// `GET /config`.
#[utoipa::path(get, path = "/config", tag = "udf", responses((status = 200, body = UdfConfig)))]
pub(crate) async fn config() -> Json<UdfConfig> {
    let kind = |name: &str, value: &str| serde_json::json!({"name": name, "value": value});
    Json(UdfConfig {
        supported_resolutions: &RESOLUTIONS,
        supports_group_request: false,
        supports_marks: false,
        supports_search: true,
        supports_timescale_marks: false,
        supports_time: true,
        exchanges: vec![
            serde_json::json!({"value": "", "name": "All", "desc": ""}),
            serde_json::json!({"value": "NSE", "name": "NSE", "desc": "National Stock Exchange"}),
            serde_json::json!({"value": "BSE", "name": "BSE", "desc": "BSE"}),
        ],
        symbols_types: vec![
            kind("All", ""),
            kind("Index", "index"),
            kind("Futures", "futures"),
            kind("Option", "option"),
        ],
    })
}

/// `GET /time`: the exchange clock's time (the demo clock's under `--demo-clock`), epoch
/// seconds (a JSON number).
#[utoipa::path(get, path = "/time", tag = "udf", responses((status = 200, content_type = "application/json", body = i64)))]
pub(crate) async fn time(State(state): State<Arc<AppState>>) -> Json<i64> {
    Json(state.market_now().div_euclid(1000))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    #[param(example = "NIFTY", max_length = 64)]
    pub query: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub limit: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchItem {
    pub symbol: String,
    pub full_name: String,
    pub description: String,
    pub exchange: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `GET /search?query=&limit=`: instruments whose tradingsymbol contains the query (the indices
/// and everything the feed quotes), indices first.
#[utoipa::path(get, path = "/search", tag = "udf", params(SearchQuery), responses((status = 200, body = Vec<SearchItem>)))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<SearchItem>>, ApiError> {
    let needle = q.query.unwrap_or_default().trim().to_ascii_uppercase();
    if needle.len() > 64 {
        return Err(ApiError::bad_param("query", "at most 64 characters"));
    }
    let limit = match q.limit.map(super::Count::get) {
        None => 30,
        Some(n) if (1..=MAX_SEARCH as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::bad_param(
                "limit",
                format!("must be between 1 and {MAX_SEARCH}, got {n}"),
            ));
        }
    };
    let mut names: Vec<String> = stocksblitz_symbols::INDICES
        .iter()
        .map(|i| i.display.to_string())
        .collect();
    if let Ok(snap) = state.pipeline.snapshot.read() {
        let mut quoted: Vec<String> = snap
            .quotes()
            .map(|x| x.tradingsymbol.to_string())
            .filter(|t| !names.contains(t))
            .collect();
        quoted.sort();
        names.extend(quoted);
    }
    let items = names
        .into_iter()
        .filter(|n| needle.is_empty() || n.to_ascii_uppercase().contains(&needle))
        .filter_map(|n| parse(&n).ok())
        .take(limit)
        .map(|sym| {
            let info = SymbolInfo::from_symbol(&sym);
            SearchItem {
                symbol: info.name.clone(),
                full_name: format!("{}:{}", info.exchange, info.name),
                description: info.description,
                exchange: info.exchange,
                kind: info.kind,
            }
        })
        .collect();
    Ok(Json(items))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    /// Epoch seconds.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 253_402_300_799_i64)]
    pub from: Option<super::Count>,
    /// Epoch seconds.
    #[param(required = true, value_type = Option<u64>, minimum = 0, maximum = 253_402_300_799_i64)]
    pub to: Option<super::Count>,
    #[param(value_type = crate::wire::schema::TimeframeName, inline)]
    pub resolution: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 5000)]
    pub countback: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HistoryOut {
    pub s: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub t: Vec<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub o: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub h: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub l: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub c: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub v: Vec<u64>,
}

/// `GET /history?symbol&from&to&resolution[&countback]`: the same bars as `/candles`, in UDF
/// columns; `{"s": "no_data"}` when there are none in the window.
#[utoipa::path(get, path = "/history", tag = "udf", params(HistoryQuery), responses((status = 200, body = HistoryOut)))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryOut>, ApiError> {
    let sym = super::instrument(&state, "symbol", q.symbol.as_deref())?;
    let res = q
        .resolution
        .as_deref()
        .ok_or_else(|| ApiError::bad_param("resolution", "is required"))?;
    let tf = Timeframe::parse(res).map_err(|e| ApiError::bad_param("resolution", e))?;
    let to =
        super::epoch_param("to", q.to)?.ok_or_else(|| ApiError::bad_param("to", "is required"))?;
    let limit = match q.countback.map(super::Count::get) {
        None => MAX_HISTORY_BARS,
        Some(n) if (1..=MAX_HISTORY_BARS as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::bad_param(
                "countback",
                format!("must be between 1 and {MAX_HISTORY_BARS}, got {n}"),
            ));
        }
    };
    // With a countback, TradingView wants that many bars ending at `to`, whatever `from` says.
    let from = super::epoch_param("from", q.from)?.filter(|_| q.countback.is_none());
    let window = stocksblitz_engine::BarWindow {
        from,
        to: Some(to),
        limit,
    };
    let (bars, _) = state.engine.bars(&sym.tradingsymbol, tf, window).await?;
    if bars.is_empty() {
        return Ok(Json(HistoryOut {
            s: "no_data",
            t: vec![],
            o: vec![],
            h: vec![],
            l: vec![],
            c: vec![],
            v: vec![],
        }));
    }
    Ok(Json(HistoryOut {
        s: "ok",
        t: bars.iter().map(|b| b.start).collect(),
        o: bars.iter().map(|b| b.open).collect(),
        h: bars.iter().map(|b| b.high).collect(),
        l: bars.iter().map(|b| b.low).collect(),
        c: bars.iter().map(|b| b.close).collect(),
        v: bars.iter().map(|b| b.volume).collect(),
    }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(symbols))
        .routes(routes!(config))
        .routes(routes!(time))
        .routes(routes!(search))
        .routes(routes!(history))
}
