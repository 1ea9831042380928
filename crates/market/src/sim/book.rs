//! Prices and the book of a simulated instrument: fair value from the forward (Black-76 on a
//! volatility smile for options), a touch on the tick grid whose spread widens with price and
//! moneyness, sizes in whole lots, trade sizes and open-interest moves.

use stocksblitz_symbols::Right;

use super::Rng;
use super::listing::Listed;
use crate::greeks::{DEFAULT_RATE, Model, years_to_expiry};

/// Implied volatility on the smile: the base level plus curvature in log-moneyness.
pub fn smile_vol(base: f64, forward: f64, strike: f64) -> f64 {
    let m = (strike / forward).ln();
    base + 1.5 * m * m - 0.1 * m
}

/// A derivative's value at `spot` and `at_ms`: the forward for a future; for an option
/// Black-76 on the forward at the smile's volatility, never below the forward's discounted
/// intrinsic value. Also the log-moneyness `ln(K/F)` (0 for a future). None once the contract
/// has expired.
pub fn value(l: &Listed, spot: f64, base_vol: f64, at_ms: i64) -> Option<(f64, f64)> {
    let expiry = l.symbol.expiry?;
    let t = years_to_expiry(expiry, at_ms)?;
    let forward = spot * (DEFAULT_RATE * t).exp();
    match (l.symbol.strike, l.symbol.right) {
        (Some(k), Some(right)) => {
            let k = k.value();
            let model = Model::Black76 {
                forward,
                rate: DEFAULT_RATE,
            };
            let p = model.price(k, t, smile_vol(base_vol, forward, k), right);
            Some((p.max(model.intrinsic(k, t, right)), (k / forward).ln()))
        }
        _ => Some((forward, 0.0)),
    }
}

/// Log-moneyness `ln(K/F)` of an option at `spot` and `at_ms` (0 for a future or once expired).
pub fn moneyness(l: &Listed, spot: f64, at_ms: i64) -> f64 {
    let (Some(expiry), Some(k)) = (l.symbol.expiry, l.symbol.strike) else {
        return 0.0;
    };
    years_to_expiry(expiry, at_ms).map_or(0.0, |t| {
        (k.value() / (spot * (DEFAULT_RATE * t).exp())).ln()
    })
}

/// `value` on the instrument's tick grid: rounded to the nearest tick but never below the
/// no-arbitrage floor (the discounted intrinsic value, rounded up) nor below one tick.
pub fn on_grid(l: &Listed, fair: f64, floor: f64) -> f64 {
    let tick = l.tick;
    let p = (fair / tick).round() * tick;
    let floor = (floor / tick - 1e-9).ceil() * tick;
    p.max(floor).max(tick)
}

/// The discounted intrinsic value of an option (0 for a future: its floor is one tick).
pub fn intrinsic(l: &Listed, spot: f64, at_ms: i64) -> f64 {
    let (Some(expiry), Some(k), Some(right)) = (l.symbol.expiry, l.symbol.strike, l.symbol.right)
    else {
        return 0.0;
    };
    let Some(t) = years_to_expiry(expiry, at_ms) else {
        return 0.0;
    };
    let forward = spot * (DEFAULT_RATE * t).exp();
    let df = (-DEFAULT_RATE * t).exp();
    match right {
        Right::Call => df * (forward - k.value()).max(0.0),
        Right::Put => df * (k.value() - forward).max(0.0),
    }
}

/// The best bid and ask and the units quoted there (no bid for an option worth less than a
/// tick: only the minimum-price offer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Touch {
    pub bid: Option<f64>,
    pub ask: f64,
    pub bid_qty: u64,
    pub ask_qty: u64,
}

/// Lots resting at the touch on average: deep for futures and at-the-money options, thin for
/// far strikes.
fn depth_lots(l: &Listed, m: f64) -> f64 {
    if l.symbol.right.is_none() {
        300.0
    } else {
        200.0 * (-m.abs() * 40.0).exp() + 5.0
    }
}

/// Lots a trade takes at most (a trade is 1 + ⌊u² × this⌋ lots).
pub(super) fn trade_lots(l: &Listed, m: f64) -> f64 {
    if l.symbol.right.is_none() {
        20.0
    } else {
        15.0 * (-m.abs() * 40.0).exp() + 1.0
    }
}

/// Spread in ticks: one or two for futures and at-the-money options, wider for far strikes
/// and for expensive (deep in-the-money) premiums.
fn spread_ticks(l: &Listed, price: f64, m: f64, rng: &mut Rng) -> f64 {
    let jitter = if rng.uniform() < 0.3 { 1.0 } else { 0.0 };
    if l.symbol.right.is_none() {
        return 1.0 + jitter;
    }
    let far = (m.abs() * 50.0).round();
    let costly = (price * 0.0001 / l.tick).floor();
    (1.0 + jitter + far + costly).min(40.0)
}

/// The touch around a fair value `mid` (on or off the grid): a spread of whole ticks whose
/// middle is within half a tick of `mid` (so an IV solved from the mid is the model's) where
/// the bid is above the minimum tick; near zero the bid stops at one tick (the spread
/// narrows), and an option worth less than that has no bid, only the one-tick offer. Sizes in
/// whole lots. Deep in the money the bid may sit below intrinsic value, as market makers quote
/// it; trades there go through the ask ([`trade_price`]).
pub fn touch(l: &Listed, mid: f64, m: f64, rng: &mut Rng) -> Touch {
    let tick = l.tick;
    let n = spread_ticks(l, mid, m, rng);
    let bid_ticks = ((mid / tick) - n / 2.0).round();
    let ask_ticks = (bid_ticks + n).max(1.0);
    let bid = (ask_ticks > 1.0).then(|| round2(bid_ticks.max(1.0) * tick));
    let lot = u64::from(l.lot.unwrap_or(1));
    let depth = depth_lots(l, m);
    let mut size = || lot * (1 + (rng.uniform() * depth) as u64);
    Touch {
        bid,
        ask: round2(ask_ticks * tick),
        bid_qty: size(),
        ask_qty: size(),
    }
}

/// The price of a trade at the touch: the ask for a buyer, the bid for a seller, and never
/// below the no-arbitrage floor (a seller does not hit a bid under intrinsic value: that trade
/// happens at the ask).
pub fn trade_price(t: &Touch, buyer: bool, floor: f64) -> f64 {
    match t.bid {
        Some(b) if !buyer && b >= floor - 1e-9 => b,
        _ => t.ask,
    }
}

/// Prices are printed with two decimals: remove binary noise once.
pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::super::listing::{UNDERLYINGS, listing};
    use super::*;
    use chrono::NaiveDate;

    fn setup() -> (Vec<Listed>, i64, f64) {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let spot = UNDERLYINGS[0].level;
        let at = crate::session::ist_midnight_ms(day) + 11 * 3_600_000;
        (
            listing(day, &[spot, 59_000.0, 27_500.0, 85_000.0]),
            at,
            spot,
        )
    }

    /// The book is on the grid, never crossed, one or two ticks wide at the money and for
    /// futures, wider far from the money, and its middle within half a tick of the fair value.
    #[test]
    fn books_on_the_grid_with_spreads_by_moneyness() {
        let (listed, at, spot) = setup();
        let mut rng = Rng::new(3);
        let mut checked = 0;
        for l in listed
            .iter()
            .filter(|l| l.symbol.underlying == "NIFTY" && !l.is_index())
        {
            let (fair, m) = value(l, spot, 0.13, at).unwrap();
            let floor = intrinsic(l, spot, at);
            assert!(fair >= floor - 1e-9, "{} {fair} < {floor}", l.symbol);
            for _ in 0..20 {
                let t = touch(l, fair, m, &mut rng);
                for buyer in [true, false] {
                    assert!(trade_price(&t, buyer, floor) >= floor - 1e-9);
                }
                let ticks = |x: f64| (x / l.tick).round() * l.tick;
                let Some(bid) = t.bid else {
                    // Only the minimum offer: worth less than a tick.
                    assert!(
                        t.ask == l.tick && fair < l.tick,
                        "{} {t:?} {fair}",
                        l.symbol
                    );
                    continue;
                };
                assert!((bid - ticks(bid)).abs() < 1e-9 && (t.ask - ticks(t.ask)).abs() < 1e-9);
                assert!(t.ask > bid && bid >= l.tick, "{} {t:?}", l.symbol);
                let n = ((t.ask - bid) / l.tick).round();
                let lot = u64::from(l.lot.unwrap());
                assert!(
                    t.bid_qty.is_multiple_of(lot) && t.ask_qty.is_multiple_of(lot) && t.bid_qty > 0
                );
                if l.symbol.right.is_none() || m.abs() < 0.002 {
                    assert!(n <= 2.0, "{}: {n} ticks", l.symbol);
                }
                if m.abs() > 0.015 && bid > l.tick {
                    assert!(n >= 2.0, "{}: {n} ticks", l.symbol);
                }
                if bid > l.tick {
                    assert!(((bid + t.ask) / 2.0 - fair).abs() <= l.tick / 2.0 + 1e-9);
                }
                checked += 1;
            }
        }
        assert!(checked > 1000);
    }

    /// Grid prices never go below intrinsic value, even where rounding to the nearest tick would.
    #[test]
    fn never_below_intrinsic() {
        let (listed, at, spot) = setup();
        for l in &listed {
            if l.is_index() {
                continue;
            }
            let (fair, _) = value(l, spot, 0.13, at).unwrap();
            let floor = intrinsic(l, spot, at);
            let p = on_grid(l, fair, floor);
            assert!(
                p >= floor - 1e-9 && p >= l.tick,
                "{}: {p} < {floor}",
                l.symbol
            );
            assert!((p - fair).abs() <= l.tick + 1e-9);
        }
    }
}
