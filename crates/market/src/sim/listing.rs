//! What the simulator lists: the underlyings it walks, and the instruments an exchange would
//! list on a day (futures, the nearest weekly and monthly option chains), with tokens that stay
//! the same for an instrument across days and restarts.

use chrono::{Datelike, NaiveDate};
use stocksblitz_symbols::{
    Calendar, ContractTable, ExpiryRules, Kind, Right, Strike, Symbol, find_index,
};

/// An underlying the simulator walks: its starting level and annualised volatility.
#[derive(Debug, Clone, Copy)]
pub struct Underlying {
    pub name: &'static str,
    pub level: f64,
    pub vol: f64,
}

/// The simulated underlyings.
pub const UNDERLYINGS: &[Underlying] = &[
    Underlying {
        name: "NIFTY",
        level: 26_000.0,
        vol: 0.13,
    },
    Underlying {
        name: "BANKNIFTY",
        level: 59_000.0,
        vol: 0.15,
    },
    Underlying {
        name: "FINNIFTY",
        level: 27_500.0,
        vol: 0.14,
    },
    Underlying {
        name: "SENSEX",
        level: 85_000.0,
        vol: 0.13,
    },
];

/// Strikes each side of the at-the-money strike.
pub const STRIKES_EACH_SIDE: i64 = 10;

/// One listed instrument.
#[derive(Debug, Clone)]
pub struct Listed {
    pub symbol: Symbol,
    pub token: u64,
    /// Index into [`UNDERLYINGS`].
    pub under: usize,
    /// Lot size from the contract table (None: the table has no row; never a guess).
    pub lot: Option<u32>,
    /// Price grid in rupees (the contract table's; 0.05 where it has none).
    pub tick: f64,
}

impl Listed {
    fn new(symbol: Symbol, token: u64, under: usize) -> Listed {
        let spec = ContractTable::embedded().spec(&symbol);
        Listed {
            token,
            under,
            lot: spec.map(|s| s.lot_size),
            tick: spec.map_or(0.05, |s| f64::from(s.tick_paise) / 100.0),
            symbol,
        }
    }

    pub fn is_index(&self) -> bool {
        self.symbol.kind == Kind::Index
    }
}

/// A stable token for a derivative: FNV-1a of its tradingsymbol folded into
/// 100,000,000..2,100,000,000 (clear of the indices' well-known tokens), so an instrument keeps
/// its token across days and restarts.
pub fn token_of(tradingsymbol: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tradingsymbol.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    100_000_000 + h % 2_000_000_000
}

/// What is listed on `day` (IST) with the underlyings at `spots`: per underlying the index,
/// the near and next monthly futures, and option chains (ATM ± 10 strikes) for the nearest two
/// weekly expiries where weekly series exist plus the nearest monthly.
pub fn listing(day: NaiveDate, spots: &[f64]) -> Vec<Listed> {
    let cal = Calendar::embedded();
    let mut out = Vec::new();
    for (u, und) in UNDERLYINGS.iter().enumerate() {
        let Some(info) = find_index(und.name) else {
            continue;
        };
        out.push(Listed::new(
            Symbol::index_of(info),
            u64::from(info.token.unwrap_or(0)),
            u,
        ));
        let rules = ExpiryRules::for_underlying(und.name);
        let monthly = cal.next_monthly_expiries(rules, day, 2);
        for m in &monthly {
            if let Ok(sym) = Symbol::future(und.name, m.year(), m.month()) {
                let token = token_of(&sym.tradingsymbol);
                out.push(Listed::new(sym, token, u));
            }
        }
        let mut expiries: Vec<NaiveDate> = if info.has_weekly {
            cal.next_weekly_expiries(rules, day, 2)
        } else {
            Vec::new()
        };
        if let Some(m) = monthly.first()
            && !expiries.contains(m)
        {
            expiries.push(*m);
        }
        let step = f64::from(info.strike_step.unwrap_or(50));
        let spot = spots.get(u).copied().unwrap_or(und.level);
        let atm = (spot / step).round() * step;
        for e in expiries {
            for k in -STRIKES_EACH_SIDE..=STRIKES_EACH_SIDE {
                let Some(strike) = Strike::from_f64(atm + k as f64 * step) else {
                    continue;
                };
                for right in [Right::Call, Right::Put] {
                    if let Ok(sym) = Symbol::option(und.name, e, strike, right) {
                        let token = token_of(&sym.tradingsymbol);
                        out.push(Listed::new(sym, token, u));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spots() -> Vec<f64> {
        UNDERLYINGS.iter().map(|u| u.level).collect()
    }

    #[test]
    fn listing_follows_the_calendar() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let l = listing(day, &spots());
        let names: Vec<&str> = l.iter().map(|x| x.symbol.tradingsymbol.as_str()).collect();
        assert!(
            names.contains(&"NIFTY 50")
                && names.contains(&"NIFTY BANK")
                && names.contains(&"SENSEX")
        );
        assert!(names.contains(&"NIFTY25NOVFUT") && names.contains(&"NIFTY25DECFUT"));
        // NIFTY weeklies on Tuesdays (4 and 11 Nov), the monthly on 25 Nov.
        assert!(names.iter().any(|n| n.starts_with("NIFTY25N04")));
        assert!(names.iter().any(|n| n.starts_with("NIFTY25N11")));
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("NIFTY25NOV") && n.ends_with("CE"))
        );
        // BANKNIFTY has monthly options only; SENSEX weeklies expire on Thursdays.
        assert!(
            !l.iter()
                .any(|x| x.symbol.underlying == "BANKNIFTY" && x.symbol.is_weekly)
        );
        assert!(names.iter().any(|n| n.starts_with("BANKNIFTY25NOV")));
        assert!(names.iter().any(|n| n.starts_with("SENSEX25N06")));
        let per_chain = (2 * STRIKES_EACH_SIDE + 1) * 2;
        let nifty_opts = l
            .iter()
            .filter(|x| x.symbol.underlying == "NIFTY" && x.symbol.right.is_some())
            .count() as i64;
        assert_eq!(nifty_opts, 3 * per_chain);
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        let a = listing(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), &spots());
        let b = listing(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(), &spots());
        for x in &a {
            if let Some(y) = b
                .iter()
                .find(|y| y.symbol.tradingsymbol == x.symbol.tradingsymbol)
            {
                assert_eq!(x.token, y.token, "{}", x.symbol.tradingsymbol);
            }
        }
        let mut tokens: Vec<u64> = a.iter().map(|x| x.token).collect();
        tokens.sort_unstable();
        tokens.dedup();
        assert_eq!(tokens.len(), a.len());
        assert!(
            a.iter()
                .filter(|x| !x.is_index())
                .all(|x| x.token >= 100_000_000)
        );
    }

    #[test]
    fn lot_and_tick_from_the_contract_table() {
        let l = listing(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), &spots());
        let lot = |u: &str| {
            l.iter()
                .find(|x| x.symbol.underlying == u && !x.is_index())
                .and_then(|x| x.lot)
        };
        assert_eq!(
            (
                lot("NIFTY"),
                lot("BANKNIFTY"),
                lot("FINNIFTY"),
                lot("SENSEX")
            ),
            (Some(65), Some(30), Some(60), Some(20))
        );
        assert!(l.iter().all(|x| (x.tick - 0.05).abs() < 1e-12));
    }
}
