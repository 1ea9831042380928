//! `/indicators/stream`: subscriptions per connection, and the session that reports their
//! values on every bar close (or forming-bar change in tick mode).

use super::*;

use stocksblitz_engine::stream::{
    Mode, StreamError, StreamUpdate, SubscribeRequest, Subscriptions, Unsubscribe,
};

/// `GET /indicators/stream` (WebSocket).
#[utoipa::path(get, path = "/indicators/stream", tag = "streams", description = "WebSocket: subscribe/unsubscribe/ping messages; indicator_update on bar close or per tick.", params(StreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub(super) async fn indicators_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    upgrade(ws, q.token, &headers, move |socket, token| {
        indicator_session(socket, state, token, peer)
    })
}

pub(super) async fn indicator_session(
    socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
) {
    let Some((mut socket, _who, _open)) =
        open_session(socket, &state, token, &peer, Ack::Always).await
    else {
        return;
    };
    let mut subs = Subscriptions::new(MAX_STREAM_SUBSCRIPTIONS, MAX_INDICATORS);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Bars become reportable when stored: look as soon as the writer settles some.
    let mut stored = state.pipeline.writer().watch_settled();
    loop {
        tokio::select! {
            Ok(()) = stored.changed(), if subs.any_bar_mode() => {
                for update in updates(&state, &mut subs).await {
                    if !send(&state.metrics, &mut socket, &update).await {
                        return;
                    }
                }
            }
            msg = socket.recv() => {
                let reply = match msg {
                    Some(Ok(Message::Text(text))) if text.len() > MAX_MESSAGE_BYTES => {
                        too_big(&state.metrics, socket).await;
                        return;
                    }
                    Some(Ok(Message::Text(text))) => handle(&state, &mut subs, &text).await,
                    Some(Ok(Message::Binary(_))) => error_msg("invalid_message", "send JSON text messages"),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                if !send(&state.metrics, &mut socket, &reply).await {
                    break;
                }
            }
            _ = poll.tick() => {
                for update in updates(&state, &mut subs).await {
                    if !send(&state.metrics, &mut socket, &update).await {
                        return;
                    }
                }
            }
        }
    }
}

pub(super) async fn handle(state: &AppState, subs: &mut Subscriptions, text: &str) -> Value {
    let msg: ClientMsg = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => return error_msg("invalid_json", format!("invalid message: {e}")),
    };
    match msg.action.as_deref() {
        Some("ping") => json!({"type": "pong", "timestamp": now_ms() / 1000}),
        Some("auth") => json!({"type": "success", "action": "auth"}),
        Some("subscribe") => match subscribe(state, subs, msg).await {
            Ok(v) => v,
            Err(e) => api_error_msg(&e),
        },
        Some("unsubscribe") => match unsubscribe(state, subs, msg) {
            Ok(v) => v,
            Err(e) => api_error_msg(&e),
        },
        Some(other) => error_msg(
            "unknown_action",
            format!(
                "unknown action {:?}; expected subscribe, unsubscribe or ping",
                other.chars().take(32).collect::<String>()
            ),
        ),
        None => error_msg("missing_action", "the message has no \"action\""),
    }
}

/// What a poll owes the connection, as messages.
async fn updates(state: &AppState, subs: &mut Subscriptions) -> Vec<Value> {
    let updates = subs.poll(&state.engine).await;
    if updates.is_empty() {
        return Vec::new();
    }
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    updates
        .into_iter()
        .map(|u| update_msg(u, &timestamp))
        .collect()
}

/// A bar message (`complete: false`: the forming bar, which later messages of the same `time`
/// replace; `closed_at`: when the server closed it, epoch ms, null when unknown or forming — a
/// feed's latency is the time of arrival minus this), or an indicator's value at a bar.
fn update_msg(u: StreamUpdate, timestamp: &str) -> Value {
    match u {
        StreamUpdate::Bar {
            symbol,
            tf,
            bar,
            complete,
            closed_at,
        } => json!({
            "type": "bar",
            "symbol": symbol,
            "timeframe": tf.as_str(),
            "time": bar.start,
            "open": bar.open,
            "high": bar.high,
            "low": bar.low,
            "close": bar.close,
            "volume": bar.volume,
            "oi": bar.oi,
            "complete": complete,
            "closed_at": closed_at,
        }),
        StreamUpdate::Value {
            symbol,
            tf,
            sent,
            id,
            values,
            candle_time,
            complete,
        } => json!({
            "type": "indicator_update",
            "symbol": symbol,
            "timeframe": tf.as_str(),
            "indicator_id": sent,
            "value": render(&id, &values),
            "candle_time": candle_time,
            "complete": complete,
            "timestamp": timestamp,
        }),
    }
}

fn stream_error(e: StreamError) -> ApiError {
    match e {
        e @ StreamError::TooManySubscriptions { .. } => ApiError::bad_param("symbol", e),
        e @ StreamError::TooManyIndicators { .. } => ApiError::bad_param("indicators", e),
        e @ StreamError::NotSubscribed { .. } => {
            ApiError::not_found("not_subscribed", e.to_string())
        }
        StreamError::Engine(e) => e.into(),
    }
}

fn symbol_timeframe(state: &AppState, msg: &ClientMsg) -> Result<(String, Timeframe), ApiError> {
    let sym = instrument(state, "symbol", msg.symbol.as_deref())?;
    let tf = timeframe(msg.timeframe.as_deref())?;
    Ok((sym.tradingsymbol.to_string(), tf))
}

pub(super) async fn subscribe(
    state: &AppState,
    subs: &mut Subscriptions,
    msg: ClientMsg,
) -> Result<Value, ApiError> {
    let (symbol, tf) = symbol_timeframe(state, &msg)?;
    let mode = match msg.mode.as_deref() {
        None | Some("bar") => Mode::Bar,
        Some("tick") => Mode::Tick,
        Some(m) => {
            return Err(ApiError::bad_param(
                "mode",
                format!(
                    "expected \"bar\" or \"tick\", got {:?}",
                    m.chars().take(16).collect::<String>()
                ),
            ));
        }
    };
    if !(msg.bars && msg.indicators.is_empty()) {
        crate::routes::list_size(
            "indicators",
            msg.indicators.len(),
            MAX_INDICATORS,
            "indicators",
        )?;
    }
    let ids = msg
        .indicators
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse(i).map(|r| (r.sent, r.id)))
        .collect::<Result<Vec<_>, _>>()?;
    let done = subs
        .subscribe(
            &state.engine,
            SubscribeRequest {
                symbol,
                tf,
                mode,
                bars: msg.bars,
                ids,
            },
        )
        .await
        .map_err(stream_error)?;
    let mut values = serde_json::Map::new();
    for (sent, id, v) in &done.values {
        values.insert(
            sent.clone(),
            v.as_ref().map_or(Value::Null, |v| render(id, v)),
        );
    }
    Ok(json!({
        "type": "success",
        "action": "subscribe",
        "symbol": done.symbol,
        "timeframe": done.tf.as_str(),
        "mode": done.mode.as_str(),
        "indicators": done.values.iter().map(|(s, _, _)| s.clone()).collect::<Vec<_>>(),
        "values": values,
        "candle_time": done.candle_time,
        "bars": done.bars,
        // The newest closed bar now: updates follow for every bar closing after it.
        "last_closed": done.last_closed,
    }))
}

pub(super) fn unsubscribe(
    state: &AppState,
    subs: &mut Subscriptions,
    msg: ClientMsg,
) -> Result<Value, ApiError> {
    let (symbol, tf) = symbol_timeframe(state, &msg)?;
    let what = if msg.indicators.is_empty() && msg.bars {
        Unsubscribe::Bars
    } else if msg.indicators.is_empty() {
        Unsubscribe::All
    } else {
        Unsubscribe::Ids(
            msg.indicators
                .iter()
                .enumerate()
                .map(|(k, s)| s.parse(k).map(|r| r.id))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let removed = subs.unsubscribe(&symbol, tf, what).map_err(stream_error)?;
    Ok(json!({
        "type": "success",
        "action": "unsubscribe",
        "symbol": symbol,
        "timeframe": tf.as_str(),
        "indicators": removed,
    }))
}
