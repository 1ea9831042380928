//! `GET /health`: the shape of http-api.md; 503 when unhealthy.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Health {
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
pub struct DatabaseHealth {
    pub status: &'static str,
    pub backend: &'static str,
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BusHealth {
    pub status: &'static str,
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub struct IngestHealth {
    pub source: &'static str,
    pub last_tick_age_ms: Option<u64>,
    pub ticks_total: u64,
    pub rejected_total: u64,
}

#[derive(Debug, Serialize)]
pub struct IdentityHealth {
    pub jwks: &'static str,
}

const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(State(state): State<Arc<AppState>>) -> Response {
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
    let status = if db_ok { "healthy" } else { "unhealthy" };
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        uptime: (state.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        database,
        bus: BusHealth {
            status: "ok",
            kind: "memory",
        },
        ingest: IngestHealth {
            source: "none",
            last_tick_age_ms: None,
            ticks_total: 0,
            rejected_total: 0,
        },
        identity: IdentityHealth {
            jwks: "not_configured",
        },
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}
