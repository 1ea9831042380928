//! The market as the broker sees it: the latest quote per instrument.

use serde::{Deserialize, Serialize};

use crate::money::Paise;
use crate::types::{Millis, Side};

/// One quote: last price, and the touch with its sizes when the feed has a book.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// Exchange time of the quote (epoch ms).
    pub at: Millis,
    pub ltp: Paise,
    pub bid: Option<Paise>,
    pub ask: Option<Paise>,
    /// Units available at the bid / ask (None: unknown, so unlimited).
    pub bid_qty: Option<i64>,
    pub ask_qty: Option<i64>,
    /// Implied volatility when the feed computed one (fraction, 0.15 = 15 %).
    pub iv: Option<f64>,
    /// Previous session's close.
    pub close: Option<Paise>,
}

impl Quote {
    /// A quote with a last price only (no book).
    pub fn ltp(at: Millis, ltp: Paise) -> Quote {
        Quote {
            at,
            ltp,
            bid: None,
            ask: None,
            bid_qty: None,
            ask_qty: None,
            iv: None,
            close: None,
        }
    }

    /// A quote with a book.
    pub fn book(
        at: Millis,
        ltp: Paise,
        bid: Paise,
        ask: Paise,
        bid_qty: i64,
        ask_qty: i64,
    ) -> Quote {
        Quote {
            bid: Some(bid),
            ask: Some(ask),
            bid_qty: Some(bid_qty),
            ask_qty: Some(ask_qty),
            ..Quote::ltp(at, ltp)
        }
    }

    /// Drop what cannot be right: non-positive prices, a crossed book, negative sizes. None when
    /// the last price itself is unusable.
    pub fn sanitised(mut self) -> Option<Quote> {
        if self.ltp <= 0 {
            return None;
        }
        if self.bid.is_some_and(|b| b <= 0) {
            self.bid = None;
        }
        if self.ask.is_some_and(|a| a <= 0) {
            self.ask = None;
        }
        if let (Some(b), Some(a)) = (self.bid, self.ask)
            && b > a
        {
            self.bid = None;
            self.ask = None;
        }
        // A side quoted with no size is no side; negative sizes are unknown sizes.
        if self.bid_qty == Some(0) {
            self.bid = None;
        }
        if self.ask_qty == Some(0) {
            self.ask = None;
        }
        if self.bid.is_none() || self.bid_qty.is_some_and(|q| q < 0) {
            self.bid_qty = None;
        }
        if self.ask.is_none() || self.ask_qty.is_some_and(|q| q < 0) {
            self.ask_qty = None;
        }
        if !self
            .iv
            .is_some_and(|v| v.is_finite() && v > 0.0 && v < 10.0)
        {
            self.iv = None;
        }
        if self.close.is_some_and(|c| c <= 0) {
            self.close = None;
        }
        Some(self)
    }

    /// The price a `side` order takes and the quantity available there; `from_book` is false
    /// when the feed has no book and the last price stands in. A one-sided book (an offer and
    /// no bid, as for an option worth less than a tick) has nothing on the missing side:
    /// quantity 0 there, so nothing fills until someone quotes it.
    pub fn touch(&self, side: Side) -> (Paise, Option<i64>, bool) {
        let (this, this_qty, other) = match side {
            Side::Buy => (self.ask, self.ask_qty, self.bid),
            Side::Sell => (self.bid, self.bid_qty, self.ask),
        };
        match (this, other) {
            (Some(p), _) => (p, this_qty, true),
            (None, Some(_)) => (self.ltp, Some(0), true),
            (None, None) => (self.ltp, None, false),
        }
    }

    /// Mid of the book, or the last price.
    pub fn mark(&self) -> Paise {
        match (self.bid, self.ask) {
            (Some(b), Some(a)) => (b + a) / 2,
            _ => self.ltp,
        }
    }
}
