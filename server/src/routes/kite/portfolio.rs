//! Kite's portfolio routes: `GET|PUT /portfolio/positions`, `GET /portfolio/holdings`.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use stocksblitz_broker::{AccountId, Command, Product};

use super::orders::read;
use super::{KiteAuth, KiteError, KiteForm, KiteResult, ok};
use crate::state::AppState;
use crate::wire::trading::{PositionOut, position_out, trading_error};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KitePositionsEnvelope, Positions);
super::kite_envelope!(KiteBoolEnvelope, bool);
super::kite_envelope!(KiteHoldingsEnvelope, Vec<Holding>);

/// Kite's position fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KitePosition {
    #[serde(flatten)]
    pub position: PositionOut,
    pub instrument_token: u64,
    pub buy_m2m: f64,
    pub sell_m2m: f64,
    pub day_buy_price: f64,
    pub day_sell_price: f64,
}

/// `{net, day}`: net positions, and the day's (today's trades only).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Positions {
    pub net: Vec<KitePosition>,
    pub day: Vec<KitePosition>,
}

fn price_of(value: f64, qty: i64) -> f64 {
    if qty == 0 { 0.0 } else { value / qty as f64 }
}

fn kite_position(p: PositionOut, token: u64) -> KitePosition {
    KitePosition {
        instrument_token: token,
        buy_m2m: p.buy_value,
        sell_m2m: p.sell_value,
        day_buy_price: price_of(p.day_buy_value, p.day_buy_quantity),
        day_sell_price: price_of(p.day_sell_value, p.day_sell_quantity),
        position: p,
    }
}

/// The day's view of a net position: only today's buys and sells.
fn day_position(p: &PositionOut) -> Option<PositionOut> {
    if p.day_buy_quantity == 0 && p.day_sell_quantity == 0 {
        return None;
    }
    let quantity = p.day_buy_quantity - p.day_sell_quantity;
    let (bv, sv) = (p.day_buy_value, p.day_sell_value);
    let value = sv - bv;
    let pnl = value + quantity as f64 * p.last_price;
    Some(PositionOut {
        tradingsymbol: p.tradingsymbol.clone(),
        exchange: p.exchange.clone(),
        product: p.product,
        quantity,
        overnight_quantity: 0,
        multiplier: p.multiplier,
        average_price: match quantity.cmp(&0) {
            std::cmp::Ordering::Greater => price_of(bv, p.day_buy_quantity),
            std::cmp::Ordering::Less => price_of(sv, p.day_sell_quantity),
            std::cmp::Ordering::Equal => 0.0,
        },
        close_price: p.close_price,
        last_price: p.last_price,
        value,
        pnl: (pnl * 100.0).round() / 100.0,
        m2m: (pnl * 100.0).round() / 100.0,
        unrealised: 0.0,
        realised: 0.0,
        buy_quantity: p.day_buy_quantity,
        buy_price: price_of(bv, p.day_buy_quantity),
        buy_value: bv,
        sell_quantity: p.day_sell_quantity,
        sell_price: price_of(sv, p.day_sell_quantity),
        sell_value: sv,
        day_buy_quantity: p.day_buy_quantity,
        day_buy_value: bv,
        day_sell_quantity: p.day_sell_quantity,
        day_sell_value: sv,
    })
}

/// `GET /kite/portfolio/positions`: `{net, day}`.
#[utoipa::path(get, path = "/kite/portfolio/positions", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KitePositionsEnvelope)))]
pub(crate) async fn positions(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<Positions> {
    let v = read(&state, &auth, |e, id, token| {
        let mut net = Vec::new();
        let mut day = Vec::new();
        if let Some(a) = e.account(id) {
            for p in a.positions.values() {
                let out = position_out(e, p);
                let t = token(&p.tradingsymbol);
                if let Some(d) = day_position(&out) {
                    day.push(kite_position(d, t));
                }
                net.push(kite_position(out, t));
            }
        }
        Positions { net, day }
    })
    .await?;
    Ok(ok(v))
}

/// A position conversion (form-encoded, or a JSON object).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ConvertForm {
    pub exchange: String,
    pub tradingsymbol: String,
    pub transaction_type: String,
    /// `day` or `overnight`.
    pub position_type: String,
    pub quantity: i64,
    pub old_product: String,
    pub new_product: String,
}

/// `PUT /kite/portfolio/positions`: convert a position's product (MIS ⇄ NRML); answers `true`.
#[utoipa::path(put, path = "/kite/portfolio/positions", tag = "kite", request_body(content = ConvertForm, content_type = "application/x-www-form-urlencoded"), security(("bearer" = [])), responses((status = 200, body = KiteBoolEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn convert_position(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    form: KiteForm,
) -> KiteResult<bool> {
    auth.trade()?;
    let parse = |k: &str| -> Result<Product, KiteError> {
        form.required(k)?
            .parse()
            .map_err(|e| KiteError::input(format!("Invalid `{k}`: {e}")))
    };
    let (from, to) = (parse("old_product")?, parse("new_product")?);
    let quantity = form
        .int("quantity")?
        .ok_or_else(|| KiteError::input("Missing or empty field `quantity`"))?;
    let tradingsymbol = form.required("tradingsymbol")?;
    if tradingsymbol.len() > 64 {
        return Err(KiteError::input(
            "`tradingsymbol` is longer than 64 characters",
        ));
    }
    let account = auth.account(&state).await?;
    state
        .trading
        .execute(
            &auth.0.owner(),
            account,
            state.clock.now(),
            Command::Convert {
                account: AccountId(account as u64),
                tradingsymbol: tradingsymbol.into(),
                from,
                to,
                quantity,
            },
        )
        .await
        .map_err(trading_error)?;
    Ok(ok(true))
}

/// A holding (delivery equity carried overnight).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Holding {
    pub tradingsymbol: String,
    pub exchange: String,
    pub instrument_token: u64,
    pub isin: String,
    pub product: &'static str,
    pub price: f64,
    /// Settled quantity (carried from before today).
    pub quantity: i64,
    /// Bought today, settling.
    pub t1_quantity: i64,
    pub realised_quantity: i64,
    pub authorised_quantity: i64,
    pub opening_quantity: i64,
    pub collateral_quantity: i64,
    pub collateral_type: String,
    pub average_price: f64,
    pub last_price: f64,
    pub close_price: f64,
    pub pnl: f64,
    pub day_change: f64,
    pub day_change_percentage: f64,
}

/// `GET /kite/portfolio/holdings`: delivery (CNC) equity positions.
#[utoipa::path(get, path = "/kite/portfolio/holdings", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteHoldingsEnvelope)))]
pub(crate) async fn holdings(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<Vec<Holding>> {
    let v = read(&state, &auth, |e, id, token| {
        e.account(id)
            .map(|a| {
                a.positions
                    .values()
                    .filter(|p| p.product == Product::Cnc && p.quantity > 0)
                    .map(|p| {
                        let out = position_out(e, p);
                        let close = out.close_price.unwrap_or(out.last_price);
                        let settled = p.overnight_quantity.clamp(0, p.quantity);
                        Holding {
                            tradingsymbol: out.tradingsymbol.clone(),
                            exchange: out.exchange.clone(),
                            instrument_token: token(&p.tradingsymbol),
                            isin: String::new(),
                            product: "CNC",
                            price: 0.0,
                            quantity: settled,
                            t1_quantity: p.quantity - settled,
                            realised_quantity: settled,
                            authorised_quantity: 0,
                            opening_quantity: settled,
                            collateral_quantity: 0,
                            collateral_type: String::new(),
                            average_price: out.average_price,
                            last_price: out.last_price,
                            close_price: close,
                            pnl: out.unrealised,
                            day_change: out.last_price - close,
                            day_change_percentage: if close > 0.0 {
                                (out.last_price - close) / close * 100.0
                            } else {
                                0.0
                            },
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
    .await?;
    Ok(ok(v))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(positions, convert_position))
        .routes(routes!(holdings))
}
