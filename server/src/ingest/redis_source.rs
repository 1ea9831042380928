//! The Redis source: pattern-subscribe to the legacy ticker channels, feed the pipeline,
//! reconnect with jittered backoff after a Redis restart or a network cut.
//!
//! Reading never waits on processing: the subscription is read by this task as fast as Redis
//! sends — its own reader parses the protocol in place (`stocksblitz_market::resp`: a message is a range of
//! the bytes read, nothing copied or allocated per message) — and what was read together is
//! handed to the pipeline's own thread through a queue bounded in bytes ([`IngestQueue`]). Redis disconnects a subscriber that falls behind
//! (`client-output-buffer-limit pubsub`), which loses far more than the queue ever would; if
//! processing truly cannot keep up and the queue is full, the batch is dropped and counted
//! (`/health` `ingest.queue`, `/metrics` `stocksblitz_ingest_dropped_total`), never silently.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Pipeline;
use stocksblitz_market::resp::{Frame, command, next_frame};

pub use stocksblitz_engine::pipeline::QueueStats;

/// Messages read together: the bytes off the socket and where each payload lies in them.
struct Batch {
    data: Bytes,
    payloads: Vec<std::ops::Range<usize>>,
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
            .field("messages", &self.payloads.len())
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
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
                        batch.payloads.iter().map(|r| &batch.data[r.clone()]),
                        batch.recv_ms,
                    );
                    let s = &p.stats.queue;
                    s.bytes.fetch_sub(batch.data.len(), Ordering::Relaxed);
                    s.messages
                        .fetch_sub(batch.payloads.len() as u64, Ordering::Relaxed);
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
    fn push(&self, data: Bytes, payloads: Vec<std::ops::Range<usize>>, recv_ms: i64) -> bool {
        let bytes = data.len();
        let n = payloads.len() as u64;
        let before = self.stats().bytes.fetch_add(bytes, Ordering::Relaxed);
        // The bound is on the backlog: one read always goes through into an empty queue.
        if before > 0 && before + bytes > self.max_bytes {
            self.stats().bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.drop_counted(n, recv_ms);
            return false;
        }
        let waiting = self.stats().messages.fetch_add(n, Ordering::Relaxed) + n;
        self.stats()
            .high_water
            .fetch_max(waiting, Ordering::Relaxed);
        let batch = Batch {
            data,
            payloads,
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
                tracing::warn!(redis = %redacted, "Redis closed the subscription; reconnecting");
            }
            Err(e) => {
                tracing::warn!(redis = %redacted, error = %e, "Redis subscription failed; reconnecting");
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

/// Where and how to reach Redis for a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Target {
    /// `redis://[user[:password]@]host[:port][/db]` (the database number does not matter to
    /// pub/sub). TLS (`rediss://`) is not supported by this reader.
    pub fn parse(url: &str) -> Result<Target, String> {
        let u = reqwest::Url::parse(url).map_err(|e| format!("bad Redis URL: {e}"))?;
        if u.scheme() != "redis" {
            return Err(format!(
                "the tick consumer speaks redis:// only, not {}://",
                u.scheme()
            ));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Ok(Target {
            host: u
                .host_str()
                .ok_or("the Redis URL has no host")?
                .trim_matches(['[', ']'])
                .to_string(),
            port: u.port().unwrap_or(6379),
            username: Some(u.username()).filter(|s| !s.is_empty()).map(decode),
            password: u.password().map(decode),
        })
    }
}

/// Subscribe to `pattern` and hand every batch of messages read to `sink(bytes, payload
/// ranges)`; `connected` is called once the subscription is confirmed. Returns when Redis
/// closes the connection; errors on a failed connection, a refused command or a protocol error.
pub async fn subscribe(
    target: &Target,
    pattern: &str,
    mut connected: impl FnMut(),
    mut sink: impl FnMut(Bytes, Vec<std::ops::Range<usize>>),
) -> anyhow::Result<()> {
    let mut sock = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await?;
    sock.set_nodelay(true)?;
    let mut hello = Vec::new();
    match (&target.username, &target.password) {
        (Some(u), Some(p)) => hello.extend(command(&[b"AUTH", u.as_bytes(), p.as_bytes()])),
        (None, Some(p)) => hello.extend(command(&[b"AUTH", p.as_bytes()])),
        _ => {}
    }
    hello.extend(command(&[b"PSUBSCRIBE", pattern.as_bytes()]));
    sock.write_all(&hello).await?;
    let mut buf = BytesMut::with_capacity(1 << 20);
    loop {
        if buf.capacity() - buf.len() < 64 * 1024 {
            buf.reserve(1 << 20);
        }
        if sock.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        let mut pos = 0;
        let mut payloads = Vec::new();
        while let Some((frame, next)) = next_frame(&buf, pos)? {
            match frame {
                Frame::Message { payload, .. } => payloads.push(payload),
                Frame::Subscribed(_) => connected(),
                Frame::Other => {}
            }
            pos = next;
        }
        if pos > 0 {
            let chunk = buf.split_to(pos).freeze();
            if !payloads.is_empty() {
                sink(chunk, payloads);
            }
        }
    }
}

async fn consume(
    url: &str,
    pattern: &str,
    queue: &IngestQueue,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    let target = Target::parse(url).map_err(anyhow::Error::msg)?;
    let stats = &queue.pipeline.stats;
    subscribe(
        &target,
        pattern,
        || {
            stats.connected.store(true, Ordering::Relaxed);
            *backoff = Duration::from_millis(100);
            tracing::info!(pattern, "subscribed to Redis");
        },
        |data, payloads| {
            queue.push(data, payloads, super::now_ms());
        },
    )
    .await
}

/// A deterministic-enough fraction in [0, 1) without a RNG dependency.
fn jitter_fraction(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (super::now_ms() as u64);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        assert_eq!(
            Target::parse("redis://127.0.0.1:6380/2").unwrap(),
            Target {
                host: "127.0.0.1".into(),
                port: 6380,
                username: None,
                password: None
            }
        );
        let t = Target::parse("redis://ticks:p%40ss@redis.internal").unwrap();
        assert_eq!(
            (t.port, t.username.as_deref(), t.password.as_deref()),
            (6379, Some("ticks"), Some("p@ss"))
        );
        let t = Target::parse("redis://:secret@[::1]:7000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.username, t.password.as_deref()),
            ("::1", None, Some("secret"))
        );
        assert!(
            Target::parse("rediss://x")
                .unwrap_err()
                .contains("redis:// only")
        );
        assert!(Target::parse("not a url").is_err());
    }
}
