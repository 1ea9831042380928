//! Trading symbols of the Indian derivatives markets (NSE/NFO, BSE/BFO).
//!
//! This crate is the single owner of:
//! - the symbol grammar ([`parse`], [`Symbol`]): index names and aliases, equities, futures,
//!   monthly and weekly options, and formatting back to the canonical tradingsymbol;
//! - the expiry calendar ([`Calendar`]): weekday rules per exchange and date, holidays loaded
//!   from data shipped with the crate;
//! - contract specifications ([`ContractTable`]): lot, tick and freeze quantity by expiry;
//! - `@` instrument specs ([`InstrumentSpec`]), parsed offline and resolved by a pure function.
//!
//! It performs no I/O (the holiday table is compiled in) and never panics on any input.
#![forbid(unsafe_code)]

mod calendar;
mod contract;
mod error;
mod index;
mod spec;
mod strike;
mod symbol;

pub use calendar::{Calendar, ExpiryKind, ExpiryRules, expiry_instant_utc, ist_date};
pub use contract::{ContractSpec, ContractTable, ContractTableError, EQUITY_SPEC};
pub use error::SymbolError;
pub use index::{INDICES, IndexInfo, derivative_underlying, find_index};
pub use spec::{ExpirySel, InstrumentSpec, ResolveContext, SpecError, StrikeSel};
pub use strike::Strike;
pub use symbol::{Exchange, Kind, MONTHS, Right, RightError, Symbol, WEEKLY_MONTH_CODES, parse};

/// Longest input accepted by [`parse`], in bytes. Real tradingsymbols are under 30.
pub const MAX_SYMBOL_LEN: usize = 64;

/// A regular expression (ECMA 262, for API schemas) for the shape [`parse`] accepts: an
/// optional exchange prefix (`NSE:`), then a letter followed by up to 29 letters, digits, `&`
/// or `-` (a tradingsymbol, in any case), or an index's display name (`NIFTY 50`). It gives the
/// alphabet and the length, not the grammar: a string it matches can still be refused
/// (`NIFTY25NOV24500XE`, a month with no expiry); one it does not match always is, except a
/// strike with a decimal point and the index names in lower case, which [`parse`] also takes.
pub fn symbol_pattern() -> String {
    let names: Vec<String> = INDICES
        .iter()
        .filter(|i| i.display.contains(' '))
        .map(|i| i.display.to_string())
        .collect();
    format!(
        "^(?:(?:NSE|BSE|NFO|BFO):)?(?:[A-Za-z][A-Za-z0-9&-]{{0,29}}|{})$",
        names.join("|")
    )
}
