//! The WebSockets: `/indicators/stream` (indicator updates on every bar close, or on every
//! change of the forming bar with `"mode": "tick"`) and `/monitor/stream` (quotes of one
//! underlying as they change, latest wins per instrument). All three authenticate with `?token=`,
//! an `Authorization` header or a first `{"action": "auth", "token": …}` message (what a browser
//! sends: it cannot set headers, and a token in a URL ends up in logs), and close with 1008 when
//! that fails. Each connection polls the shared series cache and snapshot
//! every [`POLL`]; a slow client only delays itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::Timeframe;

use stocksblitz_engine::Series;
use stocksblitz_engine::values::{column, depth, tail_values};

use super::underlying_name;
use super::{instrument, timeframe};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::ClientIp;
use crate::ingest::now_ms;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::wire::indicators::{IndicatorSpec, MAX_INDICATORS, render};
use crate::wire::quotes::QuoteOut;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How often a connection looks for new bars or quotes.
pub const POLL: Duration = Duration::from_millis(250);
/// Largest client message (bytes).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Most (symbol, timeframe) subscriptions per connection.
pub const MAX_STREAM_SUBSCRIPTIONS: usize = 50;
/// Time a connection without a token has to authenticate with its first message.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// WebSocket close code for a policy violation (failed authentication).
const POLICY_VIOLATION: u16 = 1008;
/// WebSocket close code for a message over the size limit.
const MESSAGE_TOO_BIG: u16 = 1009;
/// Largest frame the protocol layer reads: a message between [`MAX_MESSAGE_BYTES`] and this is
/// answered with 1009; a larger one ends the connection.
const MAX_FRAME_BYTES: usize = 1 << 20;
/// Longest a send waits for the client to read.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a connection may have queued for a client that does not read (then it is dropped).
const MAX_WRITE_BUFFER: usize = 256 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    pub token: Option<String>,
    pub underlying: Option<String>,
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    crate::identity::extract::bearer_token(headers).map(str::to_string)
}

type Peer = ClientIp;

async fn authenticate(state: &AppState, token: &str, peer: &Peer) -> Result<(), String> {
    authenticate_user(state, token, peer).await.map(|_| ())
}

async fn authenticate_user(
    state: &AppState,
    token: &str,
    peer: &Peer,
) -> Result<crate::identity::UserIdentity, String> {
    match state.identity.authenticate(token, peer.0).await {
        Ok(id) if id.scopes.contains(stocksblitz_auth::Scope::Read) => Ok(id),
        Ok(_) => Err("this stream needs the read scope".into()),
        Err(e) => {
            state.metrics.auth_failure(e.code());
            Err(format!("not authenticated: {e}"))
        }
    }
}

async fn close_policy(mut socket: WebSocket, reason: String) {
    let reason: String = reason.chars().take(120).collect();
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: POLICY_VIOLATION,
            reason: Utf8Bytes::from(reason),
        })))
        .await;
}

async fn send(metrics: &Metrics, socket: &mut WebSocket, v: &Value) -> bool {
    send_text(metrics, socket, Utf8Bytes::from(v.to_string())).await
}

/// Send a text message, waiting at most [`SEND_TIMEOUT`] for the client to take it: a client
/// that stops reading is dropped (counted), not kept with its buffers filling.
async fn send_text(metrics: &Metrics, socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await {
        Ok(r) => r.is_ok(),
        Err(_) => {
            metrics.ws_dropped_slow.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// Refuse a message over the size limit: close with 1009 (message too big), counted.
async fn too_big(metrics: &Metrics, mut socket: WebSocket) {
    metrics.ws_closed_too_big.fetch_add(1, Ordering::Relaxed);
    let close = Message::Close(Some(CloseFrame {
        code: MESSAGE_TOO_BIG,
        reason: Utf8Bytes::from(format!("messages are at most {MAX_MESSAGE_BYTES} bytes")),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(close)).await;
}

fn error_msg(code: &str, message: impl std::fmt::Display) -> Value {
    json!({"type": "error", "error_code": code, "message": message.to_string()})
}

/// The token of a connection's first message, `{"action": "auth", "token": …}` (waiting at most
/// [`AUTH_TIMEOUT`]); the reason to close otherwise.
async fn first_message_token(socket: &mut WebSocket) -> Result<String, String> {
    const EXPECTED: &str = "the first message must be {\"action\": \"auth\", \"token\": …}";
    match tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) if text.len() <= MAX_MESSAGE_BYTES => {
            match serde_json::from_str::<ClientMsg>(&text) {
                Ok(ClientMsg {
                    action: Some(a),
                    token: Some(t),
                    ..
                }) if a == "auth" => Ok(t),
                _ => Err(EXPECTED.into()),
            }
        }
        Ok(_) => Err(EXPECTED.into()),
        Err(_) => Err("no authentication within 10 s".into()),
    }
}

fn api_error_msg(e: &ApiError) -> Value {
    error_msg(e.code, &e.detail)
}

/// `GET /indicators/stream` (WebSocket).
#[utoipa::path(get, path = "/indicators/stream", tag = "streams", description = "WebSocket: subscribe/unsubscribe/ping messages; indicator_update on bar close or per tick.", params(StreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn indicators_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(upgrade_required)?;
    let token = q.token.or_else(|| header_token(&headers));
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| indicator_session(socket, state, token, peer)))
}

/// A plain GET on a WebSocket route: 426 with the JSON error body.
fn upgrade_required(e: WebSocketUpgradeRejection) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        format!("this is a WebSocket endpoint: {}", e.body_text()),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bar,
    Tick,
}

#[derive(Debug)]
struct Sub {
    symbol: String,
    tf: Timeframe,
    ids: Vec<(String, IndicatorId)>,
    mode: Mode,
    /// Also report each closed bar (`"bars": true`), and in tick mode the forming one.
    bars: bool,
    /// Start of the newest closed bar already reported (or seen at subscription).
    last_closed: Option<i64>,
    /// The series last reported in tick mode.
    last_series: Option<Arc<Series>>,
    /// The pipeline writes this instrument's bar closes first while the subscription lasts.
    _watch: crate::ingest::pipeline::Watch,
}

impl Sub {
    fn depth(&self) -> usize {
        self.ids
            .iter()
            .map(|(_, id)| depth(id, self.tf, 2))
            .max()
            .unwrap_or(2)
    }
}

#[derive(Debug, Deserialize)]
struct ClientMsg {
    action: Option<String>,
    token: Option<String>,
    symbol: Option<String>,
    timeframe: Option<String>,
    #[serde(default)]
    indicators: Vec<IndicatorSpec>,
    mode: Option<String>,
    /// Subscribe: also send each closed bar (in tick mode also the forming bar, `complete:
    /// false`, on every change); unsubscribe: stop sending them.
    #[serde(default)]
    bars: bool,
}

async fn indicator_session(
    mut socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
) {
    // Authentication: the token given with the upgrade, else the first message.
    let authed = match token {
        Some(t) => authenticate(&state, &t, &peer).await,
        None => match first_message_token(&mut socket).await {
            Ok(t) => authenticate(&state, &t, &peer).await,
            Err(why) => Err(why),
        },
    };
    if let Err(why) = authed {
        close_policy(socket, why).await;
        return;
    }
    let _open = crate::metrics::OpenSocket::new(&state.metrics);
    if !send(
        &state.metrics,
        &mut socket,
        &json!({"type": "success", "action": "auth"}),
    )
    .await
    {
        return;
    }
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

async fn handle(state: &AppState, subs: &mut Vec<Sub>, text: &str) -> Value {
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

async fn subscribe(
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
        super::list_size(
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
    let i = match pos {
        Some(i) => i,
        None => {
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
        }
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

fn unsubscribe(state: &AppState, subs: &mut Vec<Sub>, msg: ClientMsg) -> Result<Value, ApiError> {
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

async fn series(state: &AppState, sub: &Sub) -> Result<Arc<Series>, ApiError> {
    Ok(state
        .engine
        .series(&sub.symbol, sub.tf, sub.depth())
        .await?)
}

/// Most bar closes a subscription reports in one poll (a jump of the demo clock closes many):
/// older ones are left to the client's gap fill from `/candles` and `/indicators/history`.
const MAX_CATCH_UP_BARS: usize = 500;

/// The series' closed bars that are stored (see `Pipeline::unstored_from`): a bar close is
/// reported only once durable, so what a stream saw is what `/candles` returns after a crash.
fn stored_closed<'a>(
    state: &AppState,
    sub: &Sub,
    series: &'a Series,
) -> &'a [stocksblitz_market::Bar] {
    let closed = series.closed();
    match state
        .pipeline
        .unstored_from(&sub.symbol, crate::ingest::now_ms())
    {
        Some(from) => {
            let span = sub.tf.seconds();
            &closed[..closed.partition_point(|b| b.start + span <= from)]
        }
        None => closed,
    }
}

fn bar_msg(state: &AppState, sub: &Sub, b: &stocksblitz_market::Bar) -> Value {
    bar_json(state, sub, b, true)
}

/// A bar message; `complete: false` is the forming bar (tick mode), which later messages of the
/// same `time` replace.
fn bar_json(state: &AppState, sub: &Sub, b: &stocksblitz_market::Bar, complete: bool) -> Value {
    // A bar of a longer timeframe closes with its last minute.
    let last_minute = b.start + (sub.tf.seconds() - 60).max(0);
    json!({
        "type": "bar",
        "symbol": sub.symbol,
        "timeframe": sub.tf.as_str(),
        "time": b.start,
        "open": b.open,
        "high": b.high,
        "low": b.low,
        "close": b.close,
        "volume": b.volume,
        "oi": b.oi,
        "complete": complete,
        // When the server closed the bar (epoch ms; null when it closed before this process
        // started or long ago, or while it forms): the feed's latency is the time of arrival
        // minus this.
        "closed_at": if complete { state.pipeline.closed_at(&sub.symbol, last_minute) } else { None },
    })
}

/// Updates due on this poll: per subscription in bar mode, every bar that closed since the last
/// poll, oldest first — its bar (when asked for) and then each indicator's value at it; in tick
/// mode, the current values when the series changed.
async fn updates(state: &AppState, subs: &mut [Sub]) -> Vec<Value> {
    let mut out = Vec::new();
    for sub in subs.iter_mut() {
        let Ok(mut series) = series(state, sub).await else {
            continue;
        };
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match sub.mode {
            Mode::Bar => {
                let closed = stored_closed(state, sub, &series);
                let Some(last) = closed.last() else { continue };
                if sub.last_closed.is_some_and(|t| t >= last.start) {
                    continue;
                }
                let from = sub.last_closed.map_or(closed.len() - 1, |t| {
                    closed.partition_point(|b| b.start <= t)
                });
                let k = (closed.len() - from).min(MAX_CATCH_UP_BARS);
                let last_start = last.start;
                sub.last_closed = Some(last_start);
                if k > 1 && !sub.ids.is_empty() {
                    // Several bars at once: read deep enough for every value to be exact.
                    let need = sub
                        .ids
                        .iter()
                        .map(|(_, id)| depth(id, sub.tf, k + 1))
                        .max()
                        .unwrap_or(k + 1);
                    match state.engine.series(&sub.symbol, sub.tf, need).await {
                        Ok(s) => series = s,
                        Err(_) => continue,
                    }
                }
                let closed = stored_closed(state, sub, &series);
                // A bar stored since the first read waits for the next poll.
                let closed = &closed[..closed.partition_point(|b| b.start <= last_start)];
                let k = k.min(closed.len());
                let new = &closed[closed.len() - k..];
                let tails: Vec<_> = sub
                    .ids
                    .iter()
                    .filter_map(|(sent, id)| {
                        tail_values(id, sub.tf, closed, k)
                            .ok()
                            .map(|t| (sent, id, t))
                    })
                    .collect();
                for (j, bar) in new.iter().enumerate() {
                    if sub.bars {
                        out.push(bar_msg(state, sub, bar));
                    }
                    for (sent, id, tail) in &tails {
                        // A tail shorter than k (little history) covers the newest bars.
                        let Some(i) = (j + tail.first().map_or(0, Vec::len)).checked_sub(k) else {
                            continue;
                        };
                        out.push(json!({
                            "type": "indicator_update",
                            "symbol": sub.symbol,
                            "timeframe": sub.tf.as_str(),
                            "indicator_id": sent,
                            "value": render(id, &column(tail, i)),
                            "candle_time": bar.start,
                            "complete": true,
                            "timestamp": timestamp,
                        }));
                    }
                }
            }
            Mode::Tick => {
                if sub.bars {
                    // Bars closed (and stored) since the last poll, then the forming bar.
                    let closed = stored_closed(state, sub, &series);
                    let from = sub
                        .last_closed
                        .map_or(0, |t| closed.partition_point(|b| b.start <= t));
                    let new = &closed[from.max(closed.len().saturating_sub(MAX_CATCH_UP_BARS))..];
                    for bar in new {
                        out.push(bar_json(state, sub, bar, true));
                    }
                    if let Some(last) = new.last() {
                        sub.last_closed = Some(last.start);
                    }
                }
                if sub
                    .last_series
                    .as_ref()
                    .is_some_and(|s| Arc::ptr_eq(s, &series))
                {
                    continue;
                }
                let Some(last) = series.bars.last() else {
                    continue;
                };
                if sub.bars && series.last_forming && sub.last_closed.is_none_or(|t| last.start > t)
                {
                    out.push(bar_json(state, sub, last, false));
                }
                let candle_time = last.start;
                for (sent, id) in &sub.ids {
                    let Ok(tail) = tail_values(id, sub.tf, &series.bars, 1) else {
                        continue;
                    };
                    out.push(json!({
                        "type": "indicator_update",
                        "symbol": sub.symbol,
                        "timeframe": sub.tf.as_str(),
                        "indicator_id": sent,
                        "value": render(id, &column(&tail, 0)),
                        "candle_time": candle_time,
                        "complete": !series.last_forming,
                        "timestamp": timestamp,
                    }));
                }
                sub.last_series = Some(series);
            }
        }
    }
    out
}

/// `GET /monitor/stream?underlying=NIFTY` (WebSocket): `{"channel", "payload"}` for every quote
/// of the underlying that changed since the last poll (latest wins per instrument).
#[utoipa::path(get, path = "/monitor/stream", tag = "streams", description = "WebSocket: {channel, payload} per changed quote of the underlying.", params(StreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn monitor_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    let underlying = match q
        .underlying
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(underlying_name(raw)?),
        None => None,
    };
    let ws = ws.map_err(upgrade_required)?;
    let token = q.token.or_else(|| header_token(&headers));
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| monitor_session(socket, state, token, peer, underlying)))
}

async fn monitor_session(
    mut socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    underlying: Option<String>,
) {
    // A token given with the upgrade; else the first message authenticates (what a browser,
    // which cannot set headers on a WebSocket, sends), acknowledged with a success message.
    let first_message = token.is_none();
    let authed = match token {
        Some(t) => authenticate(&state, &t, &peer).await,
        None => match first_message_token(&mut socket).await {
            Ok(t) => authenticate(&state, &t, &peer).await,
            Err(why) => Err(why),
        },
    };
    if let Err(why) = authed {
        close_policy(socket, why).await;
        return;
    }
    let _open = crate::metrics::OpenSocket::new(&state.metrics);
    if first_message
        && !send(
            &state.metrics,
            &mut socket,
            &json!({"type": "success", "action": "auth"}),
        )
        .await
    {
        return;
    }
    // Last exchange/receive time sent per instrument.
    let mut sent: HashMap<String, (i64, i64)> = HashMap::new();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) if text.len() > MAX_MESSAGE_BYTES => {
                    too_big(&state.metrics, socket).await;
                    return;
                }
                Some(Ok(Message::Text(text))) => {
                    let reply = match serde_json::from_str::<Value>(&text) {
                        Ok(v) if v.get("action").and_then(Value::as_str) == Some("ping") => json!({"type": "pong"}),
                        Ok(_) => error_msg("unknown_action", "this stream accepts only {\"action\": \"ping\"}"),
                        Err(e) => error_msg("invalid_json", format!("invalid message: {e}")),
                    };
                    if !send(&state.metrics, &mut socket, &reply).await {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = poll.tick() => {
                let now = now_ms();
                let basis = state.age_basis();
                // Serialized under the snapshot's lock (never held across a send): text, not
                // JSON values, so a poll's batch costs its bytes only.
                let batch: Vec<Utf8Bytes> = {
                    let Ok(snap) = state.pipeline.snapshot.read() else { break };
                    let mut batch = Vec::new();
                    for x in snap
                        .quotes()
                        .filter(|x| underlying.as_deref().is_none_or(|u| x.underlying == u))
                    {
                        let stamp = (x.exchange_ts_ms, x.recv_ts_ms);
                        if sent.get(x.tradingsymbol.as_str()) == Some(&stamp) {
                            continue;
                        }
                        sent.insert(x.tradingsymbol.to_string(), stamp);
                        let kind = if x.kind == stocksblitz_market::TickKind::Index { "underlying" } else { "options" };
                        #[derive(serde::Serialize)]
                        struct Item<'a> {
                            channel: String,
                            payload: &'a QuoteOut,
                        }
                        let payload = QuoteOut::from(x, now, basis);
                        let item = Item {
                            channel: format!("ticker:{}:{kind}", x.underlying.to_ascii_lowercase()),
                            payload: &payload,
                        };
                        if let Ok(text) = serde_json::to_string(&item) {
                            batch.push(Utf8Bytes::from(text));
                        }
                    }
                    batch
                };
                for text in batch {
                    if !send_text(&state.metrics, &mut socket, text).await {
                        return;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderStreamQuery {
    pub token: Option<String>,
    /// Only this account's updates (default: every account of the caller).
    pub account_id: Option<String>,
}

/// `GET /orders/stream` (WebSocket): `{"type": "order", "data": {Kite order fields}}` on every
/// status change of the caller's orders and `{"type": "trade", "data": {…}}` on every fill,
/// whichever replica matched them. A socket that falls behind is told how many it missed
/// (`{"type": "error", "error_code": "lagged"}`) and should re-read the order book.
#[utoipa::path(get, path = "/orders/stream", tag = "streams", description = "WebSocket: order and trade updates of the caller's paper accounts.", params(OrderStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn orders_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<OrderStreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    let account = match q
        .account_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ApiError::bad_param("account_id", "must be a positive integer"))?,
        ),
    };
    let ws = ws.map_err(upgrade_required)?;
    let token = q.token.or_else(|| header_token(&headers));
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| order_session(socket, state, token, peer, account)))
}

async fn order_session(
    mut socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    account: Option<i64>,
) {
    // Subscribe before authenticating so nothing between the two is missed.
    let mut rx = state.order_feed.tx.subscribe();
    let who = match token {
        Some(t) => authenticate_user(&state, &t, &peer).await,
        None => match first_message_token(&mut socket).await {
            Ok(t) => authenticate_user(&state, &t, &peer).await,
            Err(why) => Err(why),
        },
    };
    let who = match who {
        Ok(w) => w,
        Err(why) => {
            close_policy(socket, why).await;
            return;
        }
    };
    let owner = format!("user:{}", who.user_id);
    if let Some(id) = account {
        // Someone else's account is as unknown as a missing one.
        let mine = matches!(state.store.paper_account(id).await, Ok(Some(a)) if a.owner == owner);
        if !mine {
            let _ = send(
                &state.metrics,
                &mut socket,
                &error_msg("account_not_found", format!("no account {id}")),
            )
            .await;
            close_policy(socket, format!("no account {id}")).await;
            return;
        }
    }
    let _open = crate::metrics::OpenSocket::new(&state.metrics);
    if !send(
        &state.metrics,
        &mut socket,
        &json!({"type": "success", "action": "auth"}),
    )
    .await
    {
        return;
    }
    let lagged = "updates were missed; re-read the order book";
    relay(&state, socket, &mut rx, lagged, |item| {
        (item.owner == owner && account.is_none_or(|a| a == item.account))
            .then_some(item.text.as_str())
    })
    .await;
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserStreamQuery {
    pub token: Option<String>,
    /// Replay the stored events (messages) after this id first, oldest first (at most 1000),
    /// then go live: a reconnecting client misses nothing.
    #[param(value_type = Option<u64>)]
    pub after_id: Option<super::Count>,
}

/// What a per-user socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserKind {
    Alert,
    Message,
    News,
}

impl UserKind {
    fn as_str(self) -> &'static str {
        match self {
            UserKind::Alert => "alert",
            UserKind::Message => "message",
            UserKind::News => "news",
        }
    }
}

fn user_upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    state: Arc<AppState>,
    q: UserStreamQuery,
    headers: &HeaderMap,
    peer: Peer,
    kind: UserKind,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(upgrade_required)?;
    let token = q.token.or_else(|| header_token(headers));
    let after = q.after_id.map(super::Count::get);
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| user_session(socket, state, token, peer, after, kind)))
}

/// `GET /alerts/stream` (WebSocket): `{"type": "alert", "data": {event}}` for every alert of
/// the caller that fires (on whichever replica evaluated it) and every event the caller raises.
#[utoipa::path(get, path = "/alerts/stream", tag = "streams", description = "WebSocket: the caller's alert events as they fire (after_id= replays stored ones first).", params(UserStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn alerts_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UserStreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    user_upgrade(ws, state, q, &headers, peer, UserKind::Alert)
}

/// `GET /messages/stream` (WebSocket): `{"type": "message", "data": {message}}` for every
/// message any client of the caller publishes or sends (on any replica); never another user's.
#[utoipa::path(get, path = "/messages/stream", tag = "streams", description = "WebSocket: the caller's messages as they are published (after_id= replays stored ones first).", params(UserStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn messages_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UserStreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    user_upgrade(ws, state, q, &headers, peer, UserKind::Message)
}

/// `GET /news/stream` (WebSocket): `{"type": "news", "data": {item}}` for every item posted
/// (to every user; filter on the client).
#[utoipa::path(get, path = "/news/stream", tag = "streams", description = "WebSocket: news items as they are posted (after_id= replays stored ones first).", params(UserStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub async fn news_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UserStreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    user_upgrade(ws, state, q, &headers, peer, UserKind::News)
}

/// The stored items after `after` (oldest first) as stream messages.
async fn replay(
    state: &AppState,
    owner: &str,
    after: i64,
    kind: UserKind,
) -> Result<Vec<(i64, Value)>, stocksblitz_store::StoreError> {
    Ok(match kind {
        UserKind::Alert => {
            let f = stocksblitz_store::alerts::EventFilter {
                after_id: Some(after),
                oldest_first: true,
                limit: stocksblitz_store::alerts::MAX_EVENTS_LISTED,
                ..Default::default()
            };
            state
                .store
                .alert_events_of(owner, &f)
                .await?
                .iter()
                .map(|e| {
                    let data = crate::alerts::deliver::event_json(e);
                    (e.event_id, json!({"type": "alert", "data": data}))
                })
                .collect()
        }
        UserKind::News => state
            .store
            .news_after(after, stocksblitz_store::news::MAX_NEWS_LISTED)
            .await?
            .iter()
            .map(|n| {
                let data = crate::wire::feeds::news_json(n);
                (n.news_id, json!({"type": "news", "data": data}))
            })
            .collect(),
        UserKind::Message => {
            let f = stocksblitz_store::messages::MessageFilter {
                after_id: Some(after),
                oldest_first: true,
                limit: stocksblitz_store::messages::MAX_MESSAGES_LISTED,
                ..Default::default()
            };
            state
                .store
                .messages_of(owner, &f)
                .await?
                .iter()
                .map(|m| {
                    let data = crate::user_feed::message_json(m);
                    (m.message_id, json!({"type": "message", "data": data}))
                })
                .collect()
        }
    })
}

async fn user_session(
    mut socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    after: Option<i64>,
    kind: UserKind,
) {
    // Subscribe before authenticating (and replaying) so nothing between is missed.
    let mut rx = state.user_feed.tx.subscribe();
    let who = match token {
        Some(t) => authenticate_user(&state, &t, &peer).await,
        None => match first_message_token(&mut socket).await {
            Ok(t) => authenticate_user(&state, &t, &peer).await,
            Err(why) => Err(why),
        },
    };
    let who = match who {
        Ok(w) => w,
        Err(why) => {
            close_policy(socket, why).await;
            return;
        }
    };
    let owner = format!("user:{}", who.user_id);
    let _open = crate::metrics::OpenSocket::new(&state.metrics);
    if !send(
        &state.metrics,
        &mut socket,
        &json!({"type": "success", "action": "auth"}),
    )
    .await
    {
        return;
    }
    // What the replay sent (live copies of it are skipped; an id is no order: items stored
    // concurrently reach the feed in any order).
    let mut replayed = std::collections::HashSet::new();
    if let Some(after) = after {
        match replay(&state, &owner, after, kind).await {
            Ok(items) => {
                for (id, m) in &items {
                    if !send(&state.metrics, &mut socket, m).await {
                        return;
                    }
                    replayed.insert(*id);
                }
            }
            Err(e) => {
                let m = error_msg(
                    "store_unavailable",
                    format!("stored items unavailable: {e}"),
                );
                if !send(&state.metrics, &mut socket, &m).await {
                    return;
                }
            }
        }
    }
    let lagged = "items were missed; reconnect with after_id";
    relay(&state, socket, &mut rx, lagged, |item| {
        let mine = item.owner == owner
            || (kind == UserKind::News && item.owner == crate::user_feed::EVERYONE);
        let fresh = item.id == 0 || !replayed.contains(&item.id);
        (mine && item.kind == kind.as_str() && fresh).then_some(item.text.as_str())
    })
    .await;
}

/// Forward what `pick` selects from a broadcast channel to an authenticated socket until
/// either side ends; the socket may only send `{"action": "ping"}`. A socket that falls behind
/// the channel is told how many it missed (`lagged`, with `hint`).
async fn relay<T>(
    state: &AppState,
    mut socket: WebSocket,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<T>>,
    hint: &str,
    pick: impl Fn(&T) -> Option<&str>,
) where
    T: Send + Sync + 'static,
{
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) if text.len() > MAX_MESSAGE_BYTES => {
                    too_big(&state.metrics, socket).await;
                    return;
                }
                Some(Ok(Message::Text(text))) => {
                    let reply = match serde_json::from_str::<ClientMsg>(&text) {
                        Ok(ClientMsg { action: Some(a), .. }) if a == "ping" => json!({"type": "pong"}),
                        _ => error_msg("invalid_message", "this stream only sends; the one message it takes is {\"action\": \"ping\"}"),
                    };
                    if !send(&state.metrics, &mut socket, &reply).await {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            item = rx.recv() => match item {
                Ok(item) => {
                    let Some(text) = pick(&item) else {
                        continue;
                    };
                    if !send_text(&state.metrics, &mut socket, Utf8Bytes::from(text)).await {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let m = error_msg("lagged", format!("{n} {hint}"));
                    if !send(&state.metrics, &mut socket, &m).await {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(monitor_stream))
        .routes(routes!(indicators_stream))
        .routes(routes!(orders_stream))
        .routes(routes!(alerts_stream))
        .routes(routes!(messages_stream))
        .routes(routes!(news_stream))
}
