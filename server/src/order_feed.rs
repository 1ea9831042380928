//! Order updates for `/orders/stream`: every stored order change and trade, on every replica.
//!
//! The trading service tells the [`FeedSink`] about each stored batch of events (never blocking
//! its shard: a bounded channel, full means counted and dropped). A task ([`run`]) turns them
//! into the stream's messages — `{"type": "order", "data": {Kite order fields}}` and
//! `{"type": "trade", "data": {…}}` — resolves each account's owner (cached), broadcasts them to
//! this replica's sockets, and publishes them on Redis (`{prefix}:orders`) when Redis is
//! configured; [`run_subscriber`] rebroadcasts what other replicas published.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use stocksblitz_broker::{Event, EventBody};
use stocksblitz_trading::EventSink;
use tokio::sync::{broadcast, mpsc};

use crate::routes::kite::market::token_of;
use crate::routes::kite::orders::kite_order;
use crate::state::AppState;

/// One message for the sockets of `owner`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedItem {
    /// The replica the change happened on.
    pub origin: String,
    pub owner: String,
    pub account: i64,
    /// The message as sent to clients (JSON text).
    pub text: String,
}

/// Batches of stored events waiting for the feed task.
const QUEUE: usize = 4096;
/// Messages a slow socket may fall behind by before it is told it missed some.
const BROADCAST: usize = 4096;

/// The feed of this replica.
#[derive(Debug)]
pub struct OrderFeed {
    pub tx: broadcast::Sender<Arc<FeedItem>>,
    rx: std::sync::Mutex<Option<mpsc::Receiver<Vec<Event>>>>,
    /// Batches dropped because the feed task fell behind (the orders themselves are stored).
    pub dropped: AtomicU64,
    pub published: AtomicU64,
}

/// The trading service's side: hands stored order and trade events to the feed task.
pub struct FeedSink {
    tx: mpsc::Sender<Vec<Event>>,
    feed: Arc<OrderFeed>,
}

impl EventSink for FeedSink {
    fn stored(&self, _shard: i64, events: &[Event]) {
        let wanted: Vec<Event> = events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Order { .. } | EventBody::Trade { .. }))
            .cloned()
            .collect();
        if wanted.is_empty() {
            return;
        }
        if self.tx.try_send(wanted).is_err() {
            self.feed.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl OrderFeed {
    /// A feed and the sink the trading service writes into.
    pub fn new() -> (Arc<OrderFeed>, Arc<FeedSink>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (btx, _) = broadcast::channel(BROADCAST);
        let feed = Arc::new(OrderFeed {
            tx: btx,
            rx: std::sync::Mutex::new(Some(rx)),
            dropped: AtomicU64::new(0),
            published: AtomicU64::new(0),
        });
        let sink = Arc::new(FeedSink {
            tx,
            feed: feed.clone(),
        });
        (feed, sink)
    }
}

/// The Redis channel order updates travel on.
pub(crate) fn channel(prefix: &str) -> String {
    format!("{prefix}:orders")
}

/// The stream message of one event (None: not an order or trade).
fn message(state: &AppState, owner: &str, e: &Event) -> Option<(i64, String)> {
    let placed_by = owner
        .strip_prefix("user:")
        .map_or_else(|| owner.to_string(), |u| format!("SB{u}"));
    let token = |sym: &str| {
        crate::routes::snapshot(state)
            .ok()
            .and_then(|s| s.get(sym).map(token_of))
            .unwrap_or(0)
    };
    match &e.body {
        EventBody::Order { order } => {
            let data = kite_order(order, &placed_by, token(&order.tradingsymbol));
            let v = serde_json::json!({"type": "order", "data": data});
            Some((order.account.0 as i64, v.to_string()))
        }
        EventBody::Trade { trade } => {
            let mut data = serde_json::to_value(crate::wire::trading::trade_out(trade)).ok()?;
            if let Some(m) = data.as_object_mut() {
                m.insert("account_id".into(), trade.account.0.to_string().into());
                m.insert(
                    "instrument_token".into(),
                    token(&trade.tradingsymbol).into(),
                );
            }
            let v = serde_json::json!({"type": "trade", "data": data});
            Some((trade.account.0 as i64, v.to_string()))
        }
        _ => None,
    }
}

fn account_of(e: &Event) -> Option<i64> {
    match &e.body {
        EventBody::Order { order } => Some(order.account.0 as i64),
        EventBody::Trade { trade } => Some(trade.account.0 as i64),
        _ => None,
    }
}

/// The feed task: stored events → messages → this replica's sockets and Redis.
pub(crate) async fn run(
    state: Arc<AppState>,
    redis: Option<(String, String)>,
) -> anyhow::Result<()> {
    let Some(mut rx) = state.order_feed.rx.lock().ok().and_then(|mut r| r.take()) else {
        anyhow::bail!("the order feed task runs once");
    };
    let mut publisher = match &redis {
        Some((url, _)) => match redis::Client::open(url.as_str()) {
            Ok(c) => match redis::aio::ConnectionManager::new(c).await {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::warn!(error = %stocksblitz_store::redact_url(&e.to_string()), "order updates stay on this replica (Redis unavailable)");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %stocksblitz_store::redact_url(&e.to_string()), "bad Redis URL for order updates");
                None
            }
        },
        None => None,
    };
    let chan = redis.as_ref().map(|(_, p)| channel(p));
    let origin = state.trading.holder().to_string();
    let mut owners: HashMap<i64, String> = HashMap::new();
    while let Some(batch) = rx.recv().await {
        for e in &batch {
            let Some(account) = account_of(e) else {
                continue;
            };
            let owner = match owners.get(&account) {
                Some(o) => o.clone(),
                None => match state.store.paper_account(account).await {
                    Ok(Some(a)) => {
                        owners.insert(account, a.owner.clone());
                        a.owner
                    }
                    Ok(None) => continue,
                    Err(err) => {
                        tracing::warn!(error = %err, "order update dropped: account owner unknown");
                        continue;
                    }
                },
            };
            let Some((account, text)) = message(&state, &owner, e) else {
                continue;
            };
            let item = Arc::new(FeedItem {
                origin: origin.clone(),
                owner,
                account,
                text,
            });
            if let (Some(conn), Some(ch)) = (publisher.as_mut(), chan.as_deref())
                && let Ok(wire) = serde_json::to_string(item.as_ref())
            {
                let r: redis::RedisResult<()> = redis::AsyncCommands::publish(conn, ch, wire).await;
                match r {
                    Ok(()) => {
                        state.order_feed.published.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "order update not published to other replicas");
                    }
                }
            }
            // No socket listening is not an error.
            let _ = state.order_feed.tx.send(item);
        }
    }
    anyhow::bail!("the order feed channel closed")
}

/// Rebroadcast other replicas' order updates to this replica's sockets (supervised).
pub(crate) async fn run_subscriber(
    state: Arc<AppState>,
    url: String,
    prefix: String,
) -> anyhow::Result<()> {
    let client = redis::Client::open(url.as_str())?;
    let mut pubsub = client.get_async_pubsub().await?;
    let chan = channel(&prefix);
    pubsub.subscribe(&chan).await?;
    tracing::info!(channel = %chan, "listening for other replicas' order updates");
    let origin = state.trading.holder().to_string();
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        let Ok(text) = msg.get_payload::<String>() else {
            continue;
        };
        match serde_json::from_str::<FeedItem>(&text) {
            Ok(item) if item.origin != origin => {
                let _ = state.order_feed.tx.send(Arc::new(item));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "unreadable order update ignored"),
        }
    }
    anyhow::bail!("the order update subscription ended")
}
