//! Alerts (the old SDK's `client.alerts`), evaluated by the server: `GET|POST /alerts`,
//! `GET|PATCH|DELETE /alerts/{alert_id}`, and the events they raised: `GET|POST|DELETE
//! /alerts/events`, `POST /alerts/events/{event_id}/acknowledge`. Live delivery is the
//! `/alerts/stream` WebSocket (see `routes::stream`) and the alert's webhook.
//!
//! The condition grammar (one comparison, `<value> <operator> <value>`):
//!
//! - operators: `>`, `>=`, `<`, `<=`, `crosses_above`, `crosses_below`, `crosses`;
//! - price alerts (`alert_type: "price"`, evaluated on every quote of the symbol): numbers and
//!   the quote's `ltp` (`last_price`, `price`), `bid`, `ask`, `open`, `high`, `low`,
//!   `prev_close`, `change`, `change_pct` (against the previous session's close), `volume`,
//!   `oi`, `oi_change`;
//! - indicator alerts (`alert_type: "indicator"`, evaluated on every bar close of `timeframe`):
//!   numbers, indicator ids (`RSI_14`, `EMA_20`, `MACD_12_26_9.histogram` — an output named
//!   for multi-output indicators) and the closed bar's `open`, `high`, `low`, `close`, `volume`.
//!
//! A comparison fires when it holds (a repeating one again once it has stopped holding and the
//! cool-down has passed); a crossing fires when the sides change order between two
//! evaluations — a new price alert starts from the current quote, a new indicator alert from
//! the last closed bar, and after a restart the first evaluation only records where they stand. A malformed condition is a 400 naming the token and its column.

mod events;
mod rules;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stocksblitz_alerts::Kind;
use stocksblitz_auth::Scope;
use stocksblitz_store::alerts::{AlertRow, EventFilter, NewAlert, NewAlertEvent};

use crate::alerts::deliver::{event_json, publish};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use stocksblitz_alerts::PRIORITIES;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Types of events a client may raise (the old SDK's `AlertType` values).
pub(crate) const EVENT_TYPES: [&str; 7] = [
    "price",
    "indicator",
    "volume",
    "position",
    "order",
    "custom",
    "reminder",
];
/// Longest alert message (characters).
pub(crate) const MAX_MESSAGE_CHARS: usize = 500;
/// Longest webhook URL.
pub(crate) const MAX_URL_CHARS: usize = 2048;
/// Longest cool-down (seconds): a week.
pub(crate) const MAX_COOLDOWN_SECS: i64 = 7 * 24 * 3600;
/// Cool-down of a repeating alert that names none (seconds).
pub(crate) const DEFAULT_COOLDOWN_SECS: i64 = 60;
/// Largest `data` object of a raised event (bytes of JSON).
pub(crate) const MAX_DATA_BYTES: usize = 16 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AlertOut {
    pub alert_id: String,
    /// `price` or `indicator`.
    pub alert_type: String,
    pub symbol: String,
    /// Indicator alerts: the bars whose closes are evaluated.
    pub timeframe: Option<String>,
    /// The condition in canonical form (indicator ids with all their parameters).
    pub condition: String,
    /// `tick` (price alerts) or `bar_close` (indicator alerts).
    pub evaluated_on: &'static str,
    pub message: String,
    pub priority: String,
    /// Fires again after the condition stops holding and the cool-down has passed.
    pub repeat: bool,
    pub cooldown_secs: f64,
    pub webhook_url: Option<String>,
    /// `active`, `triggered` (a one-shot alert that fired), `paused`, `cancelled`, `expired`.
    pub status: String,
    pub fire_count: i64,
    /// Epoch ms.
    pub last_fired_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Only in the answer to `POST /alerts` with a webhook: the key its payloads are signed
    /// with (generated when none was given). Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

envelope!(AlertEnvelope, AlertOut);
envelope!(AlertsEnvelope, Vec<AlertOut>);
envelope!(EventEnvelope, Value);
envelope!(EventsEnvelope, Vec<Value>);
envelope!(ClearedEnvelope, Cleared);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Cleared {
    pub deleted: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewAlertBody {
    // `price` (evaluated on every quote) or `indicator` (on every bar close of `timeframe`).
    // (Plain comments: utoipa turns a doc comment beside an inline schema into an `allOf` with
    // an object, which contradicts the string.)
    #[schema(value_type = crate::wire::schema::AlertType, inline)]
    pub alert_type: String,
    // Any spelling the symbols crate reads (`NIFTY 50`, `NIFTY25DECFUT`, …).
    #[schema(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: String,
    /// `ltp > 26000`, `change_pct >= 1.5`, `RSI_14 > 70`, `MACD_12_26_9.histogram crosses_above 0`.
    #[schema(max_length = 200)]
    pub condition: String,
    /// Indicator alerts: `1m` … `1d` (any spelling of the timeframe table); price alerts
    /// take none.
    #[schema(value_type = Option<crate::wire::schema::TimeframeOrBlank>, inline)]
    pub timeframe: Option<String>,
    /// What the event says (default: a summary of the condition and the value); at most 500
    /// characters once trimmed.
    pub message: Option<String>,
    /// `low`, `medium` (default), `high`, `critical`.
    #[schema(value_type = Option<crate::wire::schema::PriorityOrBlank>, inline)]
    pub priority: Option<String>,
    /// Default false: fire once, then `triggered`.
    pub repeat: Option<bool>,
    /// Least time between two firings of a repeating alert (default 60, at most a week).
    #[schema(minimum = 0, maximum = 604_800)]
    pub cooldown_secs: Option<f64>,
    /// `http(s)://…` to POST each event to, signed (see `webhook_secret`).
    #[schema(max_length = 2048)]
    pub webhook_url: Option<String>,
    /// 16–256 characters, only with a `webhook_url`; generated when a webhook has none.
    #[schema(min_length = 16, max_length = 256)]
    pub webhook_secret: Option<String>,
    /// Epoch ms after which the alert expires.
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AlertPatch {
    /// `paused` or `active` (resume).
    pub status: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertsQuery {
    /// Only alerts in this status.
    pub status: Option<String>,
    /// Only `price` or `indicator` alerts.
    pub alert_type: Option<String>,
    #[param(value_type = Option<crate::wire::schema::SymbolOrBlank>, inline)]
    pub symbol: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RaiseBody {
    /// The old SDK's `AlertType` values (default `custom`).
    #[schema(value_type = Option<crate::wire::schema::EventTypeOrBlank>, inline)]
    pub alert_type: Option<String>,
    #[schema(value_type = Option<crate::wire::schema::PriorityOrBlank>, inline)]
    pub priority: Option<String>,
    /// Free text, at most 64 characters (a tradingsymbol, usually).
    #[schema(max_length = 64)]
    pub symbol: Option<String>,
    /// 1–500 characters, not all blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub message: String,
    /// A JSON object (at most 16 KiB).
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Only events after this id, oldest first (a stream's catch-up); else newest first.
    #[param(value_type = Option<crate::wire::schema::Cursor>, inline)]
    pub after_id: Option<super::Count>,
    #[param(value_type = Option<crate::wire::schema::EventTypeOrBlank>, inline)]
    pub alert_type: Option<String>,
    #[param(value_type = Option<crate::wire::schema::PriorityOrBlank>, inline)]
    pub priority: Option<String>,
    pub symbol: Option<String>,
    /// Only the events of this alert.
    #[param(value_type = Option<crate::wire::schema::Cursor>, inline)]
    pub alert_id: Option<super::Count>,
    pub acknowledged: Option<bool>,
    /// 1–1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    pub limit: Option<super::Count>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ClearQuery {
    /// Only delete acknowledged events (default false: all).
    pub acknowledged_only: Option<bool>,
}

fn alert_out(a: &AlertRow) -> AlertOut {
    AlertOut {
        alert_id: a.alert_id.to_string(),
        alert_type: a.kind.clone(),
        symbol: a.symbol.clone(),
        timeframe: a.timeframe.clone(),
        condition: a.condition.clone(),
        evaluated_on: if a.kind == "price" {
            "tick"
        } else {
            "bar_close"
        },
        message: a.message.clone(),
        priority: a.priority.clone(),
        repeat: a.repeating,
        cooldown_secs: a.cooldown_ms as f64 / 1000.0,
        webhook_url: a.webhook_url.clone(),
        status: a.status.clone(),
        fire_count: a.fired,
        last_fired_at: a.last_fired_at,
        expires_at: a.expires_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
        webhook_secret: None,
    }
}

fn one_of(
    param: &str,
    raw: Option<&str>,
    allowed: &[&str],
    default: &str,
) -> Result<String, ApiError> {
    let Some(v) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default.to_string());
    };
    let lower = v.to_ascii_lowercase();
    if allowed.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(ApiError::bad_param(
            param,
            format!(
                "must be one of {}, got {:?}",
                allowed.join(", "),
                v.chars().take(40).collect::<String>()
            ),
        ))
    }
}

fn id_param(param: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_param(param, "must be a positive integer"))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::not_found(
        "alert_not_found",
        format!("no alert {}", raw.chars().take(24).collect::<String>()),
    )
}

/// The caller's alert (another user's is a 404).
async fn owned(state: &AppState, auth: &Auth, raw: &str) -> Result<AlertRow, ApiError> {
    let id = id_param("alert_id", raw)?;
    match state.store.alert(id).await {
        Ok(Some(a)) if a.owner == auth.owner() => Ok(a),
        Ok(_) => Err(not_found(raw)),
        Err(e) => Err(ApiError::store_unavailable(e)),
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(rules::list, rules::create))
        .routes(routes!(rules::get, rules::update, rules::cancel))
        .routes(routes!(events::events, events::raise, events::clear))
        .routes(routes!(events::event))
        .routes(routes!(events::acknowledge))
}
