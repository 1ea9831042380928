//! A quote as the snapshot, the option chain and `/monitor/stream` show it.

use serde::Serialize;
use stocksblitz_market::snapshot::{AgeBasis, Quote};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SnapshotQuote)]
pub(crate) struct QuoteOut {
    pub tradingsymbol: String,
    pub token: Option<u64>,
    pub kind: &'static str,
    pub strike: Option<f64>,
    pub expiry: Option<String>,
    #[serde(rename = "type")]
    pub right: Option<&'static str>,
    pub ltp: f64,
    /// Alias of `ltp` (the old snapshot called it `price`).
    pub price: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub volume: u64,
    pub oi: Option<u64>,
    /// Change of open interest on the day: since the day's first OI (or, when the server started
    /// mid-session, the first one it saw).
    pub oi_change: Option<i64>,
    /// The touch and the units there; null when the feed sends no book (`book: "unknown"`).
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_qty: Option<u64>,
    pub ask_qty: Option<u64>,
    /// `depth` (levels known), `top` (the touch), or `unknown` (the feed sends no book).
    pub book: &'static str,
    /// Units of the last trade, when the feed says.
    pub last_quantity: Option<u64>,
    pub iv: Option<f64>,
    /// Where `iv` came from: `feed`, `intrinsic`, or `<price>:<forward>` such as `mid:parity`.
    pub iv_source: Option<&'static str>,
    /// The expiry's fitted smile at this strike, for an option without an IV of its own (the
    /// option chain only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smile_iv: Option<f64>,
    pub delta: Option<f64>,
    pub gamma: Option<f64>,
    pub theta: Option<f64>,
    pub vega: Option<f64>,
    pub ts: i64,
    pub age_ms: i64,
    pub is_mock: bool,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl QuoteOut {
    pub(crate) fn from(q: &Quote, now: i64, basis: AgeBasis) -> Self {
        let g = q.greeks;
        QuoteOut {
            tradingsymbol: q.tradingsymbol.to_string(),
            token: q.token,
            kind: q.kind.as_str(),
            strike: q.strike,
            expiry: q.expiry.map(|d| d.to_string()),
            right: q.right.map(stocksblitz_symbols::Right::as_str),
            ltp: q.ltp,
            price: q.ltp,
            open: q.open,
            high: q.high,
            low: q.low,
            volume: q.volume,
            oi: q.oi,
            oi_change: q.oi_change(),
            bid: q.bid,
            ask: q.ask,
            bid_qty: q.bid_qty,
            ask_qty: q.ask_qty,
            book: q.book_state(),
            last_quantity: q.last_quantity,
            iv: q.iv(),
            iv_source: q
                .iv_source
                .map(stocksblitz_market::snapshot::IvSource::as_str),
            smile_iv: None,
            delta: g.and_then(|g| finite(g.delta)),
            gamma: g.and_then(|g| finite(g.gamma)),
            theta: g.and_then(|g| finite(g.theta)),
            vega: g.and_then(|g| finite(g.vega)),
            ts: q.exchange_ts_ms / 1000,
            age_ms: q.age(basis, now),
            is_mock: q.is_mock,
        }
    }
}
