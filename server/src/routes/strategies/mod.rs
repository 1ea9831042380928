//! Strategies (the old SDK's `client.Strategy`): `GET|POST /strategies`, `GET /strategies/{id}`,
//! `POST /strategies/{id}/start|pause|resume|stop`, `GET /strategies/{id}/metrics|snapshots|
//! orders|positions`, `POST /strategies/{id}/orders`. A strategy trades on one of its owner's
//! paper accounts; its orders carry its tag and its book is those fills alone (see
//! `stocksblitz_trading::strategy`). Snapshots are recorded while it is active ([`run_snapshots`]).

mod lifecycle;
mod orders;
pub(crate) mod performance;

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
pub(crate) struct StrategyOut {
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
pub(crate) struct MetricsOut {
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
pub(crate) struct SnapshotOut {
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
pub(crate) struct NewStrategy {
    /// Unique per user (1–64 characters, not all blank).
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub strategy_name: String,
    /// Default `custom` (1–32 characters, not all blank).
    #[schema(min_length = 1, max_length = 32, pattern = r"\S")]
    pub strategy_type: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// A JSON object (at most 16 KiB).
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    /// The paper account it trades on (default: the primary one).
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub account_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StrategiesQuery {
    /// Only the strategy of this name.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SnapshotsQuery {
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

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(lifecycle::list, lifecycle::create))
        .routes(routes!(lifecycle::get))
        .routes(routes!(lifecycle::start))
        .routes(routes!(lifecycle::pause))
        .routes(routes!(lifecycle::resume))
        .routes(routes!(lifecycle::stop))
        .routes(routes!(performance::metrics))
        .routes(routes!(performance::snapshots))
        .routes(routes!(orders::orders, orders::place_order))
        .routes(routes!(orders::positions))
}
