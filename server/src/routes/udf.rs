//! TradingView UDF routes (the old frontend used them).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use stocksblitz_symbols::{Kind, Symbol, parse};

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

/// Resolutions offered to TradingView.
// The timeframe table of the market crate replaces this list once that crate exists.
const RESOLUTIONS: [&str; 8] = ["1", "3", "5", "10", "15", "30", "60", "1D"];

#[derive(Debug, Deserialize)]
pub struct SymbolsQuery {
    pub symbol: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SymbolInfo {
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
                sym.right.map(|r| r.as_str()).unwrap_or_default(),
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
            strike: sym.strike.map(|s| s.value()),
            option_type: sym.right.map(|r| r.as_str()),
        }
    }
}

fn fmt_date(sym: &Symbol) -> String {
    sym.expiry.map(|d| d.to_string()).unwrap_or_default()
}

/// `GET /symbols?symbol=` — symbol information parsed by the symbols crate.
pub async fn symbols(
    State(_state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SymbolsQuery>,
) -> Result<Json<SymbolInfo>, ApiError> {
    let raw = q
        .symbol
        .ok_or_else(|| ApiError::bad_param("symbol", "is required"))?;
    let sym = parse(&raw).map_err(|e| ApiError::bad_param("symbol", e))?;
    if sym.is_expired_at(chrono_now()) {
        let expiry = fmt_date(&sym);
        return Err(ApiError::not_found(
            "contract_expired",
            format!("{sym}: contract expired on {expiry}"),
        ));
    }
    Ok(Json(SymbolInfo::from_symbol(&sym)))
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
