//! `/indicators/stream`: subscriptions per connection, and the session that reports their
//! values on every bar close (or forming-bar change in tick mode).

use super::*;

use super::updates::{series, stored_closed, updates};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Bar,
    Tick,
}

#[derive(Debug)]
pub(super) struct Sub {
    pub(super) symbol: String,
    pub(super) tf: Timeframe,
    pub(super) ids: Vec<(String, IndicatorId)>,
    pub(super) mode: Mode,
    /// Also report each closed bar (`"bars": true`), and in tick mode the forming one.
    pub(super) bars: bool,
    /// Start of the newest closed bar already reported (or seen at subscription).
    pub(super) last_closed: Option<i64>,
    /// The series last reported in tick mode.
    pub(super) last_series: Option<Arc<Series>>,
    /// The pipeline writes this instrument's bar closes first while the subscription lasts.
    pub(super) _watch: crate::ingest::pipeline::Watch,
}

impl Sub {
    pub(super) fn depth(&self) -> usize {
        self.ids
            .iter()
            .map(|(_, id)| depth(id, self.tf, 2))
            .max()
            .unwrap_or(2)
    }
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
    let mut subs: Vec<Sub> = Vec::new();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Bars become reportable when stored: look as soon as the writer settles some.
    let mut stored = state.pipeline.writer().watch_settled();
    loop {
        tokio::select! {
            Ok(()) = stored.changed(), if subs.iter().any(|s| s.mode == Mode::Bar) => {
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

pub(super) async fn handle(state: &AppState, subs: &mut Vec<Sub>, text: &str) -> Value {
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

pub(super) async fn subscribe(
    state: &AppState,
    subs: &mut Vec<Sub>,
    msg: ClientMsg,
) -> Result<Value, ApiError> {
    let sym = instrument(state, "symbol", msg.symbol.as_deref())?;
    let tf = timeframe(msg.timeframe.as_deref())?;
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
    let parsed = msg
        .indicators
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse(i).map(|r| (r.sent, r.id)))
        .collect::<Result<Vec<_>, _>>()?;
    let symbol = sym.tradingsymbol.to_string();
    let pos = subs.iter().position(|s| s.symbol == symbol && s.tf == tf);
    if pos.is_none() && subs.len() >= MAX_STREAM_SUBSCRIPTIONS {
        return Err(ApiError::bad_param(
            "symbol",
            format!(
                "at most {MAX_STREAM_SUBSCRIPTIONS} symbol/timeframe subscriptions per connection"
            ),
        ));
    }
    let i = if let Some(i) = pos {
        i
    } else {
        subs.push(Sub {
            symbol: symbol.clone(),
            tf,
            ids: Vec::new(),
            mode,
            bars: false,
            last_closed: None,
            last_series: None,
            _watch: state.pipeline.watch(&symbol),
        });
        subs.len() - 1
    };
    let sub = &mut subs[i];
    sub.mode = mode;
    sub.bars |= msg.bars;
    for (sent, id) in parsed {
        if !sub.ids.iter().any(|(_, x)| *x == id) {
            if sub.ids.len() >= MAX_INDICATORS {
                return Err(ApiError::bad_param(
                    "indicators",
                    "too many indicators on this symbol/timeframe",
                ));
            }
            sub.ids.push((sent, id));
        }
    }
    let series = series(state, sub).await?;
    sub.last_closed = stored_closed(state, sub, &series).last().map(|b| b.start);
    sub.last_series = Some(series.clone());
    let mut values = serde_json::Map::new();
    for (sent, id) in &sub.ids {
        let v = if series.bars.is_empty() {
            Value::Null
        } else {
            render(id, &column(&tail_values(id, tf, &series.bars, 1)?, 0))
        };
        values.insert(sent.clone(), v);
    }
    Ok(json!({
        "type": "success",
        "action": "subscribe",
        "symbol": symbol,
        "timeframe": tf.as_str(),
        "mode": if mode == Mode::Tick { "tick" } else { "bar" },
        "indicators": sub.ids.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
        "values": values,
        "candle_time": series.bars.last().map(|b| b.start),
        "bars": sub.bars,
        // The newest closed bar now: updates follow for every bar closing after it.
        "last_closed": sub.last_closed,
    }))
}

pub(super) fn unsubscribe(
    state: &AppState,
    subs: &mut Vec<Sub>,
    msg: ClientMsg,
) -> Result<Value, ApiError> {
    let sym = instrument(state, "symbol", msg.symbol.as_deref())?;
    let tf = timeframe(msg.timeframe.as_deref())?;
    let symbol = sym.tradingsymbol.to_string();
    let Some(i) = subs.iter().position(|s| s.symbol == symbol && s.tf == tf) else {
        return Err(ApiError::not_found(
            "not_subscribed",
            format!("not subscribed to {symbol} {}", tf.as_str()),
        ));
    };
    let removed: Vec<String> = if msg.indicators.is_empty() && msg.bars {
        // Only the bars: the indicators stay.
        subs[i].bars = false;
        if subs[i].ids.is_empty() {
            subs.remove(i);
        }
        Vec::new()
    } else if msg.indicators.is_empty() {
        let all = subs.remove(i);
        all.ids.into_iter().map(|(s, _)| s).collect()
    } else {
        let ids = msg
            .indicators
            .iter()
            .enumerate()
            .map(|(k, s)| s.parse(k).map(|r| r.id))
            .collect::<Result<Vec<_>, _>>()?;
        let sub = &mut subs[i];
        let mut removed = Vec::new();
        sub.ids.retain(|(sent, id)| {
            let drop = ids.contains(id);
            if drop {
                removed.push(sent.clone());
            }
            !drop
        });
        if sub.ids.is_empty() && !sub.bars {
            subs.remove(i);
        }
        removed
    };
    Ok(json!({
        "type": "success",
        "action": "unsubscribe",
        "symbol": symbol,
        "timeframe": tf.as_str(),
        "indicators": removed,
    }))
}
