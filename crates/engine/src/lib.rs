//! The application's operations, between the adapters (HTTP routes, the bindings) and the
//! crates: the ingestion pipeline, bar series reads (one reader for "latest" and "ending at"),
//! indicator values with their cache, quotes with the staleness rule. Typed values in, typed values and
//! one error enum out; no HTTP here.

pub mod chain;
mod error;
pub mod pipeline;
pub mod quotes;
pub mod series;
pub mod stream;
pub mod values;

use std::sync::{Arc, RwLockReadGuard};

use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::snapshot::Snapshot;
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::Store;

pub use chain::{ChainLeg, ChainStrike, Expiries, OptionChain, Resolved};
pub use error::EngineError;
pub use pipeline::{Pipeline, TickObserver};
pub use quotes::{Freshness, QuoteView, STALE_AFTER_MS};
pub use series::{BarWindow, Series, SeriesCache};
pub use values::{Point, ValueCache, ValuesAt};

/// Milliseconds since the Unix epoch (UTC), on the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The engine's metrics, recorded through the `metrics` facade (whatever recorder the
/// process installs renders them; without one they cost nothing).
pub mod metric {
    /// Series served from the cache.
    pub const SERIES_HITS: &str = "stocksblitz_series_cache_hits_total";
    /// Series read from the store (a miss, or the instrument's bars changed).
    pub const SERIES_FETCHES: &str = "stocksblitz_series_fetches_total";
    /// Indicator values served from the cache.
    pub const VALUE_HITS: &str = "stocksblitz_indicator_cache_hits_total";
    /// Indicator values computed.
    pub const VALUE_COMPUTES: &str = "stocksblitz_indicator_computations_total";

    /// Describe the metrics to the installed recorder and show them at zero from the start.
    pub fn describe() {
        for (name, help) in [
            (SERIES_HITS, "Bar series served from the cache."),
            (SERIES_FETCHES, "Bar series read from the store."),
            (VALUE_HITS, "Indicator values served from the cache."),
            (VALUE_COMPUTES, "Indicator values computed."),
        ] {
            metrics::describe_counter!(name, help);
            metrics::counter!(name).increment(0);
        }
    }
}

/// The store and the live pipeline, with the caches readers share.
#[derive(Debug)]
pub struct Engine {
    store: Store,
    pipeline: Arc<Pipeline>,
    series: SeriesCache,
    values: ValueCache,
}

impl Engine {
    pub fn new(store: Store, pipeline: Arc<Pipeline>) -> Self {
        Engine {
            store,
            pipeline,
            series: SeriesCache::default(),
            values: ValueCache::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// The live quotes, for reading.
    pub fn snapshot(&self) -> Result<RwLockReadGuard<'_, Snapshot>, EngineError> {
        self.pipeline
            .snapshot
            .read()
            .map_err(|_| EngineError::SnapshotUnavailable)
    }

    /// At least the newest `depth` bars of `tf` (fewer when the store has fewer), the forming
    /// bar included, oldest first; cached until the instrument's bars change.
    pub async fn series(
        &self,
        instrument: &str,
        tf: Timeframe,
        depth: usize,
    ) -> Result<Arc<Series>, EngineError> {
        Ok(self
            .series
            .get(&self.store, &self.pipeline, instrument, tf, depth)
            .await?)
    }

    /// Bars of `tf` in a window (see [`BarWindow`]); and whether the last one is forming.
    pub async fn bars(
        &self,
        instrument: &str,
        tf: Timeframe,
        window: BarWindow,
    ) -> Result<(Vec<Bar>, bool), EngineError> {
        series::bars_in(self, instrument, tf, window).await
    }

    /// The newest value of every output of each of `ids` (cached per id until the series
    /// changes); `values[i]` is `None` when the instrument has no bars.
    pub async fn current_values(
        &self,
        instrument: &str,
        tf: Timeframe,
        ids: &[IndicatorId],
    ) -> Result<ValuesAt, EngineError> {
        let need = ids
            .iter()
            .map(|id| values::depth(id, tf, 1))
            .max()
            .unwrap_or(1);
        let series = self.series(instrument, tf, need).await?;
        let values = ids
            .iter()
            .map(|id| self.values.current(&series, tf, id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ValuesAt {
            candle_time: series.bars.last().map(|b| b.start),
            bars: series.bars.len(),
            values,
        })
    }

    /// The values of each of `ids` at the bar `offset` bars before the latest; `values[i]` is
    /// `None` when there is no such bar (`candle_time` is then `None` too).
    pub async fn values_at_offset(
        &self,
        instrument: &str,
        tf: Timeframe,
        ids: &[IndicatorId],
        offset: usize,
    ) -> Result<ValuesAt, EngineError> {
        let need = ids
            .iter()
            .map(|id| values::depth(id, tf, offset + 1))
            .max()
            .unwrap_or(1);
        let series = self.series(instrument, tf, need).await?;
        let n = series.bars.len();
        let target = (offset < n).then(|| n - 1 - offset);
        let values = ids
            .iter()
            .map(|id| match target {
                Some(t) => values::tail_values(id, tf, &series.bars[..=t], 1)
                    .map(|tail| Some(values::column(&tail, 0))),
                None => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ValuesAt {
            candle_time: target.map(|t| series.bars[t].start),
            bars: n,
            values,
        })
    }

    /// The last `lookback` values of `id`, oldest first, each fully warmed up (fewer when the
    /// instrument has fewer bars).
    pub async fn history(
        &self,
        instrument: &str,
        tf: Timeframe,
        id: &IndicatorId,
        lookback: usize,
    ) -> Result<Vec<Point>, EngineError> {
        let series = self
            .series(instrument, tf, values::depth(id, tf, lookback))
            .await?;
        values::points(id, tf, &series.bars, lookback)
    }
}
