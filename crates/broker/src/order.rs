//! Orders: what a client asks for, and the order record with Kite's fields.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::charges::Charges;
use crate::money::Paise;
use crate::types::{
    AccountId, Millis, OrderId, OrderType, Product, Side, Status, Validity, Variety,
};

/// Longest `tag` accepted (Kite's limit).
pub const MAX_TAG_LEN: usize = 20;

/// A request to place an order. Prices in paise; 0 or None where not applicable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub account: AccountId,
    pub tradingsymbol: CompactString,
    pub side: Side,
    pub quantity: i64,
    pub order_type: OrderType,
    pub product: Product,
    #[serde(default = "default_variety")]
    pub variety: Variety,
    #[serde(default = "default_validity")]
    pub validity: Validity,
    #[serde(default)]
    pub validity_ttl: Option<u32>,
    #[serde(default)]
    pub price: Option<Paise>,
    #[serde(default)]
    pub trigger_price: Option<Paise>,
    #[serde(default)]
    pub tag: Option<CompactString>,
    /// Split a quantity above the freeze limit into several orders.
    #[serde(default)]
    pub autoslice: bool,
    /// The client's `Idempotency-Key`: a second placement with the same key on the account
    /// within [`IDEMPOTENCY_WINDOW_MS`] returns the first one's orders instead of placing again.
    #[serde(default)]
    pub idempotency_key: Option<CompactString>,
}

/// How long an idempotency key is remembered (24 h).
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3_600_000;
/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

fn default_variety() -> Variety {
    Variety::Regular
}
fn default_validity() -> Validity {
    Validity::Day
}

impl OrderRequest {
    /// A regular DAY order with no prices; set the rest with struct update syntax.
    pub fn new(
        account: AccountId,
        tradingsymbol: &str,
        side: Side,
        quantity: i64,
        order_type: OrderType,
        product: Product,
    ) -> OrderRequest {
        OrderRequest {
            account,
            tradingsymbol: tradingsymbol.into(),
            side,
            quantity,
            order_type,
            product,
            variety: Variety::Regular,
            validity: Validity::Day,
            validity_ttl: None,
            price: None,
            trigger_price: None,
            tag: None,
            autoslice: false,
            idempotency_key: None,
        }
    }
}

/// Changes to an open order (None: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderChanges {
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub price: Option<Paise>,
    #[serde(default)]
    pub trigger_price: Option<Paise>,
    #[serde(default)]
    pub order_type: Option<OrderType>,
    #[serde(default)]
    pub validity: Option<Validity>,
    #[serde(default)]
    pub validity_ttl: Option<u32>,
}

/// How a fill was priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillBasis {
    /// At the quoted touch (ask for a buy, bid for a sell).
    Touch,
    /// A resting limit order, at its own price, when the touch crossed it.
    Limit,
    /// The feed had no book: at the last traded price.
    Ltp,
    /// Expiry settlement (final settlement price, or intrinsic value).
    Settlement,
}

/// An order with Kite's fields. Prices and values in paise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    /// The first order of an autosliced request.
    pub parent_order_id: Option<OrderId>,
    pub account: AccountId,
    pub tradingsymbol: CompactString,
    pub exchange: CompactString,
    pub variety: Variety,
    pub order_type: OrderType,
    pub transaction_type: Side,
    pub product: Product,
    pub validity: Validity,
    pub validity_ttl: Option<u32>,
    pub quantity: i64,
    pub price: Paise,
    pub trigger_price: Paise,
    pub status: Status,
    pub status_message: Option<String>,
    pub filled_quantity: i64,
    pub pending_quantity: i64,
    pub cancelled_quantity: i64,
    /// Σ fill price × quantity (average price = this / filled_quantity).
    pub filled_value: Paise,
    pub tag: Option<CompactString>,
    pub order_timestamp: Millis,
    /// Time of the last change.
    pub exchange_timestamp: Millis,
    /// A stop order whose trigger was hit (it now works as LIMIT or MARKET).
    pub triggered: bool,
    /// Charges debited for the fills so far.
    pub charges: Charges,
    /// Placed by the broker itself (auto square-off).
    pub system: bool,
    /// Revision counter (Kite's order history has one row per change).
    pub revision: u32,
    /// The placement's idempotency key, if the client sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<CompactString>,
}

impl Order {
    /// Average fill price in paise (fractional), 0 when nothing filled.
    pub fn average_price(&self) -> f64 {
        if self.filled_quantity == 0 {
            0.0
        } else {
            self.filled_value as f64 / self.filled_quantity as f64
        }
    }

    pub fn is_open(&self) -> bool {
        !self.status.is_final()
    }

    /// Waiting for its trigger.
    pub fn awaiting_trigger(&self) -> bool {
        self.order_type.is_stop() && !self.triggered
    }

    /// The price the order works at once triggered: its limit, or None for a market order.
    pub fn limit(&self) -> Option<Paise> {
        if self.order_type.has_limit() {
            Some(self.price)
        } else {
            None
        }
    }
}
