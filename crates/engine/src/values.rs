//! Indicator values over bar series: the warm-up each id needs, the tail of a computation, and
//! the cache of current values per (instrument, timeframe, canonical id).

use std::sync::Arc;

use compact_str::CompactString;
use stocksblitz_indicators::{Frame, IndicatorId, compute};
use stocksblitz_market::{Bar, Timeframe};

use crate::EngineError;
use crate::series::Series;

/// Most cached current values (the least useful leave first).
const MAX_CACHED_VALUES: usize = 16_384;

/// (instrument, timeframe, canonical id).
type ValueKey = (CompactString, Timeframe, String);
/// Values and the series they were computed on.
type Computed = (Arc<Series>, Vec<f64>);

/// Values of several indicators at one bar.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesAt {
    /// The bar's start (epoch s); `None` when there is no such bar.
    pub candle_time: Option<i64>,
    /// Bars in the series read.
    pub bars: usize,
    /// Per indicator asked for, one value per output (`None`: no bar).
    pub values: Vec<Option<Vec<f64>>>,
}

/// One bar's values of one indicator (one per output).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The bar's start (epoch s).
    pub time: i64,
    pub values: Vec<f64>,
}

/// Cached latest values: key → (the series they were computed on, one value per output).
/// Bounded with real eviction (S3-FIFO: rarely read keys leave first), so a full cache never
/// starts over for everyone at once.
#[derive(Debug)]
pub struct ValueCache {
    // Behind an Arc: a hit clones one pointer, not the series handle and the values.
    map: quick_cache::sync::Cache<ValueKey, Arc<Computed>>,
    hits: metrics::Counter,
    computed: metrics::Counter,
}

impl Default for ValueCache {
    fn default() -> Self {
        ValueCache {
            map: quick_cache::sync::Cache::new(MAX_CACHED_VALUES),
            hits: metrics::counter!(crate::metric::VALUE_HITS),
            computed: metrics::counter!(crate::metric::VALUE_COMPUTES),
        }
    }
}

impl ValueCache {
    /// The newest value of every output of `id` over `series` (cached until the series
    /// changes); `None` when the series is empty.
    pub fn current(
        &self,
        series: &Arc<Series>,
        tf: Timeframe,
        id: &IndicatorId,
    ) -> Result<Option<Vec<f64>>, EngineError> {
        let Some(last) = series.bars.last() else {
            return Ok(None);
        };
        let key = (last.instrument.clone(), tf, id.canonical());
        if let Some(c) = self.map.get(&key).filter(|c| Arc::ptr_eq(&c.0, series)) {
            self.hits.increment(1);
            return Ok(Some(c.1.clone()));
        }
        self.computed.increment(1);
        let v = column(&tail_values(id, tf, &series.bars, 1)?, 0);
        self.map.insert(key, Arc::new((series.clone(), v.clone())));
        Ok(Some(v))
    }
}

/// Bars of `tf` needed so that the newest `wanted` values of `id` are exact.
pub fn depth(id: &IndicatorId, tf: Timeframe, wanted: usize) -> usize {
    id.warmup(tf.bars_per_session()) + wanted
}

/// Compute `id` over the last `wanted` bars of `bars` plus its warm-up; returns one series per
/// output, each `min(wanted, bars.len())` long (the tail).
pub fn tail_values(
    id: &IndicatorId,
    tf: Timeframe,
    bars: &[Bar],
    wanted: usize,
) -> Result<Vec<Vec<f64>>, EngineError> {
    let from = bars.len().saturating_sub(depth(id, tf, wanted));
    let window = &bars[from..];
    let col = |f: fn(&Bar) -> f64| window.iter().map(f).collect::<Vec<f64>>();
    let (open, high, low, close) = (
        col(|b| b.open),
        col(|b| b.high),
        col(|b| b.low),
        col(|b| b.close),
    );
    let volume = col(|b| b.volume as f64);
    let time: Vec<i64> = window.iter().map(|b| b.start).collect();
    let frame = Frame {
        open: Some(&open),
        high: Some(&high),
        low: Some(&low),
        close: Some(&close),
        volume: Some(&volume),
        time: Some(&time),
    };
    let out = compute(id, &frame).map_err(|e| EngineError::Compute {
        id: id.canonical(),
        reason: e.to_string(),
    })?;
    let keep = wanted.min(window.len());
    Ok(out
        .series
        .into_iter()
        .map(|s| s[s.len() - keep..].to_vec())
        .collect())
}

/// The `i`-th value of every output.
pub fn column(series: &[Vec<f64>], i: usize) -> Vec<f64> {
    series.iter().map(|s| s[i]).collect()
}

/// The last `lookback` values of `id` over `bars`, oldest first, with their bar times.
pub fn points(
    id: &IndicatorId,
    tf: Timeframe,
    bars: &[Bar],
    lookback: usize,
) -> Result<Vec<Point>, EngineError> {
    let tail = tail_values(id, tf, bars, lookback)?;
    let k = tail.first().map_or(0, Vec::len);
    let first = bars.len() - k;
    Ok((0..k)
        .map(|i| Point {
            time: bars[first + i].start,
            values: column(&tail, i),
        })
        .collect())
}
