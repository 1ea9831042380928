//! `GET /clock` (the exchange clock paper trading runs on) and `POST /admin/clock` (move the
//! demo clock forward, admin scope): a test or a demo reaches the 15:20 square-off or an
//! expiry in seconds.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use stocksblitz_auth::Scope;

use crate::error::{ApiError, ApiJson};
use crate::identity::extract::Auth;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ClockOut {
    /// `demo` (virtual, --demo-clock) or `exchange` (the wall clock).
    pub kind: &'static str,
    /// Epoch milliseconds.
    pub now_ms: i64,
    /// `YYYY-MM-DD HH:MM:SS` IST.
    pub ist: String,
}

/// How far to move the demo clock: minutes of session time, or to an IST time.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AdvanceClock {
    pub advance_minutes: Option<f64>,
    /// `YYYY-MM-DD HH:MM:SS` IST (a time outside the session moves to the next open).
    pub to: Option<String>,
}

fn out(state: &AppState) -> ClockOut {
    let now = state.clock.now();
    ClockOut {
        kind: if state.clock.is_demo() {
            "demo"
        } else {
            "exchange"
        },
        now_ms: now,
        ist: crate::wire::ist_text(now),
    }
}

/// `GET /clock`: the time paper trading runs at.
#[utoipa::path(get, path = "/clock", tag = "trading", security(("bearer" = [])), responses((status = 200, body = ClockOut)))]
pub(crate) async fn clock(
    auth: Auth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<ClockOut>, ApiError> {
    auth.require_read()?;
    Ok(Json(out(&state)))
}

/// `POST /admin/clock`: move the demo clock forward (admin scope; 409 on the wall clock).
#[utoipa::path(post, path = "/admin/clock", tag = "trading", request_body = AdvanceClock, security(("bearer" = [])), responses((status = 200, body = ClockOut), (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn advance(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<AdvanceClock>,
) -> Result<Json<ClockOut>, ApiError> {
    auth.require(Scope::Admin)?;
    if !state.clock.is_demo() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wall_clock",
            "the exchange clock is the wall clock; start the server with --demo-clock",
        ));
    }
    let r = match (b.advance_minutes, b.to.as_deref()) {
        (Some(m), None) => {
            if !(m.is_finite() && m > 0.0) {
                return Err(ApiError::bad_param(
                    "advance_minutes",
                    "must be a positive number",
                ));
            }
            state
                .clock
                .advance((m * 60_000.0).min(i64::MAX as f64 / 2.0) as i64)
        }
        (None, Some(t)) => {
            let dt = NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S")
                .map_err(|_| ApiError::bad_param("to", "expected YYYY-MM-DD HH:MM:SS (IST)"))?;
            let ms = (dt.and_utc().timestamp() - stocksblitz_market::IST_OFFSET_SECS) * 1000;
            state.clock.advance_to(ms)
        }
        _ => {
            return Err(ApiError::bad_param(
                "advance_minutes",
                "give advance_minutes or to (one of them)",
            ));
        }
    };
    let now = r.map_err(|e| {
        ApiError::bad_param(
            if b.to.is_some() {
                "to"
            } else {
                "advance_minutes"
            },
            e,
        )
    })?;
    // The session events passed over (square-off, close, expiry) happen now, before quotes
    // stamped with the new time reach the books.
    if let Err(e) = state.trading.tick(now).await {
        tracing::warn!(error = %e, "trading: clock tick after the advance not applied");
    }
    Ok(Json(out(&state)))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(clock))
        .routes(routes!(advance))
}
