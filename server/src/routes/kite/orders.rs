//! Kite's orders and trades: `POST /orders/{variety}`, `PUT|DELETE /orders/{variety}/{order_id}`,
//! `GET /orders`, `GET /orders/{order_id}` (history), `GET /trades`,
//! `GET /orders/{order_id}/trades`.
//!
//! The first path segment is shared (a variety for placement, an order id for history), as in
//! Kite's own API; the router needs one name for it, so it is `{id}` in the documentation.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use stocksblitz_broker::{
    AccountId, Command, Engine, Order, OrderChanges, OrderId, Trade, Variety,
};

use super::{KiteAuth, KiteError, KiteForm, KiteResult, ok};
use crate::state::AppState;
use crate::trading::place;
use crate::wire::trading::{
    OrderFields, OrderOut, TradeOut, id_param, idempotency_key, money_param, order_out, trade_out,
    trading_error,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KiteOrderIdEnvelope, OrderIdOut);
super::kite_envelope!(KiteOrdersEnvelope, Vec<KiteOrder>);
super::kite_envelope!(KiteTradesEnvelope, Vec<KiteTrade>);

/// Kite's order fields (ours plus the ones Kite has that a paper broker fills trivially).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KiteOrder {
    #[serde(flatten)]
    pub order: OrderOut,
    pub placed_by: String,
    pub exchange_order_id: Option<String>,
    pub instrument_token: u64,
    pub status_message_raw: Option<String>,
    pub exchange_update_timestamp: Option<String>,
    pub modified: bool,
    pub market_protection: i64,
    pub guid: String,
    pub tags: Vec<String>,
}

/// Kite's trade fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KiteTrade {
    #[serde(flatten)]
    pub trade: TradeOut,
    pub instrument_token: u64,
    pub exchange_order_id: Option<String>,
    pub order_timestamp: String,
    pub exchange_timestamp: String,
}

/// Kite's order parameters (form-encoded, or a JSON object).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct PlaceForm {
    /// NSE, NFO, BSE or BFO.
    pub exchange: String,
    pub tradingsymbol: String,
    /// BUY or SELL.
    pub transaction_type: String,
    pub quantity: i64,
    /// MIS, NRML or CNC.
    pub product: String,
    /// MARKET, LIMIT, SL or SL-M.
    pub order_type: String,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    /// DAY, IOC or TTL.
    pub validity: Option<String>,
    pub validity_ttl: Option<i64>,
    pub disclosed_quantity: Option<i64>,
    pub tag: Option<String>,
    pub autoslice: Option<bool>,
}

/// What a modification may change (form-encoded, or a JSON object).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ModifyForm {
    pub quantity: Option<i64>,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    pub order_type: Option<String>,
    pub validity: Option<String>,
    pub validity_ttl: Option<i64>,
    pub disclosed_quantity: Option<i64>,
}

/// `{order_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrderIdOut {
    pub order_id: String,
}

pub(crate) fn kite_order(o: &Order, placed_by: &str, token: u64) -> KiteOrder {
    let base = order_out(o);
    let exchange_order_id = (o.status != stocksblitz_broker::Status::Rejected)
        .then(|| format!("SB{:016}", o.order_id.0));
    KiteOrder {
        placed_by: placed_by.to_string(),
        exchange_order_id,
        instrument_token: token,
        status_message_raw: o.status_message.clone(),
        exchange_update_timestamp: Some(base.exchange_timestamp.clone()),
        modified: o.revision > 0,
        market_protection: 0,
        guid: format!("sb-{}-{}", o.order_id.0, o.revision),
        tags: o.tag.iter().map(ToString::to_string).collect(),
        order: base,
    }
}

fn kite_trade(t: &Trade, e: &Engine, token: u64) -> KiteTrade {
    let placed = t
        .order_id
        .and_then(|id| e.order(id))
        .map_or(t.at, |o| o.order_timestamp);
    KiteTrade {
        trade: trade_out(t),
        instrument_token: token,
        exchange_order_id: t.order_id.map(|id| format!("SB{:016}", id.0)),
        order_timestamp: super::ist_text(placed),
        exchange_timestamp: super::ist_text(t.at),
    }
}

/// The user's id as Kite shows it (`placed_by`, `user_id`).
pub(super) fn kite_user_id(auth: &KiteAuth) -> String {
    format!("SB{}", auth.0.0.user_id)
}

fn variety(raw: &str) -> Result<Variety, KiteError> {
    raw.parse::<Variety>()
        .map_err(|e| KiteError::input(format!("Invalid `variety`: {e}")))
}

/// `POST /kite/orders/{variety}`: place an order; answers `{order_id}`. A broker refusal is an
/// `OrderException` naming the rule (margin required and available, the lot, the tick …) and
/// the order is in the order book as REJECTED. `Idempotency-Key` makes retries safe.
#[utoipa::path(post, path = "/kite/orders/{id}", tag = "kite", params(("id" = String, Path, description = "the variety: regular or amo"), ("Idempotency-Key" = Option<String>, Header)), request_body(content = PlaceForm, content_type = "application/x-www-form-urlencoded"), security(("bearer" = [])), responses((status = 200, body = KiteOrderIdEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn place_order(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: KiteForm,
) -> KiteResult<OrderIdOut> {
    auth.trade()?;
    let v = variety(&id)?;
    let key = idempotency_key(&headers)?;
    let account = auth.account(&state).await?;
    let quantity = form
        .int("quantity")?
        .ok_or_else(|| KiteError::input("Missing or empty field `quantity`"))?;
    let req = crate::wire::trading::order_request(
        AccountId(account as u64),
        &OrderFields {
            tradingsymbol: form.required("tradingsymbol")?,
            transaction_type: form.required("transaction_type")?,
            quantity,
            order_type: Some(form.required("order_type")?),
            product: Some(form.required("product")?),
            price: form.number("price")?,
            trigger_price: form.number("trigger_price")?,
            validity: form.get("validity"),
            validity_ttl: form
                .int("validity_ttl")?
                .map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
            variety: Some(v.as_str()),
            tag: form.get("tag"),
            autoslice: form.flag("autoslice"),
        },
    )?;
    if let Some(ex) = form.get("exchange")
        && !matches!(ex, "NSE" | "NFO" | "BSE" | "BFO")
    {
        return Err(KiteError::input(format!(
            "Invalid `exchange`: {ex:?} (NSE, NFO, BSE or BFO)"
        )));
    }
    let ids = place(&state, &auth.0, account, req, key.as_deref()).await?;
    Ok(ok(OrderIdOut {
        order_id: ids.first().cloned().unwrap_or_default(),
    }))
}

/// `PUT /kite/orders/{variety}/{order_id}`: modify an open order (quantity, price,
/// trigger_price, order_type, validity).
#[utoipa::path(put, path = "/kite/orders/{id}/{order_id}", tag = "kite", params(("id" = String, Path, description = "the variety"), ("order_id" = inline(crate::wire::schema::RowId), Path)), request_body(content = ModifyForm, content_type = "application/x-www-form-urlencoded"), security(("bearer" = [])), responses((status = 200, body = KiteOrderIdEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn modify_order(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path((id, order_id)): Path<(String, String)>,
    form: KiteForm,
) -> KiteResult<OrderIdOut> {
    auth.trade()?;
    variety(&id)?;
    let oid = OrderId(id_param("order_id", &order_id)?);
    let changes = OrderChanges {
        quantity: form.int("quantity")?,
        price: money_param("price", form.number("price")?)?,
        trigger_price: money_param("trigger_price", form.number("trigger_price")?)?,
        order_type: form
            .get("order_type")
            .map(str::parse)
            .transpose()
            .map_err(|e| KiteError::input(format!("Invalid `order_type`: {e}")))?,
        validity: form
            .get("validity")
            .map(str::parse)
            .transpose()
            .map_err(|e| KiteError::input(format!("Invalid `validity`: {e}")))?,
        validity_ttl: form
            .int("validity_ttl")?
            .map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
    };
    command(&state, &auth, |account| Command::Modify {
        account,
        order_id: oid,
        changes,
    })
    .await?;
    Ok(ok(OrderIdOut {
        order_id: oid.to_string(),
    }))
}

/// `DELETE /kite/orders/{variety}/{order_id}`: cancel an open order.
#[utoipa::path(delete, path = "/kite/orders/{id}/{order_id}", tag = "kite", params(("id" = String, Path, description = "the variety"), ("order_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = KiteOrderIdEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn cancel_order(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path((id, order_id)): Path<(String, String)>,
) -> KiteResult<OrderIdOut> {
    auth.trade()?;
    variety(&id)?;
    let oid = OrderId(id_param("order_id", &order_id)?);
    command(&state, &auth, |account| Command::Cancel {
        account,
        order_id: oid,
    })
    .await?;
    Ok(ok(OrderIdOut {
        order_id: oid.to_string(),
    }))
}

async fn command(
    state: &AppState,
    auth: &KiteAuth,
    make: impl FnOnce(AccountId) -> Command,
) -> Result<(), KiteError> {
    let account = auth.account(state).await?;
    state
        .trading
        .execute(
            &auth.0.owner(),
            account,
            state.clock.now(),
            make(AccountId(account as u64)),
        )
        .await
        .map(|_| ())
        .map_err(|e| trading_error(e).into())
}

/// Read the caller's primary account through its engine, with the snapshot's instrument
/// tokens at hand.
pub(super) async fn read<R>(
    state: &AppState,
    auth: &KiteAuth,
    f: impl FnOnce(&Engine, AccountId, &dyn Fn(&str) -> u64) -> R,
) -> Result<R, KiteError> {
    auth.read()?;
    let account = auth.account(state).await?;
    let tokens = super::market::Tokens::of(state)?;
    state
        .trading
        .view(&auth.0.owner(), account, state.clock.now(), |e, id| {
            f(e, id, &|s| tokens.token(s))
        })
        .await
        .map_err(|e| trading_error(e).into())
}

/// Today's orders and the ones still open (Kite's order book is the day's).
fn in_book(o: &Order, sod: i64) -> bool {
    o.order_timestamp >= sod || o.is_open()
}

fn start_of_day(state: &AppState) -> i64 {
    let today = crate::routes::ist_today(state.clock.now());
    stocksblitz_broker::session::ist_midnight(today)
}

/// `GET /kite/orders`: the day's order book (and orders still open from before), oldest first.
#[utoipa::path(get, path = "/kite/orders", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteOrdersEnvelope)))]
pub(crate) async fn orders(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<Vec<KiteOrder>> {
    let by = kite_user_id(&auth);
    let sod = start_of_day(&state);
    let v = read(&state, &auth, |e, id, token| {
        e.account(id)
            .map(|a| {
                a.orders
                    .iter()
                    .filter_map(|o| e.order(*o))
                    .filter(|o| in_book(o, sod))
                    .map(|o| kite_order(o, &by, token(&o.tradingsymbol)))
                    .collect()
            })
            .unwrap_or_default()
    })
    .await?;
    Ok(ok(v))
}

/// `GET /kite/orders/{order_id}`: every state the order went through, oldest first.
#[utoipa::path(get, path = "/kite/orders/{id}", tag = "kite", params(("id" = String, Path, description = "the order id")), security(("bearer" = [])), responses((status = 200, body = KiteOrdersEnvelope), (status = 404, body = super::KiteErrorBody)))]
pub(crate) async fn order_history(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> KiteResult<Vec<KiteOrder>> {
    let oid = OrderId(id_param("order_id", &id)?);
    let by = kite_user_id(&auth);
    let v: Vec<KiteOrder> = read(&state, &auth, |e, acc, token| {
        e.order_history(oid)
            .iter()
            .filter(|o| o.account == acc)
            .map(|o| kite_order(o, &by, token(&o.tradingsymbol)))
            .collect()
    })
    .await?;
    if v.is_empty() {
        return Err(KiteError {
            status: axum::http::StatusCode::NOT_FOUND,
            error_type: super::ErrorType::OrderException,
            message: format!("Couldn't find that order ({oid})."),
            forward_to: None,
        });
    }
    Ok(ok(v))
}

/// `GET /kite/trades`: the day's fills, oldest first.
#[utoipa::path(get, path = "/kite/trades", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteTradesEnvelope)))]
pub(crate) async fn trades(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<Vec<KiteTrade>> {
    let sod = start_of_day(&state);
    let v = read(&state, &auth, |e, id, token| {
        e.account(id)
            .map(|a| {
                a.trades
                    .iter()
                    .filter(|t| t.at >= sod)
                    .map(|t| kite_trade(t, e, token(&t.tradingsymbol)))
                    .collect()
            })
            .unwrap_or_default()
    })
    .await?;
    Ok(ok(v))
}

/// `GET /kite/orders/{order_id}/trades`: the fills of one order.
#[utoipa::path(get, path = "/kite/orders/{id}/trades", tag = "kite", params(("id" = String, Path, description = "the order id")), security(("bearer" = [])), responses((status = 200, body = KiteTradesEnvelope)))]
pub(crate) async fn order_trades(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> KiteResult<Vec<KiteTrade>> {
    let oid = OrderId(id_param("order_id", &id)?);
    let v = read(&state, &auth, |e, acc, token| {
        e.order(oid).filter(|o| o.account == acc).map(|_| {
            e.account(acc)
                .map(|a| {
                    a.trades
                        .iter()
                        .filter(|t| t.order_id == Some(oid))
                        .map(|t| kite_trade(t, e, token(&t.tradingsymbol)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    })
    .await?;
    v.map(ok).ok_or_else(|| KiteError {
        status: axum::http::StatusCode::NOT_FOUND,
        error_type: super::ErrorType::OrderException,
        message: format!("Couldn't find that order ({oid})."),
        forward_to: None,
    })
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(orders))
        .routes(routes!(order_history, place_order))
        .routes(routes!(modify_order, cancel_order))
        .routes(routes!(order_trades))
        .routes(routes!(trades))
}
