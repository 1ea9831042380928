//! Contract specifications: lot size, tick size and freeze quantity per underlying, by contract
//! expiry (lot sizes change for contracts expiring after a date). One dated table
//! (`data/contracts.csv`, compiled in); the simulator, the instrument listings and the broker
//! ask it and none hard-codes a lot size.
//!
//! Cash-market equities trade in units of one share on a one-paisa grid with no freeze limit.
//! Stock derivatives are not in the table (their lots are revised per stock every few months):
//! [`ContractTable::spec`] answers None for them and callers must get the lot from the feed.

use std::sync::LazyLock;

use chrono::NaiveDate;

use crate::symbol::{Kind, Symbol};

/// Trading facts of one contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContractSpec {
    /// Units per lot; quantities are multiples of it.
    pub lot_size: u32,
    /// The price grid in paise (5 = ₹0.05).
    pub tick_paise: u32,
    /// Largest quantity one order may carry (the exchange's quantity-freeze limit).
    pub freeze_qty: u32,
}

/// The specification of a cash-market equity: one share, one paisa, no freeze limit.
pub const EQUITY_SPEC: ContractSpec = ContractSpec {
    lot_size: 1,
    tick_paise: 1,
    freeze_qty: u32::MAX,
};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    underlying: String,
    from_expiry: NaiveDate,
    spec: ContractSpec,
}

/// Why the contract table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("contract table line {line}: {why}")]
pub struct ContractTableError {
    pub line: usize,
    pub why: String,
}

/// The dated table of index-derivative specifications.
#[derive(Debug, Clone)]
pub struct ContractTable {
    /// Sorted by (underlying, from_expiry).
    rows: Vec<Row>,
}

static EMBEDDED: LazyLock<ContractTable> = LazyLock::new(|| {
    // The shipped table is checked by a unit test; an unreadable one would leave no specs.
    ContractTable::from_csv(include_str!("../data/contracts.csv"))
        .unwrap_or(ContractTable { rows: Vec::new() })
});

impl ContractTable {
    /// The table shipped with the crate.
    pub fn embedded() -> &'static ContractTable {
        &EMBEDDED
    }

    /// Read `underlying,from_expiry,lot_size,tick_paise,freeze_qty` lines (`#` comments and the
    /// header skipped).
    pub fn from_csv(text: &str) -> Result<Self, ContractTableError> {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("underlying,") {
                continue;
            }
            let err = |why: String| ContractTableError { line: i + 1, why };
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            let [underlying, from, lot, tick, freeze] = cols[..] else {
                return Err(err(format!("expected 5 columns, got {}", cols.len())));
            };
            let from_expiry = NaiveDate::parse_from_str(from, "%Y-%m-%d")
                .map_err(|e| err(format!("bad date {from:?}: {e}")))?;
            let num = |name: &str, v: &str| -> Result<u32, ContractTableError> {
                match v.parse::<u32>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(err(format!("{name} must be a positive integer, got {v:?}"))),
                }
            };
            let spec = ContractSpec {
                lot_size: num("lot_size", lot)?,
                tick_paise: num("tick_paise", tick)?,
                freeze_qty: num("freeze_qty", freeze)?,
            };
            if spec.freeze_qty < spec.lot_size {
                return Err(err("freeze_qty is below one lot".into()));
            }
            rows.push(Row {
                underlying: underlying.to_ascii_uppercase(),
                from_expiry,
                spec,
            });
        }
        rows.sort_by(|a, b| {
            (a.underlying.as_str(), a.from_expiry).cmp(&(b.underlying.as_str(), b.from_expiry))
        });
        if let Some(w) = rows
            .windows(2)
            .find(|w| w[0].underlying == w[1].underlying && w[0].from_expiry == w[1].from_expiry)
        {
            return Err(ContractTableError {
                line: 0,
                why: format!("two rows for {} from {}", w[0].underlying, w[0].from_expiry),
            });
        }
        Ok(ContractTable { rows })
    }

    /// The specification of `underlying`'s derivatives expiring on `expiry`, if the table has one.
    pub fn derivative(&self, underlying: &str, expiry: NaiveDate) -> Option<ContractSpec> {
        self.rows
            .iter()
            .rfind(|r| r.underlying == underlying && r.from_expiry <= expiry)
            .map(|r| r.spec)
    }

    /// The specification of a parsed instrument: equities by [`EQUITY_SPEC`], derivatives from
    /// the table (None for stock derivatives and indices, which are not traded).
    pub fn spec(&self, symbol: &Symbol) -> Option<ContractSpec> {
        match symbol.kind {
            Kind::Equity => Some(EQUITY_SPEC),
            Kind::Index => None,
            Kind::Future | Kind::Option => self.derivative(&symbol.underlying, symbol.expiry?),
        }
    }

    /// The underlyings the table covers.
    pub fn underlyings(&self) -> Vec<&str> {
        let mut u: Vec<&str> = self.rows.iter().map(|r| r.underlying.as_str()).collect();
        u.dedup();
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn shipped_table_reads_and_covers_every_index_with_derivatives() {
        let t = ContractTable::from_csv(include_str!("../data/contracts.csv"));
        assert!(t.is_ok(), "{t:?}");
        let t = ContractTable::embedded();
        for info in crate::INDICES.iter().filter(|i| i.strike_step.is_some()) {
            assert!(
                t.derivative(info.name, d("2026-12-29")).is_some(),
                "{} has no contract spec",
                info.name
            );
        }
    }

    #[test]
    fn lot_sizes_change_for_contracts_expiring_after_2025_12_30() {
        let t = ContractTable::embedded();
        let lot = |u: &str, e: &str| t.derivative(u, d(e)).map(|s| s.lot_size);
        assert_eq!(lot("NIFTY", "2025-12-30"), Some(75));
        assert_eq!(lot("NIFTY", "2026-01-27"), Some(65));
        assert_eq!(lot("BANKNIFTY", "2025-12-30"), Some(35));
        assert_eq!(lot("BANKNIFTY", "2026-01-27"), Some(30));
        assert_eq!(lot("FINNIFTY", "2025-12-30"), Some(65));
        assert_eq!(lot("FINNIFTY", "2026-01-27"), Some(60));
        assert_eq!(lot("MIDCPNIFTY", "2025-12-30"), Some(140));
        assert_eq!(lot("MIDCPNIFTY", "2026-01-27"), Some(120));
        assert_eq!(lot("NIFTYNXT50", "2026-01-27"), Some(25));
        assert_eq!(lot("SENSEX", "2026-01-27"), Some(20));
        // Before the first row: no specification rather than a guess.
        assert_eq!(lot("NIFTY", "2023-01-25"), None);
        assert_eq!(lot("RELIANCE", "2026-01-27"), None);
    }

    #[test]
    fn spec_by_parsed_symbol() {
        let t = ContractTable::embedded();
        let spec = |s: &str| parse(s).ok().and_then(|sym| t.spec(&sym));
        assert_eq!(spec("NIFTY26DECFUT").map(|s| s.lot_size), Some(65));
        assert_eq!(spec("NIFTY26DEC26000CE").map(|s| s.tick_paise), Some(5));
        assert_eq!(spec("RELIANCE"), Some(EQUITY_SPEC));
        assert_eq!(spec("NIFTY 50"), None);
        assert_eq!(spec("RELIANCE26DECFUT"), None);
    }

    #[test]
    fn bad_tables_are_refused_with_the_line() {
        let e = ContractTable::from_csv("NIFTY,2025-01-01,0,5,1800").err();
        assert_eq!(e.map(|e| e.line), Some(1));
        assert!(ContractTable::from_csv("NIFTY,2025-13-01,75,5,1800").is_err());
        assert!(ContractTable::from_csv("NIFTY,2025-01-01,75,5").is_err());
        assert!(ContractTable::from_csv("NIFTY,2025-01-01,75,5,50").is_err());
        assert!(
            ContractTable::from_csv("NIFTY,2025-01-01,75,5,1800\nNIFTY,2025-01-01,65,5,1800")
                .is_err()
        );
    }
}
