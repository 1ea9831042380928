//! The tick model: one observation of one instrument.

use chrono::NaiveDate;
use compact_str::CompactString;
use stocksblitz_symbols::Right;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickKind {
    Index,
    Equity,
    Future,
    Option,
}

impl TickKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TickKind::Index => "index",
            TickKind::Equity => "equity",
            TickKind::Future => "future",
            TickKind::Option => "option",
        }
    }
}

/// Option greeks. `theta` is per calendar day, `vega` per 1 volatility point, `rho` per 1%.
/// `iv` is None when the price has no time value (the greeks are then the limits).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Greeks {
    pub iv: Option<f64>,
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
    pub rho: f64,
}

impl Greeks {
    /// The limits of an option with no time value: in the money a call's delta is 1 and a put's
    /// −1, out of the money 0; gamma, vega, theta and rho 0; no implied volatility.
    pub fn limit(right: Right, in_the_money: bool) -> Greeks {
        let delta = match (in_the_money, right) {
            (false, _) => 0.0,
            (true, Right::Call) => 1.0,
            (true, Right::Put) => -1.0,
        };
        Greeks {
            iv: None,
            delta,
            ..Greeks::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Canonical tradingsymbol (`NIFTY 50` for the NIFTY index).
    pub tradingsymbol: CompactString,
    pub token: Option<u64>,
    pub kind: TickKind,
    /// Canonical underlying (`NIFTY`).
    pub underlying: CompactString,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<Right>,
    /// Last traded price.
    pub price: f64,
    /// Cumulative traded volume of the day, when the feed has it.
    pub volume: Option<u64>,
    pub oi: Option<u64>,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    /// Day open/high/low when the feed sends them (the underlying channel does).
    pub day_open: Option<f64>,
    pub day_high: Option<f64>,
    pub day_low: Option<f64>,
    /// Greeks carried by the tick (None when absent or all zero: "not computed").
    pub greeks: Option<Greeks>,
    pub lot_size: Option<u32>,
    pub tick_size: Option<f64>,
    /// Exchange time, UTC epoch milliseconds.
    pub exchange_ts_ms: i64,
    /// When the tick was received, UTC epoch milliseconds.
    pub recv_ts_ms: i64,
    pub is_mock: bool,
}

impl Tick {
    /// Exchange time in whole seconds.
    pub fn ts(&self) -> i64 {
        self.exchange_ts_ms.div_euclid(1000)
    }
}
