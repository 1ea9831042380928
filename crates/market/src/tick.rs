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
    /// The values in the order of `stocksblitz.options.greeks`' columns — iv, delta, gamma,
    /// theta, vega, rho — the implied volatility NaN where there is none.
    pub fn row(&self) -> [f64; 6] {
        [
            self.iv.unwrap_or(f64::NAN),
            self.delta,
            self.gamma,
            self.theta,
            self.vega,
            self.rho,
        ]
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
    /// The touch: best bid and ask, and the quantities (units) there. None when the feed sent
    /// no book (the legacy ticker never does): the book is unknown, not empty.
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_qty: Option<u64>,
    pub ask_qty: Option<u64>,
    /// Quantity of the last trade, when the feed has it.
    pub last_quantity: Option<u64>,
    /// Market depth (best first), when the feed sends levels.
    pub depth: Option<Box<Depth>>,
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

/// One price level of the book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub price: f64,
    /// Units at this price.
    pub quantity: u64,
    /// Orders at this price (0 when the feed does not say).
    pub orders: u64,
}

/// Market depth: bids best (highest) first, asks best (lowest) first, at most
/// [`Depth::MAX_LEVELS`] each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Depth {
    pub buy: Vec<Level>,
    pub sell: Vec<Level>,
}

impl Depth {
    /// Levels kept per side (Kite's full mode sends five).
    pub const MAX_LEVELS: usize = 5;
}

impl Tick {
    /// Whether the tick carries any part of the book.
    pub fn has_book(&self) -> bool {
        self.bid.is_some() || self.ask.is_some() || self.depth.is_some()
    }

    /// Exchange time in whole seconds.
    pub fn ts(&self) -> i64 {
        self.exchange_ts_ms.div_euclid(1000)
    }
}
