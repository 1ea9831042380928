//! Strategies: list, create, read, and the start / pause / resume / stop transitions.

use super::performance::snapshot;
use super::*;

/// `GET /strategies`: the caller's strategies (`?name=` for one by name).
#[utoipa::path(get, path = "/strategies", tag = "trading", params(StrategiesQuery), security(("bearer" = [])), responses((status = 200, body = StrategiesEnvelope)))]
pub(super) async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<StrategiesQuery>,
) -> Result<Json<StrategiesEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state.store.strategies_of(&auth.owner()).await?;
    Ok(StrategiesEnvelope::ok(
        rows.iter()
            .filter(|s| q.name.as_deref().is_none_or(|n| s.name == n.trim()))
            .map(strategy_out)
            .collect(),
    ))
}

/// `POST /strategies`: a new strategy on one of the caller's accounts (409 when the name is
/// taken: fetch it with `?name=`).
#[utoipa::path(post, path = "/strategies", tag = "trading", request_body = NewStrategy, security(("bearer" = [])), responses((status = 201, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn create(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<NewStrategy>,
) -> Result<(StatusCode, Json<StrategyEnvelope>), ApiError> {
    auth.require(Scope::Trade)?;
    let name = b.strategy_name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::bad_param(
            "strategy_name",
            "must be 1 to 64 characters",
        ));
    }
    let kind = b.strategy_type.as_deref().map_or("custom", str::trim);
    if kind.is_empty() || kind.chars().count() > 32 {
        return Err(ApiError::bad_param(
            "strategy_type",
            "must be 1 to 32 characters",
        ));
    }
    let description = b.description.as_deref().unwrap_or("");
    if description.chars().count() > 1000 {
        return Err(ApiError::bad_param(
            "description",
            "at most 1000 characters",
        ));
    }
    let config = match b.config {
        None | Some(serde_json::Value::Null) => "{}".to_string(),
        Some(v @ serde_json::Value::Object(_)) => v.to_string(),
        Some(_) => return Err(ApiError::bad_param("config", "must be a JSON object")),
    };
    if config.len() > 16 * 1024 {
        return Err(ApiError::bad_param("config", "at most 16 KiB"));
    }
    let who = auth.owner();
    let account = match b.account_id.as_deref() {
        None => {
            state
                .trading
                .primary_account(&who, state.clock.now())
                .await
                .map_err(trading_error)?
                .account_id
        }
        Some(raw) => {
            let id = id_param("account_id", raw)? as i64;
            let mine = state
                .trading
                .accounts(&who)
                .await
                .map_err(trading_error)?
                .iter()
                .any(|a| a.account_id == id);
            if !mine {
                return Err(ApiError::not_found(
                    "account_not_found",
                    format!("no account {id}"),
                ));
            }
            id
        }
    };
    let row = state
        .store
        .create_strategy(
            &who,
            account,
            name,
            kind,
            description,
            &config,
            crate::ingest::now_ms(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        StrategyEnvelope::ok(strategy_out(&row)),
    ))
}

/// `GET /strategies/{strategy_id}`.
#[utoipa::path(get, path = "/strategies/{strategy_id}", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope)))]
pub(super) async fn get(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    Ok(StrategyEnvelope::ok(strategy_out(
        &owned(&state, &auth, &id).await?,
    )))
}

pub(super) async fn transition(
    state: &AppState,
    auth: &Auth,
    raw: &str,
    from: &[&str],
    to: &str,
    verb: &str,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    auth.require(Scope::Trade)?;
    let s = owned(state, auth, raw).await?;
    let moved = state
        .store
        .set_strategy_status(s.strategy_id, from, to, crate::ingest::now_ms())
        .await?;
    if !moved {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            format!("cannot {verb} a strategy that is {}", s.status),
        ));
    }
    if to == "active" {
        // The first snapshot at once (the P&L series starts where the strategy starts).
        let _ = snapshot(state, &s).await;
    }
    let s = owned(state, auth, raw).await?;
    Ok(StrategyEnvelope::ok(strategy_out(&s)))
}

/// `POST /strategies/{strategy_id}/start`: created, paused or stopped → active.
#[utoipa::path(post, path = "/strategies/{strategy_id}/start", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn start(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(
        &state,
        &auth,
        &id,
        &["created", "stopped"],
        "active",
        "start",
    )
    .await
}

/// `POST /strategies/{strategy_id}/pause`: active → paused (no new orders through it).
#[utoipa::path(post, path = "/strategies/{strategy_id}/pause", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn pause(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(&state, &auth, &id, &["active"], "paused", "pause").await
}

/// `POST /strategies/{strategy_id}/resume`: paused → active.
#[utoipa::path(post, path = "/strategies/{strategy_id}/resume", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn resume(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(&state, &auth, &id, &["paused"], "active", "resume").await
}

/// `POST /strategies/{strategy_id}/stop`: → stopped (its positions stay; they are the account's).
#[utoipa::path(post, path = "/strategies/{strategy_id}/stop", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn stop(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(
        &state,
        &auth,
        &id,
        &["created", "active", "paused"],
        "stopped",
        "stop",
    )
    .await
}
