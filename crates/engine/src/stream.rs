//! Indicator-stream subscriptions: one connection's (symbol, timeframe) subscriptions and what
//! each poll owes it — every bar closed (and stored) since the last poll with the values of the
//! subscribed indicators at it, or in tick mode the forming bar's values when they changed.
//! Typed updates out; the adapter (the WebSocket) renders and sends them.

use std::sync::Arc;

use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::{Bar, Timeframe};

use crate::pipeline::Watch;
use crate::values::{column, depth, tail_values};
use crate::{Engine, EngineError, Series, now_ms};

/// Most bar closes a subscription reports in one poll (a jump of the demo clock closes many):
/// older ones are left to the client's gap fill from the stored bars and value history.
pub const MAX_CATCH_UP_BARS: usize = 500;

/// When a subscription reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On every bar close, once the bar is stored.
    Bar,
    /// On every change of the forming bar.
    Tick,
}

impl Mode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Bar => "bar",
            Mode::Tick => "tick",
        }
    }
}

/// One (symbol, timeframe) subscription of a connection.
#[derive(Debug)]
struct Sub {
    symbol: String,
    tf: Timeframe,
    /// The ids as the client sent them (reported back so), and parsed.
    ids: Vec<(String, IndicatorId)>,
    mode: Mode,
    /// Also report each closed bar, and in tick mode the forming one.
    bars: bool,
    /// Start of the newest closed bar already reported (or seen at subscription).
    last_closed: Option<i64>,
    /// The series last reported in tick mode.
    last_series: Option<Arc<Series>>,
    /// The pipeline writes this instrument's bar closes first while the subscription lasts.
    _watch: Watch,
}

impl Sub {
    fn depth(&self) -> usize {
        self.ids
            .iter()
            .map(|(_, id)| depth(id, self.tf, 2))
            .max()
            .unwrap_or(2)
    }
}

/// What a subscribe asks for.
#[derive(Debug)]
pub struct SubscribeRequest {
    pub symbol: String,
    pub tf: Timeframe,
    pub mode: Mode,
    /// Also report bars (added to a subscription that has them already, never removed here).
    pub bars: bool,
    /// (as sent, parsed); ids already subscribed are kept once.
    pub ids: Vec<(String, IndicatorId)>,
}

/// A subscription as it stands after a subscribe: every id with its value at the newest bar.
#[derive(Debug)]
pub struct Subscribed {
    pub symbol: String,
    pub tf: Timeframe,
    pub mode: Mode,
    pub bars: bool,
    /// Every subscribed id as sent, with its parsed form and its newest value (`None`: no bars).
    pub values: Vec<(String, IndicatorId, Option<Vec<f64>>)>,
    /// Start of the newest bar (forming included).
    pub candle_time: Option<i64>,
    /// The newest stored closed bar: updates follow for every bar closing after it.
    pub last_closed: Option<i64>,
}

/// What an unsubscribe removes.
#[derive(Debug)]
pub enum Unsubscribe {
    /// Only the bars: the indicators stay.
    Bars,
    /// The whole subscription.
    All,
    /// These indicators.
    Ids(Vec<IndicatorId>),
}

/// One message a poll owes the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamUpdate {
    /// A bar: closed (`complete`) or the forming one (tick mode), which later ones of the same
    /// start replace. `closed_at`: when this process closed it (epoch ms), if it did lately.
    Bar {
        symbol: String,
        tf: Timeframe,
        bar: Bar,
        complete: bool,
        closed_at: Option<i64>,
    },
    /// An indicator's outputs at a bar.
    Value {
        symbol: String,
        tf: Timeframe,
        sent: String,
        id: IndicatorId,
        values: Vec<f64>,
        candle_time: i64,
        complete: bool,
    },
}

/// A refused subscription change.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("at most {max} symbol/timeframe subscriptions per connection")]
    TooManySubscriptions { max: usize },
    #[error("at most {max} indicators on one symbol/timeframe")]
    TooManyIndicators { max: usize },
    #[error("not subscribed to {symbol} {}", tf.as_str())]
    NotSubscribed { symbol: String, tf: Timeframe },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// One connection's subscriptions, bounded.
#[derive(Debug)]
pub struct Subscriptions {
    subs: Vec<Sub>,
    max_subscriptions: usize,
    max_indicators: usize,
}

impl Subscriptions {
    /// At most `max_subscriptions` (symbol, timeframe) pairs, each with at most
    /// `max_indicators` ids.
    pub fn new(max_subscriptions: usize, max_indicators: usize) -> Self {
        Subscriptions {
            subs: Vec::new(),
            max_subscriptions,
            max_indicators,
        }
    }

    /// Some subscription reports on bar closes (the adapter then wakes on stored bars).
    pub fn any_bar_mode(&self) -> bool {
        self.subs.iter().any(|s| s.mode == Mode::Bar)
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Add to (or start) the subscription of `req.symbol`/`req.tf`; all or nothing: a refused
    /// request changes nothing.
    pub async fn subscribe(
        &mut self,
        engine: &Engine,
        req: SubscribeRequest,
    ) -> Result<Subscribed, StreamError> {
        let SubscribeRequest {
            symbol,
            tf,
            mode,
            bars,
            ids,
        } = req;
        let pos = self
            .subs
            .iter()
            .position(|s| s.symbol == symbol && s.tf == tf);
        let held = pos.map_or(&[][..], |i| &self.subs[i].ids[..]);
        let mut new: Vec<(String, IndicatorId)> = Vec::new();
        for (sent, id) in ids {
            if !held.iter().chain(&new).any(|(_, x)| *x == id) {
                new.push((sent, id));
            }
        }
        if held.len() + new.len() > self.max_indicators {
            return Err(StreamError::TooManyIndicators {
                max: self.max_indicators,
            });
        }
        let i = match pos {
            Some(i) => i,
            None if self.subs.len() >= self.max_subscriptions => {
                return Err(StreamError::TooManySubscriptions {
                    max: self.max_subscriptions,
                });
            }
            None => {
                self.subs.push(Sub {
                    _watch: engine.pipeline().watch(&symbol),
                    symbol,
                    tf,
                    ids: Vec::new(),
                    mode,
                    bars: false,
                    last_closed: None,
                    last_series: None,
                });
                self.subs.len() - 1
            }
        };
        let sub = &mut self.subs[i];
        sub.mode = mode;
        sub.bars |= bars;
        sub.ids.extend(new);
        let series = engine.series(&sub.symbol, sub.tf, sub.depth()).await?;
        sub.last_closed = stored_closed(engine, sub, &series).last().map(|b| b.start);
        sub.last_series = Some(series.clone());
        let values = sub
            .ids
            .iter()
            .map(|(sent, id)| {
                let v = if series.bars.is_empty() {
                    None
                } else {
                    Some(column(&tail_values(id, sub.tf, &series.bars, 1)?, 0))
                };
                Ok((sent.clone(), id.clone(), v))
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(Subscribed {
            symbol: sub.symbol.clone(),
            tf: sub.tf,
            mode: sub.mode,
            bars: sub.bars,
            values,
            candle_time: series.bars.last().map(|b| b.start),
            last_closed: sub.last_closed,
        })
    }

    /// Remove from the subscription of `symbol`/`tf`; the ids removed, as they were sent. A
    /// subscription left with nothing to report ends.
    pub fn unsubscribe(
        &mut self,
        symbol: &str,
        tf: Timeframe,
        what: Unsubscribe,
    ) -> Result<Vec<String>, StreamError> {
        let Some(i) = self
            .subs
            .iter()
            .position(|s| s.symbol == symbol && s.tf == tf)
        else {
            return Err(StreamError::NotSubscribed {
                symbol: symbol.to_string(),
                tf,
            });
        };
        let removed = match what {
            Unsubscribe::Bars => {
                self.subs[i].bars = false;
                Vec::new()
            }
            Unsubscribe::All => {
                let all = self.subs.remove(i);
                return Ok(all.ids.into_iter().map(|(s, _)| s).collect());
            }
            Unsubscribe::Ids(ids) => {
                let mut removed = Vec::new();
                self.subs[i].ids.retain(|(sent, id)| {
                    let drop = ids.contains(id);
                    if drop {
                        removed.push(sent.clone());
                    }
                    !drop
                });
                removed
            }
        };
        if self.subs[i].ids.is_empty() && !self.subs[i].bars {
            self.subs.remove(i);
        }
        Ok(removed)
    }

    /// Updates due now: per subscription in bar mode, every bar closed (and stored) since the
    /// last poll, oldest first — its bar (when asked for), then each indicator's value at it;
    /// in tick mode, closed bars (when asked for), the forming bar and the current values when
    /// the series changed. A subscription whose series cannot be read now is tried next poll.
    pub async fn poll(&mut self, engine: &Engine) -> Vec<StreamUpdate> {
        let mut out = Vec::new();
        for sub in &mut self.subs {
            let Ok(series) = engine.series(&sub.symbol, sub.tf, sub.depth()).await else {
                continue;
            };
            match sub.mode {
                Mode::Bar => poll_closed(engine, sub, series, &mut out).await,
                Mode::Tick => poll_forming(engine, sub, series, &mut out),
            }
        }
        out
    }
}

/// The series' closed bars that are stored (see `Pipeline::unstored_from`): a bar close is
/// reported only once durable, so what a stream saw is what a read returns after a crash.
fn stored_closed<'a>(engine: &Engine, sub: &Sub, series: &'a Series) -> &'a [Bar] {
    let closed = series.closed();
    match engine.pipeline().unstored_from(&sub.symbol, now_ms()) {
        Some(from) => {
            let span = sub.tf.seconds();
            &closed[..closed.partition_point(|b| b.start + span <= from)]
        }
        None => closed,
    }
}

fn bar_update(engine: &Engine, sub: &Sub, bar: &Bar, complete: bool) -> StreamUpdate {
    // A bar of a longer timeframe closes with its last minute.
    let last_minute = bar.start + (sub.tf.seconds() - 60).max(0);
    StreamUpdate::Bar {
        symbol: sub.symbol.clone(),
        tf: sub.tf,
        bar: bar.clone(),
        complete,
        closed_at: if complete {
            engine.pipeline().closed_at(&sub.symbol, last_minute)
        } else {
            None
        },
    }
}

fn value_update(
    sub: &Sub,
    (sent, id): &(String, IndicatorId),
    values: Vec<f64>,
    candle_time: i64,
    complete: bool,
) -> StreamUpdate {
    StreamUpdate::Value {
        symbol: sub.symbol.clone(),
        tf: sub.tf,
        sent: sent.clone(),
        id: id.clone(),
        values,
        candle_time,
        complete,
    }
}

async fn poll_closed(
    engine: &Engine,
    sub: &mut Sub,
    mut series: Arc<Series>,
    out: &mut Vec<StreamUpdate>,
) {
    let closed = stored_closed(engine, sub, &series);
    let Some(last) = closed.last() else { return };
    if sub.last_closed.is_some_and(|t| t >= last.start) {
        return;
    }
    let from = sub.last_closed.map_or(closed.len() - 1, |t| {
        closed.partition_point(|b| b.start <= t)
    });
    let k = (closed.len() - from).min(MAX_CATCH_UP_BARS);
    let last_start = last.start;
    sub.last_closed = Some(last_start);
    if k > 1 && !sub.ids.is_empty() {
        // Several bars at once: read deep enough for every value to be exact.
        let need = sub
            .ids
            .iter()
            .map(|(_, id)| depth(id, sub.tf, k + 1))
            .max()
            .unwrap_or(k + 1);
        match engine.series(&sub.symbol, sub.tf, need).await {
            Ok(s) => series = s,
            Err(_) => return,
        }
    }
    let closed = stored_closed(engine, sub, &series);
    // A bar stored since the first read waits for the next poll.
    let closed = &closed[..closed.partition_point(|b| b.start <= last_start)];
    let k = k.min(closed.len());
    let new = &closed[closed.len() - k..];
    let tails: Vec<_> = sub
        .ids
        .iter()
        .filter_map(|entry| {
            tail_values(&entry.1, sub.tf, closed, k)
                .ok()
                .map(|t| (entry, t))
        })
        .collect();
    for (j, bar) in new.iter().enumerate() {
        if sub.bars {
            out.push(bar_update(engine, sub, bar, true));
        }
        for (entry, tail) in &tails {
            // A tail shorter than k (little history) covers the newest bars.
            let Some(i) = (j + tail.first().map_or(0, Vec::len)).checked_sub(k) else {
                continue;
            };
            out.push(value_update(sub, entry, column(tail, i), bar.start, true));
        }
    }
}

fn poll_forming(engine: &Engine, sub: &mut Sub, series: Arc<Series>, out: &mut Vec<StreamUpdate>) {
    if sub.bars {
        // Bars closed (and stored) since the last poll, then the forming bar.
        let closed = stored_closed(engine, sub, &series);
        let from = sub
            .last_closed
            .map_or(0, |t| closed.partition_point(|b| b.start <= t));
        let new = &closed[from.max(closed.len().saturating_sub(MAX_CATCH_UP_BARS))..];
        for bar in new {
            out.push(bar_update(engine, sub, bar, true));
        }
        if let Some(last) = new.last() {
            sub.last_closed = Some(last.start);
        }
    }
    if sub
        .last_series
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(s, &series))
    {
        return;
    }
    let Some(last) = series.bars.last() else {
        return;
    };
    if sub.bars && series.last_forming && sub.last_closed.is_none_or(|t| last.start > t) {
        out.push(bar_update(engine, sub, last, false));
    }
    for entry in &sub.ids {
        let Ok(tail) = tail_values(&entry.1, sub.tf, &series.bars, 1) else {
            continue;
        };
        out.push(value_update(
            sub,
            entry,
            column(&tail, 0),
            last.start,
            !series.last_forming,
        ));
    }
    sub.last_series = Some(series);
}

/// A client's stored subscription to one indicator (the REST subscribe/unsubscribe, kept across
/// connections and replicas in the store), as it stands after the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Clients subscribed to this (instrument, timeframe, indicator) now.
    pub subscriber_count: i64,
    /// Subscribe: the indicator's newest value (`None`: no bars). Unsubscribe: `None`.
    pub value: Option<Vec<f64>>,
    /// Subscribe: always. Unsubscribe: whether the client was subscribed.
    pub changed: bool,
}

impl Engine {
    /// Subscribe `client` to each of `ids` on `instrument`/`tf` (idempotent per client), with
    /// each one's newest value and exact subscriber count.
    pub async fn subscribe_stored(
        &self,
        client: &str,
        instrument: &str,
        tf: Timeframe,
        ids: &[IndicatorId],
    ) -> Result<Vec<Stored>, EngineError> {
        let at = self.current_values(instrument, tf, ids).await?;
        let now = now_ms();
        let mut out = Vec::with_capacity(ids.len());
        for (id, value) in ids.iter().zip(at.values) {
            let canonical = id.canonical();
            let key = stocksblitz_store::subscriptions::SubscriptionKey {
                instrument,
                timeframe: tf.as_str(),
                indicator_id: &canonical,
            };
            self.store().subscribe(client, &key, now).await?;
            out.push(Stored {
                subscriber_count: self.store().subscriber_count(&key).await?,
                value,
                changed: true,
            });
        }
        Ok(out)
    }

    /// Unsubscribe `client` from each of `ids` (only its own subscriptions change).
    pub async fn unsubscribe_stored(
        &self,
        client: &str,
        instrument: &str,
        tf: Timeframe,
        ids: &[IndicatorId],
    ) -> Result<Vec<Stored>, EngineError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let canonical = id.canonical();
            let key = stocksblitz_store::subscriptions::SubscriptionKey {
                instrument,
                timeframe: tf.as_str(),
                indicator_id: &canonical,
            };
            let changed = self.store().unsubscribe(client, &key).await?;
            out.push(Stored {
                subscriber_count: self.store().subscriber_count(&key).await?,
                value: None,
                changed,
            });
        }
        Ok(out)
    }
}
