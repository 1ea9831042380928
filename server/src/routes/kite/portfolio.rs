//! Kite's portfolio, user and margin routes: `GET|PUT /portfolio/positions`,
//! `GET /portfolio/holdings`, `GET /user/margins[/{segment}]`, `GET /user/profile`,
//! `POST /margins/orders`, `POST /margins/basket`, `POST /charges/orders`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use stocksblitz_broker::money::{paise_from_f64, rupees};
use stocksblitz_broker::{
    AccountId, Charges, Command, Engine, HypoLeg, OrderType, Paise, Product, Requirement, Side,
};

use super::orders::{kite_user_id, read};
use super::{KiteAuth, KiteError, KiteForm, KiteResult, json_list, ok};
use crate::state::AppState;
use crate::wire::trading::{PositionOut, funds_out, position_out, trading_error};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KitePositionsEnvelope, Positions);
super::kite_envelope!(KiteBoolEnvelope, bool);
super::kite_envelope!(KiteHoldingsEnvelope, Vec<Holding>);
super::kite_envelope!(KiteUserMarginsEnvelope, UserMargins);
super::kite_envelope!(KiteSegmentEnvelope, Segment);
super::kite_envelope!(KiteProfileEnvelope, Profile);
super::kite_envelope!(KiteMarginsEnvelope, Vec<MarginOut>);
super::kite_envelope!(KiteBasketEnvelope, BasketOut);
super::kite_envelope!(KiteContractNoteEnvelope, Vec<ContractNoteRow>);

/// Kite's position fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KitePosition {
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
pub struct Positions {
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
        average_price: if quantity > 0 {
            price_of(bv, p.day_buy_quantity)
        } else if quantity < 0 {
            price_of(sv, p.day_sell_quantity)
        } else {
            0.0
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
pub async fn positions(
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
pub struct ConvertForm {
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
pub async fn convert_position(
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
pub struct Holding {
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
pub async fn holdings(
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

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SegmentAvailable {
    pub adhoc_margin: f64,
    pub cash: f64,
    pub opening_balance: f64,
    pub live_balance: f64,
    pub collateral: f64,
    pub intraday_payin: f64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SegmentUtilised {
    pub debits: f64,
    pub exposure: f64,
    pub m2m_realised: f64,
    pub m2m_unrealised: f64,
    pub option_premium: f64,
    pub payout: f64,
    pub span: f64,
    pub holding_sales: f64,
    pub turnover: f64,
    pub liquid_collateral: f64,
    pub stock_collateral: f64,
    pub delivery: f64,
}

/// One segment of Kite's `user/margins`.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Segment {
    pub enabled: bool,
    pub net: f64,
    pub available: SegmentAvailable,
    pub utilised: SegmentUtilised,
}

/// `{equity, commodity}` (the paper broker trades the equity segment, F&O included).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserMargins {
    pub equity: Segment,
    pub commodity: Segment,
}

async fn equity_segment(state: &AppState, auth: &KiteAuth) -> Result<Segment, KiteError> {
    let f = read(state, auth, |e, id, _| e.funds(id)).await?;
    let f = funds_out(&f.unwrap_or_default());
    Ok(Segment {
        enabled: true,
        net: f.net,
        available: SegmentAvailable {
            adhoc_margin: 0.0,
            cash: f.available.cash,
            opening_balance: f.available.opening_balance,
            live_balance: f.available.live_balance,
            collateral: f.available.collateral,
            intraday_payin: f.available.intraday_payin,
        },
        utilised: SegmentUtilised {
            debits: f.utilised.debits,
            exposure: f.utilised.exposure,
            m2m_realised: f.utilised.m2m_realised,
            m2m_unrealised: f.utilised.m2m_unrealised,
            option_premium: f.utilised.option_premium,
            span: f.utilised.span,
            ..SegmentUtilised::default()
        },
    })
}

/// `GET /kite/user/margins`: funds of the caller's primary account in Kite's shape.
#[utoipa::path(get, path = "/kite/user/margins", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteUserMarginsEnvelope)))]
pub async fn user_margins(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<UserMargins> {
    Ok(ok(UserMargins {
        equity: equity_segment(&state, &auth).await?,
        commodity: Segment::default(),
    }))
}

/// `GET /kite/user/margins/{segment}`: `equity` or `commodity`.
#[utoipa::path(get, path = "/kite/user/margins/{segment}", tag = "kite", params(("segment" = String, Path)), security(("bearer" = [])), responses((status = 200, body = KiteSegmentEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub async fn user_margins_segment(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
) -> KiteResult<Segment> {
    match segment.as_str() {
        "equity" => Ok(ok(equity_segment(&state, &auth).await?)),
        "commodity" => {
            auth.read()?;
            Ok(ok(Segment::default()))
        }
        other => Err(KiteError::input(format!(
            "Invalid segment {:?} (equity or commodity)",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

/// The profile Kite scripts read at start-up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub user_id: String,
    pub user_name: String,
    pub user_shortname: String,
    pub user_type: &'static str,
    pub email: String,
    pub broker: &'static str,
    pub exchanges: Vec<&'static str>,
    pub products: Vec<&'static str>,
    pub order_types: Vec<&'static str>,
    pub avatar_url: Option<String>,
    pub meta: serde_json::Value,
}

/// `GET /kite/user/profile`.
#[utoipa::path(get, path = "/kite/user/profile", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteProfileEnvelope)))]
pub async fn profile(auth: KiteAuth, State(state): State<Arc<AppState>>) -> KiteResult<Profile> {
    auth.read()?;
    let user = state
        .store
        .user_by_id(auth.0.0.user_id)
        .await
        .map_err(crate::error::ApiError::store_unavailable)?;
    let (email, name) = user.map_or((String::new(), String::new()), |u| (u.email, u.name));
    Ok(ok(Profile {
        user_id: kite_user_id(&auth),
        user_shortname: name.split_whitespace().next().unwrap_or("").to_string(),
        user_name: name,
        user_type: "individual",
        email,
        broker: "STOCKSBLITZ",
        exchanges: vec!["NSE", "NFO", "BSE", "BFO"],
        products: vec!["CNC", "NRML", "MIS"],
        order_types: vec!["MARKET", "LIMIT", "SL", "SL-M"],
        avatar_url: None,
        meta: serde_json::json!({"demat_consent": "physical"}),
    }))
}

/// An order whose margin or charges are asked for (Kite's `margins/orders` items).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MarginOrder {
    pub exchange: Option<String>,
    pub tradingsymbol: String,
    pub transaction_type: String,
    pub variety: Option<String>,
    pub product: String,
    pub order_type: String,
    pub quantity: i64,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
}

/// An executed order whose charges are asked for (Kite's `charges/orders` items).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChargeOrder {
    pub order_id: Option<String>,
    pub exchange: Option<String>,
    pub tradingsymbol: String,
    pub transaction_type: String,
    pub variety: Option<String>,
    pub product: String,
    pub order_type: Option<String>,
    pub quantity: i64,
    pub average_price: f64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Gst {
    pub igst: f64,
    pub cgst: f64,
    pub sgst: f64,
    pub total: f64,
}

/// Kite's charges breakdown.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ChargesOut {
    pub transaction_tax: f64,
    pub transaction_tax_type: &'static str,
    pub exchange_turnover_charge: f64,
    pub sebi_turnover_charge: f64,
    pub brokerage: f64,
    pub stamp_duty: f64,
    pub gst: Gst,
    pub total: f64,
}

fn charges_out(c: &Charges) -> ChargesOut {
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
pub struct Pnl {
    pub realised: f64,
    pub unrealised: f64,
}

/// Kite's margin object.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct MarginOut {
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

fn margin_out(sym: &str, exchange: &str, r: &Requirement, charges: &Charges) -> MarginOut {
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

fn diff(after: &Requirement, before: &Requirement) -> Requirement {
    Requirement {
        span: after.span - before.span,
        exposure: after.exposure - before.exposure,
        blocked: after.blocked - before.blocked,
        equity: after.equity - before.equity,
        by_underlying: Default::default(),
    }
}

/// A margin order as the broker's leg, its price and charges (a message naming the problem
/// when the broker cannot value it).
struct Valued {
    leg: HypoLeg,
    sym: String,
    exchange: String,
    charges: Charges,
}

fn value_order(
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
async fn evaluate<R>(
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
const MAX_ORDERS: usize = 100;

/// `POST /kite/margins/orders`: for each order, the margin it would block on top of the
/// account's positions and open orders (what placing it checks), and its charges.
#[utoipa::path(post, path = "/kite/margins/orders", tag = "kite", request_body = Vec<MarginOrder>, security(("bearer" = [])), responses((status = 200, body = KiteMarginsEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub async fn order_margins(
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
pub struct BasketQuery {
    /// Count the account's positions and open orders (default true).
    pub consider_positions: Option<String>,
    /// `compact`: totals only.
    pub mode: Option<String>,
}

/// Kite's basket answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BasketOut {
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
pub async fn basket_margins(
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
                by_underlying: Default::default(),
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

/// One order of Kite's virtual contract note.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractNoteRow {
    pub transaction_type: String,
    pub tradingsymbol: String,
    pub exchange: String,
    pub variety: String,
    pub product: String,
    pub order_type: String,
    pub quantity: i64,
    pub price: f64,
    pub charges: ChargesOut,
}

/// `POST /kite/charges/orders`: the charges of executed orders (Kite's virtual contract
/// note), with the rates in force today.
#[utoipa::path(post, path = "/kite/charges/orders", tag = "kite", request_body = Vec<ChargeOrder>, security(("bearer" = [])), responses((status = 200, body = KiteContractNoteEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub async fn contract_note(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    raw: axum::body::Bytes,
) -> KiteResult<Vec<ContractNoteRow>> {
    let orders: Vec<ChargeOrder> = json_list(&raw, MAX_ORDERS)?;
    let as_margin: Vec<MarginOrder> = orders
        .iter()
        .map(|o| MarginOrder {
            exchange: o.exchange.clone(),
            tradingsymbol: o.tradingsymbol.clone(),
            transaction_type: o.transaction_type.clone(),
            variety: o.variety.clone(),
            product: o.product.clone(),
            order_type: "LIMIT".into(),
            quantity: o.quantity,
            price: Some(o.average_price),
            trigger_price: None,
        })
        .collect();
    let date = crate::routes::ist_today(state.clock.now());
    let rows = evaluate(&state, &auth, &[], |e, _| {
        orders
            .iter()
            .zip(&as_margin)
            .map(|(o, m)| {
                let v = value_order(e, m, date)?;
                Ok(ContractNoteRow {
                    transaction_type: o.transaction_type.clone(),
                    tradingsymbol: v.sym,
                    exchange: v.exchange,
                    variety: o.variety.clone().unwrap_or_else(|| "regular".into()),
                    product: o.product.clone(),
                    order_type: o.order_type.clone().unwrap_or_else(|| "MARKET".into()),
                    quantity: o.quantity,
                    price: o.average_price,
                    charges: charges_out(&v.charges),
                })
            })
            .collect::<Result<Vec<_>, KiteError>>()
    })
    .await?;
    Ok(ok(rows))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(positions, convert_position))
        .routes(routes!(holdings))
        .routes(routes!(user_margins))
        .routes(routes!(user_margins_segment))
        .routes(routes!(profile))
        .routes(routes!(order_margins))
        .routes(routes!(basket_margins))
        .routes(routes!(contract_note))
}
