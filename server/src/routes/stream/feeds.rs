//! The per-user feeds: `/orders/stream`, `/alerts/stream`, `/messages/stream`, `/news/stream`.

use super::*;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OrderStreamQuery {
    pub token: Option<String>,
    /// Only this account's updates (default: every account of the caller).
    #[param(value_type = Option<crate::wire::schema::RowId>, inline)]
    pub account_id: Option<String>,
}

/// `GET /orders/stream` (WebSocket): `{"type": "order", "data": {Kite order fields}}` on every
/// status change of the caller's orders and `{"type": "trade", "data": {…}}` on every fill,
/// whichever replica matched them. A socket that falls behind is told how many it missed
/// (`{"type": "error", "error_code": "lagged"}`) and should re-read the order book.
#[utoipa::path(get, path = "/orders/stream", tag = "streams", description = "WebSocket: order and trade updates of the caller's paper accounts.", params(OrderStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub(super) async fn orders_stream(
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
    upgrade(ws, q.token, &headers, move |socket, token| {
        order_session(socket, state, token, peer, account)
    })
}

pub(super) async fn order_session(
    socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    account: Option<i64>,
) {
    // Subscribe before authenticating so nothing between the two is missed.
    let mut rx = state.order_feed.tx.subscribe();
    let Some((mut socket, who, _open)) =
        open_session(socket, &state, token, &peer, Ack::Later).await
    else {
        return;
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
    if !send_ack(&state.metrics, &mut socket).await {
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
pub(super) struct UserStreamQuery {
    pub token: Option<String>,
    /// Replay the stored events (messages) after this id first, oldest first (at most 1000),
    /// then go live: a reconnecting client misses nothing.
    #[param(value_type = Option<crate::wire::schema::Cursor>, inline)]
    pub after_id: Option<crate::routes::Count>,
}

/// What a per-user socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UserKind {
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

pub(super) fn user_upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    state: Arc<AppState>,
    q: UserStreamQuery,
    headers: &HeaderMap,
    peer: Peer,
    kind: UserKind,
) -> Result<Response, ApiError> {
    let after = q.after_id.map(crate::routes::Count::get);
    upgrade(ws, q.token, headers, move |socket, token| {
        user_session(socket, state, token, peer, after, kind)
    })
}

/// `GET /alerts/stream` (WebSocket): `{"type": "alert", "data": {event}}` for every alert of
/// the caller that fires (on whichever replica evaluated it) and every event the caller raises.
#[utoipa::path(get, path = "/alerts/stream", tag = "streams", description = "WebSocket: the caller's alert events as they fire (after_id= replays stored ones first).", params(UserStreamQuery), responses((status = 101, description = "switching to the WebSocket protocol"), (status = 426, description = "not a WebSocket upgrade request", body = crate::error::ErrorBody)))]
pub(super) async fn alerts_stream(
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
pub(super) async fn messages_stream(
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
pub(super) async fn news_stream(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UserStreamQuery>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, ApiError> {
    user_upgrade(ws, state, q, &headers, peer, UserKind::News)
}

/// The stored items after `after` (oldest first) as stream messages.
pub(super) async fn replay(
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

pub(super) async fn user_session(
    socket: WebSocket,
    state: Arc<AppState>,
    token: Option<String>,
    peer: Peer,
    after: Option<i64>,
    kind: UserKind,
) {
    // Subscribe before authenticating (and replaying) so nothing between is missed.
    let mut rx = state.user_feed.tx.subscribe();
    let Some((mut socket, who, _open)) =
        open_session(socket, &state, token, &peer, Ack::Always).await
    else {
        return;
    };
    let owner = format!("user:{}", who.user_id);
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
