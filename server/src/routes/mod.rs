//! HTTP handlers: small adapters from requests to the crates (parsing, limits, shapes).

/// `{status: "success", data}` for the trading routes: `$name::ok(data)` and its schema.
macro_rules! envelope {
    ($name:ident, $t:ty) => {
        #[derive(Debug, Serialize, utoipa::ToSchema)]
        pub(crate) struct $name {
            /// Always `success` (errors are `{detail, code}` with their status).
            pub(crate) status: &'static str,
            pub(crate) data: $t,
        }
        impl $name {
            fn ok(data: $t) -> Json<$name> {
                Json($name {
                    status: "success",
                    data,
                })
            }
        }
    };
}

pub(crate) mod accounts;
pub(crate) mod alerts;
pub(crate) mod calendar;
pub(crate) mod clock;
pub(crate) mod indicators;
pub(crate) mod kite;
pub(crate) mod market;
pub(crate) mod messages;
pub(crate) mod monitor;
pub(crate) mod news;
pub(crate) mod quote;
pub(crate) mod reminders;
pub(crate) mod smile;
pub(crate) mod strategies;
pub(crate) mod stream;
pub(crate) mod udf;

use chrono::NaiveDate;
use stocksblitz_market::Timeframe;
use stocksblitz_symbols::Symbol;

use crate::error::ApiError;
pub(crate) use crate::error::ApiJson;
use crate::state::AppState;

/// Every area's routes, in one router (its OpenAPI paths included).
pub(crate) fn router() -> utoipa_axum::router::OpenApiRouter<std::sync::Arc<AppState>> {
    utoipa_axum::router::OpenApiRouter::new()
        .merge(udf::router())
        .merge(monitor::router())
        .merge(stream::router())
        .merge(quote::router())
        .merge(market::router())
        .merge(smile::router())
        .merge(accounts::router())
        .merge(clock::router())
        .merge(calendar::router())
        .merge(strategies::router())
        .merge(kite::router())
        .merge(indicators::router())
        .merge(alerts::router())
        .merge(messages::router())
        .merge(reminders::router())
        .merge(news::router())
}

/// The instrument a `param` names: 400 when missing or unparsable, 404 naming the expiry date
/// when the contract has expired (on the exchange clock).
pub(crate) fn instrument(
    state: &AppState,
    param: &str,
    raw: Option<&str>,
) -> Result<Symbol, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param(param, "is required"))?;
    let sym = stocksblitz_symbols::parse(raw).map_err(|e| ApiError::bad_param(param, e))?;
    if let Some(expiry) = sym.expiry
        && sym.is_expired_at(
            chrono::DateTime::from_timestamp_millis(state.market_now()).unwrap_or_default(),
        )
    {
        return Err(ApiError::not_found(
            "contract_expired",
            format!("{}: contract expired on {expiry}", sym.tradingsymbol),
        ));
    }
    Ok(sym)
}

/// The `timeframe` parameter: 400 listing the accepted spellings when unknown or missing.
pub(crate) fn timeframe(raw: Option<&str>) -> Result<Timeframe, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::bad_param("timeframe", "is required"))?;
    Timeframe::parse(raw).map_err(|e| ApiError::bad_param("timeframe", e))
}

/// A non-negative whole-number query parameter, written as digits only: `-1`, `-0`, `+5`,
/// `5.0` and blanks are refused naming the parameter (an `i64` would take `-0` as 0, and
/// negative times or offsets mean nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count(pub i64);

impl Count {
    pub(crate) fn get(self) -> i64 {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative whole number")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Count, E> {
                let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                s.parse::<i64>()
                    .ok()
                    .filter(|_| ok)
                    .map(Count)
                    .ok_or_else(|| {
                        E::custom(format!(
                            "must be a non-negative whole number, got {:?}",
                            s.chars().take(24).collect::<String>()
                        ))
                    })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Count, E> {
                i64::try_from(v)
                    .map(Count)
                    .map_err(|_| E::custom("too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Count, E> {
                if v < 0 {
                    return Err(E::custom(format!(
                        "must be a non-negative whole number, got {v}"
                    )));
                }
                Ok(Count(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// An optional integer parameter: `default` when absent, 400 naming it outside `min..=max`.
pub(crate) fn bounded(
    param: &str,
    v: Option<i64>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(v) = v else {
        return Ok(default);
    };
    usize::try_from(v)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            ApiError::bad_param(param, format!("must be between {min} and {max}, got {v}"))
        })
}

/// Latest instant a time parameter may name: 9999-12-31 23:59:59 UTC, in epoch seconds (the
/// bar arithmetic works in `i64` seconds and milliseconds; this keeps it far from overflow).
pub(crate) const MAX_EPOCH_SECS: i64 = 253_402_300_799;

/// An optional epoch-seconds parameter, 0 to [`MAX_EPOCH_SECS`].
pub(crate) fn epoch_param(param: &str, v: Option<Count>) -> Result<Option<i64>, ApiError> {
    match v.map(Count::get) {
        Some(s) if s > MAX_EPOCH_SECS => Err(ApiError::bad_param(
            param,
            format!("must be between 0 and {MAX_EPOCH_SECS} (epoch seconds), got {s}"),
        )),
        v => Ok(v),
    }
}

/// An optional `YYYY-MM-DD` parameter (blank = absent).
pub(crate) fn date_param(param: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(r) => NaiveDate::parse_from_str(r, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_param(
                    param,
                    format!(
                        "expected a date YYYY-MM-DD, got {:?}",
                        r.chars().take(32).collect::<String>()
                    ),
                )
            }),
    }
}

/// A list parameter's size: 400 naming it when empty or longer than `max` (`what` names the
/// items: "indicators", "queries").
pub(crate) fn list_size(param: &str, n: usize, max: usize, what: &str) -> Result<(), ApiError> {
    if n == 0 {
        return Err(ApiError::bad_param(param, "is empty"));
    }
    if n > max {
        return Err(ApiError::bad_param(
            param,
            format!("at most {max} {what}, got {n}"),
        ));
    }
    Ok(())
}

/// Canonical underlying name for the query (`NIFTY 50` → `NIFTY`); 400 when unparsable.
pub(crate) fn underlying_name(raw: &str) -> Result<String, ApiError> {
    if let Some(info) = stocksblitz_symbols::find_index(raw) {
        return Ok(info.name.to_string());
    }
    let sym = stocksblitz_symbols::parse(raw).map_err(|e| ApiError::bad_param("underlying", e))?;
    Ok(sym.underlying.to_string())
}

/// The `underlying` parameter, required.
pub(crate) fn required_underlying(raw: Option<&str>) -> Result<String, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("underlying", "is required"))?;
    underlying_name(raw)
}

/// `?underlying&expiry` (the nearest quoted expiry when `expiry` is omitted).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExpiryQuery {
    #[param(value_type = crate::wire::schema::Underlying, inline)]
    pub underlying: Option<String>,
    /// `YYYY-MM-DD`; the nearest quoted expiry when omitted.
    #[param(value_type = Option<crate::wire::schema::DateText>, inline)]
    pub expiry: Option<String>,
}

/// The pipeline's snapshot for reading; 503 when its lock was poisoned.
pub(crate) fn snapshot(
    state: &AppState,
) -> Result<std::sync::RwLockReadGuard<'_, stocksblitz_market::snapshot::Snapshot>, ApiError> {
    Ok(state.engine.snapshot()?)
}

/// Today's date in India at `now_ms`.
pub(crate) fn ist_today(now_ms: i64) -> NaiveDate {
    stocksblitz_market::session::ist_date(now_ms.div_euclid(1000)).unwrap_or_default()
}
