//! Identifiers and the order vocabulary, spelled as Kite Connect spells them on the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC). The engine never reads a clock: every input says
/// when it happened.
pub type Millis = i64;

/// A paper account (the server maps its own account rows onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u64);

/// An order id, unique within an engine's event log; shown as a decimal string like Kite's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// A trade (fill) id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TradeId(pub u64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for TradeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An unknown spelling of one of the vocabulary enums.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?} (expected one of: {expected})")]
pub struct UnknownValue {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static str,
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Kite spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            /// Case-insensitive.
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                Err(UnknownValue {
                    what: $what,
                    got: s.chars().take(40).collect(),
                    expected: concat!($($text, " "),+).trim_ascii_end(),
                })
            }
        }
    };
}

vocabulary!(
    /// Buy or sell.
    Side, "transaction_type" { Buy = "BUY", Sell = "SELL" }
);

vocabulary!(
    /// Order types: market, limit, stop-limit, stop-market.
    OrderType, "order_type" { Market = "MARKET", Limit = "LIMIT", Sl = "SL", SlM = "SL-M" }
);

vocabulary!(
    /// Margin products: intraday (squared off at the cut-off), normal F&O carry, equity delivery.
    Product, "product" { Mis = "MIS", Nrml = "NRML", Cnc = "CNC" }
);

vocabulary!(
    /// How long an order lives.
    Validity, "validity" { Day = "DAY", Ioc = "IOC", Ttl = "TTL" }
);

vocabulary!(
    /// Regular orders, or after-market orders queued until the session opens.
    Variety, "variety" { Regular = "regular", Amo = "amo" }
);

vocabulary!(
    /// Order statuses, as Kite reports them.
    Status, "status" {
        /// An after-market order waiting for the session to open.
        AmoReqReceived = "AMO REQ RECEIVED",
        Open = "OPEN",
        TriggerPending = "TRIGGER PENDING",
        Complete = "COMPLETE",
        Cancelled = "CANCELLED",
        Rejected = "REJECTED",
    }
);

impl Side {
    /// +1 for a buy, −1 for a sell.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    #[must_use]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

impl Status {
    /// No further change can happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Complete | Status::Cancelled | Status::Rejected
        )
    }
}

impl OrderType {
    pub fn is_stop(self) -> bool {
        matches!(self, OrderType::Sl | OrderType::SlM)
    }
    /// Carries a limit price (LIMIT, SL).
    pub fn has_limit(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::Sl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kite_spellings_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
            assert_eq!(
                serde_json::to_string(s).ok(),
                Some(format!("\"{}\"", s.as_str()))
            );
        }
        assert_eq!("sl-m".parse::<OrderType>(), Ok(OrderType::SlM));
        assert_eq!("AMO".parse::<Variety>(), Ok(Variety::Amo));
        let e = "GTT".parse::<Validity>().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("unknown validity \"GTT\" (expected one of: DAY IOC TTL)")
        );
    }
}
