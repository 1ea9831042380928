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
use stocksblitz_broker::money::{paise_from_f64, rupees};
use stocksblitz_broker::{
    AccountId, Command, Engine, Funds, Order, OrderChanges, OrderId, OrderRequest, OrderType,
    Paise, Position, Product, Reject, RejectKind, Reply, Side, Trade, Validity, Variety,
};
use stocksblitz_trading::TradingError;

use crate::error::{ApiError, ApiJson};
use crate::identity::extract::Auth;
use crate::ingest::now_ms;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountOut {
    pub account_id: String,
    pub name: String,
    pub opening_balance: f64,
    pub created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AvailableOut {
    pub cash: f64,
    pub opening_balance: f64,
    pub live_balance: f64,
    pub collateral: f64,
    pub intraday_payin: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UtilisedOut {
    pub debits: f64,
    pub exposure: f64,
    pub span: f64,
    pub option_premium: f64,
    pub m2m_realised: f64,
    pub m2m_unrealised: f64,
    pub charges: f64,
}

/// Kite's margins shape, from the account's ledger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FundsOut {
    pub net: f64,
    pub available: AvailableOut,
    pub utilised: UtilisedOut,
    /// The old SDK's names: cash now, margin used, margin available.
    pub available_cash: f64,
    pub used_margin: f64,
    pub available_margin: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountDetail {
    pub account: AccountOut,
    pub funds: FundsOut,
}

/// An order with Kite's fields (prices in rupees, times `YYYY-MM-DD HH:MM:SS` IST).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderOut {
    pub order_id: String,
    pub parent_order_id: Option<String>,
    pub status: &'static str,
    pub status_message: Option<String>,
    pub order_timestamp: String,
    pub exchange_timestamp: String,
    pub variety: &'static str,
    pub exchange: String,
    pub tradingsymbol: String,
    pub order_type: &'static str,
    pub transaction_type: &'static str,
    pub validity: &'static str,
    pub validity_ttl: Option<u32>,
    pub product: &'static str,
    pub quantity: i64,
    pub disclosed_quantity: i64,
    pub price: f64,
    pub trigger_price: f64,
    pub average_price: f64,
    pub filled_quantity: i64,
    pub pending_quantity: i64,
    pub cancelled_quantity: i64,
    pub tag: Option<String>,
    /// Charges debited for the fills so far.
    pub charges: f64,
}

/// A net position with Kite's fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PositionOut {
    pub tradingsymbol: String,
    pub exchange: String,
    pub product: &'static str,
    pub quantity: i64,
    pub overnight_quantity: i64,
    pub multiplier: i64,
    pub average_price: f64,
    pub close_price: Option<f64>,
    pub last_price: f64,
    pub value: f64,
    pub pnl: f64,
    pub m2m: f64,
    pub unrealised: f64,
    pub realised: f64,
    pub buy_quantity: i64,
    pub buy_price: f64,
    pub buy_value: f64,
    pub sell_quantity: i64,
    pub sell_price: f64,
    pub sell_value: f64,
    pub day_buy_quantity: i64,
    pub day_buy_value: f64,
    pub day_sell_quantity: i64,
    pub day_sell_value: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TradeOut {
    pub trade_id: String,
    pub order_id: Option<String>,
    pub tradingsymbol: String,
    pub exchange: String,
    pub product: &'static str,
    pub transaction_type: &'static str,
    pub quantity: i64,
    pub average_price: f64,
    pub fill_timestamp: String,
    /// `touch` (at the ask/bid), `limit`, `ltp` (the feed had no book), `settlement`.
    pub basis: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlacedOut {
    pub order_id: String,
    /// Every order placed (several when autosliced).
    pub order_ids: Vec<String>,
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

/// An order to place. Prices in rupees on the contract's tick.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PlaceBody {
    pub tradingsymbol: String,
    /// `BUY` or `SELL`.
    pub transaction_type: String,
    pub quantity: i64,
    /// `MARKET` (default), `LIMIT`, `SL`, `SL-M`.
    pub order_type: Option<String>,
    /// `MIS` (default), `NRML`, `CNC`.
    pub product: Option<String>,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    /// `DAY` (default), `IOC`, `TTL`.
    pub validity: Option<String>,
    pub validity_ttl: Option<u32>,
    /// `regular` (default) or `amo`.
    pub variety: Option<String>,
    pub tag: Option<String>,
    pub autoslice: Option<bool>,
}

impl PlaceBody {
    /// The body's fields for [`order_request`].
    pub(crate) fn fields(&self) -> OrderFields<'_> {
        OrderFields {
            tradingsymbol: &self.tradingsymbol,
            transaction_type: &self.transaction_type,
            quantity: self.quantity,
            order_type: self.order_type.as_deref(),
            product: self.product.as_deref(),
            price: self.price,
            trigger_price: self.trigger_price,
            validity: self.validity.as_deref(),
            validity_ttl: self.validity_ttl,
            variety: self.variety.as_deref(),
            tag: self.tag.as_deref(),
            autoslice: self.autoslice.unwrap_or(false),
        }
    }
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

/// The owner of the caller's accounts: its user (an API key acts for its user).
pub(crate) fn owner(auth: &Auth) -> String {
    format!("user:{}", auth.0.user_id)
}

pub(crate) fn trading_error(e: TradingError) -> ApiError {
    match e {
        TradingError::NotFound(id) => {
            ApiError::not_found("account_not_found", format!("no account {id}"))
        }
        TradingError::Rejected(rej) => reject_error(&rej.reason),
        TradingError::Unavailable { holder, .. } => ApiError {
            forward_to: holder
                .as_deref()
                .and_then(crate::trading::forward_target)
                .map(str::to_string),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shard_unavailable",
                "the account is served by another replica right now; retry",
            )
        },
        TradingError::Store(e) => ApiError::from_store(e),
        TradingError::CorruptLog { .. } => {
            tracing::error!(error = %e, "trading log unreadable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "trading_unavailable",
                "the account's books cannot be read",
            )
        }
    }
}

pub(crate) fn reject_error(r: &Reject) -> ApiError {
    let code = match (r.kind(), r) {
        (_, Reject::InsufficientFunds { .. }) => "insufficient_funds",
        (RejectKind::NotFound, Reject::UnknownOrder { .. }) => "order_not_found",
        (RejectKind::NotFound, _) => "account_not_found",
        (RejectKind::Risk, _) => "order_rejected",
        (RejectKind::Invalid, _) => "order_invalid",
    };
    let status = if r.kind() == RejectKind::NotFound {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(status, code, r.to_string())
}

pub(crate) fn id_param(name: &str, raw: &str) -> Result<u64, ApiError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && *v < i64::MAX as u64)
        .ok_or_else(|| {
            ApiError::bad_param(name, format!("must be a positive integer, got {raw:?}"))
        })
}

pub(crate) fn money_param(name: &str, v: Option<f64>) -> Result<Option<Paise>, ApiError> {
    match v {
        None => Ok(None),
        Some(x) => paise_from_f64(x)
            .filter(|p| *p >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_param(
                    name,
                    format!("must be rupees with at most two decimals, got {x}"),
                )
            }),
    }
}

pub(crate) fn enum_param<T: std::str::FromStr<Err = stocksblitz_broker::UnknownValue>>(
    name: &str,
    v: Option<&str>,
    default: T,
) -> Result<T, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s.parse().map_err(|e| ApiError::bad_param(name, e)),
    }
}

pub(crate) fn ist_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms + stocksblitz_market::IST_OFFSET_SECS * 1000)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

pub(crate) fn account_out(a: &stocksblitz_store::trading::PaperAccount) -> AccountOut {
    AccountOut {
        account_id: a.account_id.to_string(),
        name: a.name.clone(),
        opening_balance: rupees(a.opening_balance),
        created_at: a.created_at,
    }
}

pub(crate) fn funds_out(f: &Funds) -> FundsOut {
    FundsOut {
        net: rupees(f.net),
        available: AvailableOut {
            cash: rupees(f.cash),
            opening_balance: rupees(f.opening_balance),
            live_balance: rupees(f.net),
            collateral: 0.0,
            intraday_payin: rupees(f.intraday_payin),
        },
        utilised: UtilisedOut {
            debits: rupees(f.debits),
            exposure: rupees(f.exposure),
            span: rupees(f.span),
            option_premium: rupees(f.option_premium),
            m2m_realised: rupees(f.m2m_realised),
            m2m_unrealised: rupees(f.m2m_unrealised),
            charges: rupees(f.charges),
        },
        available_cash: rupees(f.ledger_balance),
        used_margin: rupees(f.span + f.exposure),
        available_margin: rupees(f.net),
    }
}

pub(crate) fn order_out(o: &Order) -> OrderOut {
    OrderOut {
        order_id: o.order_id.to_string(),
        parent_order_id: o.parent_order_id.map(|p| p.to_string()),
        status: o.status.as_str(),
        status_message: o.status_message.clone(),
        order_timestamp: ist_text(o.order_timestamp),
        exchange_timestamp: ist_text(o.exchange_timestamp),
        variety: o.variety.as_str(),
        exchange: o.exchange.to_string(),
        tradingsymbol: o.tradingsymbol.to_string(),
        order_type: o.order_type.as_str(),
        transaction_type: o.transaction_type.as_str(),
        validity: o.validity.as_str(),
        validity_ttl: o.validity_ttl,
        product: o.product.as_str(),
        quantity: o.quantity,
        disclosed_quantity: 0,
        price: rupees(o.price),
        trigger_price: rupees(o.trigger_price),
        average_price: o.average_price() / 100.0,
        filled_quantity: o.filled_quantity,
        pending_quantity: o.pending_quantity,
        cancelled_quantity: o.cancelled_quantity,
        tag: o.tag.as_ref().map(|t| t.to_string()),
        charges: rupees(o.charges.total()),
    }
}

pub(crate) fn avg(value: Paise, qty: i64) -> f64 {
    if qty == 0 {
        0.0
    } else {
        value as f64 / qty as f64 / 100.0
    }
}

pub(crate) fn position_out(e: &Engine, p: &Position) -> PositionOut {
    let ltp = e
        .quote_of(&p.tradingsymbol)
        .map_or_else(|| p.average_price().round() as Paise, |q| q.ltp);
    PositionOut {
        tradingsymbol: p.tradingsymbol.to_string(),
        exchange: p.exchange.to_string(),
        product: p.product.as_str(),
        quantity: p.quantity,
        overnight_quantity: p.overnight_quantity,
        multiplier: 1,
        average_price: p.average_price() / 100.0,
        close_price: p.close_price.map(rupees),
        last_price: rupees(ltp),
        value: rupees(p.value()),
        pnl: rupees(p.pnl(ltp)),
        m2m: rupees(p.m2m(ltp)),
        unrealised: rupees(p.unrealised(ltp)),
        realised: rupees(p.realised),
        buy_quantity: p.buy_quantity,
        buy_price: avg(p.buy_value, p.buy_quantity),
        buy_value: rupees(p.buy_value),
        sell_quantity: p.sell_quantity,
        sell_price: avg(p.sell_value, p.sell_quantity),
        sell_value: rupees(p.sell_value),
        day_buy_quantity: p.day_buy_quantity,
        day_buy_value: rupees(p.day_buy_value),
        day_sell_quantity: p.day_sell_quantity,
        day_sell_value: rupees(p.day_sell_value),
    }
}

pub(crate) fn trade_out(t: &Trade) -> TradeOut {
    TradeOut {
        trade_id: t.trade_id.to_string(),
        order_id: t.order_id.map(|o| o.to_string()),
        tradingsymbol: t.tradingsymbol.to_string(),
        exchange: t.exchange.to_string(),
        product: t.product.as_str(),
        transaction_type: t.transaction_type.as_str(),
        quantity: t.quantity,
        average_price: rupees(t.price),
        fill_timestamp: ist_text(t.at),
        basis: match t.basis {
            stocksblitz_broker::FillBasis::Touch => "touch",
            stocksblitz_broker::FillBasis::Limit => "limit",
            stocksblitz_broker::FillBasis::Ltp => "ltp",
            stocksblitz_broker::FillBasis::Settlement => "settlement",
        },
    }
}

/// `GET /accounts`: the caller's accounts (the primary one is created on first use).
#[utoipa::path(get, path = "/accounts", tag = "trading", security(("bearer" = [])), responses((status = 200, body = AccountsEnvelope)))]
pub async fn list_accounts(
    auth: Auth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<AccountsEnvelope>, ApiError> {
    auth.require_read()?;
    let who = owner(&auth);
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
        .create_account(&owner(&auth), name, balance, state.clock.now())
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
        .view(&owner(auth), id as i64, state.clock.now(), f)
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
        .accounts(&owner(&auth))
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
        .execute(&owner(auth), id as i64, state.clock.now(), cmd)
        .await
        .map(|(reply, _)| reply)
        .map_err(trading_error)
}

/// The fields of an order to place, as text (both families parse them the same way).
#[derive(Debug, Default)]
pub(crate) struct OrderFields<'a> {
    pub tradingsymbol: &'a str,
    pub transaction_type: &'a str,
    pub quantity: i64,
    pub order_type: Option<&'a str>,
    pub product: Option<&'a str>,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    pub validity: Option<&'a str>,
    pub validity_ttl: Option<u32>,
    pub variety: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub autoslice: bool,
}

/// The broker's request for `f` on `account` (400 naming the field for a bad value).
pub(crate) fn order_request(
    account: AccountId,
    f: &OrderFields<'_>,
) -> Result<OrderRequest, ApiError> {
    if f.tradingsymbol.len() > 64 {
        return Err(ApiError::bad_param(
            "tradingsymbol",
            "at most 64 characters",
        ));
    }
    if f.tag
        .is_some_and(|t| t.chars().count() > stocksblitz_broker::MAX_TAG_LEN)
    {
        return Err(ApiError::bad_param(
            "tag",
            format!("at most {} characters", stocksblitz_broker::MAX_TAG_LEN),
        ));
    }
    let side: Side = f
        .transaction_type
        .parse()
        .map_err(|e| ApiError::bad_param("transaction_type", e))?;
    let mut r = OrderRequest::new(
        account,
        f.tradingsymbol,
        side,
        f.quantity,
        enum_param("order_type", f.order_type, OrderType::Market)?,
        enum_param("product", f.product, Product::Mis)?,
    );
    r.price = money_param("price", f.price)?.filter(|p| *p != 0);
    r.trigger_price = money_param("trigger_price", f.trigger_price)?.filter(|p| *p != 0);
    r.validity = enum_param("validity", f.validity, Validity::Day)?;
    r.validity_ttl = f.validity_ttl;
    r.variety = enum_param("variety", f.variety, Variety::Regular)?;
    r.tag = f.tag.map(Into::into);
    r.autoslice = f.autoslice;
    Ok(r)
}

/// The `Idempotency-Key` header: 1–128 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v.to_str().map(str::trim).unwrap_or("");
    if k.is_empty()
        || k.len() > stocksblitz_broker::MAX_IDEMPOTENCY_KEY_LEN
        || !k.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::bad_param(
            "Idempotency-Key",
            "must be 1 to 128 visible ASCII characters",
        ));
    }
    Ok(Some(k.to_string()))
}

/// What a keyed placement answered, as stored for its retries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Placed(Vec<String>),
    Refused {
        status: u16,
        code: String,
        detail: String,
    },
}

/// The codes a stored refusal can carry (an `ApiError` code is static).
fn known_code(code: &str) -> &'static str {
    [
        "insufficient_funds",
        "order_not_found",
        "account_not_found",
        "order_rejected",
        "order_invalid",
        "invalid_parameter",
    ]
    .into_iter()
    .find(|c| *c == code)
    .unwrap_or("order_rejected")
}

impl Outcome {
    fn into_result(self) -> Result<Vec<String>, ApiError> {
        match self {
            Outcome::Placed(ids) => Ok(ids),
            Outcome::Refused {
                status,
                code,
                detail,
            } => Err(ApiError::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                known_code(&code),
                detail,
            )),
        }
    }
}

/// Place `req` on the caller's account (both families): with an idempotency key, the first
/// answer is returned for every retry within 24 h — the broker itself refuses to place a
/// keyed order twice (so a crash between placing and remembering the answer is safe too), and
/// the stored answer replays a refusal exactly. Returns the order ids.
pub(crate) async fn place(
    state: &AppState,
    auth: &Auth,
    account_id: i64,
    mut req: OrderRequest,
    key: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    auth.require(Scope::Trade)?;
    let who = owner(auth);
    let now = now_ms();
    let window = now - stocksblitz_broker::IDEMPOTENCY_WINDOW_MS;
    let scoped = key.map(|k| format!("{account_id}:{k}"));
    if let Some(k) = &scoped {
        let stored = state
            .store
            .idempotent_response(&who, k, window)
            .await
            .map_err(ApiError::store_unavailable)?;
        if let Some(o) = stored.and_then(|s| serde_json::from_str::<Outcome>(&s).ok()) {
            return o.into_result();
        }
    }
    req.idempotency_key = key.map(Into::into);
    let outcome = match state
        .trading
        .execute(&who, account_id, state.clock.now(), Command::Place(req))
        .await
    {
        Ok((Reply::Orders(ids), _)) => {
            Outcome::Placed(ids.iter().map(ToString::to_string).collect())
        }
        Ok((Reply::Done, _)) => Outcome::Placed(Vec::new()),
        Err(TradingError::Rejected(rej)) => {
            let e = reject_error(&rej.reason);
            Outcome::Refused {
                status: e.status.as_u16(),
                code: e.code.to_string(),
                detail: e.detail,
            }
        }
        // Not an answer to remember (a retry should try again).
        Err(e) => return Err(trading_error(e)),
    };
    if let Some(k) = &scoped
        && let Ok(text) = serde_json::to_string(&outcome)
    {
        match state
            .store
            .remember_response(&who, k, &text, now, window)
            .await
        {
            Ok(first) => {
                if let Ok(o) = serde_json::from_str::<Outcome>(&first) {
                    return o.into_result();
                }
            }
            Err(e) => tracing::warn!(error = %e, "idempotent answer not stored"),
        }
    }
    outcome.into_result()
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
        .accounts(&owner(&auth))
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
