//! Paper trading's shapes and parameters shared by the native account routes, strategies and
//! the Kite routes: accounts, funds, orders, positions and trades as the native API shows
//! them; order fields parsed into the broker's request; trading errors mapped to statuses.

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use stocksblitz_broker::money::{paise_from_f64, rupees};
use stocksblitz_broker::{
    AccountId, Engine, Funds, Order, OrderRequest, OrderType, Paise, Position, Product, Reject,
    RejectKind, Side, Trade, Validity, Variety,
};
use stocksblitz_trading::TradingError;

use super::ist_text;
use crate::error::ApiError;

mod params;
pub(crate) use params::{
    OrderFields, id_param, idempotency_key, money_param, order_request, reject_error, trading_error,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountOut {
    pub account_id: String,
    pub name: String,
    pub opening_balance: f64,
    pub created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AvailableOut {
    pub cash: f64,
    pub opening_balance: f64,
    pub live_balance: f64,
    pub collateral: f64,
    pub intraday_payin: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UtilisedOut {
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
pub(crate) struct FundsOut {
    pub net: f64,
    pub available: AvailableOut,
    pub utilised: UtilisedOut,
    /// The old SDK's names: cash now, margin used, margin available.
    pub available_cash: f64,
    pub used_margin: f64,
    pub available_margin: f64,
}

/// An order with Kite's fields (prices in rupees, times `YYYY-MM-DD HH:MM:SS` IST).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrderOut {
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
pub(crate) struct PositionOut {
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
pub(crate) struct TradeOut {
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
pub(crate) struct PlacedOut {
    pub order_id: String,
    /// Every order placed (several when autosliced).
    pub order_ids: Vec<String>,
}

/// An order to place. Prices in rupees on the contract's tick.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PlaceBody {
    #[schema(value_type = crate::wire::schema::Symbol, inline)]
    pub tradingsymbol: String,
    #[schema(value_type = crate::wire::schema::TransactionType, inline)]
    pub transaction_type: String,
    #[serde(deserialize_with = "crate::wire::whole::int")]
    /// Units (at most the broker's `MAX_QUANTITY`, 1,00,00,000).
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub quantity: i64,
    /// `MARKET` (default), `LIMIT`, `SL`, `SL-M`.
    #[schema(value_type = Option<crate::wire::schema::OrderTypeName>, inline)]
    pub order_type: Option<String>,
    /// `MIS` (default), `NRML`, `CNC`.
    #[schema(value_type = Option<crate::wire::schema::ProductName>, inline)]
    pub product: Option<String>,
    /// Rupees, at most two decimals (and on the contract's tick); at most ₹10 crore
    /// (the broker's `MAX_PRICE`).
    #[schema(minimum = 0, maximum = 100_000_000.0, multiple_of = 0.01)]
    pub price: Option<f64>,
    /// Rupees, at most two decimals (and on the contract's tick); at most ₹10 crore
    /// (the broker's `MAX_PRICE`).
    #[schema(minimum = 0, maximum = 100_000_000.0, multiple_of = 0.01)]
    pub trigger_price: Option<f64>,
    /// `DAY` (default), `IOC`, `TTL`.
    #[schema(value_type = Option<crate::wire::schema::ValidityName>, inline)]
    pub validity: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::whole::opt_u32")]
    pub validity_ttl: Option<u32>,
    /// `regular` (default) or `amo`.
    #[schema(value_type = Option<crate::wire::schema::VarietyName>, inline)]
    pub variety: Option<String>,
    #[schema(max_length = 20)]
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
        tag: o.tag.as_ref().map(std::string::ToString::to_string),
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

#[cfg(test)]
mod tests {
    use super::PlaceBody;
    use crate::routes::accounts::ModifyBody;

    /// The documented bounds are the broker's: a schema that allowed more would promise
    /// orders the broker refuses.
    #[test]
    fn order_bodies_document_the_broker_s_limits() {
        let limits = |schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            let v = serde_json::to_value(schema).unwrap_or_default();
            let max = |field: &str| v["properties"][field]["maximum"].as_f64();
            (max("quantity"), max("price"), max("trigger_price"))
        };
        #[allow(clippy::cast_precision_loss)]
        let want = (
            Some(stocksblitz_broker::MAX_QUANTITY as f64),
            Some(stocksblitz_broker::MAX_PRICE as f64 / 100.0),
            Some(stocksblitz_broker::MAX_PRICE as f64 / 100.0),
        );
        assert_eq!(limits(<PlaceBody as utoipa::PartialSchema>::schema()), want);
        assert_eq!(
            limits(<ModifyBody as utoipa::PartialSchema>::schema()),
            want
        );
    }
}
