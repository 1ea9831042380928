//! Reminders on the exchange calendar (the old SDK's `client.calendar`): `GET|POST
//! /reminders`, `GET /reminders/upcoming`, `GET|PATCH|DELETE /reminders/{reminder_id}`. They
//! fire on the exchange clock (the demo clock under `--demo-clock`) as alert events of type
//! `reminder` on `/alerts/stream` (see `alerts::reminders`).

mod handlers;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stocksblitz_alerts::schedule::{Frequency, Schedule, next_fire};
use stocksblitz_auth::Scope;
use stocksblitz_store::reminders::{NewReminder, ReminderRow};

use crate::alerts::reminders::{WEEKDAYS, schedule_of};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest reminder message.
pub(crate) const MAX_MESSAGE_CHARS: usize = 500;
/// Largest `data` object (bytes of JSON).
pub(crate) const MAX_DATA_BYTES: usize = 8 * 1024;
/// Furthest `GET /reminders/upcoming` looks (hours): a month.
pub(crate) const MAX_UPCOMING_HOURS: i64 = 24 * 31;
/// Most occurrences `GET /reminders/upcoming` lists.
pub(crate) const MAX_UPCOMING: usize = 500;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ReminderOut {
    pub reminder_id: String,
    pub message: String,
    /// `once`, `daily`, `weekly`, `market_open`, `market_close`, `before_expiry`.
    pub frequency: String,
    /// `once`: epoch ms.
    pub at: Option<i64>,
    /// `daily`, `weekly`: `HH:MM` IST.
    pub time: Option<String>,
    /// `weekly`: `mon` … `sun`.
    pub weekday: Option<String>,
    /// Minutes before the open, the close or the expiry day's close (negative: after).
    pub offset_minutes: i64,
    pub underlying: Option<String>,
    pub priority: String,
    pub data: Value,
    pub enabled: bool,
    /// `scheduled`, `completed` (a one-off that fired), `cancelled`.
    pub status: String,
    /// Epoch ms on the exchange clock; null once finished.
    pub next_at: Option<i64>,
    pub fire_count: i64,
    pub last_fired_at: Option<i64>,
    pub created_at: i64,
}

envelope!(ReminderEnvelope, ReminderOut);
envelope!(RemindersEnvelope, Vec<ReminderOut>);
envelope!(UpcomingEnvelope, Vec<Upcoming>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Upcoming {
    pub reminder_id: String,
    pub message: String,
    pub frequency: String,
    /// Epoch ms on the exchange clock.
    pub at: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewReminderBody {
    /// 1 to 500 characters once trimmed.
    pub message: String,
    /// Default `once`.
    #[schema(value_type = Option<crate::wire::schema::FrequencyOrBlank>, inline)]
    pub frequency: Option<String>,
    /// `once`: epoch ms on the exchange clock.
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    pub at: Option<i64>,
    /// `daily`, `weekly`: `HH:MM` IST.
    pub time: Option<String>,
    /// `weekly`: `mon` … `sun` (or `monday` …).
    pub weekday: Option<String>,
    /// `market_open`, `market_close`, `before_expiry`: minutes before (negative: after).
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    #[schema(minimum = -1440, maximum = 10_080)]
    pub offset_minutes: Option<i64>,
    /// `before_expiry`: the underlying (`NIFTY`, `BANKNIFTY`, …).
    pub underlying: Option<String>,
    /// `low`, `medium` (default), `high`, `critical`.
    #[schema(value_type = Option<crate::wire::schema::PriorityOrBlank>, inline)]
    pub priority: Option<String>,
    /// A JSON object handed back with each firing.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ReminderPatch {
    pub enabled: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UpcomingQuery {
    /// 1–744 (default 24).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 744)]
    pub hours: Option<super::Count>,
}

fn hhmm(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn out(r: &ReminderRow) -> ReminderOut {
    ReminderOut {
        reminder_id: r.reminder_id.to_string(),
        message: r.message.clone(),
        frequency: r.frequency.clone(),
        at: r.at_ms,
        time: r.minute_of_day.map(hhmm),
        weekday: r
            .weekday
            .and_then(|w| usize::try_from(w).ok())
            .and_then(|w| WEEKDAYS.get(w))
            .map(|w| w.to_string().to_ascii_lowercase()),
        offset_minutes: r.offset_minutes,
        underlying: r.underlying.clone(),
        priority: r.priority.clone(),
        data: serde_json::from_str(&r.data).unwrap_or(Value::Null),
        enabled: r.enabled,
        status: r.status.clone(),
        next_at: r.next_at,
        fire_count: r.fire_count,
        last_fired_at: r.last_fired_at,
        created_at: r.created_at,
    }
}

async fn owned(state: &AppState, auth: &Auth, raw: &str) -> Result<ReminderRow, ApiError> {
    let id = raw
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_param("reminder_id", "must be a positive integer"))?;
    match state.store.reminder(id).await {
        Ok(Some(r)) if r.owner == auth.owner() => Ok(r),
        Ok(_) => Err(ApiError::not_found(
            "reminder_not_found",
            format!("no reminder {id}"),
        )),
        Err(e) => Err(ApiError::store_unavailable(e)),
    }
}

fn minute_of_day(raw: Option<&str>) -> Result<i64, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad_param(
                "time",
                "is required for daily and weekly reminders (HH:MM IST)",
            )
        })?;
    let (h, m) = raw
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?)))
        .filter(|(h, m)| (0..24).contains(h) && (0..60).contains(m))
        .ok_or_else(|| ApiError::bad_param("time", "expected HH:MM (IST), 00:00 to 23:59"))?;
    Ok(h * 60 + m)
}

fn weekday(raw: Option<&str>) -> Result<i64, ApiError> {
    let raw = raw
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("weekday", "is required for weekly reminders"))?;
    WEEKDAYS
        .iter()
        .position(|w| {
            let short = w.to_string().to_ascii_lowercase();
            raw == short || (raw.len() > 3 && raw.starts_with(&short))
        })
        .map(|i| i as i64)
        .ok_or_else(|| {
            ApiError::bad_param("weekday", "expected mon, tue, wed, thu, fri, sat or sun")
        })
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(handlers::list, handlers::create))
        .routes(routes!(handlers::upcoming))
        .routes(routes!(handlers::get, handlers::update, handlers::cancel))
}
