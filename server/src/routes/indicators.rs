//! The indicator routes (the old backend's paths and shapes, fixed): values computed by the
//! indicators crate over the bar series (store + recent + forming bar) with enough warm-up
//! for exact values; current values cached per (instrument, timeframe, canonical id) until the
//! instrument's bars change; subscriptions stored per client.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stocksblitz_engine::Point;
use stocksblitz_indicators::{Category, IndicatorId, ParamKind, REGISTRY};
use stocksblitz_market::Timeframe;
use stocksblitz_store::subscriptions::SubscriptionKey;

use super::{ApiJson, bounded, instrument, list_size, timeframe};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::wire::indicators::{IndicatorSpec, MAX_INDICATORS, Requested, parse_id, render};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest `lookback` of `/indicators/history` and `/batch`.
pub const MAX_LOOKBACK: usize = 5000;
/// Largest `offset` of `/indicators/at-offset`.
pub const MAX_OFFSET: usize = 5000;
/// Most queries in one `/indicators/batch`.
pub const MAX_BATCH_QUERIES: usize = 100;

/// A comma-separated id list (`RSI_14,SMA_20`).
fn parse_ids(param: &str, raw: Option<&str>) -> Result<Vec<Requested>, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::bad_param(param, "is required"))?;
    let ids: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    list_size(param, ids.len(), MAX_INDICATORS, "indicators")?;
    ids.into_iter()
        .map(|s| {
            Ok(Requested {
                sent: s.to_string(),
                id: parse_id(param, s)?,
            })
        })
        .collect()
}

/// The parsed ids of a request.
fn ids_of(ids: &[Requested]) -> Vec<IndicatorId> {
    ids.iter().map(|r| r.id.clone()).collect()
}

/// Each id (as sent) with its values rendered (null where there is no bar).
fn rendered(ids: &[Requested], values: &[Option<Vec<f64>>]) -> Vec<(String, Value)> {
    ids.iter()
        .zip(values)
        .map(|(r, v)| {
            let v = v.as_ref().map_or(Value::Null, |v| render(&r.id, v));
            (r.sent.clone(), v)
        })
        .collect()
}

fn iso_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Ids mapped to values, in request order (ids echoed as sent).
#[derive(Debug, Default)]
pub struct Ordered(Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CurrentQuery {
    #[param(example = "NIFTY 50")]
    pub symbol: Option<String>,
    #[param(example = "5m")]
    pub timeframe: Option<String>,
    #[param(example = "RSI_14,SMA_20")]
    pub indicators: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentResponse {
    pub status: &'static str,
    pub symbol: String,
    pub timeframe: &'static str,
    pub timestamp: String,
    pub candle_time: Option<i64>,
    #[schema(value_type = Object)]
    pub indicators: Ordered,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// `GET /indicators/current`.
#[utoipa::path(get, path = "/indicators/current", tag = "indicators", params(CurrentQuery), security(("bearer" = [])), responses((status = 200, body = CurrentResponse)))]
pub async fn current(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CurrentQuery>,
) -> Result<Json<CurrentResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let ids = parse_ids("indicators", q.indicators.as_deref())?;
    let at = state
        .engine
        .current_values(&sym.tradingsymbol, tf, &ids_of(&ids))
        .await?;
    let out = rendered(&ids, &at.values);
    Ok(Json(CurrentResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        timestamp: iso_now(),
        candle_time: at.candle_time,
        indicators: Ordered(out),
        reason: (at.bars == 0).then_some("no_data"),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtOffsetQuery {
    #[param(example = "NIFTY 50")]
    pub symbol: Option<String>,
    #[param(example = "5m")]
    pub timeframe: Option<String>,
    #[param(example = "RSI_14,SMA_20")]
    pub indicators: Option<String>,
    #[param(value_type = Option<u64>, minimum = 0, maximum = 5000)]
    pub offset: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AtOffsetResponse {
    pub status: &'static str,
    pub symbol: String,
    pub timeframe: &'static str,
    pub offset: usize,
    pub candle_time: Option<i64>,
    #[schema(value_type = Object)]
    pub indicators: Ordered,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// `GET /indicators/at-offset`: values at the bar `offset` bars before the latest.
#[utoipa::path(get, path = "/indicators/at-offset", tag = "indicators", params(AtOffsetQuery), security(("bearer" = [])), responses((status = 200, body = AtOffsetResponse)))]
pub async fn at_offset(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<AtOffsetQuery>,
) -> Result<Json<AtOffsetResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let ids = parse_ids("indicators", q.indicators.as_deref())?;
    let offset = bounded("offset", q.offset.map(super::Count::get), 0, 0, MAX_OFFSET)?;
    let at = state
        .engine
        .values_at_offset(&sym.tradingsymbol, tf, &ids_of(&ids), offset)
        .await?;
    let out = rendered(&ids, &at.values);
    Ok(Json(AtOffsetResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        offset,
        candle_time: at.candle_time,
        indicators: Ordered(out),
        reason: match (at.bars, at.candle_time) {
            (0, _) => Some("no_data"),
            (_, None) => Some("insufficient_data"),
            _ => None,
        },
    }))
}

/// History points in the response's shape: `time`, then `value` for single-output indicators
/// or the output names, then `candles_back` when asked.
fn history_points(id: &IndicatorId, points: &[Point], with_back: bool) -> Vec<Value> {
    let k = points.len();
    points
        .iter()
        .enumerate()
        .map(|(i, point)| {
            let mut p = Map::new();
            p.insert("time".into(), Value::from(point.time));
            match render(id, &point.values) {
                Value::Object(outputs) => p.extend(outputs),
                v => {
                    p.insert("value".into(), v);
                }
            }
            if with_back {
                p.insert("candles_back".into(), Value::from(k - 1 - i));
            }
            Value::Object(p)
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[param(example = "NIFTY 50")]
    pub symbol: Option<String>,
    #[param(example = "5m")]
    pub timeframe: Option<String>,
    #[param(example = "RSI_14")]
    pub indicator: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 5000)]
    pub lookback: Option<super::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryResponse {
    pub status: &'static str,
    pub symbol: String,
    pub timeframe: &'static str,
    pub indicator: String,
    pub count: usize,
    pub series: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// `GET /indicators/history`: the last `lookback` values, oldest first, each fully warmed up.
#[utoipa::path(get, path = "/indicators/history", tag = "indicators", params(HistoryQuery), security(("bearer" = [])), responses((status = 200, body = HistoryResponse)))]
pub async fn history(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let sent = q
        .indicator
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("indicator", "is required"))?;
    let id = parse_id("indicator", sent)?;
    let lookback = bounded(
        "lookback",
        q.lookback.map(super::Count::get),
        20,
        1,
        MAX_LOOKBACK,
    )?;
    let points = state
        .engine
        .history(&sym.tradingsymbol, tf, &id, lookback)
        .await?;
    let empty = points.is_empty();
    let points = history_points(&id, &points, true);
    Ok(Json(HistoryResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        indicator: sent.to_string(),
        count: points.len(),
        series: points,
        reason: empty.then_some("no_data"),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchQuery {
    pub timeframe: Option<String>,
    pub indicator: Option<String>,
    pub lookback: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchRequest {
    pub symbol: Option<String>,
    #[serde(default)]
    pub queries: Vec<BatchQuery>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub timeframe: &'static str,
    pub indicator: String,
    pub series: Vec<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub status: &'static str,
    pub symbol: String,
    pub results: Vec<BatchResult>,
}

/// `POST /indicators/batch`: several (timeframe, indicator, lookback) series of one symbol.
/// Every query is validated before any is computed; a bad one is a 400 naming its index.
#[utoipa::path(post, path = "/indicators/batch", tag = "indicators", request_body = BatchRequest, security(("bearer" = [])), responses((status = 200, body = BatchResponse)))]
pub async fn batch(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", req.symbol.as_deref())?;
    list_size("queries", req.queries.len(), MAX_BATCH_QUERIES, "queries")?;
    let mut parsed = Vec::with_capacity(req.queries.len());
    for (i, q) in req.queries.iter().enumerate() {
        let name = |p: &str| format!("queries[{i}].{p}");
        let tf = timeframe(q.timeframe.as_deref()).map_err(|e| ApiError {
            detail: format!("queries[{i}].{}", e.detail),
            ..e
        })?;
        let sent = q
            .indicator
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad_param(&name("indicator"), "is required"))?;
        let id = parse_id(&name("indicator"), sent)?;
        let lookback = bounded(&name("lookback"), q.lookback, 20, 1, MAX_LOOKBACK)?;
        parsed.push((tf, sent.to_string(), id, lookback));
    }
    let mut results = Vec::with_capacity(parsed.len());
    for (tf, sent, id, lookback) in parsed {
        let points = state
            .engine
            .history(&sym.tradingsymbol, tf, &id, lookback)
            .await?;
        results.push(BatchResult {
            timeframe: tf.as_str(),
            indicator: sent,
            series: history_points(&id, &points, false),
        });
    }
    Ok(Json(BatchResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        results,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubscribeRequest {
    pub symbol: Option<String>,
    pub timeframe: Option<String>,
    #[serde(default)]
    pub indicators: Vec<IndicatorSpec>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionOut {
    pub indicator_id: String,
    pub symbol: String,
    pub timeframe: &'static str,
    pub subscriber_count: i64,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscribeResponse {
    pub status: &'static str,
    pub client_id: String,
    pub subscriptions: Vec<SubscriptionOut>,
}

/// `POST /indicators/subscribe`: all-or-nothing validation, idempotent per client, exact counts.
#[utoipa::path(post, path = "/indicators/subscribe", tag = "indicators", request_body = SubscribeRequest, security(("bearer" = [])), responses((status = 200, body = SubscribeResponse)))]
pub async fn subscribe(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<SubscribeRequest>,
) -> Result<Json<SubscribeResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", req.symbol.as_deref())?;
    let tf = timeframe(req.timeframe.as_deref())?;
    list_size(
        "indicators",
        req.indicators.len(),
        MAX_INDICATORS,
        "indicators",
    )?;
    let ids = req
        .indicators
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse(i))
        .collect::<Result<Vec<_>, _>>()?;
    let client = auth.client_id();
    let now = chrono::Utc::now().timestamp_millis();
    let at = state
        .engine
        .current_values(&sym.tradingsymbol, tf, &ids_of(&ids))
        .await?;
    let mut subs = Vec::with_capacity(ids.len());
    for (r, v) in ids.iter().zip(&at.values) {
        let canonical = r.id.canonical();
        let key = SubscriptionKey {
            instrument: &sym.tradingsymbol,
            timeframe: tf.as_str(),
            indicator_id: &canonical,
        };
        state.store.subscribe(&client, &key, now).await?;
        let count = state.store.subscriber_count(&key).await?;
        let value = v.as_ref().map_or(Value::Null, |v| render(&r.id, v));
        subs.push(SubscriptionOut {
            indicator_id: r.sent.clone(),
            symbol: sym.tradingsymbol.to_string(),
            timeframe: tf.as_str(),
            subscriber_count: count,
            status: "subscribed",
            value: Some(value),
        });
    }
    Ok(Json(SubscribeResponse {
        status: "success",
        client_id: client,
        subscriptions: subs,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UnsubscribeRequest {
    pub symbol: Option<String>,
    pub timeframe: Option<String>,
    #[serde(default)]
    pub indicator_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnsubscribeResponse {
    pub status: &'static str,
    pub client_id: String,
    pub unsubscribed: Vec<SubscriptionOut>,
}

/// `POST /indicators/unsubscribe`: only the caller's own subscriptions change.
#[utoipa::path(post, path = "/indicators/unsubscribe", tag = "indicators", request_body = UnsubscribeRequest, security(("bearer" = [])), responses((status = 200, body = UnsubscribeResponse)))]
pub async fn unsubscribe(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<UnsubscribeRequest>,
) -> Result<Json<UnsubscribeResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", req.symbol.as_deref())?;
    let tf = timeframe(req.timeframe.as_deref())?;
    list_size(
        "indicator_ids",
        req.indicator_ids.len(),
        MAX_INDICATORS,
        "indicators",
    )?;
    let ids = req
        .indicator_ids
        .iter()
        .enumerate()
        .map(|(i, s)| parse_id(&format!("indicator_ids[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?;
    let client = auth.client_id();
    let mut out = Vec::with_capacity(ids.len());
    for (sent, id) in req.indicator_ids.iter().zip(&ids) {
        let canonical = id.canonical();
        let key = SubscriptionKey {
            instrument: &sym.tradingsymbol,
            timeframe: tf.as_str(),
            indicator_id: &canonical,
        };
        let removed = state.store.unsubscribe(&client, &key).await?;
        let count = state.store.subscriber_count(&key).await?;
        out.push(SubscriptionOut {
            indicator_id: sent.trim().to_string(),
            symbol: sym.tradingsymbol.to_string(),
            timeframe: tf.as_str(),
            subscriber_count: count,
            status: if removed {
                "unsubscribed"
            } else {
                "not_subscribed"
            },
            value: None,
        });
    }
    Ok(Json(UnsubscribeResponse {
        status: "success",
        client_id: client,
        unsubscribed: out,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParamOut {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default: Value,
    pub min: Value,
    pub max: Value,
    pub required: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DefinitionOut {
    pub name: &'static str,
    pub display_name: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub parameters: Vec<ParamOut>,
    pub outputs: &'static [&'static str],
}

fn number(kind: ParamKind, v: f64) -> Value {
    match kind {
        ParamKind::Int if v.is_finite() && v.abs() < 9.0e15 => Value::from(v as i64),
        _ => Value::from(v),
    }
}

fn definition(def: &stocksblitz_indicators::IndicatorDef) -> DefinitionOut {
    DefinitionOut {
        name: def.name,
        display_name: def.display_name,
        category: def.category.as_str(),
        description: def.description,
        parameters: def
            .params
            .iter()
            .map(|p| ParamOut {
                name: p.name,
                kind: p.kind.as_str(),
                default: number(p.kind, p.default),
                min: number(p.kind, p.min),
                max: number(p.kind, p.max),
                required: false,
            })
            .collect(),
        outputs: def.outputs,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub category: Option<String>,
    pub search: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse {
    pub status: &'static str,
    pub total: usize,
    pub categories: Vec<&'static str>,
    /// The timeframes every indicator, candle and stream route accepts (canonical spellings).
    pub timeframes: Vec<&'static str>,
    pub indicators: Vec<DefinitionOut>,
}

/// `GET /indicators/list`: the registry, optionally by category or a search term.
#[utoipa::path(get, path = "/indicators/list", tag = "indicators", params(ListQuery), responses((status = 200, body = ListResponse)))]
pub async fn list(ApiQuery(q): ApiQuery<ListQuery>) -> Result<Json<ListResponse>, ApiError> {
    let category = match q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => Some(
            Category::ALL
                .into_iter()
                .find(|x| x.as_str().eq_ignore_ascii_case(c))
                .ok_or_else(|| {
                    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                    ApiError::bad_param(
                        "category",
                        format!(
                            "unknown category {:?}; accepted: {}",
                            c.chars().take(32).collect::<String>(),
                            names.join(", ")
                        ),
                    )
                })?,
        ),
    };
    let search = q
        .search
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(ApiError::bad_param("search", "at most 64 characters"));
    }
    let indicators: Vec<DefinitionOut> = REGISTRY
        .iter()
        .filter(|d| category.is_none_or(|c| d.category == c))
        .filter(|d| {
            search.as_ref().is_none_or(|s| {
                d.name.to_ascii_lowercase().contains(s)
                    || d.display_name.to_ascii_lowercase().contains(s)
                    || d.description.to_ascii_lowercase().contains(s)
            })
        })
        .map(definition)
        .collect();
    Ok(Json(ListResponse {
        status: "success",
        total: indicators.len(),
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        timeframes: Timeframe::ALL.iter().map(|t| t.as_str()).collect(),
        indicators,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DefinitionResponse {
    pub status: &'static str,
    pub indicator: DefinitionOut,
}

/// `GET /indicators/definition/{name}` (aliases and ids accepted: `BB`, `RSI_14`).
#[utoipa::path(get, path = "/indicators/definition/{name}", tag = "indicators", params(("name" = String, Path, description = "indicator name, alias or id")), responses((status = 200, body = DefinitionResponse)))]
pub async fn definition_route(
    Path(name): Path<String>,
) -> Result<Json<DefinitionResponse>, ApiError> {
    match IndicatorId::parse(&name) {
        Ok(id) => Ok(Json(DefinitionResponse {
            status: "success",
            indicator: definition(id.def()),
        })),
        Err(e) => Err(ApiError::not_found("unknown_indicator", e.to_string())),
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(current))
        .routes(routes!(at_offset))
        .routes(routes!(history))
        .routes(routes!(batch))
        .routes(routes!(subscribe))
        .routes(routes!(unsubscribe))
        .routes(routes!(list))
        .routes(routes!(definition_route))
}
