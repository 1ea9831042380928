//! Reminders on the exchange calendar (the old SDK's `client.calendar`): `GET|POST
//! /reminders`, `GET /reminders/upcoming`, `GET|PATCH|DELETE /reminders/{reminder_id}`. They
//! fire on the exchange clock (the demo clock under `--demo-clock`) as alert events of type
//! `reminder` on `/alerts/stream` (see `alerts::reminders`).

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
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Largest `data` object (bytes of JSON).
pub const MAX_DATA_BYTES: usize = 8 * 1024;
/// Furthest `GET /reminders/upcoming` looks (hours): a month.
pub const MAX_UPCOMING_HOURS: i64 = 24 * 31;
/// Most occurrences `GET /reminders/upcoming` lists.
pub const MAX_UPCOMING: usize = 500;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderOut {
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
pub struct Upcoming {
    pub reminder_id: String,
    pub message: String,
    pub frequency: String,
    /// Epoch ms on the exchange clock.
    pub at: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewReminderBody {
    pub message: String,
    /// Default `once`.
    pub frequency: Option<String>,
    /// `once`: epoch ms on the exchange clock.
    pub at: Option<i64>,
    /// `daily`, `weekly`: `HH:MM` IST.
    pub time: Option<String>,
    /// `weekly`: `mon` … `sun` (or `monday` …).
    pub weekday: Option<String>,
    /// `market_open`, `market_close`, `before_expiry`: minutes before (negative: after).
    pub offset_minutes: Option<i64>,
    /// `before_expiry`: the underlying (`NIFTY`, `BANKNIFTY`, …).
    pub underlying: Option<String>,
    /// `low`, `medium` (default), `high`, `critical`.
    pub priority: Option<String>,
    /// A JSON object handed back with each firing.
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReminderPatch {
    pub enabled: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpcomingQuery {
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

/// `POST /reminders`: schedule a reminder (201); `next_at` says when it first fires.
#[utoipa::path(post, path = "/reminders", tag = "calendar", request_body = NewReminderBody, security(("bearer" = [])), responses((status = 201, body = ReminderEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<NewReminderBody>,
) -> Result<(StatusCode, Json<ReminderEnvelope>), ApiError> {
    auth.require(Scope::Read)?;
    let message = b.message.trim();
    let n = message.chars().count();
    if n == 0 || n > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_param(
            "message",
            format!("must be 1 to {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let frequency = match b.frequency.as_deref().map(str::trim) {
        None | Some("") => Frequency::Once,
        Some(f) => Frequency::parse(f).ok_or_else(|| {
            ApiError::bad_param(
                "frequency",
                format!(
                    "must be one of {}",
                    Frequency::ALL.map(Frequency::as_str).join(", ")
                ),
            )
        })?,
    };
    let now = state.market_now();
    let (mut at_ms, mut minute, mut wday, mut underlying, mut weekly) =
        (None, None, None, None, false);
    let offset = b.offset_minutes.unwrap_or(0);
    if !(-24 * 60..=7 * 24 * 60).contains(&offset) {
        return Err(ApiError::bad_param(
            "offset_minutes",
            "must be between -1440 and 10080",
        ));
    }
    match frequency {
        Frequency::Once => {
            let t = b.at.ok_or_else(|| {
                ApiError::bad_param("at", "is required for a one-off reminder (epoch ms)")
            })?;
            if t <= now {
                return Err(ApiError::bad_param(
                    "at",
                    format!("must be in the future on the exchange clock (now {now})"),
                ));
            }
            at_ms = Some(t);
        }
        Frequency::Daily => minute = Some(minute_of_day(b.time.as_deref())?),
        Frequency::Weekly => {
            minute = Some(minute_of_day(b.time.as_deref())?);
            wday = Some(weekday(b.weekday.as_deref())?);
        }
        Frequency::MarketOpen | Frequency::MarketClose => {}
        Frequency::BeforeExpiry => {
            let raw = b.underlying.as_deref().unwrap_or("NIFTY");
            let sym = super::underlying_name(raw)?;
            let parsed = stocksblitz_symbols::parse(&sym)
                .map_err(|e| ApiError::bad_param("underlying", e))?;
            weekly = parsed.index().is_some_and(|i| i.has_weekly);
            underlying = Some(parsed.underlying.to_string());
        }
    }
    let data = match b.data {
        None | Some(Value::Null) => "{}".to_string(),
        Some(v @ Value::Object(_)) => {
            let t = v.to_string();
            if t.len() > MAX_DATA_BYTES {
                return Err(ApiError::bad_param(
                    "data",
                    format!("at most {MAX_DATA_BYTES} bytes of JSON"),
                ));
            }
            t
        }
        Some(_) => return Err(ApiError::bad_param("data", "must be a JSON object")),
    };
    let priority = match b.priority.as_deref().map(|p| p.trim().to_ascii_lowercase()) {
        None => "medium".to_string(),
        Some(p) if p.is_empty() => "medium".to_string(),
        Some(p) if stocksblitz_alerts::PRIORITIES.contains(&p.as_str()) => p,
        Some(_) => {
            return Err(ApiError::bad_param(
                "priority",
                "must be one of low, medium, high, critical",
            ));
        }
    };
    let sched = Schedule {
        frequency,
        at_ms,
        minute_of_day: minute.and_then(|m| u32::try_from(m).ok()),
        weekday: wday.and_then(|w| WEEKDAYS.get(w as usize).copied()),
        offset_minutes: offset,
        underlying: underlying.clone(),
        weekly_series: weekly,
    };
    let next_at = next_fire(&sched, now)
        .ok_or_else(|| ApiError::bad_param("frequency", "this reminder would never fire"))?;
    let row = state
        .store
        .create_reminder(
            &NewReminder {
                owner: auth.owner(),
                message: message.to_string(),
                frequency: frequency.as_str().to_string(),
                at_ms,
                minute_of_day: minute,
                weekday: wday,
                offset_minutes: offset,
                underlying,
                weekly_series: weekly,
                priority,
                data,
                next_at: Some(next_at),
            },
            crate::ingest::now_ms(),
        )
        .await
        .map_err(ApiError::from_store)?;
    Ok((StatusCode::CREATED, ReminderEnvelope::ok(out(&row))))
}

/// `GET /reminders`: the caller's reminders, soonest first.
#[utoipa::path(get, path = "/reminders", tag = "calendar", security(("bearer" = [])), responses((status = 200, body = RemindersEnvelope)))]
pub async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<RemindersEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state
        .store
        .reminders_of(&auth.owner())
        .await
        .map_err(ApiError::store_unavailable)?;
    Ok(RemindersEnvelope::ok(rows.iter().map(out).collect()))
}

/// `GET /reminders/upcoming`: every occurrence of the caller's enabled reminders within
/// `hours` on the exchange clock, soonest first.
#[utoipa::path(get, path = "/reminders/upcoming", tag = "calendar", params(UpcomingQuery), security(("bearer" = [])), responses((status = 200, body = UpcomingEnvelope)))]
pub async fn upcoming(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UpcomingQuery>,
) -> Result<Json<UpcomingEnvelope>, ApiError> {
    auth.require_read()?;
    let hours = super::bounded(
        "hours",
        q.hours.map(super::Count::get),
        24,
        1,
        MAX_UPCOMING_HOURS as usize,
    )? as i64;
    let now = state.market_now();
    let until = now + hours * 3_600_000;
    let rows = state
        .store
        .reminders_of(&auth.owner())
        .await
        .map_err(ApiError::store_unavailable)?;
    let mut items = Vec::new();
    for r in rows.iter().filter(|r| r.enabled && r.status == "scheduled") {
        let (Some(sched), Some(first)) = (schedule_of(r), r.next_at) else {
            continue;
        };
        let mut t = first;
        while t <= until && items.len() < MAX_UPCOMING {
            items.push(Upcoming {
                reminder_id: r.reminder_id.to_string(),
                message: r.message.clone(),
                frequency: r.frequency.clone(),
                at: t,
            });
            match next_fire(&sched, t) {
                Some(n) => t = n,
                None => break,
            }
        }
    }
    items.sort_by_key(|u| u.at);
    Ok(UpcomingEnvelope::ok(items))
}

/// `GET /reminders/{reminder_id}`.
#[utoipa::path(get, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ReminderEnvelope>, ApiError> {
    auth.require_read()?;
    Ok(ReminderEnvelope::ok(out(&owned(&state, &auth, &id).await?)))
}

/// `PATCH /reminders/{reminder_id}`: enable or disable (a re-enabled reminder moves on to its
/// next occurrence after now).
#[utoipa::path(patch, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = String, Path)), request_body = ReminderPatch, security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReminderPatch>,
) -> Result<Json<ReminderEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let r = owned(&state, &auth, &id).await?;
    let next = if b.enabled {
        schedule_of(&r).and_then(|s| next_fire(&s, state.market_now()))
    } else {
        None
    };
    let changed = state
        .store
        .set_reminder_enabled(
            &r.owner,
            r.reminder_id,
            b.enabled,
            next,
            crate::ingest::now_ms(),
        )
        .await
        .map_err(ApiError::store_unavailable)?;
    if !changed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "reminder_not_changeable",
            format!("reminder {} is {}", r.reminder_id, r.status),
        ));
    }
    Ok(ReminderEnvelope::ok(out(&owned(&state, &auth, &id).await?)))
}

/// `DELETE /reminders/{reminder_id}`: cancel (kept as `cancelled`; 409 when it is finished).
#[utoipa::path(delete, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ReminderEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let r = owned(&state, &auth, &id).await?;
    let cancelled = state
        .store
        .cancel_reminder(&r.owner, r.reminder_id, crate::ingest::now_ms())
        .await
        .map_err(ApiError::store_unavailable)?;
    if !cancelled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "reminder_not_changeable",
            format!("reminder {} is {} already", r.reminder_id, r.status),
        ));
    }
    Ok(ReminderEnvelope::ok(out(&owned(&state, &auth, &id).await?)))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(upcoming))
        .routes(routes!(get, update, cancel))
}
