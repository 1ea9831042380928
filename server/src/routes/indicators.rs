//! The indicator routes (the old backend's paths and shapes, fixed): values computed by the
//! indicators crate over the bar series (store + recent + forming bar) with enough warm-up
//! for exact values; current values cached per (instrument, timeframe, canonical id) until the
//! instrument's bars change; subscriptions stored per client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Path, State};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stocksblitz_indicators::{Category, Frame, IndicatorId, ParamKind, REGISTRY, compute};
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::subscriptions::SubscriptionKey;

use super::{ApiJson, bounded, instrument, list_size, series, timeframe};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::series::Series;
use crate::state::AppState;

/// Most indicator ids in one request.
pub const MAX_INDICATORS: usize = 20;
/// Largest `lookback` of `/indicators/history` and `/batch`.
pub const MAX_LOOKBACK: usize = 5000;
/// Largest `offset` of `/indicators/at-offset`.
pub const MAX_OFFSET: usize = 5000;
/// Most queries in one `/indicators/batch`.
pub const MAX_BATCH_QUERIES: usize = 100;
/// Most cached current values (the least useful leave first).
const MAX_CACHED_VALUES: usize = 16_384;

/// (instrument, timeframe, canonical id).
type ValueKey = (CompactString, Timeframe, String);
/// Values and the series they were computed on.
type Computed = (Arc<Series>, Vec<f64>);

/// Cached latest values: key → (the series they were computed on, one value per output).
/// Bounded with real eviction (S3-FIFO: rarely read keys leave first), so a full cache never
/// starts over for everyone at once.
#[derive(Debug)]
pub struct ValueCache {
    // Behind an Arc: a hit clones one pointer, not the series handle and the values.
    map: quick_cache::sync::Cache<ValueKey, Arc<Computed>>,
    hits: AtomicU64,
    computed: AtomicU64,
}

impl Default for ValueCache {
    fn default() -> Self {
        ValueCache {
            map: quick_cache::sync::Cache::new(MAX_CACHED_VALUES),
            hits: AtomicU64::new(0),
            computed: AtomicU64::new(0),
        }
    }
}

impl ValueCache {
    /// (served from the cache, computed) since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.computed.load(Ordering::Relaxed),
        )
    }

    fn get(
        &self,
        key: &(CompactString, Timeframe, String),
        series: &Arc<Series>,
    ) -> Option<Vec<f64>> {
        self.map
            .get(key)
            .filter(|c| Arc::ptr_eq(&c.0, series))
            .map(|c| c.1.clone())
    }

    fn put(&self, key: ValueKey, series: Arc<Series>, values: Vec<f64>) {
        self.map.insert(key, Arc::new((series, values)));
    }
}

/// An id as the client wrote it, parsed.
pub(crate) struct Requested {
    pub(crate) sent: String,
    pub(crate) id: IndicatorId,
}

fn parse_id(param: &str, raw: &str) -> Result<IndicatorId, ApiError> {
    IndicatorId::parse(raw).map_err(|e| ApiError::bad_param(param, e))
}

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

/// Bars of `tf` needed so that the newest `wanted` values of `id` are exact.
pub(crate) fn depth(id: &IndicatorId, tf: Timeframe, wanted: usize) -> usize {
    id.warmup(tf.bars_per_session()) + wanted
}

/// Compute `id` over the last `wanted` bars of `bars` plus its warm-up; returns one series per
/// output, each `min(wanted, bars.len())` long (the tail).
pub(crate) fn tail_values(
    id: &IndicatorId,
    tf: Timeframe,
    bars: &[Bar],
    wanted: usize,
) -> Result<Vec<Vec<f64>>, ApiError> {
    let from = bars.len().saturating_sub(depth(id, tf, wanted));
    let window = &bars[from..];
    let col = |f: fn(&Bar) -> f64| window.iter().map(f).collect::<Vec<f64>>();
    let (open, high, low, close) = (
        col(|b| b.open),
        col(|b| b.high),
        col(|b| b.low),
        col(|b| b.close),
    );
    let volume = col(|b| b.volume as f64);
    let time: Vec<i64> = window.iter().map(|b| b.start).collect();
    let frame = Frame {
        open: Some(&open),
        high: Some(&high),
        low: Some(&low),
        close: Some(&close),
        volume: Some(&volume),
        time: Some(&time),
    };
    let out = compute(id, &frame).map_err(|e| ApiError::bad_param("indicator", e))?;
    let keep = wanted.min(window.len());
    Ok(out
        .series
        .into_iter()
        .map(|s| s[s.len() - keep..].to_vec())
        .collect())
}

/// One value for the response: a number (null when undefined) or an object of named outputs.
pub(crate) fn render(id: &IndicatorId, values: &[f64]) -> Value {
    let def = id.def();
    if !def.is_multi_output() {
        return values.first().copied().map_or(Value::Null, Value::from);
    }
    let mut obj = Map::new();
    for (name, v) in def.outputs.iter().zip(values) {
        obj.insert((*name).to_string(), Value::from(*v));
    }
    Value::Object(obj)
}

pub(crate) fn column(series: &[Vec<f64>], i: usize) -> Vec<f64> {
    series.iter().map(|s| s[i]).collect()
}

/// The newest value of every output of `id` (cached until the series changes).
fn current_values(
    state: &AppState,
    series: &Arc<Series>,
    tf: Timeframe,
    id: &IndicatorId,
) -> Result<Option<Vec<f64>>, ApiError> {
    let Some(last) = series.bars.last() else {
        return Ok(None);
    };
    let key = (last.instrument.clone(), tf, id.canonical());
    if let Some(v) = state.indicator_values.get(&key, series) {
        state.indicator_values.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(Some(v));
    }
    state
        .indicator_values
        .computed
        .fetch_add(1, Ordering::Relaxed);
    let tail = tail_values(id, tf, &series.bars, 1)?;
    let v = column(&tail, 0);
    state.indicator_values.put(key, series.clone(), v.clone());
    Ok(Some(v))
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
    let need = ids.iter().map(|r| depth(&r.id, tf, 1)).max().unwrap_or(1);
    let series = series(&state, &sym.tradingsymbol, tf, need).await?;
    let mut out = Vec::with_capacity(ids.len());
    for r in &ids {
        let v = current_values(&state, &series, tf, &r.id)?;
        out.push((r.sent.clone(), v.map_or(Value::Null, |v| render(&r.id, &v))));
    }
    Ok(Json(CurrentResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        timestamp: iso_now(),
        candle_time: series.bars.last().map(|b| b.start),
        indicators: Ordered(out),
        reason: series.bars.is_empty().then_some("no_data"),
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
    let need = ids
        .iter()
        .map(|r| depth(&r.id, tf, offset + 1))
        .max()
        .unwrap_or(1);
    let series = series(&state, &sym.tradingsymbol, tf, need).await?;
    let n = series.bars.len();
    let target = (offset < n).then(|| n - 1 - offset);
    let mut out = Vec::with_capacity(ids.len());
    for r in &ids {
        let v = match target {
            Some(t) => {
                let tail = tail_values(&r.id, tf, &series.bars[..=t], 1)?;
                render(&r.id, &column(&tail, 0))
            }
            None => Value::Null,
        };
        out.push((r.sent.clone(), v));
    }
    Ok(Json(AtOffsetResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        offset,
        candle_time: target.map(|t| series.bars[t].start),
        indicators: Ordered(out),
        reason: match (n, target) {
            (0, _) => Some("no_data"),
            (_, None) => Some("insufficient_data"),
            _ => None,
        },
    }))
}

/// One point of a history series: `value` for single-output indicators, the output names
/// otherwise.
fn history_points(
    id: &IndicatorId,
    tf: Timeframe,
    bars: &[Bar],
    lookback: usize,
    with_back: bool,
) -> Result<Vec<Value>, ApiError> {
    let tail = tail_values(id, tf, bars, lookback)?;
    let k = tail.first().map_or(0, Vec::len);
    let first = bars.len() - k;
    let mut points = Vec::with_capacity(k);
    for i in 0..k {
        let mut p = Map::new();
        p.insert("time".into(), Value::from(bars[first + i].start));
        match render(id, &column(&tail, i)) {
            Value::Object(outputs) => p.extend(outputs),
            v => {
                p.insert("value".into(), v);
            }
        }
        if with_back {
            p.insert("candles_back".into(), Value::from(k - 1 - i));
        }
        points.push(Value::Object(p));
    }
    Ok(points)
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
    let series = series(&state, &sym.tradingsymbol, tf, depth(&id, tf, lookback)).await?;
    let points = history_points(&id, tf, &series.bars, lookback, true)?;
    Ok(Json(HistoryResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        timeframe: tf.as_str(),
        indicator: sent.to_string(),
        count: points.len(),
        series: points,
        reason: series.bars.is_empty().then_some("no_data"),
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
        let series = series(&state, &sym.tradingsymbol, tf, depth(&id, tf, lookback)).await?;
        results.push(BatchResult {
            timeframe: tf.as_str(),
            indicator: sent,
            series: history_points(&id, tf, &series.bars, lookback, false)?,
        });
    }
    Ok(Json(BatchResponse {
        status: "success",
        symbol: sym.tradingsymbol.to_string(),
        results,
    }))
}

/// An indicator in a subscribe request: `"RSI_14"` or `{"name": "RSI", "params": {"length": 14}}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum IndicatorSpec {
    Id(String),
    Named {
        name: String,
        #[serde(default)]
        #[schema(value_type = Object)]
        params: Map<String, Value>,
    },
}

impl IndicatorSpec {
    pub(crate) fn parse(&self, i: usize) -> Result<Requested, ApiError> {
        let param = format!("indicators[{i}]");
        match self {
            IndicatorSpec::Id(s) => Ok(Requested {
                sent: s.trim().to_string(),
                id: parse_id(&param, s)?,
            }),
            IndicatorSpec::Named { name, params } => {
                let mut named = Vec::with_capacity(params.len());
                for (k, v) in params {
                    let Some(x) = v.as_f64() else {
                        return Err(ApiError::bad_param(
                            &format!("{param}.params.{k}"),
                            format!("must be a number, got {v}"),
                        ));
                    };
                    named.push((k.as_str(), x));
                }
                let id = IndicatorId::with_named(name, named)
                    .map_err(|e| ApiError::bad_param(&param, e))?;
                Ok(Requested {
                    sent: id.canonical(),
                    id,
                })
            }
        }
    }
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
    let need = ids.iter().map(|r| depth(&r.id, tf, 1)).max().unwrap_or(1);
    let series = series(&state, &sym.tradingsymbol, tf, need).await?;
    let mut subs = Vec::with_capacity(ids.len());
    for r in &ids {
        let canonical = r.id.canonical();
        let key = SubscriptionKey {
            instrument: &sym.tradingsymbol,
            timeframe: tf.as_str(),
            indicator_id: &canonical,
        };
        state
            .store
            .subscribe(&client, &key, now)
            .await
            .map_err(ApiError::store_unavailable)?;
        let count = state
            .store
            .subscriber_count(&key)
            .await
            .map_err(ApiError::store_unavailable)?;
        let value =
            current_values(&state, &series, tf, &r.id)?.map_or(Value::Null, |v| render(&r.id, &v));
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
        let removed = state
            .store
            .unsubscribe(&client, &key)
            .await
            .map_err(ApiError::store_unavailable)?;
        let count = state
            .store
            .subscriber_count(&key)
            .await
            .map_err(ApiError::store_unavailable)?;
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
