//! The engine's outputs. Every change of state is one event; applying the log in order rebuilds
//! the state exactly ([`crate::Engine::replay`]), and an event whose `seq` was applied already is
//! ignored, so a log delivered twice changes nothing.

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::ledger::LedgerEntry;
use crate::money::Paise;
use crate::order::Order;
use crate::position::Trade;
use crate::types::{AccountId, Millis, Product};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    pub at: Millis,
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    AccountOpened {
        account: AccountId,
    },
    /// Orders, positions, trades and ledger of the account are cleared.
    AccountReset {
        account: AccountId,
    },
    /// The order after a change (placed, triggered, filled, modified, cancelled, rejected).
    Order {
        order: Box<Order>,
    },
    Trade {
        trade: Trade,
    },
    Ledger {
        entry: LedgerEntry,
    },
    /// Quantity moved between products of one instrument.
    Converted {
        account: AccountId,
        tradingsymbol: CompactString,
        /// Signed units moved.
        quantity: i64,
        from: Product,
        to: Product,
    },
    /// A new session: positions are carried over at these closing prices; flat ones dropped.
    SessionRolled {
        date: NaiveDate,
        closes: Vec<(CompactString, Paise)>,
    },
    /// The clock reached `at` (session boundaries up to it are processed).
    Clock,
}
