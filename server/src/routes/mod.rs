//! HTTP handlers: small adapters from requests to the crates (parsing, limits, shapes).

pub mod indicators;
pub mod market;
pub mod monitor;
pub mod quote;
pub mod stream;
pub mod udf;

use stocksblitz_market::Timeframe;
use stocksblitz_symbols::Symbol;

use crate::error::ApiError;
pub use crate::error::ApiJson;

/// The instrument a `param` names: 400 when missing or unparsable, 404 naming the expiry date
/// when the contract has expired.
pub fn instrument(param: &str, raw: Option<&str>) -> Result<Symbol, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param(param, "is required"))?;
    let sym = stocksblitz_symbols::parse(raw).map_err(|e| ApiError::bad_param(param, e))?;
    if let Some(expiry) = sym.expiry
        && sym.is_expired_at(chrono::Utc::now())
    {
        return Err(ApiError::not_found(
            "contract_expired",
            format!("{}: contract expired on {expiry}", sym.tradingsymbol),
        ));
    }
    Ok(sym)
}

/// The `timeframe` parameter: 400 listing the accepted spellings when unknown or missing.
pub fn timeframe(raw: Option<&str>) -> Result<Timeframe, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::bad_param("timeframe", "is required"))?;
    Timeframe::parse(raw).map_err(|e| ApiError::bad_param("timeframe", e))
}
