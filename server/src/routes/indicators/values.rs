//! `/indicators/current`, `/at-offset`, `/history`, `/batch`: values of indicator ids over an\ninstrument's bars, from the engine.

use super::*;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CurrentQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[param(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[param(value_type = crate::wire::schema::IndicatorList, inline, style = Form, explode = false)]
    pub indicators: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CurrentResponse {
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
pub(super) async fn current(
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
pub(super) struct AtOffsetQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[param(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[param(value_type = crate::wire::schema::IndicatorList, inline, style = Form, explode = false)]
    pub indicators: Option<String>,
    #[param(value_type = Option<u64>, minimum = 0, maximum = 5000)]
    pub offset: Option<crate::routes::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AtOffsetResponse {
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
pub(super) async fn at_offset(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<AtOffsetQuery>,
) -> Result<Json<AtOffsetResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", q.symbol.as_deref())?;
    let tf = timeframe(q.timeframe.as_deref())?;
    let ids = parse_ids("indicators", q.indicators.as_deref())?;
    let offset = bounded(
        "offset",
        q.offset.map(crate::routes::Count::get),
        0,
        0,
        MAX_OFFSET,
    )?;
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
pub(super) fn history_points(id: &IndicatorId, points: &[Point], with_back: bool) -> Vec<Value> {
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
pub(super) struct HistoryQuery {
    #[param(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[param(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[param(value_type = crate::wire::schema::Indicator, inline)]
    pub indicator: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 5000)]
    pub lookback: Option<crate::routes::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct HistoryResponse {
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
pub(super) async fn history(
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
        q.lookback.map(crate::routes::Count::get),
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
pub(super) struct BatchQuery {
    #[schema(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[schema(value_type = crate::wire::schema::Indicator, inline)]
    pub indicator: Option<String>,
    /// Values wanted (default 20).
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    #[schema(minimum = 1, maximum = 5000)]
    pub lookback: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct BatchRequest {
    #[schema(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    /// 1 to 100 queries.
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 100)]
    pub queries: Vec<BatchQuery>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct BatchResult {
    pub timeframe: &'static str,
    pub indicator: String,
    pub series: Vec<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct BatchResponse {
    pub status: &'static str,
    pub symbol: String,
    pub results: Vec<BatchResult>,
}

/// `POST /indicators/batch`: several (timeframe, indicator, lookback) series of one symbol.
/// Every query is validated before any is computed; a bad one is a 400 naming its index.
#[utoipa::path(post, path = "/indicators/batch", tag = "indicators", request_body = BatchRequest, security(("bearer" = [])), responses((status = 200, body = BatchResponse)))]
pub(super) async fn batch(
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
