//! Request metrics in Prometheus text format (`GET /metrics`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::Recorder as _;

use crate::state::AppState;

mod exposition;
pub(crate) use exposition::*;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

const HTTP_REQUESTS: &str = "stocksblitz_http_requests_total";
const HTTP_LATENCY: &str = "stocksblitz_http_request_duration_seconds";
const AUTH_FAILURES: &str = "stocksblitz_auth_failures_total";

/// Latency samples recorded between two drains of the histograms into their buckets (the
/// exporter keeps raw samples until then; this bounds them without a background task).
const UPKEEP_EVERY: u64 = 4096;

/// Where the handles registered through the server's own recorder come from (the exporter
/// ignores it; the facade's API wants one).
static META: ::metrics::Metadata<'static> =
    ::metrics::Metadata::new(module_path!(), ::metrics::Level::INFO, Some(module_path!()));

/// One route's handles: its latency histogram and a request counter per status seen.
struct RouteHandles {
    latency: ::metrics::Histogram,
    by_status: Vec<(u16, ::metrics::Counter)>,
}

/// This server's metrics, kept in its own `metrics-exporter-prometheus` recorder (not the
/// process-wide one: the bindings can run several servers in one process) and rendered by it.
/// Request counts and latencies are recorded as they happen; the other subsystems' counters
/// live where they are counted (atomics `/health` reads too) and are copied in at each scrape.
pub struct Metrics {
    recorder: metrics_exporter_prometheus::PrometheusRecorder,
    handle: metrics_exporter_prometheus::PrometheusHandle,
    routes: Mutex<HashMap<String, RouteHandles>>,
    observed: std::sync::atomic::AtomicU64,
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

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let builder = metrics_exporter_prometheus::PrometheusBuilder::new();
        let recorder = builder
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(HTTP_LATENCY.to_string()),
                &BUCKETS,
            )
            .unwrap_or_else(|_| metrics_exporter_prometheus::PrometheusBuilder::new())
            .build_recorder();
        recorder.describe_counter(
            HTTP_REQUESTS.into(),
            None,
            "HTTP requests by route and status.".into(),
        );
        recorder.describe_histogram(
            HTTP_LATENCY.into(),
            None,
            "HTTP request latency by route.".into(),
        );
        recorder.describe_counter(
            AUTH_FAILURES.into(),
            None,
            "Rejected credentials by reason.".into(),
        );
        Metrics {
            handle: recorder.handle(),
            recorder,
            routes: Mutex::default(),
            observed: std::sync::atomic::AtomicU64::default(),
            websockets_open: std::sync::atomic::AtomicI64::default(),
            auth_log: Mutex::default(),
            ws_dropped_slow: std::sync::atomic::AtomicU64::default(),
            ws_closed_too_big: std::sync::atomic::AtomicU64::default(),
            forwarded_ok: std::sync::atomic::AtomicU64::default(),
            forwarded_failed: std::sync::atomic::AtomicU64::default(),
        }
    }
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
        self.labeled(AUTH_FAILURES, "reason", reason).increment(1);
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
        {
            let Ok(mut routes) = self.routes.lock() else {
                return;
            };
            if !routes.contains_key(route) {
                let key = ::metrics::Key::from_parts(
                    HTTP_LATENCY,
                    vec![::metrics::Label::new("route", route.to_string())],
                );
                let latency = self.recorder.register_histogram(&key, &META);
                routes.insert(
                    route.to_string(),
                    RouteHandles {
                        latency,
                        by_status: Vec::new(),
                    },
                );
            }
            let Some(h) = routes.get_mut(route) else {
                return;
            };
            let i = if let Some(i) = h.by_status.iter().position(|(s, _)| *s == status) {
                i
            } else {
                let key = ::metrics::Key::from_parts(
                    HTTP_REQUESTS,
                    vec![
                        ::metrics::Label::new("route", route.to_string()),
                        ::metrics::Label::new("status", status.to_string()),
                    ],
                );
                h.by_status
                    .push((status, self.recorder.register_counter(&key, &META)));
                h.by_status.len() - 1
            };
            h.by_status[i].1.increment(1);
            h.latency.record(seconds);
        }
        let n = self
            .observed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// The counter `name{label="value"}` in this server's recorder.
    fn labeled(&self, name: &'static str, label: &'static str, value: &str) -> ::metrics::Counter {
        let key =
            ::metrics::Key::from_parts(name, vec![::metrics::Label::new(label, value.to_string())]);
        self.recorder.register_counter(&key, &META)
    }

    /// Set a counter read from elsewhere (`value` is its running total), described once.
    pub(crate) fn set_counter(
        &self,
        name: &'static str,
        help: &'static str,
        label: Option<(&'static str, &str)>,
        value: u64,
    ) {
        self.recorder
            .describe_counter(name.into(), None, help.into());
        let key = match label {
            Some((k, v)) => {
                ::metrics::Key::from_parts(name, vec![::metrics::Label::new(k, v.to_string())])
            }
            None => ::metrics::Key::from_static_name(name),
        };
        self.recorder.register_counter(&key, &META).absolute(value);
    }

    /// Set a gauge read from elsewhere, described once.
    pub(crate) fn set_gauge(&self, name: &'static str, help: &'static str, value: f64) {
        self.recorder.describe_gauge(name.into(), None, help.into());
        self.recorder
            .register_gauge(&::metrics::Key::from_static_name(name), &META)
            .set(value);
    }

    /// Run `f` with this server's recorder behind the `metrics` facade: the handles it
    /// registers (the engine's counters) record here and show in this server's `/metrics`.
    pub(crate) fn scoped<T>(&self, f: impl FnOnce() -> T) -> T {
        ::metrics::with_local_recorder(&self.recorder, f)
    }

    /// This server's metrics in Prometheus text format.
    pub(crate) fn render(&self, uptime_seconds: f64) -> String {
        self.set_gauge(
            "stocksblitz_uptime_seconds",
            "Seconds since the server started.",
            uptime_seconds,
        );
        self.handle.render()
    }
}

/// Middleware recording every request under its matched route (unmatched paths are one label).
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
