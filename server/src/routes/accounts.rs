//! Paper accounts (the old SDK's native paths, `{status: "success", data}` envelopes):
//! `GET|POST /accounts`, `GET /accounts/{id}`, `GET|POST /accounts/{id}/orders`,
//! `GET|PUT|DELETE /accounts/{id}/orders/{order_id}`, `GET /accounts/{id}/positions|funds|trades`,
//! `POST /accounts/{id}/reset`. Handlers adapt: the trading service owns the operations, the
//! broker the rules. Scope `read` to look, `trade` to change; another user's account is a 404.

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
pub struct AccountDetail {
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
pub struct NewAccount {
    /// Unique per user (1–40 characters).
    pub name: String,
    /// Rupees (default 10,00,000).
    pub opening_balance: Option<f64>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    /// Rupees (default: the account's opening balance).
    pub opening_balance: Option<f64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ModifyBody {
    pub quantity: Option<i64>,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    pub order_type: Option<String>,
    pub validity: Option<String>,
    pub validity_ttl: Option<u32>,
}

/// `GET /accounts`: the caller's accounts (the primary one is created on first use).
#[utoipa::path(get, path = "/accounts", tag = "trading", security(("bearer" = [])), responses((status = 200, body = AccountsEnvelope)))]
pub async fn list_accounts(
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
pub async fn create_account(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<AccountEnvelope>), ApiError> {
    auth.require(Scope::Trade)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(ApiError::bad_param("name", "must be 1 to 40 characters"));
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

/// `GET /accounts/{account_id}`: the account and its funds.
#[utoipa::path(get, path = "/accounts/{account_id}", tag = "trading", params(("account_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = AccountDetailEnvelope)))]
pub async fn get_account(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<AccountDetailEnvelope>, ApiError> {
    let funds = read(&state, &auth, &account_id, |e, id| e.funds(id)).await?;
    let id = id_param("account_id", &account_id)? as i64;
    let acc = state
        .trading
        .accounts(&auth.owner())
        .await
        .map_err(trading_error)?
        .into_iter()
        .find(|a| a.account_id == id)
        .ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id}")))?;
    let funds = funds.unwrap_or_default();
    Ok(AccountDetailEnvelope::ok(AccountDetail {
        account: account_out(&acc),
        funds: funds_out(&funds),
    }))
}

/// `GET /accounts/{account_id}/funds`: Kite's margins shape, from the ledger.
#[utoipa::path(get, path = "/accounts/{account_id}/funds", tag = "trading", params(("account_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = FundsEnvelope)))]
pub async fn funds(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<FundsEnvelope>, ApiError> {
    let f = read(&state, &auth, &account_id, |e, id| e.funds(id)).await?;
    Ok(FundsEnvelope::ok(funds_out(&f.unwrap_or_default())))
}

/// `GET /accounts/{account_id}/positions`: net positions (flat ones of the day included).
#[utoipa::path(get, path = "/accounts/{account_id}/positions", tag = "trading", params(("account_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = PositionsEnvelope)))]
pub async fn positions(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<PositionsEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| a.positions.values().map(|p| position_out(e, p)).collect())
            .unwrap_or_default()
    })
    .await?;
    Ok(PositionsEnvelope::ok(v))
}

/// One state of a position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PositionSnapshotOut {
    /// Epoch ms.
    pub snapshot_time: i64,
    pub tradingsymbol: String,
    pub product: &'static str,
    pub quantity: i64,
    pub average_price: f64,
    pub last_price: f64,
    pub unrealized_pnl: f64,
    pub realized_pnl: f64,
}

envelope!(PositionHistoryEnvelope, Vec<PositionSnapshotOut>);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PositionHistoryQuery {
    /// The instrument (default: every position of the account).
    pub tradingsymbol: Option<String>,
    /// `MIS`, `NRML` or `CNC` (default: every product).
    pub product: Option<String>,
    /// The newest this many states (1-10,000, default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    pub lookback: Option<super::Count>,
}

/// `GET /accounts/{account_id}/positions/history`: each position's states from the books —
/// one after every fill that changed it (valued at that fill's price), then one now (at the
/// latest quote) — oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/positions/history", tag = "trading", params(("account_id" = String, Path), PositionHistoryQuery), security(("bearer" = [])), responses((status = 200, body = PositionHistoryEnvelope)))]
pub async fn position_history(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    crate::error::ApiQuery(q): crate::error::ApiQuery<PositionHistoryQuery>,
) -> Result<Json<PositionHistoryEnvelope>, ApiError> {
    let lookback = super::bounded(
        "lookback",
        q.lookback.map(super::Count::get),
        100,
        1,
        10_000,
    )?;
    let product: Option<Product> = q
        .product
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::bad_param("product", e))?;
    let sym = q
        .tradingsymbol
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if sym.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(ApiError::bad_param(
            "tradingsymbol",
            "at most 64 characters",
        ));
    }
    let now = state.clock.now();
    let mut rows = read(&state, &auth, &account_id, |e, id| {
        let mut out = Vec::new();
        let Some(acc) = e.account(id) else {
            return out;
        };
        let mut books: std::collections::BTreeMap<(String, Product), (Position, Paise)> =
            Default::default();
        for t in &acc.trades {
            if sym
                .as_deref()
                .is_some_and(|s| s != t.tradingsymbol.as_str())
                || product.is_some_and(|p| p != t.product)
            {
                continue;
            }
            let (p, realised) = books
                .entry((t.tradingsymbol.to_string(), t.product))
                .or_insert_with(|| (Position::new(&t.tradingsymbol, &t.exchange, t.product), 0));
            *realised += p
                .apply_fill(t.transaction_type.sign() * t.quantity, t.price)
                .realised;
            out.push(history_row(t.at, p, t.price, *realised));
        }
        for ((s, _), (p, realised)) in &books {
            let ltp = e
                .quote_of(s)
                .map_or(p.average_price().round() as Paise, |q| q.ltp);
            out.push(history_row(now, p, ltp, *realised));
        }
        out
    })
    .await?;
    rows.sort_by_key(|r| r.snapshot_time);
    if rows.len() > lookback {
        rows.drain(..rows.len() - lookback);
    }
    Ok(PositionHistoryEnvelope::ok(rows))
}

fn history_row(at: i64, p: &Position, price: Paise, realised: Paise) -> PositionSnapshotOut {
    PositionSnapshotOut {
        snapshot_time: at,
        tradingsymbol: p.tradingsymbol.to_string(),
        product: p.product.as_str(),
        quantity: p.quantity,
        average_price: p.average_price() / 100.0,
        last_price: rupees(price),
        unrealized_pnl: rupees(p.unrealised(price)),
        realized_pnl: rupees(realised),
    }
}

/// `GET /accounts/{account_id}/trades`: every fill, oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/trades", tag = "trading", params(("account_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = TradesEnvelope)))]
pub async fn trades(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<TradesEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| a.trades.iter().map(trade_out).collect())
            .unwrap_or_default()
    })
    .await?;
    Ok(TradesEnvelope::ok(v))
}

/// `GET /accounts/{account_id}/orders`: every order, oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/orders", tag = "trading", params(("account_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = OrdersEnvelope)))]
pub async fn orders(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<OrdersEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| {
                a.orders
                    .iter()
                    .filter_map(|o| e.order(*o))
                    .map(order_out)
                    .collect()
            })
            .unwrap_or_default()
    })
    .await?;
    Ok(OrdersEnvelope::ok(v))
}

/// `GET /accounts/{account_id}/orders/{order_id}`.
#[utoipa::path(get, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = String, Path), ("order_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = OrderEnvelope)))]
pub async fn get_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
) -> Result<Json<OrderEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    let o = read(&state, &auth, &account_id, |e, id| {
        e.order(oid).filter(|o| o.account == id).map(order_out)
    })
    .await?;
    o.map(OrderEnvelope::ok)
        .ok_or_else(|| ApiError::not_found("order_not_found", format!("no order {oid}")))
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

/// `POST /accounts/{account_id}/orders`: place an order (a refused one is recorded as REJECTED
/// and answered with the rule and its numbers). An `Idempotency-Key` header makes retries safe:
/// every retry within 24 h gets the first answer and nothing is placed twice.
#[utoipa::path(post, path = "/accounts/{account_id}/orders", tag = "trading", params(("account_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "1–128 visible ASCII characters; retries with the same key return the first answer")), request_body = PlaceBody, security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub async fn place_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PlaceBody>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    auth.require(Scope::Trade)?;
    let id = id_param("account_id", &account_id)?;
    let key = idempotency_key(&headers)?;
    let req = order_request(AccountId(id), &b.fields())?;
    let ids = place(&state, &auth, id as i64, req, key.as_deref()).await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: ids.first().cloned().unwrap_or_default(),
        order_ids: ids,
    }))
}

/// `PUT /accounts/{account_id}/orders/{order_id}`: modify an open order.
#[utoipa::path(put, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = String, Path), ("order_id" = String, Path)), request_body = ModifyBody, security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub async fn modify_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ModifyBody>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    command(&state, &auth, &account_id, |account| {
        let changes = OrderChanges {
            quantity: b.quantity,
            price: money_param("price", b.price)?,
            trigger_price: money_param("trigger_price", b.trigger_price)?,
            order_type: b
                .order_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| ApiError::bad_param("order_type", e))?,
            validity: b
                .validity
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| ApiError::bad_param("validity", e))?,
            validity_ttl: b.validity_ttl,
        };
        Ok(Command::Modify {
            account,
            order_id: oid,
            changes,
        })
    })
    .await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: oid.to_string(),
        order_ids: vec![oid.to_string()],
    }))
}

/// `DELETE /accounts/{account_id}/orders/{order_id}`: cancel an open order.
#[utoipa::path(delete, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = String, Path), ("order_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub async fn cancel_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    command(&state, &auth, &account_id, |account| {
        Ok(Command::Cancel {
            account,
            order_id: oid,
        })
    })
    .await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: oid.to_string(),
        order_ids: vec![oid.to_string()],
    }))
}

/// `POST /accounts/{account_id}/reset`: clear the account and start again from a balance.
#[utoipa::path(post, path = "/accounts/{account_id}/reset", tag = "trading", params(("account_id" = String, Path)), request_body(content = Option<ResetBody>), security(("bearer" = [])), responses((status = 200, body = FundsEnvelope)))]
pub async fn reset(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<FundsEnvelope>, ApiError> {
    let body: ResetBody = if raw.is_empty() {
        ResetBody::default()
    } else {
        crate::error::json_body(&raw)?
    };
    let id = id_param("account_id", &account_id)? as i64;
    let stored = state
        .trading
        .accounts(&auth.owner())
        .await
        .map_err(trading_error)?
        .into_iter()
        .find(|a| a.account_id == id)
        .map(|a| a.opening_balance)
        .unwrap_or(100_000_000);
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
    let f = read(&state, &auth, &account_id, |e, id| e.funds(id)).await?;
    Ok(FundsEnvelope::ok(funds_out(&f.unwrap_or_default())))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account))
        .routes(routes!(funds))
        .routes(routes!(positions))
        .routes(routes!(position_history))
        .routes(routes!(trades))
        .routes(routes!(orders, place_order))
        .routes(routes!(get_order, modify_order, cancel_order))
        .routes(routes!(reset))
}
