//! Alert events: list, raise, read, acknowledge, clear.

use super::*;

/// `GET /alerts/events`: what the caller's alerts raised (and what the caller raised).
#[utoipa::path(get, path = "/alerts/events", tag = "alerts", params(EventsQuery), security(("bearer" = [])), responses((status = 200, body = EventsEnvelope)))]
pub(super) async fn events(
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
                .map_or_else(|_| raw.to_string(), |s| s.tradingsymbol.to_string())
        });
    let kind = match q.alert_type.as_deref() {
        Some(k) if !k.trim().is_empty() => Some(one_of("alert_type", Some(k), &EVENT_TYPES, "")?),
        _ => None,
    };
    let priority = match q.priority.as_deref() {
        Some(p) if !p.trim().is_empty() => Some(one_of("priority", Some(p), &PRIORITIES, "")?),
        _ => None,
    };
    let limit = crate::routes::bounded(
        "limit",
        q.limit.map(crate::routes::Count::get),
        100,
        1,
        1000,
    )? as i64;
    let f = EventFilter {
        after_id: q.after_id.map(crate::routes::Count::get),
        kind,
        priority,
        symbol,
        alert_id: q.alert_id.map(crate::routes::Count::get),
        acknowledged: q.acknowledged,
        oldest_first: q.after_id.is_some(),
        limit,
    };
    let rows = state.store.alert_events_of(&auth.owner(), &f).await?;
    Ok(EventsEnvelope::ok(rows.iter().map(event_json).collect()))
}

/// `POST /alerts/events`: raise an event yourself (the old SDK's `raise_alert`): stored and
/// delivered to your streams like a fired alert (201).
#[utoipa::path(post, path = "/alerts/events", tag = "alerts", request_body = RaiseBody, security(("bearer" = [])), responses((status = 201, body = EventEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub(super) async fn raise(
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
    let symbol = b.symbol.as_deref().map_or("", str::trim);
    if symbol.chars().count() > 64 {
        return Err(ApiError::bad_param("symbol", "at most 64 characters"));
    }
    let data = match b.data {
        None | Some(Value::Null) => Value::Object(serde_json::Map::default()),
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
        .await?;
    publish(&state, &row, None);
    Ok((StatusCode::CREATED, EventEnvelope::ok(event_json(&row))))
}

/// `GET /alerts/events/{event_id}`: one of the caller's events.
#[utoipa::path(get, path = "/alerts/events/{event_id}", tag = "alerts", params(("event_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = EventEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn event(
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
#[utoipa::path(post, path = "/alerts/events/{event_id}/acknowledge", tag = "alerts", params(("event_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = EventEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn acknowledge(
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
        .await?;
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
pub(super) async fn clear(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ClearQuery>,
) -> Result<Json<ClearedEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let deleted = state
        .store
        .clear_alert_events(&auth.owner(), q.acknowledged_only.unwrap_or(false))
        .await?;
    Ok(ClearedEnvelope::ok(Cleared { deleted }))
}
