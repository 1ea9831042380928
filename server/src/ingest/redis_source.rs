//! The Redis source: pattern-subscribe to the legacy ticker channels, feed the pipeline,
//! reconnect with jittered backoff after a Redis restart or a network cut.
//!
//! Reading never waits on processing: the subscription is read by this task as fast as Redis
//! sends, and what arrived together is handed to the pipeline's own thread through a queue
//! bounded in bytes ([`IngestQueue`]). Redis disconnects a subscriber that falls behind
//! (`client-output-buffer-limit pubsub`), which loses far more than the queue ever would; if
//! processing truly cannot keep up and the queue is full, the batch is dropped and counted
//! (`/health` `ingest.queue`, `/metrics` `stocksblitz_ingest_dropped_total`), never silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;

use super::Pipeline;

/// Most bytes of payload waiting for the pipeline (about 160,000 legacy ticks).
pub const QUEUE_BYTES: usize = 64 << 20;

/// The queue's counters (shown in `/health` and `/metrics`).
#[derive(Debug, Default)]
pub struct QueueStats {
    /// Payload bytes waiting.
    pub bytes: AtomicUsize,
    /// Messages waiting.
    pub messages: AtomicU64,
    /// Most messages ever waiting at once.
    pub high_water: AtomicU64,
    /// Messages dropped because the queue was full.
    pub dropped: AtomicU64,
    /// When a message was last dropped (epoch ms; 0: never).
    pub last_drop_ms: AtomicI64,
}

struct Batch {
    messages: Vec<redis::Msg>,
    bytes: usize,
    recv_ms: i64,
}

/// The hand-over from the reader to the pipeline thread.
#[derive(Debug, Clone)]
pub struct IngestQueue {
    tx: std::sync::mpsc::Sender<Batch>,
    pipeline: Arc<Pipeline>,
    max_bytes: usize,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("messages", &self.messages.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl IngestQueue {
    /// Start the pipeline's thread and return the queue that feeds it. The thread ends when
    /// every queue handle is dropped.
    pub fn start(pipeline: Arc<Pipeline>, max_bytes: usize) -> std::io::Result<IngestQueue> {
        let (tx, rx) = std::sync::mpsc::channel::<Batch>();
        let p = pipeline.clone();
        std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || {
                while let Ok(batch) = rx.recv() {
                    p.ingest_batch(
                        batch.messages.iter().map(|m| m.get_payload_bytes()),
                        batch.recv_ms,
                    );
                    let s = &p.stats.queue;
                    s.bytes.fetch_sub(batch.bytes, Ordering::Relaxed);
                    s.messages
                        .fetch_sub(batch.messages.len() as u64, Ordering::Relaxed);
                }
            })?;
        Ok(IngestQueue {
            tx,
            pipeline,
            max_bytes,
        })
    }

    fn stats(&self) -> &QueueStats {
        &self.pipeline.stats.queue
    }

    /// Queue what arrived together; false (and counted) when it does not fit.
    fn push(&self, messages: Vec<redis::Msg>, recv_ms: i64) -> bool {
        let bytes: usize = messages.iter().map(|m| m.get_payload_bytes().len()).sum();
        let n = messages.len() as u64;
        let before = self.stats().bytes.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > self.max_bytes {
            self.stats().bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.drop_counted(n, recv_ms);
            return false;
        }
        let waiting = self.stats().messages.fetch_add(n, Ordering::Relaxed) + n;
        self.stats()
            .high_water
            .fetch_max(waiting, Ordering::Relaxed);
        let batch = Batch {
            messages,
            bytes,
            recv_ms,
        };
        if self.tx.send(batch).is_err() {
            // The pipeline thread is gone (shutdown).
            self.stats().bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.stats().messages.fetch_sub(n, Ordering::Relaxed);
            self.drop_counted(n, recv_ms);
            return false;
        }
        true
    }

    fn drop_counted(&self, n: u64, now_ms: i64) {
        let total = self.stats().dropped.fetch_add(n, Ordering::Relaxed) + n;
        let last = self.stats().last_drop_ms.swap(now_ms, Ordering::Relaxed);
        if now_ms - last >= 1000 {
            tracing::warn!(
                dropped_total = total,
                queue_bytes = self.stats().bytes.load(Ordering::Relaxed),
                "ingest queue full: ticks dropped (processing cannot keep up with the feed)"
            );
        }
    }
}

/// Consume until the process stops; errors only end one connection, never the loop.
pub async fn run(url: String, pattern: String, queue: IngestQueue) -> anyhow::Result<()> {
    let redacted = stocksblitz_store::redact_url(&url);
    let mut backoff = Duration::from_millis(100);
    let mut attempt: u64 = 0;
    let stats = &queue.pipeline.stats;
    loop {
        match consume(&url, &pattern, &queue, &mut backoff).await {
            Ok(()) => {
                tracing::warn!(redis = %redacted, "Redis closed the subscription; reconnecting")
            }
            Err(e) => {
                tracing::warn!(redis = %redacted, error = %e, "Redis subscription failed; reconnecting")
            }
        }
        stats.connected.store(false, Ordering::Relaxed);
        stats.reconnects.fetch_add(1, Ordering::Relaxed);
        attempt += 1;
        // Full jitter: a random wait up to the current backoff (replicas do not reconnect in step).
        let jitter = jitter_fraction(attempt);
        tokio::time::sleep(backoff.mul_f64(0.5 + 0.5 * jitter)).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn consume(
    url: &str,
    pattern: &str,
    queue: &IngestQueue,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(pattern).await?;
    queue
        .pipeline
        .stats
        .connected
        .store(true, Ordering::Relaxed);
    *backoff = Duration::from_millis(100);
    tracing::info!(pattern, "subscribed to Redis");
    // Whatever has arrived together goes over as one batch (one lock acquisition there).
    let mut messages = pubsub.on_message().ready_chunks(1024);
    while let Some(batch) = messages.next().await {
        queue.push(batch, super::now_ms());
    }
    Ok(())
}

/// A deterministic-enough fraction in [0, 1) without a RNG dependency.
fn jitter_fraction(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (super::now_ms() as u64);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}
