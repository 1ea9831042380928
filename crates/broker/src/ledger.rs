//! The cash ledger: every movement of an account's cash is one entry; funds are its sum.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::charges::Charges;
use crate::money::Paise;
use crate::types::{AccountId, Millis, OrderId, TradeId};

/// What moved the cash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The opening balance (and a reset's new balance).
    OpeningBalance,
    /// Funds added or withdrawn.
    Payin,
    /// Option premium paid (−) or received (+); equity trade value.
    Premium,
    /// Realised profit or loss of a futures position.
    FuturesPnl,
    /// Charges of an order's fill (brokerage, taxes, fees), always a debit.
    Charges,
    /// Cash settlement of an option at expiry (intrinsic value).
    ExpirySettlement,
}

/// One movement of cash. `amount` is signed: credits positive, debits negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub entry_id: u64,
    pub account: AccountId,
    pub at: Millis,
    pub kind: EntryKind,
    pub amount: Paise,
    pub order_id: Option<OrderId>,
    pub trade_id: Option<TradeId>,
    pub tradingsymbol: Option<CompactString>,
    /// The breakdown, for charge entries.
    pub charges: Option<Charges>,
    pub narration: String,
}
