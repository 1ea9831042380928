//! Quotes as readers see them: the latest snapshot quote with its age and the staleness rule.

use stocksblitz_market::snapshot::{AgeBasis, Quote};

use crate::{Engine, EngineError};

/// A quote older than this while the session is open is stale.
pub const STALE_AFTER_MS: i64 = 10_000;

/// Whether a quote can be trusted as the current price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Valid,
    /// Older than [`STALE_AFTER_MS`] while the session is open (outside it, the last price is
    /// the price).
    Stale,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Valid => "valid",
            Freshness::Stale => "stale",
        }
    }
}

/// The latest quote of an instrument, aged.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteView {
    pub quote: Quote,
    /// Milliseconds since it was quoted, measured as the caller's basis says.
    pub age_ms: i64,
    pub freshness: Freshness,
}

impl Engine {
    /// The latest quote of `tradingsymbol` at `now_ms` (None when it was never quoted): its
    /// age by `basis` (exchange time on the wall clock, receive time on a demo clock) and
    /// whether it is stale.
    pub fn quote(
        &self,
        tradingsymbol: &str,
        now_ms: i64,
        basis: AgeBasis,
    ) -> Result<Option<QuoteView>, EngineError> {
        let snap = self.snapshot()?;
        let Some(q) = snap.get(tradingsymbol) else {
            return Ok(None);
        };
        let age_ms = q.age(basis, now_ms);
        let open = self.pipeline().session().is_open(now_ms.div_euclid(1000));
        let freshness = if open && age_ms > STALE_AFTER_MS {
            Freshness::Stale
        } else {
            Freshness::Valid
        };
        Ok(Some(QuoteView {
            quote: q.clone(),
            age_ms,
            freshness,
        }))
    }
}
