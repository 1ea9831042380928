//! The options side of the market: expiries from the calendar, option chains from the live
//! snapshot (quotes per strike, the expiry's smile where a leg has no IV of its own, PCR and
//! max pain by OI), and instrument specs (`NSE@NIFTY@Nw+1@Put@OTM2`) resolved against the spot.

use chrono::NaiveDate;
use stocksblitz_market::chain::{max_pain, pcr_oi};
use stocksblitz_market::snapshot::{Quote, Snapshot};
use stocksblitz_symbols::{
    Calendar, ExpiryKind, InstrumentSpec, ResolveContext, Right, StrikeSel, Symbol,
};

use crate::{Engine, EngineError};

/// The coming expiries of an underlying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiries {
    /// Weekly expiries (empty where the underlying has none).
    pub weekly: Vec<NaiveDate>,
    pub monthly: Vec<NaiveDate>,
}

/// The next `weekly_n` weekly and `monthly_n` monthly expiries of `underlying` not yet expired
/// at `now_ms` (the embedded exchange calendar).
pub fn expiries(underlying: &str, weekly_n: usize, monthly_n: usize, now_ms: i64) -> Expiries {
    let cal = Calendar::embedded();
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Expiries {
        weekly: cal.live_expiries(underlying, ExpiryKind::Weekly, now, weekly_n),
        monthly: cal.live_expiries(underlying, ExpiryKind::Monthly, now, monthly_n),
    }
}

/// One side of a strike.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainLeg {
    pub quote: Quote,
    /// The expiry's fitted smile at this strike, for a leg without an IV of its own (no time
    /// value): None when the leg has one, or no smile could be fitted.
    pub smile_iv: Option<f64>,
}

/// One strike of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStrike {
    pub strike: f64,
    pub call: Option<ChainLeg>,
    pub put: Option<ChainLeg>,
}

/// One expiry's chain.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionChain {
    /// The index's last price.
    pub spot: Option<f64>,
    /// The expiry shown: the one asked for, else the nearest quoted.
    pub expiry: Option<NaiveDate>,
    /// Strikes ascending.
    pub strikes: Vec<ChainStrike>,
    pub pcr_oi: Option<f64>,
    pub max_pain: Option<f64>,
}

/// An instrument spec resolved now.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub symbol: Symbol,
    /// The spot the strike was chosen against (0 when the spec needs none and none is quoted).
    pub spot: f64,
}

/// Weekly and monthly expiries a spec may name (`Nw+7`, `Nm+5`).
const SPEC_WEEKLY: usize = 8;
const SPEC_MONTHLY: usize = 6;

/// The underlying's price for relative strikes: the index, else its nearest future.
fn spot_of(snap: &Snapshot, underlying: &str) -> Option<f64> {
    let view = snap.underlying(underlying)?;
    view.index
        .map(|q| q.ltp)
        .or_else(|| view.futures.first().map(|q| q.ltp))
        .filter(|v| v.is_finite() && *v > 0.0)
}

impl Engine {
    /// The chain of `underlying` for `expiry` (the nearest quoted one when None) at `now_ms`;
    /// empty when the underlying has no quotes.
    pub fn option_chain(
        &self,
        underlying: &str,
        expiry: Option<NaiveDate>,
        now_ms: i64,
    ) -> Result<OptionChain, EngineError> {
        let snap = self.snapshot()?;
        let Some(view) = snap.underlying(underlying) else {
            return Ok(OptionChain {
                spot: None,
                expiry,
                strikes: Vec::new(),
                pcr_oi: None,
                max_pain: None,
            });
        };
        let today =
            stocksblitz_market::session::ist_date(now_ms.div_euclid(1000)).unwrap_or_default();
        let expiry = expiry.or_else(|| view.nearest_expiry(today));
        let mut strikes: Vec<ChainStrike> = Vec::new();
        if let Some(e) = expiry {
            let smile = snap.smile(underlying, e, now_ms).and_then(|v| v.fit.ok());
            let leg = |o: &Quote| ChainLeg {
                quote: o.clone(),
                smile_iv: match (&smile, o.strike, o.iv()) {
                    (Some(fit), Some(k), None) => {
                        Some(fit.iv(k)).filter(|v| v.is_finite() && *v > 0.0)
                    }
                    _ => None,
                },
            };
            let mut legs: Vec<&Quote> = view
                .options
                .iter()
                .copied()
                .filter(|o| o.expiry == Some(e))
                .collect();
            legs.sort_by(|a, b| a.strike.unwrap_or(0.0).total_cmp(&b.strike.unwrap_or(0.0)));
            for o in legs {
                let Some(k) = o.strike else { continue };
                if strikes.last().is_none_or(|s| s.strike != k) {
                    strikes.push(ChainStrike {
                        strike: k,
                        call: None,
                        put: None,
                    });
                }
                if let Some(row) = strikes.last_mut() {
                    match o.right {
                        Some(Right::Call) => row.call = Some(leg(o)),
                        Some(Right::Put) => row.put = Some(leg(o)),
                        None => {}
                    }
                }
            }
        }
        let rows = expiry.map(|e| view.chain_rows(e)).unwrap_or_default();
        Ok(OptionChain {
            spot: view.index.map(|q| q.ltp).filter(|v| v.is_finite()),
            expiry,
            strikes,
            pcr_oi: pcr_oi(&rows).filter(|v| v.is_finite()),
            max_pain: max_pain(&rows),
        })
    }

    /// The instrument `spec` names at `now_ms`: expiries from the calendar, a relative strike
    /// against the live spot ([`EngineError::NoSpot`] before the underlying is quoted).
    pub fn resolve(&self, spec: &InstrumentSpec, now_ms: i64) -> Result<Resolved, EngineError> {
        let listed = expiries(&spec.underlying, SPEC_WEEKLY, SPEC_MONTHLY, now_ms);
        let spot = spot_of(&*self.snapshot()?, &spec.underlying);
        // Only a strike relative to the money needs the spot (a fixed price does not).
        let relative = matches!(
            spec.strike,
            Some(StrikeSel::Atm | StrikeSel::Otm(_) | StrikeSel::Itm(_))
        );
        let spot = match (spot, relative) {
            (Some(s), _) => s,
            (None, false) => 0.0,
            (None, true) => {
                return Err(EngineError::NoSpot {
                    underlying: spec.underlying.to_string(),
                });
            }
        };
        let ctx = ResolveContext {
            spot,
            strike_step: None,
            weekly: &listed.weekly,
            monthly: &listed.monthly,
        };
        Ok(Resolved {
            symbol: spec.resolve(&ctx)?,
            spot,
        })
    }
}
