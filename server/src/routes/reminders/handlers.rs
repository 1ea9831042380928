//! Reminder handlers: create (one-off or recurring on the exchange calendar), list, upcoming, read,\nchange, cancel.

use super::*;

/// `POST /reminders`: schedule a reminder (201); `next_at` says when it first fires.
#[utoipa::path(post, path = "/reminders", tag = "calendar", request_body = NewReminderBody, security(("bearer" = [])), responses((status = 201, body = ReminderEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub(super) async fn create(
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
            let sym = crate::routes::underlying_name(raw)?;
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
        .await?;
    Ok((StatusCode::CREATED, ReminderEnvelope::ok(out(&row))))
}

/// `GET /reminders`: the caller's reminders, soonest first.
#[utoipa::path(get, path = "/reminders", tag = "calendar", security(("bearer" = [])), responses((status = 200, body = RemindersEnvelope)))]
pub(super) async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<RemindersEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state.store.reminders_of(&auth.owner()).await?;
    Ok(RemindersEnvelope::ok(rows.iter().map(out).collect()))
}

/// `GET /reminders/upcoming`: every occurrence of the caller's enabled reminders within
/// `hours` on the exchange clock, soonest first.
#[utoipa::path(get, path = "/reminders/upcoming", tag = "calendar", params(UpcomingQuery), security(("bearer" = [])), responses((status = 200, body = UpcomingEnvelope)))]
pub(super) async fn upcoming(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UpcomingQuery>,
) -> Result<Json<UpcomingEnvelope>, ApiError> {
    auth.require_read()?;
    let hours = crate::routes::bounded(
        "hours",
        q.hours.map(crate::routes::Count::get),
        24,
        1,
        MAX_UPCOMING_HOURS as usize,
    )? as i64;
    let now = state.market_now();
    let until = now + hours * 3_600_000;
    let rows = state.store.reminders_of(&auth.owner()).await?;
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
#[utoipa::path(get, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn get(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ReminderEnvelope>, ApiError> {
    auth.require_read()?;
    Ok(ReminderEnvelope::ok(out(&owned(&state, &auth, &id).await?)))
}

/// `PATCH /reminders/{reminder_id}`: enable or disable (a re-enabled reminder moves on to its
/// next occurrence after now).
#[utoipa::path(patch, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = inline(crate::wire::schema::RowId), Path)), request_body = ReminderPatch, security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn update(
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
        .await?;
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
#[utoipa::path(delete, path = "/reminders/{reminder_id}", tag = "calendar", params(("reminder_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = ReminderEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn cancel(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ReminderEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let r = owned(&state, &auth, &id).await?;
    let cancelled = state
        .store
        .cancel_reminder(&r.owner, r.reminder_id, crate::ingest::now_ms())
        .await?;
    if !cancelled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "reminder_not_changeable",
            format!("reminder {} is {} already", r.reminder_id, r.status),
        ));
    }
    Ok(ReminderEnvelope::ok(out(&owned(&state, &auth, &id).await?)))
}
