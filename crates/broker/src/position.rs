//! Trades and positions. A position is net per (account, instrument, product) and keeps its
//! open cost exactly in paise, so realised + unrealised P&L always equals
//! sell value − buy value + quantity × last price, to the paisa.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::money::Paise;
use crate::order::FillBasis;
use crate::types::{AccountId, Millis, OrderId, Product, Side, TradeId};

/// One fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    pub trade_id: TradeId,
    /// None for an expiry settlement.
    pub order_id: Option<OrderId>,
    pub account: AccountId,
    pub tradingsymbol: CompactString,
    pub exchange: CompactString,
    pub product: Product,
    pub transaction_type: Side,
    pub quantity: i64,
    pub price: Paise,
    pub at: Millis,
    pub basis: FillBasis,
    /// The strategy tag of the order.
    pub tag: Option<CompactString>,
}

/// A net position and its day statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub tradingsymbol: CompactString,
    pub exchange: CompactString,
    pub product: Product,
    /// Net quantity: positive long, negative short.
    pub quantity: i64,
    /// Quantity carried from the previous session.
    pub overnight_quantity: i64,
    /// Signed cost of the open quantity (Σ signed quantity × price of the open lots).
    pub open_value: Paise,
    /// Realised P&L since the position was carried in or opened (reset each session).
    pub realised: Paise,
    pub buy_quantity: i64,
    pub buy_value: Paise,
    pub sell_quantity: i64,
    pub sell_value: Paise,
    pub day_buy_quantity: i64,
    pub day_buy_value: Paise,
    pub day_sell_quantity: i64,
    pub day_sell_value: Paise,
    /// The previous session's close (set when the position is carried over).
    pub close_price: Option<Paise>,
}

/// What a trade does to a position: the realised P&L of the part that closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEffect {
    pub realised: Paise,
}

impl Position {
    pub fn new(tradingsymbol: &str, exchange: &str, product: Product) -> Position {
        Position {
            tradingsymbol: tradingsymbol.into(),
            exchange: exchange.into(),
            product,
            quantity: 0,
            overnight_quantity: 0,
            open_value: 0,
            realised: 0,
            buy_quantity: 0,
            buy_value: 0,
            sell_quantity: 0,
            sell_value: 0,
            day_buy_quantity: 0,
            day_buy_value: 0,
            day_sell_quantity: 0,
            day_sell_value: 0,
            close_price: None,
        }
    }

    /// The realised P&L a fill of signed `qty` at `price` would book, without applying it.
    pub fn preview(&self, qty: i64, price: Paise) -> FillEffect {
        let mut p = self.clone();
        p.apply_fill(qty, price)
    }

    /// Apply a fill of signed quantity `qty` (buy +, sell −) at `price`.
    pub fn apply_fill(&mut self, qty: i64, price: Paise) -> FillEffect {
        let mut realised = 0;
        if qty > 0 {
            self.buy_quantity += qty;
            self.buy_value += qty * price;
            self.day_buy_quantity += qty;
            self.day_buy_value += qty * price;
        } else {
            self.sell_quantity -= qty;
            self.sell_value -= qty * price;
            self.day_sell_quantity -= qty;
            self.day_sell_value -= qty * price;
        }
        let mut rest = qty;
        if self.quantity != 0 && self.quantity.signum() != qty.signum() {
            // Closing part: release the cost of the closed units pro rata (exact when the
            // position goes flat, since the whole remaining cost is released then).
            let close = qty.abs().min(self.quantity.abs());
            let released = if close == self.quantity.abs() {
                self.open_value
            } else {
                crate::money::round_div(
                    i128::from(self.open_value) * i128::from(close),
                    i128::from(self.quantity.abs()),
                )
            };
            realised = self.quantity.signum() * close * price - released;
            self.open_value -= released;
            self.quantity += qty.signum() * close;
            rest = qty - qty.signum() * close;
        }
        if rest != 0 {
            self.quantity += rest;
            self.open_value += rest * price;
        }
        self.realised += realised;
        FillEffect { realised }
    }

    /// Average price of the open quantity, paise (fractional).
    pub fn average_price(&self) -> f64 {
        if self.quantity == 0 {
            0.0
        } else {
            self.open_value as f64 / self.quantity as f64
        }
    }

    /// Kite's `value`: sell value − buy value.
    pub fn value(&self) -> Paise {
        self.sell_value - self.buy_value
    }

    /// Unrealised P&L at `ltp`.
    pub fn unrealised(&self, ltp: Paise) -> Paise {
        self.quantity * ltp - self.open_value
    }

    /// Kite's `pnl`: value + quantity × last price (= realised + unrealised).
    pub fn pnl(&self, ltp: Paise) -> Paise {
        self.value() + self.quantity * ltp
    }

    /// Kite's `m2m`: today's P&L, the carried quantity marked from the previous close.
    pub fn m2m(&self, ltp: Paise) -> Paise {
        let carried = self.overnight_quantity * self.close_price.unwrap_or(ltp);
        self.day_sell_value - self.day_buy_value + self.quantity * ltp - carried
    }

    /// Kite's `day` view: today's trades alone (quantity = bought − sold today, average from
    /// today's buys or sells, the carried quantity left out).
    #[must_use]
    pub fn day(&self) -> Position {
        let quantity = self.day_buy_quantity - self.day_sell_quantity;
        let open_value = match quantity.cmp(&0) {
            std::cmp::Ordering::Greater => crate::money::round_div(
                i128::from(self.day_buy_value) * i128::from(quantity),
                i128::from(self.day_buy_quantity),
            ),
            std::cmp::Ordering::Less => -crate::money::round_div(
                i128::from(self.day_sell_value) * i128::from(-quantity),
                i128::from(self.day_sell_quantity),
            ),
            std::cmp::Ordering::Equal => 0,
        };
        Position {
            quantity,
            overnight_quantity: 0,
            open_value,
            realised: self.day_sell_value - self.day_buy_value + open_value,
            buy_quantity: self.day_buy_quantity,
            buy_value: self.day_buy_value,
            sell_quantity: self.day_sell_quantity,
            sell_value: self.day_sell_value,
            close_price: None,
            ..self.clone()
        }
    }

    /// Carry the position into a new session: today's statistics start again from the carried
    /// quantity at its cost, and the session's close becomes `close_price`.
    pub fn roll_over(&mut self, close: Option<Paise>) {
        self.overnight_quantity = self.quantity;
        self.realised = 0;
        self.day_buy_quantity = 0;
        self.day_buy_value = 0;
        self.day_sell_quantity = 0;
        self.day_sell_value = 0;
        if self.quantity >= 0 {
            self.buy_quantity = self.quantity;
            self.buy_value = self.open_value;
            self.sell_quantity = 0;
            self.sell_value = 0;
        } else {
            self.sell_quantity = -self.quantity;
            self.sell_value = -self.open_value;
            self.buy_quantity = 0;
            self.buy_value = 0;
        }
        self.close_price = close;
    }

    /// Move `qty` units (same sign as the position) out, with their share of the cost.
    pub fn split_off(&mut self, qty: i64) -> (i64, Paise) {
        let released = if qty == self.quantity {
            self.open_value
        } else {
            crate::money::round_div(
                i128::from(self.open_value) * i128::from(qty),
                i128::from(self.quantity),
            )
        };
        self.quantity -= qty;
        self.open_value -= released;
        if qty > 0 {
            self.buy_quantity -= qty;
            self.buy_value -= released;
            self.day_buy_quantity = (self.day_buy_quantity - qty).max(0);
            self.day_buy_value = if self.day_buy_quantity == 0 {
                0
            } else {
                (self.day_buy_value - released).max(0)
            };
        } else {
            self.sell_quantity += qty;
            self.sell_value += released;
            self.day_sell_quantity = (self.day_sell_quantity + qty).max(0);
            self.day_sell_value = if self.day_sell_quantity == 0 {
                0
            } else {
                (self.day_sell_value + released).max(0)
            };
        }
        (qty, released)
    }

    /// Take in `qty` units with cost `value` (the other half of [`Position::split_off`]).
    pub fn merge_in(&mut self, qty: i64, value: Paise) {
        self.quantity += qty;
        self.open_value += value;
        if qty > 0 {
            self.buy_quantity += qty;
            self.buy_value += value;
            self.day_buy_quantity += qty;
            self.day_buy_value += value;
        } else {
            self.sell_quantity -= qty;
            self.sell_value -= value;
            self.day_sell_quantity -= qty;
            self.day_sell_value -= value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_cost_realised_and_flip_through_zero() {
        let mut p = Position::new("NIFTY26DECFUT", "NFO", Product::Nrml);
        // Buy 65 @ 26,000.00, buy 65 @ 26,100.00: avg 26,050.00.
        p.apply_fill(65, 2_600_000);
        p.apply_fill(65, 2_610_000);
        assert_eq!(p.average_price(), 2_605_000.0);
        // Sell 195 @ 26,200.00: closes 130 (+150.00 × 130 = +19,500.00), opens 65 short.
        let e = p.apply_fill(-195, 2_620_000);
        assert_eq!(e.realised, 1_950_000);
        assert_eq!(p.quantity, -65);
        assert_eq!(p.average_price(), 2_620_000.0);
        // Realised + unrealised = sell value − buy value + qty × ltp.
        let ltp = 2_615_000;
        assert_eq!(p.realised + p.unrealised(ltp), p.value() + p.quantity * ltp);
        assert_eq!(p.pnl(ltp), 1_950_000 + 65 * 5_000);
    }

    #[test]
    fn pro_rata_release_is_exact_when_flat() {
        let mut p = Position::new("X", "NFO", Product::Nrml);
        p.apply_fill(3, 1001);
        p.apply_fill(3, 1000);
        let mut realised = 0;
        for _ in 0..6 {
            realised += p.apply_fill(-1, 1003).realised;
        }
        assert_eq!(p.quantity, 0);
        assert_eq!(p.open_value, 0);
        assert_eq!(realised, 6 * 1003 - 3 * 1001 - 3 * 1000);
    }

    #[test]
    fn day_view_counts_only_today_s_trades() {
        let mut p = Position::new("X", "NFO", Product::Nrml);
        p.apply_fill(10, 10_000);
        p.roll_over(Some(10_500));
        // Today: buy 5 @ 110.00, sell 8 @ 112.00.
        p.apply_fill(5, 11_000);
        p.apply_fill(-8, 11_200);
        let d = p.day();
        assert_eq!(d.quantity, -3);
        assert_eq!(d.overnight_quantity, 0);
        assert_eq!(d.average_price(), 11_200.0);
        // Day P&L at 111.00: sold 8 × 112 − bought 5 × 110 − 3 × 111 = 896 − 550 − 333 = 13.00.
        assert_eq!(d.pnl(11_100), 1_300);
        assert_eq!(p.quantity, 7, "the net view keeps the carried quantity");
    }

    #[test]
    fn m2m_marks_carried_quantity_from_the_close() {
        let mut p = Position::new("X", "NFO", Product::Nrml);
        p.apply_fill(10, 10_000);
        p.roll_over(Some(10_500));
        assert_eq!(p.overnight_quantity, 10);
        assert_eq!(p.m2m(11_000), 10 * 500);
        assert_eq!(p.pnl(11_000), 10 * 1_000);
    }
}
