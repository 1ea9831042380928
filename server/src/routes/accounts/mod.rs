//! Paper accounts (the old SDK's native paths, `{status: "success", data}` envelopes):
//! `GET|POST /accounts`, `GET /accounts/{id}`, `GET|POST /accounts/{id}/orders`,
//! `GET|PUT|DELETE /accounts/{id}/orders/{order_id}`, `GET /accounts/{id}/positions|funds|trades`,
//! `POST /accounts/{id}/reset`. Handlers adapt: the trading service owns the operations, the
//! broker the rules. Scope `read` to look, `trade` to change; another user's account is a 404.

mod orders;
mod positions;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use stocksblitz_auth::Scope;
use stocksblitz_broker::money::rupees;
use stocksblitz_broker::{
    AccountId, Command, Engine, OrderChanges, OrderId, Paise, Position, Product, Reply,
};

use crate::error::{ApiError, ApiJson};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::trading::place;
use crate::wire::trading::{
    AccountOut, FundsOut, OrderOut, PlaceBody, PlacedOut, PositionOut, TradeOut, account_out,
    funds_out, id_param, idempotency_key, money_param, order_out, order_request, position_out,
    trade_out, trading_error,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountDetail {
    pub account: AccountOut,
    pub funds: FundsOut,
}

envelope!(AccountsEnvelope, Vec<AccountOut>);
envelope!(AccountEnvelope, AccountOut);
envelope!(AccountDetailEnvelope, AccountDetail);
envelope!(FundsEnvelope, FundsOut);
envelope!(OrdersEnvelope, Vec<OrderOut>);
envelope!(OrderEnvelope, OrderOut);
envelope!(PlacedEnvelope, PlacedOut);
envelope!(PositionsEnvelope, Vec<PositionOut>);
envelope!(TradesEnvelope, Vec<TradeOut>);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewAccount {
    // Unique per user; described by the schema (a doc comment here would wrap it in allOf).
    #[schema(value_type = crate::wire::schema::AccountName, inline)]
    pub name: String,
    /// Rupees (default 10,00,000).
    #[schema(minimum = 0, maximum = 10_000_000_000_000.0, multiple_of = 0.01)]
    pub opening_balance: Option<f64>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct ResetBody {
    /// Rupees (default: the account's opening balance).
    #[schema(minimum = 0, maximum = 10_000_000_000_000.0, multiple_of = 0.01)]
    pub opening_balance: Option<f64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ModifyBody {
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub quantity: Option<i64>,
    /// Rupees, at most two decimals (and on the contract's tick); at most ₹10 crore
    /// (the broker's `MAX_PRICE`).
    #[schema(minimum = 0, maximum = 100_000_000.0, multiple_of = 0.01)]
    pub price: Option<f64>,
    /// Rupees, at most two decimals (and on the contract's tick); at most ₹10 crore
    /// (the broker's `MAX_PRICE`).
    #[schema(minimum = 0, maximum = 100_000_000.0, multiple_of = 0.01)]
    pub trigger_price: Option<f64>,
    #[schema(value_type = Option<crate::wire::schema::OrderTypeName>, inline)]
    pub order_type: Option<String>,
    #[schema(value_type = Option<crate::wire::schema::ValidityName>, inline)]
    pub validity: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::whole::opt_u32")]
    pub validity_ttl: Option<u32>,
}

/// `GET /accounts`: the caller's accounts (the primary one is created on first use).
#[utoipa::path(get, path = "/accounts", tag = "trading", security(("bearer" = [])), responses((status = 200, body = AccountsEnvelope)))]
pub(crate) async fn list_accounts(
    auth: Auth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<AccountsEnvelope>, ApiError> {
    auth.require_read()?;
    let who = auth.owner();
    state
        .trading
        .primary_account(&who, state.clock.now())
        .await
        .map_err(trading_error)?;
    let accounts = state.trading.accounts(&who).await.map_err(trading_error)?;
    Ok(AccountsEnvelope::ok(
        accounts.iter().map(account_out).collect(),
    ))
}

/// `POST /accounts`: a new account (names are unique per user).
#[utoipa::path(post, path = "/accounts", tag = "trading", request_body = NewAccount, security(("bearer" = [])), responses((status = 201, body = AccountEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn create_account(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<AccountEnvelope>), ApiError> {
    auth.require(Scope::Trade)?;
    // Counted as sent (what the schema says), stored trimmed.
    let name = body.name.trim();
    if name.is_empty() || body.name.chars().count() > 40 {
        return Err(ApiError::bad_param("name", "must be 1 to 40 characters"));
    }
    if body.name.chars().any(char::is_control) {
        return Err(ApiError::bad_param(
            "name",
            "must not contain control characters",
        ));
    }
    let balance = money_param("opening_balance", body.opening_balance)?.unwrap_or(100_000_000);
    if balance > stocksblitz_broker::MAX_AMOUNT {
        return Err(ApiError::bad_param("opening_balance", "is too large"));
    }
    let acc = state
        .trading
        .create_account(&auth.owner(), name, balance, state.clock.now())
        .await
        .map_err(trading_error)?;
    Ok((StatusCode::CREATED, AccountEnvelope::ok(account_out(&acc))))
}

async fn read<R>(
    state: &AppState,
    auth: &Auth,
    raw_id: &str,
    f: impl FnOnce(&Engine, AccountId) -> R,
) -> Result<R, ApiError> {
    auth.require_read()?;
    let id = id_param("account_id", raw_id)?;
    state
        .trading
        .view(&auth.owner(), id as i64, state.clock.now(), f)
        .await
        .map_err(trading_error)
}

/// The account's funds from the ledger (zeros for an account with no entries yet).
async fn funds_of(
    state: &AppState,
    auth: &Auth,
    account_id: &str,
) -> Result<stocksblitz_broker::Funds, ApiError> {
    Ok(
        read(state, auth, account_id, stocksblitz_broker::Engine::funds)
            .await?
            .unwrap_or_default(),
    )
}

/// `GET /accounts/{account_id}`: the account and its funds.
#[utoipa::path(get, path = "/accounts/{account_id}", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = AccountDetailEnvelope)))]
pub(crate) async fn get_account(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<AccountDetailEnvelope>, ApiError> {
    let funds = funds_of(&state, &auth, &account_id).await?;
    let id = id_param("account_id", &account_id)? as i64;
    let acc = state
        .trading
        .accounts(&auth.owner())
        .await
        .map_err(trading_error)?
        .into_iter()
        .find(|a| a.account_id == id)
        .ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id}")))?;
    Ok(AccountDetailEnvelope::ok(AccountDetail {
        account: account_out(&acc),
        funds: funds_out(&funds),
    }))
}

/// `GET /accounts/{account_id}/funds`: Kite's margins shape, from the ledger.
#[utoipa::path(get, path = "/accounts/{account_id}/funds", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = FundsEnvelope)))]
pub(crate) async fn funds(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<FundsEnvelope>, ApiError> {
    Ok(FundsEnvelope::ok(funds_out(
        &funds_of(&state, &auth, &account_id).await?,
    )))
}

/// `POST /accounts/{account_id}/reset`: clear the account and start again from a balance.
#[utoipa::path(post, path = "/accounts/{account_id}/reset", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), request_body(content = Option<ResetBody>), security(("bearer" = [])), responses((status = 200, body = FundsEnvelope)))]
pub(crate) async fn reset(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<FundsEnvelope>, ApiError> {
    // No body, or `null` (the documented body is optional): the account's opening balance.
    let body: ResetBody = if raw.is_empty() {
        ResetBody::default()
    } else {
        crate::error::json_body::<Option<ResetBody>>(&raw)?.unwrap_or_default()
    };
    let id = id_param("account_id", &account_id)? as i64;
    let stored = state
        .trading
        .accounts(&auth.owner())
        .await
        .map_err(trading_error)?
        .into_iter()
        .find(|a| a.account_id == id)
        .map_or(100_000_000, |a| a.opening_balance);
    let balance = money_param("opening_balance", body.opening_balance)?.unwrap_or(stored);
    if balance > stocksblitz_broker::MAX_AMOUNT {
        return Err(ApiError::bad_param("opening_balance", "is too large"));
    }
    command(&state, &auth, &account_id, |account| {
        Ok(Command::ResetAccount {
            account,
            opening_balance: balance,
        })
    })
    .await?;
    Ok(FundsEnvelope::ok(funds_out(
        &funds_of(&state, &auth, &account_id).await?,
    )))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account))
        .routes(routes!(funds))
        .routes(routes!(positions::positions))
        .routes(routes!(positions::position_history))
        .routes(routes!(positions::trades))
        .routes(routes!(orders::orders, orders::place_order))
        .routes(routes!(
            orders::get_order,
            orders::modify_order,
            orders::cancel_order
        ))
        .routes(routes!(reset))
}

async fn command(
    state: &AppState,
    auth: &Auth,
    raw_id: &str,
    make: impl FnOnce(AccountId) -> Result<Command, ApiError>,
) -> Result<Reply, ApiError> {
    auth.require(Scope::Trade)?;
    let id = id_param("account_id", raw_id)?;
    let cmd = make(AccountId(id))?;
    state
        .trading
        .execute(&auth.owner(), id as i64, state.clock.now(), cmd)
        .await
        .map(|(reply, _)| reply)
        .map_err(trading_error)
}
