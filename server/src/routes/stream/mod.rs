//! The WebSockets: `/indicators/stream` (indicator updates on every bar close, or on every
//! change of the forming bar with `"mode": "tick"`) and `/monitor/stream` (quotes of one
//! underlying as they change, latest wins per instrument). All three authenticate with `?token=`,
//! an `Authorization` header or a first `{"action": "auth", "token": …}` message (what a browser
//! sends: it cannot set headers, and a token in a URL ends up in logs), and close with 1008 when
//! that fails. Each connection polls the shared series cache and snapshot
//! every [`POLL`]; a slow client only delays itself. The per-user feeds (`/orders/stream`,
//! `/alerts/stream`, `/messages/stream`, `/news/stream`) relay the server's bus.

mod feeds;
mod indicators;
mod monitor;

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
use stocksblitz_market::Timeframe;

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
pub(crate) const POLL: Duration = Duration::from_millis(250);
/// Largest client message (bytes).
pub(crate) const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Most (symbol, timeframe) subscriptions per connection.
pub(crate) const MAX_STREAM_SUBSCRIPTIONS: usize = 50;
/// Time a connection without a token has to authenticate with its first message.
pub(crate) const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// WebSocket close code for a policy violation (failed authentication).
const POLICY_VIOLATION: u16 = 1008;
/// WebSocket close code for a message over the size limit.
const MESSAGE_TOO_BIG: u16 = 1009;
/// Largest frame the protocol layer reads: a message between [`MAX_MESSAGE_BYTES`] and this is
/// answered with 1009; a larger one ends the connection.
const MAX_FRAME_BYTES: usize = 1 << 20;
/// Longest a send waits for the client to read.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a connection may have queued for a client that does not read (then it is dropped).
const MAX_WRITE_BUFFER: usize = 256 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    pub token: Option<String>,
    #[param(value_type = Option<crate::wire::schema::UnderlyingOrBlank>, inline)]
    pub underlying: Option<String>,
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    crate::identity::extract::bearer_token(headers).map(str::to_string)
}

type Peer = ClientIp;

/// Accept an upgrade with this server's frame and buffer limits; the session gets the socket and
/// the token given with the upgrade (`?token=` or an `Authorization` header), if any.
fn upgrade<F, Fut>(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    token: Option<String>,
    headers: &HeaderMap,
    session: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(WebSocket, Option<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let ws = ws.map_err(upgrade_required)?;
    let token = token.or_else(|| header_token(headers));
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| session(socket, token)))
}

/// When a session acknowledges authentication with `{"type": "success", "action": "auth"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ack {
    Always,
    /// Only when the first message authenticated (the monitor stream's old protocol).
    FirstMessage,
    /// The session acknowledges itself, after checks of its own.
    Later,
}

/// Open a session: authenticate (the upgrade's token, else the first message), count the
/// socket open while the guard lives, acknowledge. None when the socket was closed instead
/// (1008 with the reason) or the client left.
async fn open_session<'a>(
    mut socket: WebSocket,
    state: &'a AppState,
    token: Option<String>,
    peer: &Peer,
    ack: Ack,
) -> Option<(
    WebSocket,
    crate::identity::UserIdentity,
    crate::metrics::OpenSocket<'a>,
)> {
    let first_message = token.is_none();
    let who = match token {
        Some(t) => authenticate_user(state, &t, peer).await,
        None => match first_message_token(&mut socket).await {
            Ok(t) => authenticate_user(state, &t, peer).await,
            Err(why) => Err(why),
        },
    };
    let who = match who {
        Ok(w) => w,
        Err(why) => {
            close_policy(socket, why).await;
            return None;
        }
    };
    let open = crate::metrics::OpenSocket::new(&state.metrics);
    let ack = match ack {
        Ack::Always => true,
        Ack::FirstMessage => first_message,
        Ack::Later => false,
    };
    if ack && !send_ack(&state.metrics, &mut socket).await {
        return None;
    }
    Some((socket, who, open))
}

/// `{"type": "success", "action": "auth"}`: false when the client is gone.
async fn send_ack(metrics: &Metrics, socket: &mut WebSocket) -> bool {
    send(
        metrics,
        socket,
        &json!({"type": "success", "action": "auth"}),
    )
    .await
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
    if let Ok(r) = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await {
        r.is_ok()
    } else {
        metrics.ws_dropped_slow.fetch_add(1, Ordering::Relaxed);
        false
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

/// A plain GET on a WebSocket route: 426 with the JSON error body.
fn upgrade_required(e: WebSocketUpgradeRejection) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        format!("this is a WebSocket endpoint: {}", e.body_text()),
    )
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
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(monitor::monitor_stream))
        .routes(routes!(indicators::indicators_stream))
        .routes(routes!(feeds::orders_stream))
        .routes(routes!(feeds::alerts_stream))
        .routes(routes!(feeds::messages_stream))
        .routes(routes!(feeds::news_stream))
}
