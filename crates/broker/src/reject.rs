//! Why a command was refused: which rule, with the numbers. `Display` gives the message an order
//! carries as its `status_message` (Kite's wording where Kite has one).

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::money::{Paise, format_rupees};
use crate::types::{AccountId, OrderId, OrderType, Product, Side, Status};

/// Which family a rejection belongs to (the HTTP layer maps them to Kite's exception types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// The request breaks an order rule (lot, tick, trigger side, fields): InputException.
    Invalid,
    /// Risk management refused it (funds, holdings, market state): OrderException.
    Risk,
    /// The account or order does not exist (or is not the caller's).
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reject {
    #[error("unknown instrument {tradingsymbol:?}: {why}")]
    UnknownInstrument { tradingsymbol: String, why: String },
    #[error("{tradingsymbol} cannot be traded: {why}")]
    NotTradable {
        tradingsymbol: CompactString,
        why: String,
    },
    #[error("{tradingsymbol} expired on {expiry}")]
    ContractExpired {
        tradingsymbol: CompactString,
        expiry: NaiveDate,
    },
    #[error("quantity must be positive, got {quantity}")]
    QuantityNotPositive { quantity: i64 },
    #[error("quantity {quantity} is not a multiple of the lot size {lot_size}")]
    NotLotMultiple { quantity: i64, lot_size: u32 },
    #[error(
        "quantity {quantity} exceeds the freeze quantity {freeze_qty}; split the order or set autoslice"
    )]
    FreezeQuantity { quantity: i64, freeze_qty: u32 },
    #[error("quantity {quantity} is more than {max} orders of the freeze quantity {freeze_qty}")]
    TooManySlices {
        quantity: i64,
        freeze_qty: u32,
        max: u32,
    },
    #[error("{field} {} is not a multiple of the tick size {}", format_rupees(*price), format_rupees(*tick))]
    OffTick {
        field: &'static str,
        price: Paise,
        tick: Paise,
    },
    #[error("{field} must be positive for a {order_type} order")]
    PriceRequired {
        field: &'static str,
        order_type: OrderType,
    },
    #[error("{field} is not allowed for a {order_type} order")]
    PriceNotAllowed {
        field: &'static str,
        order_type: OrderType,
    },
    #[error(
        "trigger price {} for a stoploss {} order must be {} the last traded price {}",
        format_rupees(*trigger), side.as_str().to_lowercase(),
        if *side == Side::Buy { "above" } else { "below" }, format_rupees(*ltp)
    )]
    TriggerSide {
        side: Side,
        trigger: Paise,
        ltp: Paise,
    },
    #[error(
        "limit price {} of a stoploss {} order must be {} its trigger price {}",
        format_rupees(*price), side.as_str().to_lowercase(),
        if *side == Side::Buy { "at or above" } else { "at or below" }, format_rupees(*trigger)
    )]
    LimitVsTrigger {
        side: Side,
        price: Paise,
        trigger: Paise,
    },
    #[error("validity_ttl must be 1..=1440 minutes for a TTL order, got {ttl:?}")]
    BadTtl { ttl: Option<u32> },
    #[error("{order_type} orders cannot have validity {validity}")]
    BadValidity {
        order_type: OrderType,
        validity: crate::types::Validity,
    },
    #[error("tag is {len} characters; at most {max}")]
    TagTooLong { len: usize, max: usize },
    #[error("product {product} is not allowed for {kind}")]
    ProductNotAllowed {
        product: Product,
        kind: &'static str,
    },
    #[error("no market data for {tradingsymbol} yet: cannot price the order")]
    NoQuote { tradingsymbol: CompactString },
    #[error("markets are closed right now; place an AMO (variety amo) instead")]
    MarketClosed,
    #[error("after-market orders are accepted only while the market is closed")]
    AmoDuringSession,
    #[error("new MIS orders are not accepted after {cutoff} IST; use NRML")]
    MisCutoff { cutoff: String },
    #[error(
        "Insufficient funds. Required margin is {} but available margin is {}.",
        format_rupees(*required), format_rupees(*available)
    )]
    InsufficientFunds { required: Paise, available: Paise },
    #[error("insufficient holdings of {tradingsymbol}: selling {quantity}, holding {held}")]
    InsufficientHoldings {
        tradingsymbol: CompactString,
        quantity: i64,
        held: i64,
    },
    #[error("no account {account}")]
    UnknownAccount { account: AccountId },
    #[error("account {account} exists already")]
    AccountExists { account: AccountId },
    #[error("no order {order_id}")]
    UnknownOrder { order_id: OrderId },
    #[error("order {order_id} is {status} and can no longer be changed")]
    OrderNotOpen { order_id: OrderId, status: Status },
    #[error("quantity {quantity} is below the {filled} already filled")]
    BelowFilled { quantity: i64, filled: i64 },
    #[error("no {product} position in {tradingsymbol} of {quantity} to convert (have {have})")]
    NothingToConvert {
        tradingsymbol: CompactString,
        product: Product,
        quantity: i64,
        have: i64,
    },
    #[error("contracts expiring on {expiry} have not expired yet")]
    NotExpired { expiry: NaiveDate },
    #[error("{what} is out of range: {value}")]
    OutOfRange { what: &'static str, value: i64 },
    #[error("time went backwards: {at} is before the engine's clock {now}")]
    ClockBackwards { at: i64, now: i64 },
}

impl Reject {
    pub fn kind(&self) -> RejectKind {
        match self {
            Reject::InsufficientFunds { .. }
            | Reject::InsufficientHoldings { .. }
            | Reject::MarketClosed
            | Reject::AmoDuringSession
            | Reject::MisCutoff { .. }
            | Reject::NoQuote { .. } => RejectKind::Risk,
            Reject::UnknownAccount { .. } | Reject::UnknownOrder { .. } => RejectKind::NotFound,
            _ => RejectKind::Invalid,
        }
    }
}
