//! Strategies (the old SDK's `client.Strategy`): `GET|POST /strategies`, `GET /strategies/{id}`,
//! `POST /strategies/{id}/start|pause|resume|stop`, `GET /strategies/{id}/metrics|snapshots|
//! orders|positions`, `POST /strategies/{id}/orders`. A strategy trades on one of its owner's
//! paper accounts; its orders carry its tag and its book is those fills alone (see
//! `stocksblitz_trading::strategy`). Snapshots are recorded while it is active ([`run_snapshots`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use stocksblitz_auth::Scope;
use stocksblitz_broker::money::rupees;
use stocksblitz_broker::{AccountId, Paise};
use stocksblitz_store::strategies::{SnapshotRow, StrategyRow};
use stocksblitz_trading::strategy::{StrategyBook, book, max_drawdown, sharpe, tag_of};

use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::trading::place;
use crate::wire::trading::{
    OrderFields, OrderOut, PlaceBody, PlacedOut, PositionOut, id_param, idempotency_key, order_out,
    order_request, position_out, trading_error,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrategyOut {
    pub strategy_id: String,
    pub strategy_name: String,
    pub strategy_type: String,
    pub description: String,
    pub config: serde_json::Value,
    /// `created`, `active`, `paused` or `stopped`.
    pub status: String,
    pub account_id: String,
    /// The tag its orders carry.
    pub tag: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The old SDK's StrategyMetrics (money in rupees).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricsOut {
    pub total_pnl: f64,
    pub day_pnl: f64,
    pub unrealized_pnl: f64,
    pub realized_pnl: f64,
    pub charges: f64,
    pub open_positions: i64,
    pub total_quantity: i64,
    pub capital_deployed: f64,
    pub margin_used: f64,
    pub total_trades: i64,
    pub winning_trades: i64,
    pub losing_trades: i64,
    /// Peak-to-trough fall of total P&L over the snapshots and now (rupees, ≥ 0).
    pub max_drawdown: f64,
    /// Of daily P&L changes against the peak capital deployed, annualised; null before three
    /// days of snapshots.
    pub sharpe_ratio: Option<f64>,
    /// Total P&L over the peak capital deployed, percent; null before any capital.
    pub roi: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SnapshotOut {
    /// Epoch ms.
    pub snapshot_time: i64,
    pub total_pnl: f64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub open_positions: i64,
    pub total_quantity: i64,
    pub capital_deployed: f64,
    pub margin_used: f64,
}

envelope!(StrategiesEnvelope, Vec<StrategyOut>);
envelope!(StrategyEnvelope, StrategyOut);
envelope!(MetricsEnvelope, MetricsOut);
envelope!(SnapshotsEnvelope, Vec<SnapshotOut>);
envelope!(StrategyOrdersEnvelope, Vec<OrderOut>);
envelope!(StrategyPositionsEnvelope, Vec<PositionOut>);
envelope!(StrategyPlacedEnvelope, PlacedOut);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewStrategy {
    /// Unique per user (1–64 characters).
    pub strategy_name: String,
    /// Default `custom`.
    pub strategy_type: Option<String>,
    pub description: Option<String>,
    /// A JSON object (at most 16 KiB).
    pub config: Option<serde_json::Value>,
    /// The paper account it trades on (default: the primary one).
    pub account_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StrategiesQuery {
    /// Only the strategy of this name.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotsQuery {
    /// Epoch ms (default: the beginning).
    pub start_time: Option<i64>,
    /// Epoch ms (default: now).
    pub end_time: Option<i64>,
    /// 1–10,000 (default 100): the newest ones.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    pub limit: Option<super::Count>,
}

fn strategy_out(s: &StrategyRow) -> StrategyOut {
    StrategyOut {
        strategy_id: s.strategy_id.to_string(),
        strategy_name: s.name.clone(),
        strategy_type: s.kind.clone(),
        description: s.description.clone(),
        config: serde_json::from_str(&s.config).unwrap_or(serde_json::Value::Null),
        status: s.status.clone(),
        account_id: s.account_id.to_string(),
        tag: tag_of(s.strategy_id),
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

fn not_found(raw: &str) -> ApiError {
    ApiError::not_found(
        "strategy_not_found",
        format!("no strategy {}", raw.chars().take(24).collect::<String>()),
    )
}

/// The caller's strategy (another user's is a 404).
async fn owned(state: &AppState, auth: &Auth, raw: &str) -> Result<StrategyRow, ApiError> {
    auth.require_read()?;
    let id = raw
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_param("strategy_id", "must be a positive integer"))?;
    match state.store.strategy(id).await {
        Ok(Some(s)) if s.owner == auth.owner() => Ok(s),
        Ok(_) => Err(not_found(raw)),
        Err(e) => Err(ApiError::store_unavailable(e)),
    }
}

/// `GET /strategies`: the caller's strategies (`?name=` for one by name).
#[utoipa::path(get, path = "/strategies", tag = "trading", params(StrategiesQuery), security(("bearer" = [])), responses((status = 200, body = StrategiesEnvelope)))]
pub async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<StrategiesQuery>,
) -> Result<Json<StrategiesEnvelope>, ApiError> {
    auth.require_read()?;
    let rows = state
        .store
        .strategies_of(&auth.owner())
        .await
        .map_err(ApiError::store_unavailable)?;
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
pub async fn create(
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
    if kind.is_empty() || kind.len() > 32 {
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
        .await
        .map_err(ApiError::from_store)?;
    Ok((
        StatusCode::CREATED,
        StrategyEnvelope::ok(strategy_out(&row)),
    ))
}

/// `GET /strategies/{strategy_id}`.
#[utoipa::path(get, path = "/strategies/{strategy_id}", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope)))]
pub async fn get(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    Ok(StrategyEnvelope::ok(strategy_out(
        &owned(&state, &auth, &id).await?,
    )))
}

async fn transition(
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
        .await
        .map_err(ApiError::store_unavailable)?;
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
#[utoipa::path(post, path = "/strategies/{strategy_id}/start", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub async fn start(
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
#[utoipa::path(post, path = "/strategies/{strategy_id}/pause", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub async fn pause(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(&state, &auth, &id, &["active"], "paused", "pause").await
}

/// `POST /strategies/{strategy_id}/resume`: paused → active.
#[utoipa::path(post, path = "/strategies/{strategy_id}/resume", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub async fn resume(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyEnvelope>, ApiError> {
    transition(&state, &auth, &id, &["paused"], "active", "resume").await
}

/// `POST /strategies/{strategy_id}/stop`: → stopped (its positions stay; they are the account's).
#[utoipa::path(post, path = "/strategies/{strategy_id}/stop", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub async fn stop(
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

async fn book_of(state: &AppState, s: &StrategyRow) -> Result<StrategyBook, ApiError> {
    let tag = tag_of(s.strategy_id);
    state
        .trading
        .evaluate(&s.owner, s.account_id, state.clock.now(), &[], |e, id| {
            book(e, id, &tag)
        })
        .await
        .map_err(trading_error)
}

fn snapshot_row(s: &StrategyRow, b: &StrategyBook, at: i64) -> SnapshotRow {
    SnapshotRow {
        strategy_id: s.strategy_id,
        at,
        total_pnl: b.total_pnl(),
        realized_pnl: b.realized,
        unrealized_pnl: b.unrealized,
        open_positions: b.open_positions,
        total_quantity: b.total_quantity,
        capital_deployed: b.capital_deployed,
        margin_used: b.margin_used,
    }
}

/// Record one snapshot of `s` now (exchange-clock time).
async fn snapshot(state: &AppState, s: &StrategyRow) -> Result<(), ApiError> {
    let b = book_of(state, s).await?;
    state
        .store
        .insert_strategy_snapshot(&snapshot_row(s, &b, state.clock.now()))
        .await
        .map_err(ApiError::store_unavailable)
}

/// `GET /strategies/{strategy_id}/metrics`.
#[utoipa::path(get, path = "/strategies/{strategy_id}/metrics", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = MetricsEnvelope)))]
pub async fn metrics(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<MetricsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let b = book_of(&state, &s).await?;
    let now = state.clock.now();
    let snaps = state
        .store
        .strategy_snapshots(s.strategy_id, 0, now, 100_000)
        .await
        .map_err(ApiError::store_unavailable)?;
    let total = b.total_pnl();
    let mut series: Vec<Paise> = snaps.iter().map(|x| x.total_pnl).collect();
    series.push(total);
    let peak_capital = snaps
        .iter()
        .map(|x| x.capital_deployed)
        .chain([b.capital_deployed])
        .max()
        .unwrap_or(0);
    // The last snapshot of each day, and now.
    let mut daily: Vec<(chrono::NaiveDate, Paise)> = Vec::new();
    for x in &snaps {
        let d = super::ist_today(x.at);
        match daily.last_mut() {
            Some(last) if last.0 == d => last.1 = x.total_pnl,
            _ => daily.push((d, x.total_pnl)),
        }
    }
    let today = super::ist_today(now);
    match daily.last_mut() {
        Some(last) if last.0 == today => last.1 = total,
        _ => daily.push((today, total)),
    }
    let before_today = daily
        .iter()
        .rev()
        .find(|(d, _)| *d < today)
        .map_or(0, |(_, v)| *v);
    let daily_values: Vec<Paise> = daily.iter().map(|(_, v)| *v).collect();
    Ok(MetricsEnvelope::ok(MetricsOut {
        total_pnl: rupees(total),
        day_pnl: rupees(total - before_today),
        unrealized_pnl: rupees(b.unrealized),
        realized_pnl: rupees(b.realized),
        charges: rupees(b.charges),
        open_positions: b.open_positions,
        total_quantity: b.total_quantity,
        capital_deployed: rupees(b.capital_deployed),
        margin_used: rupees(b.margin_used),
        total_trades: b.total_trades,
        winning_trades: b.winning_trades,
        losing_trades: b.losing_trades,
        max_drawdown: rupees(max_drawdown(&series)),
        sharpe_ratio: sharpe(&daily_values, peak_capital),
        roi: (peak_capital > 0).then(|| total as f64 / peak_capital as f64 * 100.0),
    }))
}

/// `GET /strategies/{strategy_id}/snapshots`: recorded while active, oldest first.
#[utoipa::path(get, path = "/strategies/{strategy_id}/snapshots", tag = "trading", params(("strategy_id" = String, Path), SnapshotsQuery), security(("bearer" = [])), responses((status = 200, body = SnapshotsEnvelope)))]
pub async fn snapshots(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SnapshotsQuery>,
) -> Result<Json<SnapshotsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let limit = super::bounded("limit", q.limit.map(super::Count::get), 100, 1, 10_000)? as i64;
    let from = q.start_time.unwrap_or(0);
    let to = q.end_time.unwrap_or(i64::MAX / 2);
    if from > to {
        return Err(ApiError::bad_param("start_time", "is after end_time"));
    }
    let rows = state
        .store
        .strategy_snapshots(s.strategy_id, from, to, limit)
        .await
        .map_err(ApiError::store_unavailable)?;
    Ok(SnapshotsEnvelope::ok(
        rows.iter()
            .map(|x| SnapshotOut {
                snapshot_time: x.at,
                total_pnl: rupees(x.total_pnl),
                realized_pnl: rupees(x.realized_pnl),
                unrealized_pnl: rupees(x.unrealized_pnl),
                open_positions: x.open_positions,
                total_quantity: x.total_quantity,
                capital_deployed: rupees(x.capital_deployed),
                margin_used: rupees(x.margin_used),
            })
            .collect(),
    ))
}

/// `GET /strategies/{strategy_id}/orders`: the orders carrying its tag, oldest first.
#[utoipa::path(get, path = "/strategies/{strategy_id}/orders", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyOrdersEnvelope)))]
pub async fn orders(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyOrdersEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let tag = tag_of(s.strategy_id);
    let v = state
        .trading
        .view(&s.owner, s.account_id, state.clock.now(), |e, acc| {
            e.account(acc)
                .map(|a| {
                    a.orders
                        .iter()
                        .filter_map(|o| e.order(*o))
                        .filter(|o| o.tag.as_deref() == Some(tag.as_str()))
                        .map(order_out)
                        .collect()
                })
                .unwrap_or_default()
        })
        .await
        .map_err(trading_error)?;
    Ok(StrategyOrdersEnvelope::ok(v))
}

/// `GET /strategies/{strategy_id}/positions`: its own positions (from its fills alone).
#[utoipa::path(get, path = "/strategies/{strategy_id}/positions", tag = "trading", params(("strategy_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = StrategyPositionsEnvelope)))]
pub async fn positions(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyPositionsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let tag = tag_of(s.strategy_id);
    let v = state
        .trading
        .evaluate(&s.owner, s.account_id, state.clock.now(), &[], |e, acc| {
            let b = book(e, acc, &tag);
            b.positions.iter().map(|p| position_out(e, p)).collect()
        })
        .await
        .map_err(trading_error)?;
    Ok(StrategyPositionsEnvelope::ok(v))
}

/// `POST /strategies/{strategy_id}/orders`: place an order tagged with the strategy on its
/// account (only while it is active). `Idempotency-Key` as for account orders.
#[utoipa::path(post, path = "/strategies/{strategy_id}/orders", tag = "trading", params(("strategy_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = PlaceBody, security(("bearer" = [])), responses((status = 200, body = StrategyPlacedEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub async fn place_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PlaceBody>,
) -> Result<Json<StrategyPlacedEnvelope>, ApiError> {
    auth.require(Scope::Trade)?;
    let s = owned(&state, &auth, &id).await?;
    if s.status != "active" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "strategy_not_active",
            format!("the strategy is {}; start or resume it to trade", s.status),
        ));
    }
    let key = idempotency_key(&headers)?;
    let tag = tag_of(s.strategy_id);
    let req = order_request(
        AccountId(s.account_id as u64),
        &OrderFields {
            tag: Some(&tag),
            ..b.fields()
        },
    )?;
    let ids = place(&state, &auth, s.account_id, req, key.as_deref()).await?;
    Ok(StrategyPlacedEnvelope::ok(PlacedOut {
        order_id: ids.first().cloned().unwrap_or_default(),
        order_ids: ids,
    }))
}

/// Record a snapshot of every active strategy whose account this replica matches, every
/// `every` (the others' replicas record theirs).
pub async fn run_snapshots(state: Arc<AppState>, every: Duration) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let active = state.store.strategies_in("active").await?;
        for s in &active {
            match snapshot(&state, s).await {
                Ok(()) => {}
                Err(e) if e.code == "shard_unavailable" => {}
                Err(e) => {
                    tracing::warn!(strategy = s.strategy_id, error = %e.detail, "strategy snapshot not recorded")
                }
            }
        }
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(start))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(stop))
        .routes(routes!(metrics))
        .routes(routes!(snapshots))
        .routes(routes!(orders, place_order))
        .routes(routes!(positions))
}
