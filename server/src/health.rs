//! `GET /health`: the shape of http-api.md; 503 when unhealthy.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
pub(crate) struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds since the server started.
    pub uptime: f64,
    pub database: DatabaseHealth,
    pub bus: BusHealth,
    pub ingest: IngestHealth,
    pub identity: IdentityHealth,
}

#[derive(Debug, Serialize)]
pub(crate) struct DatabaseHealth {
    pub status: &'static str,
    pub backend: &'static str,
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BusHealth {
    pub status: &'static str,
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct IngestHealth {
    pub source: &'static str,
    pub connected: bool,
    pub last_tick_age_ms: Option<u64>,
    pub ticks_total: u64,
    pub rejected_total: u64,
    pub reconnects: u64,
    pub bars_closed: u64,
    pub bars_written: u64,
    /// Bars waiting for the database.
    pub buffer_depth: u64,
    pub bars_dropped: u64,
    pub write_failures: u64,
    /// History the simulator writes (first start, downtime, clock jumps).
    pub backfill: BackfillHealth,
    /// Feed messages read from Redis and waiting for the pipeline thread.
    pub queue: QueueHealth,
    pub tasks: Vec<TaskState>,
}

#[derive(Debug, Serialize)]
pub(crate) struct QueueHealth {
    pub messages: u64,
    pub bytes: u64,
    pub high_water: u64,
    /// Messages dropped because processing could not keep up (the queue was full).
    pub dropped: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct BackfillHealth {
    /// `idle` (nothing to write, or not the simulator), `planning`, `writing`, `done`.
    pub state: &'static str,
    pub minutes_total: u64,
    pub minutes_written: u64,
    pub bars_written: u64,
    pub write_failures: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct TaskState {
    pub name: &'static str,
    pub running: bool,
    pub restarts: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct IdentityHealth {
    pub jwks: &'static str,
}

const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "healthy or degraded", body = Object), (status = 503, description = "unhealthy", body = Object)))]
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> Response {
    let (database, db_ok) = match tokio::time::timeout(DB_PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(latency)) => (
            DatabaseHealth {
                status: "ok",
                backend: state.store.backend().as_str(),
                latency_ms: Some((latency.as_secs_f64() * 1e6).round() / 1e3),
                error: None,
            },
            true,
        ),
        Ok(Err(e)) => (
            DatabaseHealth {
                status: "down",
                backend: state.store.backend().as_str(),
                latency_ms: None,
                error: Some(e.to_string()),
            },
            false,
        ),
        Err(_) => (
            DatabaseHealth {
                status: "down",
                backend: state.store.backend().as_str(),
                latency_ms: None,
                error: Some(format!(
                    "no answer within {} ms",
                    DB_PING_TIMEOUT.as_millis()
                )),
            },
            false,
        ),
    };
    let stats = &state.pipeline.stats;
    let w = state.pipeline.writer().stats();
    let tasks: Vec<TaskState> = state
        .tasks
        .lock()
        .map(|t| {
            t.iter()
                .map(|(name, h)| TaskState {
                    name,
                    running: h.running.load(Relaxed),
                    restarts: h.restarts.load(Relaxed),
                    last_error: h.last_error.lock().ok().and_then(|e| e.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    let connected = stats.connected.load(Relaxed);
    let ingest = IngestHealth {
        source: stats.source,
        connected,
        last_tick_age_ms: stats.last_tick_age_ms(crate::ingest::now_ms()),
        ticks_total: stats.ticks_total.load(Relaxed),
        rejected_total: stats.rejected_total.load(Relaxed),
        reconnects: stats.reconnects.load(Relaxed),
        bars_closed: stats.bars_closed.load(Relaxed),
        bars_written: w.rows_written.load(Relaxed),
        buffer_depth: w.buffered.load(Relaxed),
        bars_dropped: w.dropped.load(Relaxed),
        write_failures: w.failures.load(Relaxed),
        backfill: {
            let b = &stats.backfill;
            let state = if stats.source != "simulator" {
                "idle"
            } else if !b.planned.load(Relaxed) {
                "planning"
            } else if b.pending.load(Relaxed) > 0 {
                "writing"
            } else if b.done.load(Relaxed) > 0 {
                "done"
            } else {
                "idle"
            };
            BackfillHealth {
                state,
                minutes_total: b.minutes_total.load(Relaxed),
                minutes_written: b.minutes_written.load(Relaxed),
                bars_written: b.bars_written.load(Relaxed),
                write_failures: b.failures.load(Relaxed),
            }
        },
        queue: QueueHealth {
            messages: stats.queue.messages.load(Relaxed),
            bytes: stats.queue.bytes.load(Relaxed) as u64,
            high_water: stats.queue.high_water.load(Relaxed),
            dropped: stats.queue.dropped.load(Relaxed),
        },
        tasks,
    };
    // Ticks dropped in the last minute: processing cannot keep up with the feed.
    let last_drop = stats.queue.last_drop_ms.load(Relaxed);
    let dropping = last_drop > 0 && crate::ingest::now_ms() - last_drop < 60_000;
    // Degraded: the feed is disconnected, ticks are being dropped, or bars are waiting for the
    // database.
    let degraded = (stats.source != "none" && !connected)
        || dropping
        || ingest.buffer_depth > 10_000
        || w.failures.load(Relaxed) > 0 && ingest.buffer_depth > 0;
    let status = if !db_ok {
        "unhealthy"
    } else if degraded {
        "degraded"
    } else {
        "healthy"
    };
    let bus_ok = state.bus == crate::state::Bus::Memory || connected;
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        uptime: (state.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        database,
        bus: BusHealth {
            status: if bus_ok { "ok" } else { "disconnected" },
            kind: state.bus.as_str(),
        },
        ingest,
        identity: IdentityHealth {
            jwks: state
                .identity
                .jwt
                .remote()
                .map_or("not_configured", |e| e.state().as_str()),
        },
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}
