//! `/monitor/stream`: quotes of one underlying as they change.

use super::*;

/// `GET /monitor/stream?underlying=NIFTY` (WebSocket): `{"channel", "payload"}` for every quote
/// of the underlying that changed since the last poll (latest wins per instrument).
#[utoipa::path(get, path = "/monitor/stream", tag = "streams", description = "WebSocket: {channel, payload} per changed quote of the underlying.", params(StreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub(super) async fn monitor_stream(
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
    upgrade(ws, q.token, &headers, move |socket, token| {
        monitor_session(socket, state, token, peer, underlying)
    })
}

pub(super) async fn monitor_session(
    socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    underlying: Option<String>,
) {
    // Acknowledged only after a first-message authentication (the old ticker's protocol).
    let Some((mut socket, _who, _open)) =
        open_session(socket, &state, token, &peer, Ack::FirstMessage).await
    else {
        return;
    };
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

/// One quote of the monitor stream, on its old ticker channel.
#[derive(serde::Serialize)]
struct Item<'a> {
    channel: String,
    payload: &'a QuoteOut,
}
