//! `GET /metrics`: every subsystem's counters in Prometheus text format.

use super::*;

/// One unlabelled metric: (name, help, `counter` or `gauge`, value).
type Scalar = (&'static str, &'static str, &'static str, i64);

/// Copy unlabelled metrics into the server's recorder (with their help texts).
fn write_scalars(m: &Metrics, rows: &[Scalar]) {
    for (name, help, kind, v) in rows {
        if *kind == "gauge" {
            m.set_gauge(name, help, *v as f64);
        } else {
            m.set_counter(name, help, None, u64::try_from(*v).unwrap_or(0));
        }
    }
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn render_ingest(state: &AppState) {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &state.pipeline.stats;
    let w = state.pipeline.writer().stats();
    write_scalars(
        &state.metrics,
        &[
            (
                "stocksblitz_ticks_total",
                "Ticks accepted by the pipeline.",
                "counter",
                as_i64(s.ticks_total.load(Relaxed)),
            ),
            (
                "stocksblitz_feed_reconnects_total",
                "Reconnects of the tick source.",
                "counter",
                as_i64(s.reconnects.load(Relaxed)),
            ),
            (
                "stocksblitz_feed_connected",
                "1 while the tick source is connected.",
                "gauge",
                i64::from(s.connected.load(Relaxed)),
            ),
            (
                "stocksblitz_bars_closed_total",
                "1-minute bars closed.",
                "counter",
                as_i64(s.bars_closed.load(Relaxed)),
            ),
            (
                "stocksblitz_bar_amendments_total",
                "Late ticks merged into closed bars.",
                "counter",
                as_i64(s.bar_amendments.load(Relaxed)),
            ),
            (
                "stocksblitz_bars_written_total",
                "Bar rows written to the database.",
                "counter",
                as_i64(w.rows_written.load(Relaxed)),
            ),
            (
                "stocksblitz_bar_buffer_depth",
                "Bars waiting for the database.",
                "gauge",
                as_i64(w.buffered.load(Relaxed)),
            ),
            (
                "stocksblitz_bars_dropped_total",
                "Bars dropped because the buffer bound was hit.",
                "counter",
                as_i64(w.dropped.load(Relaxed)),
            ),
            (
                "stocksblitz_db_write_failures_total",
                "Failed bar write batches.",
                "counter",
                as_i64(w.failures.load(Relaxed)),
            ),
            (
                "stocksblitz_db_batches_total",
                "Bar write batches.",
                "counter",
                as_i64(w.batches.load(Relaxed)),
            ),
            (
                "stocksblitz_db_batch_seconds_total_us",
                "Sum of bar batch durations, microseconds.",
                "counter",
                as_i64(w.batch_us_total.load(Relaxed)),
            ),
            (
                "stocksblitz_ingest_queue_messages",
                "Feed messages read and waiting for the pipeline thread.",
                "gauge",
                as_i64(s.queue.messages.load(Relaxed)),
            ),
            (
                "stocksblitz_ingest_queue_high_water",
                "Most feed messages ever waiting for the pipeline thread.",
                "gauge",
                as_i64(s.queue.high_water.load(Relaxed)),
            ),
            (
                "stocksblitz_backfill_bars_written_total",
                "Bars the simulator wrote for history, downtime and clock jumps.",
                "counter",
                as_i64(s.backfill.bars_written.load(Relaxed)),
            ),
        ],
    );
    state.metrics.set_counter(
        "stocksblitz_ingest_dropped_total",
        "Feed messages dropped, by reason.",
        Some(("reason", "queue_full")),
        s.queue.dropped.load(Relaxed),
    );
    for (code, n) in stocksblitz_market::decode::Reject::CODES
        .iter()
        .zip(&s.rejected_by_reason)
    {
        state.metrics.set_counter(
            "stocksblitz_ticks_rejected_total",
            "Malformed payloads by reason.",
            Some(("reason", code)),
            n.load(Relaxed),
        );
    }
}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    use std::sync::atomic::Ordering::Relaxed;
    render_ingest(&state);
    let open = state
        .metrics
        .websockets_open
        .load(std::sync::atomic::Ordering::Relaxed);
    write_scalars(
        &state.metrics,
        &[
            (
                "stocksblitz_websockets_open",
                "Open WebSocket connections.",
                "gauge",
                open,
            ),
            (
                "stocksblitz_websocket_slow_readers_dropped_total",
                "WebSocket clients dropped because they stopped reading.",
                "counter",
                as_i64(state.metrics.ws_dropped_slow.load(Relaxed)),
            ),
            (
                "stocksblitz_websocket_too_big_closed_total",
                "WebSocket connections closed with 1009 for a message over the size limit.",
                "counter",
                as_i64(state.metrics.ws_closed_too_big.load(Relaxed)),
            ),
            (
                "stocksblitz_connections_open",
                "Open client connections (HTTP and WebSocket).",
                "gauge",
                as_i64(state.conns.open.load(Relaxed)),
            ),
            (
                "stocksblitz_connections_accepted_total",
                "Client connections accepted.",
                "counter",
                as_i64(state.conns.accepted.load(Relaxed)),
            ),
            (
                "stocksblitz_connections_refused_total",
                "Client connections closed at once because the connection cap was reached.",
                "counter",
                as_i64(state.conns.refused.load(Relaxed)),
            ),
            (
                "stocksblitz_trading_forwarded_total",
                "Trading requests replayed at the replica matching the account.",
                "counter",
                as_i64(
                    state
                        .metrics
                        .forwarded_ok
                        .load(std::sync::atomic::Ordering::Relaxed),
                ),
            ),
            (
                "stocksblitz_trading_forward_failures_total",
                "Trading requests whose matching replica could not be reached.",
                "counter",
                as_i64(
                    state
                        .metrics
                        .forwarded_failed
                        .load(std::sync::atomic::Ordering::Relaxed),
                ),
            ),
            (
                "stocksblitz_order_updates_published_total",
                "Order updates published to the other replicas.",
                "counter",
                as_i64(
                    state
                        .order_feed
                        .published
                        .load(std::sync::atomic::Ordering::Relaxed),
                ),
            ),
            (
                "stocksblitz_order_updates_dropped_total",
                "Batches of order updates dropped because the feed fell behind (orders are stored).",
                "counter",
                as_i64(
                    state
                        .order_feed
                        .dropped
                        .load(std::sync::atomic::Ordering::Relaxed),
                ),
            ),
        ],
    );
    {
        use std::sync::atomic::Ordering::Relaxed;
        let a = &state.alerts.stats;
        let (price, indicator) = state.alerts.counts();
        write_scalars(
            &state.metrics,
            &[
                (
                    "stocksblitz_alerts_price",
                    "Price alerts evaluated on this replica.",
                    "gauge",
                    price as i64,
                ),
                (
                    "stocksblitz_alerts_indicator",
                    "Indicator alerts evaluated on this replica.",
                    "gauge",
                    indicator as i64,
                ),
                (
                    "stocksblitz_alert_evaluations_total",
                    "Alert conditions evaluated.",
                    "counter",
                    as_i64(a.evaluations.load(Relaxed)),
                ),
                (
                    "stocksblitz_alerts_fired_total",
                    "Alert firings found by this replica's evaluation.",
                    "counter",
                    as_i64(a.fired.load(Relaxed)),
                ),
                (
                    "stocksblitz_alerts_claimed_elsewhere_total",
                    "Firings another replica recorded first (and delivered).",
                    "counter",
                    as_i64(a.claimed_elsewhere.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_ticks_dropped_total",
                    "Ticks not evaluated because the alert engine fell behind.",
                    "counter",
                    as_i64(a.ticks_dropped.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_delivery_errors_total",
                    "Firings that could not be recorded.",
                    "counter",
                    as_i64(a.delivery_errors.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_webhooks_delivered_total",
                    "Webhook deliveries answered with a 2xx.",
                    "counter",
                    as_i64(a.webhooks_delivered.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_webhooks_failed_total",
                    "Webhook deliveries given up after their retries.",
                    "counter",
                    as_i64(a.webhooks_failed.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_latency_ms_sum",
                    "Tick receipt to event on this replica's sockets (ms), summed over price alert firings.",
                    "counter",
                    as_i64(a.latency_ms_sum.load(Relaxed)),
                ),
                (
                    "stocksblitz_alert_latency_ms_count",
                    "Price alert firings the latency sum covers.",
                    "counter",
                    as_i64(a.latency_count.load(Relaxed)),
                ),
                (
                    "stocksblitz_user_events_published_total",
                    "User events (alerts) published to the other replicas.",
                    "counter",
                    as_i64(state.user_feed.published.load(Relaxed)),
                ),
            ],
        );
    }
    if let Some(ext) = state.identity.jwt.remote() {
        use std::sync::atomic::Ordering::Relaxed;
        write_scalars(
            &state.metrics,
            &[
                (
                    "stocksblitz_jwks_fetches_total",
                    "Fetches of the external identity provider's JWKS.",
                    "counter",
                    as_i64(ext.fetches.load(Relaxed)),
                ),
                (
                    "stocksblitz_jwks_fetch_errors_total",
                    "Failed fetches of the external identity provider's JWKS.",
                    "counter",
                    as_i64(ext.fetch_errors.load(Relaxed)),
                ),
            ],
        );
    }
    let body = state.metrics.render(state.started.elapsed().as_secs_f64());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}
