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

mod exposition;
pub(crate) use exposition::*;

/// The process's recorder for the `metrics` facade, rendered into `/metrics`: installed by the
/// first server of the process (a second one in the same process, as the bindings can start,
/// shares it). The engine's metrics are described at installation, so they show from zero.
pub(crate) fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = metrics_exporter_prometheus::PrometheusBuilder::new();
        match builder.install_recorder() {
            Ok(handle) => {
                stocksblitz_engine::metric::describe();
                handle
            }
            Err(e) => {
                // Another recorder owns the facade (an embedding program's): ours renders
                // nothing recorded, and /metrics keeps its own counters.
                tracing::warn!(error = %e, "metrics recorder not installed");
                metrics_exporter_prometheus::PrometheusBuilder::new()
                    .build_recorder()
                    .handle()
            }
        }
    })
}

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
