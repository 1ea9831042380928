//! The Redis source: pattern-subscribe to the legacy ticker channels, feed the pipeline,
//! reconnect with jittered backoff after a Redis restart or a network cut.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt as _;

use super::Pipeline;

/// Consume until the process stops; errors only end one connection, never the loop.
pub async fn run(url: String, pattern: String, pipeline: Arc<Pipeline>) -> anyhow::Result<()> {
    let redacted = stocksblitz_store::redact_url(&url);
    let mut backoff = Duration::from_millis(100);
    let mut attempt: u64 = 0;
    loop {
        match consume(&url, &pattern, &pipeline, &mut backoff).await {
            Ok(()) => {
                tracing::warn!(redis = %redacted, "Redis closed the subscription; reconnecting")
            }
            Err(e) => {
                tracing::warn!(redis = %redacted, error = %e, "Redis subscription failed; reconnecting")
            }
        }
        pipeline.stats.connected.store(false, Ordering::Relaxed);
        pipeline.stats.reconnects.fetch_add(1, Ordering::Relaxed);
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
    pipeline: &Pipeline,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(pattern).await?;
    pipeline.stats.connected.store(true, Ordering::Relaxed);
    *backoff = Duration::from_millis(100);
    tracing::info!(pattern, "subscribed to Redis");
    // Whatever has arrived together is ingested as one batch (one lock acquisition).
    let mut messages = pubsub.on_message().ready_chunks(512);
    while let Some(batch) = messages.next().await {
        pipeline.ingest_batch(batch.iter().map(|m| m.get_payload_bytes()), super::now_ms());
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
