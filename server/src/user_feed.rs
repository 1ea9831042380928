//! Per-user messages on every replica: alerts fired (and, later, messages, reminders and news).
//!
//! [`UserFeed::publish`] hands a message for one owner to this replica's sockets (a broadcast
//! channel) and, when Redis is configured, to the other replicas (`{prefix}:user-events`), whose
//! [`run_subscriber`] rebroadcasts it to theirs. A socket only ever forwards its own user's
//! messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

/// One message for the sockets of `owner`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserItem {
    /// The replica it was published on.
    pub origin: String,
    pub owner: String,
    /// What it carries: `alert` or `message` (which socket forwards it).
    pub kind: String,
    /// The id of what it carries (an alert event's id), for a socket's catch-up: items at or
    /// below what it replayed from the store are skipped.
    pub id: i64,
    /// The message as sent to clients (JSON text).
    pub text: String,
}

/// Messages a slow socket may fall behind by before it is told it missed some.
const BROADCAST: usize = 4096;
/// Messages waiting for the Redis publisher.
const PUBLISH_QUEUE: usize = 4096;

#[derive(Debug)]
pub struct UserFeed {
    pub tx: broadcast::Sender<Arc<UserItem>>,
    origin: String,
    redis: std::sync::Mutex<Option<mpsc::Sender<Arc<UserItem>>>>,
    pub published: AtomicU64,
    /// Messages not handed to Redis (publisher behind or down); this replica's sockets had them.
    pub unpublished: AtomicU64,
}

/// The Redis channel the messages travel on.
pub(crate) fn channel(prefix: &str) -> String {
    format!("{prefix}:user-events")
}

impl UserFeed {
    pub fn new(origin: &str) -> Arc<UserFeed> {
        let (tx, _) = broadcast::channel(BROADCAST);
        Arc::new(UserFeed {
            tx,
            origin: origin.to_string(),
            redis: std::sync::Mutex::new(None),
            published: AtomicU64::new(0),
            unpublished: AtomicU64::new(0),
        })
    }

    /// Send `text` to `owner`'s sockets on every replica.
    pub fn publish(&self, owner: &str, kind: &str, id: i64, text: String) {
        let item = Arc::new(UserItem {
            origin: self.origin.clone(),
            owner: owner.to_string(),
            kind: kind.to_string(),
            id,
            text,
        });
        if let Ok(r) = self.redis.lock()
            && let Some(q) = r.as_ref()
            && q.try_send(item.clone()).is_err()
        {
            self.unpublished.fetch_add(1, Ordering::Relaxed);
        }
        // No socket listening is not an error.
        let _ = self.tx.send(item);
    }

    /// Publish to the other replicas through Redis from now on (supervised; reconnects).
    pub async fn run_publisher(self: Arc<Self>, url: String, prefix: String) -> anyhow::Result<()> {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = redis::aio::ConnectionManager::new(client).await?;
        let (qtx, mut qrx) = mpsc::channel::<Arc<UserItem>>(PUBLISH_QUEUE);
        if let Ok(mut r) = self.redis.lock() {
            *r = Some(qtx);
        }
        let chan = channel(&prefix);
        while let Some(item) = qrx.recv().await {
            let wire = serde_json::to_string(item.as_ref())?;
            let r: redis::RedisResult<()> =
                redis::AsyncCommands::publish(&mut conn, &chan, wire).await;
            match r {
                Ok(()) => {
                    self.published.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    self.unpublished.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "user event not published to other replicas");
                }
            }
        }
        anyhow::bail!("the user event publisher queue closed")
    }

    /// Rebroadcast other replicas' messages to this replica's sockets (supervised).
    pub async fn run_subscriber(
        self: Arc<Self>,
        url: String,
        prefix: String,
    ) -> anyhow::Result<()> {
        let client = redis::Client::open(url.as_str())?;
        let mut pubsub = client.get_async_pubsub().await?;
        let chan = channel(&prefix);
        pubsub.subscribe(&chan).await?;
        tracing::info!(channel = %chan, "listening for other replicas' user events");
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let Ok(text) = msg.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<UserItem>(&text) {
                Ok(item) if item.origin != self.origin => {
                    let _ = self.tx.send(Arc::new(item));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "unreadable user event ignored"),
            }
        }
        anyhow::bail!("the user event subscription ended")
    }
}

/// A message as clients see it (the SDK's `Message`).
pub(crate) fn message_json(m: &stocksblitz_store::messages::MessageRow) -> serde_json::Value {
    let parse = |t: &str| serde_json::from_str(t).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "message_id": m.message_id.to_string(),
        "topic": m.topic,
        "sender": m.sender,
        "recipient": m.recipient,
        "message_type": m.message_type,
        "content": parse(&m.content),
        "metadata": parse(&m.metadata),
        "timestamp": m.at,
        "read": m.read_at.is_some(),
    })
}

/// The owner user-feed items for everyone are published under.
pub(crate) const EVERYONE: &str = "*";
