//! Instruments the broker knows: a tradingsymbol resolved once through the symbols crate (kind,
//! underlying, expiry, strike) and its contract specification, interned to a small id so that
//! quotes and resting orders are looked up by index.

use std::collections::HashMap;

use chrono::NaiveDate;
use compact_str::CompactString;
use stocksblitz_symbols::{ContractSpec, ContractTable, Exchange, Kind, Right, Symbol};

use crate::charges::Segment;
use crate::money::Paise;
use crate::reject::Reject;
use crate::types::{Millis, Product};

/// Index of an interned instrument (internal to one engine; never persisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentId(pub u32);

/// A resolved instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub id: InstrumentId,
    pub tradingsymbol: CompactString,
    pub exchange: Exchange,
    pub kind: Kind,
    /// Canonical underlying (`NIFTY`, `RELIANCE`).
    pub underlying: CompactString,
    /// The tradingsymbol whose quote is the underlying's spot (`NIFTY 50`, `RELIANCE`).
    pub spot_symbol: CompactString,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<Paise>,
    pub right: Option<Right>,
    /// None for what cannot be traded (indices, stock derivatives without a specification).
    pub spec: Option<ContractSpec>,
    /// True for index underlyings (margin and exposure parameters differ).
    pub is_index: bool,
}

impl Instrument {
    /// Options and delivery equity move their whole trade value in cash; futures and intraday
    /// equity settle only their P&L.
    pub fn premium_style(&self, product: Product) -> bool {
        match self.kind {
            Kind::Option => true,
            Kind::Equity => product == Product::Cnc,
            _ => false,
        }
    }

    /// The exchange segment as text (`NFO`).
    pub fn exchange_str(&self) -> CompactString {
        CompactString::const_new(self.exchange.as_str())
    }

    /// The rate-table row for a trade of this instrument in `product`.
    pub fn segment(&self, product: Product) -> Segment {
        let bse = matches!(self.exchange, Exchange::Bse | Exchange::Bfo);
        match (self.kind, bse) {
            (Kind::Future, false) => Segment::NfoFut,
            (Kind::Future, true) => Segment::BfoFut,
            (Kind::Option, false) => Segment::NfoOpt,
            (Kind::Option, true) => Segment::BfoOpt,
            _ if product == Product::Cnc => Segment::EqDelivery,
            _ => Segment::EqIntraday,
        }
    }

    /// The instant the contract expires (expiry day 15:30 IST), epoch ms.
    pub fn expires_at(&self) -> Option<Millis> {
        self.expiry
            .map(|e| stocksblitz_symbols::expiry_instant_utc(e).timestamp_millis())
    }

    /// Intrinsic value per unit against an underlying price (options only; 0 otherwise).
    pub fn intrinsic(&self, underlying: Paise) -> Paise {
        match (self.right, self.strike) {
            (Some(Right::Call), Some(k)) => (underlying - k).max(0),
            (Some(Right::Put), Some(k)) => (k - underlying).max(0),
            _ => 0,
        }
    }
}

/// Extra specifications for instruments the shipped table does not cover (stock derivatives),
/// keyed by underlying: `(from_expiry, spec)` rows.
pub type SpecOverrides = HashMap<CompactString, Vec<(NaiveDate, ContractSpec)>>;

/// The interned instruments of one engine.
#[derive(Debug, Default, Clone)]
pub(crate) struct Instruments {
    by_symbol: HashMap<CompactString, InstrumentId>,
    list: Vec<Instrument>,
}

/// Most instruments one engine interns (bounds memory against a flood of junk symbols).
pub(crate) const MAX_INSTRUMENTS: usize = 200_000;

impl Instruments {
    pub(crate) fn get(&self, id: InstrumentId) -> &Instrument {
        &self.list[id.0 as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn lookup(&self, tradingsymbol: &str) -> Option<InstrumentId> {
        self.by_symbol.get(tradingsymbol).copied()
    }

    /// Resolve and intern `tradingsymbol` (any spelling the symbols crate accepts).
    pub(crate) fn intern(
        &mut self,
        tradingsymbol: &str,
        overrides: &SpecOverrides,
    ) -> Result<InstrumentId, Reject> {
        if let Some(id) = self.by_symbol.get(tradingsymbol) {
            return Ok(*id);
        }
        let sym =
            stocksblitz_symbols::parse(tradingsymbol).map_err(|e| Reject::UnknownInstrument {
                tradingsymbol: tradingsymbol.chars().take(64).collect(),
                why: e.to_string(),
            })?;
        if let Some(id) = self.by_symbol.get(sym.tradingsymbol.as_str()).copied() {
            if self.by_symbol.len() < MAX_INSTRUMENTS {
                self.by_symbol.insert(tradingsymbol.into(), id);
            }
            return Ok(id);
        }
        if self.list.len() >= MAX_INSTRUMENTS {
            return Err(Reject::UnknownInstrument {
                tradingsymbol: tradingsymbol.chars().take(64).collect(),
                why: format!("more than {MAX_INSTRUMENTS} instruments"),
            });
        }
        let id = InstrumentId(self.list.len() as u32);
        let inst = build(id, &sym, overrides);
        self.by_symbol.insert(sym.tradingsymbol.clone(), id);
        if sym.tradingsymbol != tradingsymbol {
            self.by_symbol.insert(tradingsymbol.into(), id);
        }
        let spot = (inst.spot_symbol != inst.tradingsymbol).then(|| inst.spot_symbol.clone());
        self.list.push(inst);
        // A derivative's underlying is known with it: its quotes value the options and settle
        // the contracts.
        if let Some(spot) = spot {
            let _ = self.intern(&spot, overrides);
        }
        Ok(id)
    }
}

fn build(id: InstrumentId, sym: &Symbol, overrides: &SpecOverrides) -> Instrument {
    let index = sym.index();
    let spot_symbol = match index {
        Some(info) => CompactString::const_new(info.display),
        None => sym.underlying.clone(),
    };
    let spec = ContractTable::embedded().spec(sym).or_else(|| {
        let rows = overrides.get(sym.underlying.as_str())?;
        let expiry = sym.expiry?;
        rows.iter()
            .filter(|(from, _)| *from <= expiry)
            .max_by_key(|(from, _)| *from)
            .map(|(_, s)| *s)
    });
    Instrument {
        id,
        tradingsymbol: sym.tradingsymbol.clone(),
        exchange: sym.exchange,
        kind: sym.kind,
        underlying: sym.underlying.clone(),
        spot_symbol,
        expiry: sym.expiry,
        strike: sym.strike.map(|s| s.hundredths() as i64),
        right: sym.right,
        spec,
        is_index: index.is_some(),
    }
}
