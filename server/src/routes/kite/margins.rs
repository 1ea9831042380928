//! Kite's margin calculators: `POST /margins/orders`, `POST /margins/basket` (what an order
//! would block and cost, on the caller's account, placing nothing).

use std::sync::Arc;

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use stocksblitz_broker::money::{paise_from_f64, rupees};
use stocksblitz_broker::{
    AccountId, Charges, Engine, HypoLeg, OrderType, Paise, Product, Requirement, Side,
};

use super::{KiteAuth, KiteError, KiteResult, json_list, ok};
use crate::state::AppState;
use crate::wire::trading::trading_error;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KiteMarginsEnvelope, Vec<MarginOut>);
super::kite_envelope!(KiteBasketEnvelope, BasketOut);

/// An order whose margin or charges are asked for (Kite's `margins/orders` items).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MarginOrder {
    /// Kite's; the exchange follows from the symbol.
    #[expect(dead_code, reason = "accepted as Kite sends it; the symbol decides")]
    pub exchange: Option<String>,
    pub tradingsymbol: String,
    pub transaction_type: String,
    /// Kite's; margins do not depend on it.
    #[expect(
        dead_code,
        reason = "accepted as Kite sends it; margins do not depend on it"
    )]
    pub variety: Option<String>,
    pub product: String,
    pub order_type: String,
    pub quantity: i64,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct Gst {
    pub igst: f64,
    pub cgst: f64,
    pub sgst: f64,
    pub total: f64,
}

/// Kite's charges breakdown.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct ChargesOut {
    pub transaction_tax: f64,
    pub transaction_tax_type: &'static str,
    pub exchange_turnover_charge: f64,
    pub sebi_turnover_charge: f64,
    pub brokerage: f64,
    pub stamp_duty: f64,
    pub gst: Gst,
    pub total: f64,
}

pub(super) fn charges_out(c: &Charges) -> ChargesOut {
    ChargesOut {
        transaction_tax: rupees(c.stt),
        transaction_tax_type: "stt",
        exchange_turnover_charge: rupees(c.exchange),
        sebi_turnover_charge: rupees(c.sebi),
        brokerage: rupees(c.brokerage),
        stamp_duty: rupees(c.stamp),
        gst: Gst {
            igst: rupees(c.gst),
            cgst: 0.0,
            sgst: 0.0,
            total: rupees(c.gst),
        },
        total: rupees(c.total()),
    }
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct Pnl {
    pub realised: f64,
    pub unrealised: f64,
}

/// Kite's margin object.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct MarginOut {
    pub r#type: &'static str,
    pub tradingsymbol: String,
    pub exchange: String,
    pub span: f64,
    pub exposure: f64,
    pub option_premium: f64,
    pub additional: f64,
    pub bo: f64,
    pub cash: f64,
    pub var: f64,
    pub pnl: Pnl,
    pub leverage: f64,
    pub charges: ChargesOut,
    pub total: f64,
}

pub(super) fn margin_out(
    sym: &str,
    exchange: &str,
    r: &Requirement,
    charges: &Charges,
) -> MarginOut {
    MarginOut {
        r#type: "equity",
        tradingsymbol: sym.to_string(),
        exchange: exchange.to_string(),
        span: rupees(r.span),
        exposure: rupees(r.exposure + r.equity),
        option_premium: rupees(r.blocked),
        leverage: 1.0,
        charges: charges_out(charges),
        total: rupees(r.total()),
        ..MarginOut::default()
    }
}

pub(super) fn diff(after: &Requirement, before: &Requirement) -> Requirement {
    Requirement {
        span: after.span - before.span,
        exposure: after.exposure - before.exposure,
        blocked: after.blocked - before.blocked,
        equity: after.equity - before.equity,
        by_underlying: std::collections::BTreeMap::default(),
    }
}

/// A margin order as the broker's leg, its price and charges (a message naming the problem
/// when the broker cannot value it).
pub(super) struct Valued {
    pub(super) leg: HypoLeg,
    pub(super) sym: String,
    pub(super) exchange: String,
    pub(super) charges: Charges,
}

pub(super) fn value_order(
    e: &mut Engine,
    o: &MarginOrder,
    date: chrono::NaiveDate,
) -> Result<Valued, KiteError> {
    let side: Side = o
        .transaction_type
        .parse()
        .map_err(|e| KiteError::input(format!("Invalid `transaction_type`: {e}")))?;
    let product: Product = o
        .product
        .parse()
        .map_err(|e| KiteError::input(format!("Invalid `product`: {e}")))?;
    let order_type: OrderType = o
        .order_type
        .parse()
        .map_err(|e| KiteError::input(format!("Invalid `order_type`: {e}")))?;
    if !(1..=stocksblitz_broker::MAX_QUANTITY).contains(&o.quantity) {
        return Err(KiteError::input(format!(
            "Invalid `quantity`: {}",
            o.quantity
        )));
    }
    let sym = super::strip_exchange(&o.tradingsymbol);
    let inst = e
        .instrument(sym)
        .map_err(|r| KiteError::from(crate::wire::trading::reject_error(&r)))?;
    let info = e.instrument_info(inst);
    let (tsym, exchange) = (info.tradingsymbol.to_string(), info.exchange_str());
    let money = |k: &str, v: Option<f64>| -> Result<Option<Paise>, KiteError> {
        v.filter(|x| *x != 0.0)
            .map(|x| {
                paise_from_f64(x)
                    .filter(|p| *p > 0)
                    .ok_or_else(|| KiteError::input(format!("Invalid `{k}`: {x}")))
            })
            .transpose()
    };
    let price = match order_type {
        OrderType::Limit | OrderType::Sl => money("price", o.price)?,
        OrderType::SlM => money("trigger_price", o.trigger_price)?,
        OrderType::Market => None,
    };
    let price = match price {
        Some(p) => p,
        None => e.quote_of(&tsym).map(|q| q.touch(side).0).ok_or_else(|| {
            KiteError::input(format!("No quote for {tsym} to value a market order at"))
        })?,
    };
    let charges = e
        .charges_for(&tsym, side, product, o.quantity, price, date)
        .map_err(|r| KiteError::from(crate::wire::trading::reject_error(&r)))?;
    Ok(Valued {
        leg: HypoLeg {
            instrument: inst,
            quantity: side.sign() * o.quantity,
            product,
            price,
            pending: true,
        },
        sym: tsym,
        exchange: exchange.to_string(),
        charges,
    })
}

/// Run `f` over the caller's primary account with the orders' instruments quoted.
pub(super) async fn evaluate<R>(
    state: &AppState,
    auth: &KiteAuth,
    orders: &[MarginOrder],
    f: impl FnOnce(&mut Engine, AccountId) -> Result<R, KiteError>,
) -> Result<R, KiteError> {
    auth.read()?;
    let account = auth.account(state).await?;
    let symbols: Vec<&str> = orders
        .iter()
        .map(|o| super::strip_exchange(&o.tradingsymbol))
        .collect();
    state
        .trading
        .evaluate(&auth.0.owner(), account, state.clock.now(), &symbols, f)
        .await
        .map_err(|e| KiteError::from(trading_error(e)))?
}

/// Most orders one margin or charges request may carry.
pub(super) const MAX_ORDERS: usize = 100;

/// `POST /kite/margins/orders`: for each order, the margin it would block on top of the
/// account's positions and open orders (what placing it checks), and its charges.
#[utoipa::path(post, path = "/kite/margins/orders", tag = "kite", request_body = Vec<MarginOrder>, security(("bearer" = [])), responses((status = 200, body = KiteMarginsEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn order_margins(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    raw: axum::body::Bytes,
) -> KiteResult<Vec<MarginOut>> {
    let orders: Vec<MarginOrder> = json_list(&raw, MAX_ORDERS)?;
    let date = crate::routes::ist_today(state.clock.now());
    let v = evaluate(&state, &auth, &orders, |e, id| {
        let base = e.account_legs(id);
        let before = e.requirement_of(&base);
        orders
            .iter()
            .map(|o| {
                let v = value_order(e, o, date)?;
                let mut legs = base.clone();
                legs.push(v.leg);
                let r = diff(&e.requirement_of(&legs), &before);
                Ok(margin_out(&v.sym, &v.exchange, &r, &v.charges))
            })
            .collect::<Result<Vec<_>, KiteError>>()
    })
    .await?;
    Ok(ok(v))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BasketQuery {
    /// Count the account's positions and open orders (default true).
    pub consider_positions: Option<String>,
    /// `compact`: totals only.
    pub mode: Option<String>,
}

/// Kite's basket answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BasketOut {
    /// Each order alone, summed (no hedge benefit).
    pub initial: MarginOut,
    /// The basket as one portfolio (with the hedge benefit; on top of positions when asked).
    pub r#final: MarginOut,
    pub orders: Vec<MarginOut>,
    pub charges: ChargesOut,
}

/// `POST /kite/margins/basket`: a basket's margin with the hedge benefit (`final`) and without
/// (`initial`), each order's own margin, and the charges.
#[utoipa::path(post, path = "/kite/margins/basket", tag = "kite", params(BasketQuery), request_body = Vec<MarginOrder>, security(("bearer" = [])), responses((status = 200, body = KiteBasketEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn basket_margins(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Query(q): Query<BasketQuery>,
    raw: axum::body::Bytes,
) -> KiteResult<BasketOut> {
    let consider = match q.consider_positions.as_deref().map(str::trim) {
        None | Some("" | "true" | "True" | "1") => true,
        Some("false" | "False" | "0") => false,
        Some(other) => {
            return Err(KiteError::input(format!(
                "Invalid `consider_positions`: {:?} (true or false)",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let compact = match q.mode.as_deref().map(str::trim) {
        None | Some("" | "None") => false,
        Some("compact") => true,
        Some(other) => {
            return Err(KiteError::input(format!(
                "Invalid `mode`: {:?} (compact)",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let orders: Vec<MarginOrder> = json_list(&raw, MAX_ORDERS)?;
    let date = crate::routes::ist_today(state.clock.now());
    let out = evaluate(&state, &auth, &orders, |e, id| {
        let valued = orders
            .iter()
            .map(|o| value_order(e, o, date))
            .collect::<Result<Vec<_>, KiteError>>()?;
        let base = if consider {
            e.account_legs(id)
        } else {
            Vec::new()
        };
        let before = e.requirement_of(&base);
        let mut charges = Charges::default();
        let mut initial = Requirement::default();
        let mut each = Vec::with_capacity(valued.len());
        for v in &valued {
            let mut legs = base.clone();
            legs.push(v.leg);
            let r = diff(&e.requirement_of(&legs), &before);
            initial = Requirement {
                span: initial.span + r.span,
                exposure: initial.exposure + r.exposure,
                blocked: initial.blocked + r.blocked,
                equity: initial.equity + r.equity,
                by_underlying: std::collections::BTreeMap::default(),
            };
            charges = charges.plus(&v.charges);
            if !compact {
                each.push(margin_out(&v.sym, &v.exchange, &r, &v.charges));
            }
        }
        let mut all = base.clone();
        all.extend(valued.iter().map(|v| v.leg));
        let fin = diff(&e.requirement_of(&all), &before);
        Ok(BasketOut {
            initial: margin_out("", "", &initial, &charges),
            r#final: margin_out("", "", &fin, &charges),
            orders: each,
            charges: charges_out(&charges),
        })
    })
    .await?;
    Ok(ok(out))
}

/// This area's routes (merged by [`super::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(order_margins))
        .routes(routes!(basket_margins))
}
