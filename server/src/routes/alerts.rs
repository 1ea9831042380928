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
pub const EVENT_TYPES: [&str; 7] = [
    "price",
    "indicator",
    "volume",
    "position",
    "order",
    "custom",
    "reminder",
];
/// Longest alert message (characters).
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Longest webhook URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest cool-down (seconds): a week.
pub const MAX_COOLDOWN_SECS: i64 = 7 * 24 * 3600;
/// Cool-down of a repeating alert that names none (seconds).
pub const DEFAULT_COOLDOWN_SECS: i64 = 60;
/// Largest `data` object of a raised event (bytes of JSON).
pub const MAX_DATA_BYTES: usize = 16 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertOut {
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
pub struct Cleared {
    pub deleted: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAlertBody {
    /// `price` (evaluated on every quote) or `indicator` (on every bar close of `timeframe`).
    #[schema(example = "price")]
    pub alert_type: String,
    /// Any spelling the symbols crate reads (`NIFTY 50`, `NIFTY25DECFUT`, …).
    pub symbol: String,
    /// `ltp > 26000`, `change_pct >= 1.5`, `RSI_14 > 70`, `MACD_12_26_9.histogram crosses_above 0`.
    #[schema(max_length = 200)]
    pub condition: String,
    /// Indicator alerts: `1m` … `1d` (any spelling of the timeframe table).
    pub timeframe: Option<String>,
    /// What the event says (default: a summary of the condition and the value).
    pub message: Option<String>,
    /// `low`, `medium` (default), `high`, `critical`.
    pub priority: Option<String>,
    /// Default false: fire once, then `triggered`.
    pub repeat: Option<bool>,
    /// Least time between two firings of a repeating alert (default 60, at most a week).
    pub cooldown_secs: Option<f64>,
    /// `http(s)://…` to POST each event to, signed (see `webhook_secret`).
    pub webhook_url: Option<String>,
    /// 16–256 characters; generated when a webhook has none.
    pub webhook_secret: Option<String>,
    /// Epoch ms after which the alert expires.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AlertPatch {
    /// `paused` or `active` (resume).
    pub status: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Only alerts in this status.
    pub status: Option<String>,
    /// Only `price` or `indicator` alerts.
    pub alert_type: Option<String>,
    pub symbol: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RaiseBody {
    /// The old SDK's `AlertType` values (default `custom`).
    pub alert_type: Option<String>,
    pub priority: Option<String>,
    pub symbol: Option<String>,
    /// 1–500 characters.
    pub message: String,
    /// A JSON object (at most 16 KiB).
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events after this id, oldest first (a stream's catch-up); else newest first.
    #[param(value_type = Option<u64>)]
    pub after_id: Option<super::Count>,
    pub alert_type: Option<String>,
    pub priority: Option<String>,
    pub symbol: Option<String>,
    /// Only the events of this alert.
    #[param(value_type = Option<u64>)]
    pub alert_id: Option<super::Count>,
    pub acknowledged: Option<bool>,
    /// 1–1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    pub limit: Option<super::Count>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearQuery {
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

fn webhook(b: &NewAlertBody) -> Result<(Option<String>, Option<String>, bool), ApiError> {
    let Some(url) = b
        .webhook_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        if b.webhook_secret.is_some() {
            return Err(ApiError::bad_param(
                "webhook_secret",
                "only goes with a webhook_url",
            ));
        }
        return Ok((None, None, false));
    };
    if url.chars().count() > MAX_URL_CHARS {
        return Err(ApiError::bad_param(
            "webhook_url",
            format!("at most {MAX_URL_CHARS} characters"),
        ));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::bad_param("webhook_url", format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::bad_param(
            "webhook_url",
            "must be an http:// or https:// URL with a host",
        ));
    }
    let secret = match b.webhook_secret.as_deref() {
        Some(s) => {
            let n = s.chars().count();
            if !(16..=256).contains(&n) {
                return Err(ApiError::bad_param(
                    "webhook_secret",
                    "must be 16 to 256 characters",
                ));
            }
            s.to_string()
        }
        None => {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_randomness",
                    "no secret could be generated; try again",
                )
            })?;
            raw.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    Ok((Some(url.to_string()), Some(secret), true))
}

/// `POST /alerts`: a new alert, evaluated from now on (201). A malformed condition is a 400
/// with code `invalid_condition` naming the token and its column.
#[utoipa::path(post, path = "/alerts", tag = "alerts", request_body = NewAlertBody, security(("bearer" = [])), responses((status = 201, body = AlertEnvelope), (status = 400, description = "a bad field, or the limit of live alerts reached", body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<NewAlertBody>,
) -> Result<(StatusCode, Json<AlertEnvelope>), ApiError> {
    auth.require(Scope::Read)?;
    let kind = match b.alert_type.trim().to_ascii_lowercase().as_str() {
        "price" => Kind::Price,
        "indicator" => Kind::Indicator,
        other => {
            return Err(ApiError::bad_param(
                "alert_type",
                format!(
                    "must be price or indicator, got {:?}",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    let sym = super::instrument(&state, "symbol", Some(&b.symbol))?;
    let timeframe = match (kind, b.timeframe.as_deref()) {
        (Kind::Indicator, raw) => Some(super::timeframe(raw)?.as_str().to_string()),
        (Kind::Price, Some(t)) if !t.trim().is_empty() => {
            return Err(ApiError::bad_param(
                "timeframe",
                "price alerts are evaluated on every quote and take no timeframe (indicator alerts do)",
            ));
        }
        (Kind::Price, _) => None,
    };
    let cond = stocksblitz_alerts::parse(&b.condition, kind).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_condition",
            format!("condition: {e}\n{}", e.pointer(&b.condition)),
        )
    })?;
    let message = b.message.as_deref().unwrap_or("").trim().to_string();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_param(
            "message",
            format!("at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let priority = one_of("priority", b.priority.as_deref(), &PRIORITIES, "medium")?;
    let repeating = b.repeat.unwrap_or(false);
    let cooldown_ms = match b.cooldown_secs {
        None if repeating => DEFAULT_COOLDOWN_SECS * 1000,
        None => 0,
        Some(s) if s.is_finite() && (0.0..=MAX_COOLDOWN_SECS as f64).contains(&s) => {
            (s * 1000.0).round() as i64
        }
        Some(_) => {
            return Err(ApiError::bad_param(
                "cooldown_secs",
                format!("must be between 0 and {MAX_COOLDOWN_SECS}"),
            ));
        }
    };
    let now = crate::ingest::now_ms();
    if let Some(t) = b.expires_at
        && t <= now
    {
        return Err(ApiError::bad_param(
            "expires_at",
            "must be in the future (epoch ms)",
        ));
    }
    let (webhook_url, webhook_secret, has_hook) = webhook(&b)?;
    let row = state
        .store
        .create_alert(
            &NewAlert {
                owner: auth.owner(),
                kind: kind.as_str().to_string(),
                symbol: sym.tradingsymbol.to_string(),
                timeframe,
                condition: cond.to_string(),
                message,
                priority,
                repeating,
                cooldown_ms,
                webhook_url,
                webhook_secret: webhook_secret.clone(),
                expires_at: b.expires_at,
            },
            now,
        )
        .await
        .map_err(ApiError::from_store)?;
    state.alerts.upsert(row.clone());
    if kind == Kind::Price
        && let Ok(snap) = state.pipeline.snapshot.read()
        && let Some(q) = snap.get(&row.symbol)
    {
        state.alerts.prime_from_quote(row.alert_id, q);
    }
    let mut out = alert_out(&row);
    if has_hook {
        out.webhook_secret = webhook_secret;
    }
    Ok((StatusCode::CREATED, AlertEnvelope::ok(out)))
}

/// `GET /alerts`: the caller's alerts, newest first.
#[utoipa::path(get, path = "/alerts", tag = "alerts", params(AlertsQuery), security(("bearer" = [])), responses((status = 200, body = AlertsEnvelope)))]
pub async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state
        .store
        .alerts_of(&auth.owner())
        .await
        .map_err(ApiError::store_unavailable)?;
    let sym = match q.symbol.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            stocksblitz_symbols::parse(raw)
                .map_err(|e| ApiError::bad_param("symbol", e))?
                .tradingsymbol
                .to_string(),
        ),
        None => None,
    };
    let matches = |v: &str, want: &Option<String>| {
        want.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .is_none_or(|w| v.eq_ignore_ascii_case(w))
    };
    Ok(AlertsEnvelope::ok(
        rows.iter()
            .filter(|a| matches(&a.status, &q.status) && matches(&a.kind, &q.alert_type))
            .filter(|a| sym.as_deref().is_none_or(|s| a.symbol == s))
            .map(alert_out)
            .collect(),
    ))
}

/// `GET /alerts/{alert_id}`.
#[utoipa::path(get, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<AlertEnvelope>, ApiError> {
    auth.require_read()?;
    Ok(AlertEnvelope::ok(alert_out(
        &owned(&state, &auth, &id).await?,
    )))
}

/// `PATCH /alerts/{alert_id}`: pause (`{"status": "paused"}`) or resume (`"active"`).
#[utoipa::path(patch, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = String, Path)), request_body = AlertPatch, security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AlertPatch>,
) -> Result<Json<AlertEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let a = owned(&state, &auth, &id).await?;
    let (from, to) = match b.status.trim().to_ascii_lowercase().as_str() {
        "paused" | "pause" => ("active", "paused"),
        "active" | "resume" | "resumed" => ("paused", "active"),
        other => {
            return Err(ApiError::bad_param(
                "status",
                format!(
                    "must be paused or active, got {:?}",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    let now = crate::ingest::now_ms();
    if a.status != to {
        let moved = state
            .store
            .set_alert_status(&a.owner, a.alert_id, &[from], to, now)
            .await
            .map_err(ApiError::store_unavailable)?;
        if !moved {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "alert_not_changeable",
                format!(
                    "alert {} is {}: it can no longer be {to}",
                    a.alert_id, a.status
                ),
            ));
        }
    }
    let row = owned(&state, &auth, &id).await?;
    state.alerts.upsert(row.clone());
    Ok(AlertEnvelope::ok(alert_out(&row)))
}

/// `DELETE /alerts/{alert_id}`: cancel (kept, with its events, as `cancelled`).
#[utoipa::path(delete, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cancel(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<AlertEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let a = owned(&state, &auth, &id).await?;
    state
        .store
        .set_alert_status(
            &a.owner,
            a.alert_id,
            &["active", "paused"],
            "cancelled",
            crate::ingest::now_ms(),
        )
        .await
        .map_err(ApiError::store_unavailable)?;
    let row = owned(&state, &auth, &id).await?;
    state.alerts.upsert(row.clone());
    Ok(AlertEnvelope::ok(alert_out(&row)))
}

/// `GET /alerts/events`: what the caller's alerts raised (and what the caller raised).
#[utoipa::path(get, path = "/alerts/events", tag = "alerts", params(EventsQuery), security(("bearer" = [])), responses((status = 200, body = EventsEnvelope)))]
pub async fn events(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventsEnvelope>, ApiError> {
    auth.require_read()?;
    let symbol = q
        .symbol
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|raw| {
            stocksblitz_symbols::parse(raw)
                .map(|s| s.tradingsymbol.to_string())
                .unwrap_or_else(|_| raw.to_string())
        });
    let kind = match q.alert_type.as_deref() {
        Some(k) if !k.trim().is_empty() => Some(one_of("alert_type", Some(k), &EVENT_TYPES, "")?),
        _ => None,
    };
    let priority = match q.priority.as_deref() {
        Some(p) if !p.trim().is_empty() => Some(one_of("priority", Some(p), &PRIORITIES, "")?),
        _ => None,
    };
    let limit = super::bounded("limit", q.limit.map(super::Count::get), 100, 1, 1000)? as i64;
    let f = EventFilter {
        after_id: q.after_id.map(super::Count::get),
        kind,
        priority,
        symbol,
        alert_id: q.alert_id.map(super::Count::get),
        acknowledged: q.acknowledged,
        oldest_first: q.after_id.is_some(),
        limit,
    };
    let rows = state
        .store
        .alert_events_of(&auth.owner(), &f)
        .await
        .map_err(ApiError::store_unavailable)?;
    Ok(EventsEnvelope::ok(rows.iter().map(event_json).collect()))
}

/// `POST /alerts/events`: raise an event yourself (the old SDK's `raise_alert`): stored and
/// delivered to your streams like a fired alert (201).
#[utoipa::path(post, path = "/alerts/events", tag = "alerts", request_body = RaiseBody, security(("bearer" = [])), responses((status = 201, body = EventEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub async fn raise(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<RaiseBody>,
) -> Result<(StatusCode, Json<EventEnvelope>), ApiError> {
    auth.require(Scope::Read)?;
    let kind = one_of(
        "alert_type",
        b.alert_type.as_deref(),
        &EVENT_TYPES,
        "custom",
    )?;
    let priority = one_of("priority", b.priority.as_deref(), &PRIORITIES, "medium")?;
    let message = b.message.trim();
    let n = message.chars().count();
    if n == 0 || n > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_param(
            "message",
            format!("must be 1 to {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let symbol = b.symbol.as_deref().map(str::trim).unwrap_or("");
    if symbol.chars().count() > 64 {
        return Err(ApiError::bad_param("symbol", "at most 64 characters"));
    }
    let data = match b.data {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(ApiError::bad_param("data", "must be a JSON object")),
    };
    let data = data.to_string();
    if data.len() > MAX_DATA_BYTES {
        return Err(ApiError::bad_param(
            "data",
            format!("at most {MAX_DATA_BYTES} bytes of JSON"),
        ));
    }
    let row = state
        .store
        .insert_alert_event(&NewAlertEvent {
            owner: auth.owner(),
            kind,
            priority,
            symbol: symbol.to_string(),
            message: message.to_string(),
            data,
            at: crate::ingest::now_ms(),
        })
        .await
        .map_err(ApiError::store_unavailable)?;
    publish(&state, &row, None);
    Ok((StatusCode::CREATED, EventEnvelope::ok(event_json(&row))))
}

/// `GET /alerts/events/{event_id}`: one of the caller's events.
#[utoipa::path(get, path = "/alerts/events/{event_id}", tag = "alerts", params(("event_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = EventEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub async fn event(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<EventEnvelope>, ApiError> {
    auth.require_read()?;
    let event_id = id_param("event_id", &id)?;
    match state.store.alert_event(event_id).await {
        Ok(Some(e)) if e.owner == auth.owner() => Ok(EventEnvelope::ok(event_json(&e))),
        Ok(_) => Err(ApiError::not_found(
            "event_not_found",
            format!("no alert event {event_id}"),
        )),
        Err(e) => Err(ApiError::store_unavailable(e)),
    }
}

/// `POST /alerts/events/{event_id}/acknowledge`.
#[utoipa::path(post, path = "/alerts/events/{event_id}/acknowledge", tag = "alerts", params(("event_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = EventEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub async fn acknowledge(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<EventEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let event_id = id_param("event_id", &id)?;
    let me = auth.owner();
    let done = state
        .store
        .acknowledge_alert_event(&me, event_id, crate::ingest::now_ms())
        .await
        .map_err(ApiError::store_unavailable)?;
    let row = match (done, state.store.alert_event(event_id).await) {
        (true, Ok(Some(e))) if e.owner == me => e,
        (_, Err(e)) => return Err(ApiError::store_unavailable(e)),
        _ => {
            return Err(ApiError::not_found(
                "event_not_found",
                format!("no alert event {event_id}"),
            ));
        }
    };
    Ok(EventEnvelope::ok(event_json(&row)))
}

/// `DELETE /alerts/events`: delete the caller's events (`?acknowledged_only=true`: only those
/// acknowledged). The alerts stay.
#[utoipa::path(delete, path = "/alerts/events", tag = "alerts", params(ClearQuery), security(("bearer" = [])), responses((status = 200, body = ClearedEnvelope)))]
pub async fn clear(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ClearQuery>,
) -> Result<Json<ClearedEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let deleted = state
        .store
        .clear_alert_events(&auth.owner(), q.acknowledged_only.unwrap_or(false))
        .await
        .map_err(ApiError::store_unavailable)?;
    Ok(ClearedEnvelope::ok(Cleared { deleted }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, cancel))
        .routes(routes!(events, raise, clear))
        .routes(routes!(event))
        .routes(routes!(acknowledge))
}
