//! The paper broker: a correct simulated broker for Indian F&O (and equity delivery).
//!
//! Pure like `market` and `indicators`: no I/O, no wall clock, no async. Inputs are commands
//! (open/reset an account, place, modify, cancel, convert), quotes (last price, the touch and
//! its sizes when the feed has a book) and clock ticks; outputs are [`Event`]s — order updates
//! with Kite's fields, trades, ledger entries — from which the state can be rebuilt
//! ([`Engine::replay`]). Same inputs, same outputs: the server persists the events and recovers
//! from them; a backtest drives the same engine over stored bars.
//!
//! The rules (see `shared/spec/trading.md`):
//! - orders: regular/amo, MARKET/LIMIT/SL/SL-M, MIS/NRML/CNC, DAY/IOC/TTL, lot multiples,
//!   the freeze quantity and autoslice, the tick grid, stop triggers on the right side of the
//!   market, modify and cancel; Kite's statuses with a `status_message` naming the rule;
//! - fills: a BUY takes the ask and a SELL the bid (the last price only when the feed has no
//!   book, and the trade says so); a marketable LIMIT fills at once at the touch, a resting one
//!   at its own price when the touch crosses it; quantity beyond the quoted size fills partly;
//!   nothing fills on a stale quote; IOC cancels the rest;
//! - positions with Kite's fields and a day view, flips through zero, MIS ⇄ NRML conversion;
//! - the session: MIS squared off at 15:20 IST (configurable) and new MIS refused after the
//!   cut-off; DAY orders end at the close; at expiry futures settle at the final settlement
//!   price and options cash-settle at intrinsic value against the underlying (worthless out of
//!   the money), with the exercise STT;
//! - money: exact paise; every movement of cash is a [`LedgerEntry`] and funds are derived from
//!   the ledger; margins are a SPAN-style **estimate** ([`margin`]) with exposure margin and
//!   hedge benefit; charges come from a dated rate table ([`charges`]).
#![forbid(unsafe_code)]

pub mod charges;
mod engine;
mod event;
mod instrument;
mod ledger;
pub mod margin;
pub mod money;
mod order;
mod position;
mod quote;
mod reject;
pub mod session;
mod types;

pub use charges::{Brokerage, Charges, RateSet, RateTable, Segment};
pub use engine::{
    Account, BasketMargin, Command, Config, ConfigError, Engine, Funds, HypoLeg, MAX_AMOUNT,
    MAX_OPEN_ORDERS, MAX_PRICE, MAX_QUANTITY, MAX_SLICES, Rejection, Reply, Requirement, State,
};
pub use event::{Event, EventBody};
pub use instrument::{Instrument, InstrumentId, SpecOverrides};
pub use ledger::{EntryKind, LedgerEntry};
pub use margin::{MarginParams, PortfolioMargin, UnderlyingParams};
pub use money::{Paise, Rate};
pub use order::{
    FillBasis, IDEMPOTENCY_WINDOW_MS, MAX_IDEMPOTENCY_KEY_LEN, MAX_TAG_LEN, Order, OrderChanges,
    OrderRequest,
};
pub use position::{Position, Trade};
pub use quote::Quote;
pub use reject::{Reject, RejectKind};
pub use session::SessionRules;
pub use types::{
    AccountId, Millis, OrderId, OrderType, Product, Side, Status, TradeId, UnknownValue, Validity,
    Variety,
};
