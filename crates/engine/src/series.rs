//! Bar series for readers (candles, UDF history, indicator values): the store's
//! 1-minute bars plus the pipeline's recent and forming bars, rolled up to the timeframe by the
//! market crate, cached per (instrument, timeframe) until the instrument's bars change. One
//! fetch per key at a time: concurrent readers of a stale key wait for the same fetch.

use std::sync::Arc;

use compact_str::CompactString;
use stocksblitz_market::series::{assemble, last_is_forming};
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::{Store, StoreError};

use crate::pipeline::Pipeline;
use crate::{Engine, EngineError};

/// Most 1-minute rows read from the store for one series (a day is 375 of them).
pub const MAX_MINUTE_ROWS: usize = 400_000;
/// Most (instrument, timeframe) series kept (the least useful leave first).
pub const MAX_CACHED_SERIES: usize = 2048;

/// A series as read at one moment.
#[derive(Debug)]
pub struct Series {
    pub bars: Vec<Bar>,
    /// The last bar is still forming (its bucket has not closed).
    pub last_forming: bool,
    /// The pipeline state it was built from (cache validity).
    version: u64,
    forming: Option<Bar>,
    /// Bars asked for when it was fetched (a deeper request refetches).
    depth: usize,
}

impl Series {
    /// Bars that are complete (the forming one left out).
    pub fn closed(&self) -> &[Bar] {
        let n = self.bars.len() - usize::from(self.last_forming);
        &self.bars[..n]
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Series>>>>;

/// Bounded with real eviction (S3-FIFO): a full cache drops its least useful series, not all.
#[derive(Debug)]
pub struct SeriesCache {
    slots: quick_cache::sync::Cache<(CompactString, Timeframe), Slot>,
    // Registered once with the recorder installed when the cache is made (a lookup per hit
    // costs more than the hit).
    hits: metrics::Counter,
    fetches: metrics::Counter,
}

impl Default for SeriesCache {
    fn default() -> Self {
        SeriesCache {
            slots: quick_cache::sync::Cache::new(MAX_CACHED_SERIES),
            hits: metrics::counter!(crate::metric::SERIES_HITS),
            fetches: metrics::counter!(crate::metric::SERIES_FETCHES),
        }
    }
}

impl SeriesCache {
    fn slot(&self, instrument: &str, tf: Timeframe) -> Slot {
        let key = (CompactString::from(instrument), tf);
        // One slot per key, created atomically (concurrent readers share its fetch).
        self.slots
            .get_or_insert_with(&key, || Ok::<_, std::convert::Infallible>(Slot::default()))
            .unwrap_or_default()
    }

    /// At least the newest `depth` bars of `tf` (fewer when the store has fewer), the forming
    /// bar included, oldest first.
    pub async fn get(
        &self,
        store: &Store,
        pipeline: &Pipeline,
        instrument: &str,
        tf: Timeframe,
        depth: usize,
    ) -> Result<Arc<Series>, StoreError> {
        let slot = self.slot(instrument, tf);
        let mut cached = slot.lock().await;
        if let Some(s) = cached.as_ref()
            && s.depth >= depth
        {
            let (version, forming) = pipeline.bar_stamp(instrument);
            if s.version == version && s.forming == forming {
                self.hits.increment(1);
                return Ok(s.clone());
            }
        }
        self.fetches.increment(1);
        let state = pipeline.bar_state(instrument);
        let rows = depth
            .saturating_add(1)
            .saturating_mul(tf.minutes())
            .min(MAX_MINUTE_ROWS);
        let stored = store
            .last_bars(
                instrument,
                Timeframe::M1,
                u32::try_from(rows).unwrap_or(u32::MAX),
                None,
            )
            .await?;
        let bars = assemble(stored, &state.recent, state.forming.as_ref(), tf);
        let now = pipeline.feed_now(instrument).div_euclid(1000);
        let last_forming = last_is_forming(&bars, state.forming.as_ref(), tf, now);
        let series = Arc::new(Series {
            bars,
            last_forming,
            version: state.version,
            forming: state.forming,
            depth,
        });
        *cached = Some(series.clone());
        Ok(series)
    }
}

/// Which bars of a series to read: those with `from <= start <= to` (epoch s; either end
/// open), the newest `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarWindow {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: usize,
}

/// The bars of `window`, oldest first, and whether the last one is still forming. An open
/// end reads the cached series; a window ending in the past reads the store up to its end
/// plus what the pipeline holds before it.
pub(crate) async fn bars_in(
    engine: &Engine,
    instrument: &str,
    tf: Timeframe,
    window: BarWindow,
) -> Result<(Vec<Bar>, bool), EngineError> {
    let BarWindow { from, to, limit } = window;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(EngineError::EmptyWindow { from, to });
    }
    let (mut bars, mut forming) = match to {
        None => {
            let s = engine.series(instrument, tf, limit).await?;
            (s.bars.clone(), s.last_forming)
        }
        Some(to) => {
            let rows = (limit + 1)
                .saturating_mul(tf.minutes())
                .min(MAX_MINUTE_ROWS);
            let end = tf.bucket_end(tf.bucket_start(to)) - 1;
            let stored = engine
                .store()
                .last_bars(
                    instrument,
                    Timeframe::M1,
                    u32::try_from(rows).unwrap_or(u32::MAX),
                    Some(end),
                )
                .await?;
            let pipeline = engine.pipeline();
            let st = pipeline.bar_state(instrument);
            let recent: Vec<Bar> = st.recent.into_iter().filter(|b| b.start <= end).collect();
            let fb = st.forming.filter(|b| b.start <= end);
            let bars = assemble(stored, &recent, fb.as_ref(), tf);
            let now = pipeline.feed_now(instrument).div_euclid(1000);
            let forming = last_is_forming(&bars, fb.as_ref(), tf, now);
            (bars, forming)
        }
    };
    if let Some(to) = to {
        let before = bars.len();
        bars.retain(|b| b.start <= to);
        forming &= bars.len() == before;
    }
    if let Some(from) = from {
        bars.retain(|b| b.start >= from);
    }
    if bars.len() > limit {
        bars.drain(..bars.len() - limit);
    }
    Ok((bars, forming))
}
