//! Delivering what fired: the store first (the claim), then the owner's sockets on every
//! replica, then the webhook.
//!
//! A webhook gets `POST <url>` with the event as JSON and three headers:
//! `X-Stocksblitz-Event` (the event id), `X-Stocksblitz-Timestamp` (Unix seconds) and
//! `X-Stocksblitz-Signature: sha256=<hex>`, the HMAC-SHA256 of `"<timestamp>.<body>"` under the
//! alert's webhook secret. A 2xx answer is a delivery; a network error, a 429 or a 5xx is
//! retried [`WEBHOOK_ATTEMPTS`] times in all with growing pauses; any other answer gives up.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use stocksblitz_store::alerts::{AlertEventRow, Firing as Firings, NewAlertEvent};

use super::Firing;
use crate::state::AppState;

/// Tries per webhook delivery.
pub(crate) const WEBHOOK_ATTEMPTS: u32 = 4;
/// Longest one webhook request may take.
pub(crate) const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// The event as clients see it (the SDK's `AlertEvent`).
pub(crate) fn event_json(e: &AlertEventRow) -> Value {
    let data: Value = serde_json::from_str(&e.data).unwrap_or_else(|_| json!({}));
    json!({
        "event_id": e.event_id.to_string(),
        "alert_id": e.alert_id.map(|a| a.to_string()),
        "alert_type": e.kind,
        "priority": e.priority,
        "symbol": e.symbol,
        "message": e.message,
        "timestamp": e.at,
        "fire_no": e.fire_no,
        "acknowledged": e.acknowledged_at.is_some(),
        "acknowledged_at": e.acknowledged_at,
        "data": data,
    })
}

/// Send a recorded event to its owner's sockets (every replica) and its webhook.
pub(crate) fn publish(state: &Arc<AppState>, e: &AlertEventRow, webhook: Option<(String, String)>) {
    let event = event_json(e);
    let text = json!({"type": "alert", "data": event}).to_string();
    state.user_feed.publish(&e.owner, "alert", e.event_id, text);
    if let Some((url, secret)) = webhook {
        let st = state.clone();
        let body = event.to_string();
        let id = e.event_id;
        tokio::spawn(async move { post_webhook(&st, &url, &secret, id, body).await });
    }
}

/// HMAC-SHA256 of `"<timestamp>.<body>"`, hex.
pub(crate) fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    let tag = ctx.sign();
    stocksblitz_auth::apikey::hex(tag.as_ref())
}

async fn post_webhook(state: &AppState, url: &str, secret: &str, event_id: i64, body: String) {
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        let ts = crate::ingest::now_ms() / 1000;
        let sig = signature(secret, ts, &body);
        let sent = state
            .alerts
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-stocksblitz-event", event_id.to_string())
            .header("x-stocksblitz-timestamp", ts.to_string())
            .header("x-stocksblitz-signature", format!("sha256={sig}"))
            .body(body.clone())
            .send()
            .await;
        let retry = match sent {
            Ok(r) if r.status().is_success() => {
                state
                    .alerts
                    .stats
                    .webhooks_delivered
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(r) => {
                let s = r.status();
                tracing::warn!(
                    event = event_id,
                    status = s.as_u16(),
                    attempt,
                    "webhook refused the alert"
                );
                s.is_server_error() || s.as_u16() == 429
            }
            Err(e) => {
                // The error text can hold the URL; the URL is the user's, not a secret of ours,
                // but its query may carry theirs: log the kind only.
                let kind = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                tracing::warn!(
                    event = event_id,
                    error = kind,
                    attempt,
                    "webhook delivery failed"
                );
                true
            }
        };
        if !retry || attempt == WEBHOOK_ATTEMPTS {
            break;
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    state
        .alerts
        .stats
        .webhooks_failed
        .fetch_add(1, Ordering::Relaxed);
}

/// Most firings recorded in one transaction.
const BATCH: usize = 256;

/// The delivery task (supervised): records the firings waiting — together, in one
/// transaction — and delivers the ones this replica recorded.
pub(crate) async fn run(state: Arc<AppState>) -> anyhow::Result<()> {
    let Some(mut rx) = state.alerts.fires_rx.lock().ok().and_then(|mut r| r.take()) else {
        anyhow::bail!("the alert delivery task runs once");
    };
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            break;
        }
        deliver(&state, std::mem::take(&mut batch)).await;
    }
    if let Ok(mut r) = state.alerts.fires_rx.lock() {
        *r = Some(rx);
    }
    anyhow::bail!("the alert firing queue closed")
}

fn record_of(f: &Firing) -> Firings {
    let mut data = f.data.clone();
    if let Some(m) = data.as_object_mut() {
        m.insert("alert_id".into(), f.row.alert_id.to_string().into());
        m.insert("summary".into(), f.summary.clone().into());
        m.insert("repeating".into(), f.row.repeating.into());
    }
    let message = if f.row.message.trim().is_empty() {
        f.summary.clone()
    } else {
        f.row.message.clone()
    };
    Firings {
        alert: f.row.as_ref().clone(),
        fire_no: f.fire_no,
        event: NewAlertEvent {
            owner: f.row.owner.clone(),
            kind: f.row.kind.clone(),
            priority: f.row.priority.clone(),
            symbol: f.row.symbol.clone(),
            message,
            data: data.to_string(),
            at: crate::ingest::now_ms(),
        },
    }
}

async fn deliver(state: &Arc<AppState>, firings: Vec<Firing>) {
    let records: Vec<Firings> = firings.iter().map(record_of).collect();
    match state.store.record_firings(&records).await {
        Ok(recorded) => {
            for (f, e) in firings.iter().zip(recorded) {
                let Some(e) = e else {
                    state
                        .alerts
                        .stats
                        .claimed_elsewhere
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let webhook = f.row.webhook_url.clone().zip(f.row.webhook_secret.clone());
                publish(state, &e, webhook);
                if let Some(t) = f.tick_recv_ms {
                    let ms = (crate::ingest::now_ms() - t).max(0) as u64;
                    state
                        .alerts
                        .stats
                        .latency_ms_sum
                        .fetch_add(ms, Ordering::Relaxed);
                    state
                        .alerts
                        .stats
                        .latency_count
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Err(e) => {
            state
                .alerts
                .stats
                .delivery_errors
                .fetch_add(firings.len() as u64, Ordering::Relaxed);
            tracing::warn!(firings = firings.len(), error = %e, "alert firings not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently:
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"s3cret",b"1700000000.{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            super::signature("s3cret", 1_700_000_000, "{}"),
            "97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
    }
}
