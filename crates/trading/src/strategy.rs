//! A strategy's own book: the account's fills whose order carries the strategy's tag, replayed
//! into positions of their own (not the account's net position), valued at the engine's latest
//! quotes, with the margin those positions alone would need.

use std::collections::BTreeMap;

use compact_str::CompactString;
use stocksblitz_broker::{AccountId, Engine, HypoLeg, Paise, Position, Product};

/// The tag a strategy's orders carry (Kite's 20-character limit holds).
pub fn tag_of(strategy_id: i64) -> String {
    format!("STRAT{strategy_id}")
}

/// A strategy's book now. Money in paise.
#[derive(Debug, Clone, Default)]
pub struct StrategyBook {
    pub positions: Vec<Position>,
    /// Realised P&L over the strategy's life (closing fills, before charges).
    pub realized: Paise,
    /// Open positions at the latest quotes.
    pub unrealized: Paise,
    /// Charges of the strategy's orders.
    pub charges: Paise,
    /// Fills.
    pub total_trades: i64,
    /// Closing fills that realised a profit / a loss.
    pub winning_trades: i64,
    pub losing_trades: i64,
    pub open_positions: i64,
    /// Σ |open quantity|.
    pub total_quantity: i64,
    /// Σ |cost of the open positions|.
    pub capital_deployed: Paise,
    /// SPAN + exposure (+ equity margin) of the strategy's positions alone.
    pub margin_used: Paise,
}

impl StrategyBook {
    /// Realised + unrealised − charges.
    pub fn total_pnl(&self) -> Paise {
        self.realized + self.unrealized - self.charges
    }
}

/// The book of the fills tagged `tag` on `account`.
pub fn book(engine: &mut Engine, account: AccountId, tag: &str) -> StrategyBook {
    let mut out = StrategyBook::default();
    let Some(acc) = engine.account(account) else {
        return out;
    };
    let mut positions: BTreeMap<(CompactString, Product), Position> = BTreeMap::new();
    for t in acc.trades.iter().filter(|t| t.tag.as_deref() == Some(tag)) {
        let p = positions
            .entry((t.tradingsymbol.clone(), t.product))
            .or_insert_with(|| Position::new(&t.tradingsymbol, &t.exchange, t.product));
        let effect = p.apply_fill(t.transaction_type.sign() * t.quantity, t.price);
        out.total_trades += 1;
        out.realized += effect.realised;
        if effect.realised > 0 {
            out.winning_trades += 1;
        } else if effect.realised < 0 {
            out.losing_trades += 1;
        }
    }
    out.charges = acc
        .orders
        .iter()
        .filter_map(|id| engine.order(*id))
        .filter(|o| o.tag.as_deref() == Some(tag))
        .map(|o| o.charges.total())
        .sum();
    let mut legs = Vec::new();
    for ((sym, product), p) in &positions {
        if p.quantity == 0 {
            continue;
        }
        let ltp = engine
            .quote_of(sym)
            .map_or_else(|| p.average_price().round() as Paise, |q| q.ltp);
        out.unrealized += p.unrealised(ltp);
        out.open_positions += 1;
        out.total_quantity += p.quantity.abs();
        out.capital_deployed += p.open_value.abs();
        if let Ok(inst) = engine.instrument(sym) {
            legs.push(HypoLeg {
                instrument: inst,
                quantity: p.quantity,
                product: *product,
                price: 0,
                pending: false,
            });
        }
    }
    let r = engine.requirement_of(&legs);
    out.margin_used = r.span + r.exposure + r.equity;
    out.positions = positions.into_values().collect();
    out
}

/// Peak-to-trough fall of a P&L series (paise, ≥ 0).
pub fn max_drawdown(series: &[Paise]) -> Paise {
    let mut peak = Paise::MIN;
    let mut worst = 0;
    for &v in series {
        peak = peak.max(v);
        worst = worst.max(peak - v);
    }
    worst
}

/// Sharpe ratio of daily P&L changes (`daily`: one P&L per day, oldest first) against
/// `capital`, annualised with √252; None with fewer than three days, no capital or no
/// variation.
pub fn sharpe(daily: &[Paise], capital: Paise) -> Option<f64> {
    if daily.len() < 3 || capital <= 0 {
        return None;
    }
    let r: Vec<f64> = daily
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / capital as f64)
        .collect();
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    (sd > 1e-12).then(|| mean / sd * 252f64.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_peak_to_trough() {
        assert_eq!(max_drawdown(&[]), 0);
        assert_eq!(max_drawdown(&[0, 100, 40, 120, 10, 50]), 110);
        assert_eq!(max_drawdown(&[5, 4, 3]), 2);
        assert_eq!(max_drawdown(&[1, 2, 3]), 0);
    }

    #[test]
    fn sharpe_of_daily_changes() {
        // Changes 100, -50, 150 on capital 10,000: returns 1 %, -0.5 %, 1.5 %.
        let s = sharpe(&[0, 100, 50, 200], 10_000).unwrap();
        // mean = 0.6667 %, sample sd = sqrt(((0.333)² + (1.1667)² + (0.8333)²)/2) % = 1.0408 %
        let expected = 0.006_666_7 / 0.010_408_3 * 252f64.sqrt();
        assert!((s - expected).abs() < 1e-3, "{s} vs {expected}");
        assert_eq!(sharpe(&[0, 1], 100), None);
        assert_eq!(sharpe(&[0, 10, 20, 30], 100), None, "no variation");
    }
}
