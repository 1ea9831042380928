//! Request metrics in Prometheus text format (`GET /metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Per-route request counts and latency histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    auth_failures: Mutex<BTreeMap<&'static str, u64>>,
    /// Open WebSocket connections.
    pub websockets_open: std::sync::atomic::AtomicI64,
    /// Authentication failures not yet in the log (see [`Metrics::auth_failure`]).
    auth_log: Mutex<AuthLog>,
    /// WebSocket clients dropped because they stopped reading (a send waited too long).
    pub ws_dropped_slow: std::sync::atomic::AtomicU64,
    /// WebSocket connections closed with 1009 (a message over the size limit).
    pub ws_closed_too_big: std::sync::atomic::AtomicU64,
    /// Trading requests replayed at the replica matching the account (ok, failed).
    pub forwarded_ok: std::sync::atomic::AtomicU64,
    pub forwarded_failed: std::sync::atomic::AtomicU64,
}

/// At most one log line about authentication failures per this long.
pub(crate) const AUTH_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Default)]
struct AuthLog {
    last: Option<Instant>,
    pending: BTreeMap<&'static str, u64>,
}

/// Counts an open WebSocket for as long as it lives.
pub(crate) struct OpenSocket<'a>(&'a Metrics);

impl<'a> OpenSocket<'a> {
    pub(crate) fn new(m: &'a Metrics) -> Self {
        m.websockets_open
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        OpenSocket(m)
    }
}

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        self.0
            .websockets_open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Metrics {
    /// Count a request forwarded to another replica.
    pub fn forwarded(&self, ok: bool) {
        let c = if ok {
            &self.forwarded_ok
        } else {
            &self.forwarded_failed
        };
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Count an authentication failure by reason.
    /// Count an authentication failure by reason. The log gets one line per
    /// [`AUTH_LOG_EVERY`] at most, summing the failures since the last one by reason (a flood of
    /// bad keys is one line every few seconds, not one per request).
    pub fn auth_failure(&self, reason: &'static str) {
        if let Ok(mut m) = self.auth_failures.lock() {
            *m.entry(reason).or_default() += 1;
        }
        let Ok(mut log) = self.auth_log.lock() else {
            return;
        };
        *log.pending.entry(reason).or_default() += 1;
        if log.last.is_none_or(|t| t.elapsed() >= AUTH_LOG_EVERY) {
            let total: u64 = log.pending.values().sum();
            let by_reason = log
                .pending
                .iter()
                .map(|(r, n)| format!("{r}={n}"))
                .collect::<Vec<_>>()
                .join(",");
            tracing::info!(failures = total, by_reason = %by_reason, "authentication failed");
            log.pending.clear();
            log.last = Some(Instant::now());
        }
    }

    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let stats = routes.entry(route.to_string()).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                stats.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self, uptime_seconds: f64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP stocksblitz_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(out, "# TYPE stocksblitz_uptime_seconds gauge");
        let _ = writeln!(out, "stocksblitz_uptime_seconds {uptime_seconds:.3}");
        if let Ok(failures) = self.auth_failures.lock() {
            let _ = writeln!(
                out,
                "# HELP stocksblitz_auth_failures_total Rejected credentials by reason."
            );
            let _ = writeln!(out, "# TYPE stocksblitz_auth_failures_total counter");
            for (reason, n) in failures.iter() {
                let _ = writeln!(
                    out,
                    "stocksblitz_auth_failures_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        let Ok(routes) = self.routes.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP stocksblitz_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE stocksblitz_http_requests_total counter");
        for (route, s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "stocksblitz_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP stocksblitz_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE stocksblitz_http_request_duration_seconds histogram"
        );
        for (route, s) in routes.iter() {
            for (le, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "stocksblitz_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "stocksblitz_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "stocksblitz_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "stocksblitz_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                s.count
            );
        }
        out
    }
}

/// Middleware recording every request under its matched route (unmatched paths are one label).
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// One unlabelled metric: (name, help, `counter` or `gauge`, value).
type Scalar = (&'static str, &'static str, &'static str, i64);

/// Write unlabelled metrics with their HELP and TYPE lines.
fn write_scalars(out: &mut String, rows: &[Scalar]) {
    for (name, help, kind, v) in rows {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn render_ingest(state: &AppState, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &state.pipeline.stats;
    let w = state.pipeline.writer().stats();
    write_scalars(
        out,
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
    let _ = writeln!(
        out,
        "# HELP stocksblitz_ingest_dropped_total Feed messages dropped, by reason.\n# TYPE stocksblitz_ingest_dropped_total counter\nstocksblitz_ingest_dropped_total{{reason=\"queue_full\"}} {}",
        s.queue.dropped.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP stocksblitz_ticks_rejected_total Malformed payloads by reason."
    );
    let _ = writeln!(out, "# TYPE stocksblitz_ticks_rejected_total counter");
    for (code, n) in stocksblitz_market::decode::Reject::CODES
        .iter()
        .zip(&s.rejected_by_reason)
    {
        let _ = writeln!(
            out,
            "stocksblitz_ticks_rejected_total{{reason=\"{code}\"}} {}",
            n.load(Relaxed)
        );
    }
}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let mut body = state.metrics.render(state.started.elapsed().as_secs_f64());
    render_ingest(&state, &mut body);
    let stocksblitz_engine::CacheCounts {
        series_hits,
        series_fetches,
        value_hits,
        value_computes,
    } = state.engine.cache_counts();
    let open = state
        .metrics
        .websockets_open
        .load(std::sync::atomic::Ordering::Relaxed);
    write_scalars(
        &mut body,
        &[
            (
                "stocksblitz_series_cache_hits_total",
                "Bar series served from the cache.",
                "counter",
                as_i64(series_hits),
            ),
            (
                "stocksblitz_series_fetches_total",
                "Bar series (re)read from the store because bars changed or more depth was asked.",
                "counter",
                as_i64(series_fetches),
            ),
            (
                "stocksblitz_indicator_cache_hits_total",
                "Current indicator values served from the cache.",
                "counter",
                as_i64(value_hits),
            ),
            (
                "stocksblitz_indicator_computations_total",
                "Current indicator values computed.",
                "counter",
                as_i64(value_computes),
            ),
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
            &mut body,
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
            &mut body,
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
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}
