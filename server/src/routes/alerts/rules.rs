//! Alert rules: create (with a webhook), list, read, change, cancel.

use super::*;

pub(super) fn webhook(
    b: &NewAlertBody,
) -> Result<(Option<String>, Option<String>, bool), ApiError> {
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
    let secret = if let Some(s) = b.webhook_secret.as_deref() {
        let n = s.chars().count();
        if !(16..=256).contains(&n) {
            return Err(ApiError::bad_param(
                "webhook_secret",
                "must be 16 to 256 characters",
            ));
        }
        s.to_string()
    } else {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_randomness",
                "no secret could be generated; try again",
            )
        })?;
        stocksblitz_auth::apikey::hex(&raw)
    };
    Ok((Some(url.to_string()), Some(secret), true))
}

/// `POST /alerts`: a new alert, evaluated from now on (201). A malformed condition is a 400
/// with code `invalid_condition` naming the token and its column.
#[utoipa::path(post, path = "/alerts", tag = "alerts", request_body = NewAlertBody, security(("bearer" = [])), responses((status = 201, body = AlertEnvelope), (status = 400, description = "a bad field, or the limit of live alerts reached", body = crate::error::ErrorBody)))]
pub(super) async fn create(
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
    let sym = crate::routes::instrument(&state, "symbol", Some(&b.symbol))?;
    let timeframe = match (kind, b.timeframe.as_deref()) {
        (Kind::Indicator, raw) => Some(crate::routes::timeframe(raw)?.as_str().to_string()),
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
        .await?;
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
pub(super) async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state.store.alerts_of(&auth.owner()).await?;
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
#[utoipa::path(get, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn get(
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
#[utoipa::path(patch, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = inline(crate::wire::schema::RowId), Path)), request_body = AlertPatch, security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn update(
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
            .await?;
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
#[utoipa::path(delete, path = "/alerts/{alert_id}", tag = "alerts", params(("alert_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = AlertEnvelope), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn cancel(
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
        .await?;
    let row = owned(&state, &auth, &id).await?;
    state.alerts.upsert(row.clone());
    Ok(AlertEnvelope::ok(alert_out(&row)))
}
