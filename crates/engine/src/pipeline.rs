//! The ingestion pipeline every source feeds: decode (market crate), snapshot, bar building and
//! the bar writer. Counters for /health and /metrics.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use compact_str::CompactString;
use stocksblitz_market::Bar;

use stocksblitz_market::bars::{BarBuilder, BarEvent};
use stocksblitz_market::decode::{Decoder, Reject};
use stocksblitz_market::session::Session;
use stocksblitz_market::snapshot::Snapshot;
use stocksblitz_market::tick::Tick;
use stocksblitz_store::BarWriter;

/// Told of every tick the pipeline applies (the alert engine), on the ingesting thread: it must
/// not block.
pub trait TickObserver: Send + Sync + std::fmt::Debug {
    fn on_ticks(&self, ticks: &mut dyn Iterator<Item = &Tick>);
}

/// The queue between a source's reader and the pipeline thread.
#[derive(Debug, Default)]
pub struct QueueStats {
    /// Payload bytes waiting.
    pub bytes: AtomicUsize,
    /// Messages waiting.
    pub messages: AtomicU64,
    /// Most messages ever waiting at once.
    pub high_water: AtomicU64,
    /// Messages dropped because the queue was full.
    pub dropped: AtomicU64,
    /// When a message was last dropped (epoch ms; 0: never).
    pub last_drop_ms: AtomicI64,
}

/// Counters of the ingestion pipeline.
#[derive(Debug)]
pub struct IngestStats {
    pub source: &'static str,
    pub ticks_total: AtomicU64,
    pub rejected_total: AtomicU64,
    /// Per reason, in the order of `Reject::CODES`.
    pub rejected_by_reason: Vec<AtomicU64>,
    pub reconnects: AtomicU64,
    pub connected: AtomicBool,
    /// Exchange-independent receive time of the last accepted tick (epoch ms; 0 = none).
    pub last_tick_ms: AtomicI64,
    pub bars_closed: AtomicU64,
    pub bar_amendments: AtomicU64,
    /// History the simulator writes (first start, minutes a restart or a clock jump skipped).
    pub backfill: BackfillStats,
    /// The queue between the Redis reader and the pipeline thread.
    pub queue: QueueStats,
    /// Last time a rejection was logged (rate limit for the log line).
    last_reject_log_ms: AtomicI64,
}

impl IngestStats {
    pub fn new(source: &'static str) -> Self {
        IngestStats {
            source,
            ticks_total: AtomicU64::new(0),
            rejected_total: AtomicU64::new(0),
            rejected_by_reason: Reject::CODES.iter().map(|_| AtomicU64::new(0)).collect(),
            reconnects: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            last_tick_ms: AtomicI64::new(0),
            bars_closed: AtomicU64::new(0),
            bar_amendments: AtomicU64::new(0),
            backfill: BackfillStats::default(),
            queue: QueueStats::default(),
            last_reject_log_ms: AtomicI64::new(0),
        }
    }

    /// Milliseconds since the last accepted tick, if any.
    pub fn last_tick_age_ms(&self, now_ms: i64) -> Option<u64> {
        match self.last_tick_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some((now_ms - t).max(0) as u64),
        }
    }
}

/// Progress of the history the simulator writes, for /health.
#[derive(Debug, Default)]
pub struct BackfillStats {
    /// The simulator has looked at the stored history and handed over what it must write.
    pub planned: AtomicBool,
    /// Fills waiting or being written.
    pub pending: AtomicU64,
    /// Fills written since start.
    pub done: AtomicU64,
    pub minutes_total: AtomicU64,
    pub minutes_written: AtomicU64,
    pub bars_written: AtomicU64,
    /// Failed writes (retried).
    pub failures: AtomicU64,
}

/// Closed 1-minute bars kept in memory per instrument: enough to cover the writer's delay, so
/// readers never see a gap between the store and the forming bar.
pub const RECENT_BARS: usize = 8;

#[derive(Debug, Default)]
struct Recent {
    /// Bumped on every close or amendment of the instrument's bars.
    version: u64,
    /// The last closed bars, oldest first, amendments merged.
    bars: VecDeque<Bar>,
    /// Closed bars the writer has not settled yet: (bar start, writer ticket, queued at ms).
    unsettled: VecDeque<(i64, u64, i64)>,
    /// When each recent bar closed here: (bar start, wall ms).
    closed_at: VecDeque<(i64, i64)>,
}

/// How long a stream holds back a bar close the writer has not stored (the database is slow or
/// down): past it the close is reported anyway — late data helps no one.
pub const UNSTORED_HOLD_MS: i64 = 5_000;

/// What readers need to assemble an instrument's bars beyond the store.
#[derive(Debug, Clone, PartialEq)]
pub struct BarState {
    /// Changes whenever a bar of the instrument closes or is amended.
    pub version: u64,
    /// Recently closed bars (oldest first), possibly not stored yet.
    pub recent: Vec<Bar>,
    /// The forming 1-minute bar.
    pub forming: Option<Bar>,
}

/// Decode → snapshot → bars → writer.
#[derive(Debug)]
pub struct Pipeline {
    pub snapshot: RwLock<Snapshot>,
    session: Session,
    bars: Mutex<BarBuilder>,
    recent: Mutex<HashMap<CompactString, Recent>>,
    writer: BarWriter,
    pub stats: IngestStats,
    /// Instruments whose quote changed since the trading loop last looked ([`Pipeline::take_changed`]).
    changed: Mutex<std::collections::HashSet<CompactString>>,
    /// Woken on every change (the trading loop waits on it).
    pub quotes_changed: tokio::sync::Notify,
    /// Instruments a live stream reports bar closes of, with the number of watchers: their
    /// closes are written first, in a transaction of their own ([`Pipeline::watch`]).
    watched: Watched,
    /// Told of every applied tick (the alert engine), when set.
    observer: std::sync::OnceLock<std::sync::Arc<dyn TickObserver>>,
}

type Watched = std::sync::Arc<Mutex<HashMap<CompactString, usize>>>;

/// A stream's interest in an instrument's bar closes (see [`Pipeline::watch`]); dropping it
/// ends the interest.
#[derive(Debug)]
pub struct Watch {
    watched: Watched,
    instrument: CompactString,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(mut w) = self.watched.lock()
            && let Some(n) = w.get_mut(&self.instrument)
        {
            *n -= 1;
            if *n == 0 {
                w.remove(&self.instrument);
            }
        }
    }
}

impl Pipeline {
    pub fn new(source: &'static str, session: Session, grace_ms: i64, writer: BarWriter) -> Self {
        Pipeline {
            snapshot: RwLock::new(Snapshot::default()),
            session,
            bars: Mutex::new(BarBuilder::new(session, grace_ms)),
            recent: Mutex::new(HashMap::new()),
            writer,
            stats: IngestStats::new(source),
            changed: Mutex::new(std::collections::HashSet::new()),
            quotes_changed: tokio::sync::Notify::new(),
            watched: Watched::default(),
            observer: std::sync::OnceLock::new(),
        }
    }

    /// Tell `observer` of every tick from now on (once; a second call is ignored).
    pub fn observe_ticks(&self, observer: std::sync::Arc<dyn TickObserver>) {
        let _ = self.observer.set(observer);
    }

    /// The instruments whose quote changed since the last call (each once).
    pub fn take_changed(&self) -> Vec<CompactString> {
        self.changed
            .lock()
            .map(|mut c| c.drain().collect())
            .unwrap_or_default()
    }

    fn mark_changed<'a>(&self, symbols: impl IntoIterator<Item = &'a CompactString>) {
        if let Ok(mut c) = self.changed.lock() {
            // Bounded: nobody draining (no trading loop, as in router tests) must not grow it.
            if c.len() < 100_000 {
                c.extend(symbols.into_iter().cloned());
            }
        }
        self.quotes_changed.notify_one();
    }

    /// The session the bars follow (exchange hours, or always open with the demo clock).
    pub fn session(&self) -> Session {
        self.session
    }

    pub fn writer(&self) -> &BarWriter {
        &self.writer
    }

    /// Ingest one raw payload received at `recv_ms`. Malformed payloads are counted by reason
    /// and logged at most once a second; they never stop the pipeline.
    pub fn ingest(&self, payload: &[u8], recv_ms: i64) {
        match Decoder.decode(payload, recv_ms) {
            Ok(tick) => self.apply(&tick),
            Err(reject) => self.reject(&reject, payload, recv_ms),
        }
    }

    fn reject(&self, reject: &Reject, payload: &[u8], now_ms: i64) {
        self.stats.rejected_total.fetch_add(1, Ordering::Relaxed);
        if let Some(i) = Reject::CODES.iter().position(|c| *c == reject.code()) {
            self.stats.rejected_by_reason[i].fetch_add(1, Ordering::Relaxed);
        }
        let last = self.stats.last_reject_log_ms.load(Ordering::Relaxed);
        if now_ms - last >= 1000 {
            self.stats
                .last_reject_log_ms
                .store(now_ms, Ordering::Relaxed);
            let preview: String =
                String::from_utf8_lossy(&payload[..payload.len().min(120)]).into_owned();
            tracing::warn!(reason = reject.code(), error = %reject, payload = %preview, total = self.stats.rejected_total.load(Ordering::Relaxed), "tick rejected");
        }
    }

    /// Ingest several payloads under one acquisition of the snapshot and bar locks (the Redis
    /// consumer hands over whatever arrived together).
    pub fn ingest_batch<'a>(&self, payloads: impl IntoIterator<Item = &'a [u8]>, recv_ms: i64) {
        let mut ticks = Vec::new();
        for p in payloads {
            match Decoder.decode(p, recv_ms) {
                Ok(t) => ticks.push(t),
                Err(reject) => self.reject(&reject, p, recv_ms),
            }
        }
        if ticks.is_empty() {
            return;
        }
        self.stats
            .ticks_total
            .fetch_add(ticks.len() as u64, Ordering::Relaxed);
        self.stats.last_tick_ms.store(recv_ms, Ordering::Relaxed);
        if let Ok(mut snap) = self.snapshot.write() {
            snap.apply_batch(&ticks);
        }
        self.mark_changed(ticks.iter().map(|t| &t.tradingsymbol));
        if let Some(o) = self.observer.get() {
            o.on_ticks(&mut ticks.iter());
        }
        let mut events = Vec::new();
        if let Ok(mut bars) = self.bars.lock() {
            for t in &ticks {
                bars.on_tick(t, &mut events);
            }
        }
        self.emit(events);
    }

    /// Apply an already decoded tick.
    pub fn apply(&self, tick: &Tick) {
        self.stats.ticks_total.fetch_add(1, Ordering::Relaxed);
        self.stats
            .last_tick_ms
            .store(tick.recv_ts_ms, Ordering::Relaxed);
        if let Ok(mut snap) = self.snapshot.write() {
            snap.apply(tick);
        }
        self.mark_changed([&tick.tradingsymbol]);
        if let Some(o) = self.observer.get() {
            o.on_ticks(&mut std::iter::once(tick));
        }
        let mut events = Vec::new();
        if let Ok(mut bars) = self.bars.lock() {
            bars.on_tick(tick, &mut events);
        }
        self.emit(events);
    }

    /// Close bars whose time is up (called on a timer).
    pub fn on_clock(&self, now_ms: i64) {
        let mut events = Vec::new();
        if let Ok(mut bars) = self.bars.lock() {
            bars.on_clock(now_ms, &mut events);
        }
        self.emit(events);
    }

    /// Close every open bar (shutdown).
    pub fn flush_open_bars(&self) -> usize {
        let mut events = Vec::new();
        if let Ok(mut bars) = self.bars.lock() {
            bars.flush_all(&mut events);
        }
        let n = events.len();
        self.emit(events);
        n
    }

    /// The forming 1-minute bar of an instrument.
    pub fn forming(&self, instrument: &str) -> Option<stocksblitz_market::Bar> {
        self.bars
            .lock()
            .ok()
            .and_then(|b| b.forming(instrument).cloned())
    }

    /// What identifies the instrument's bars right now: the close/amend version and the forming
    /// bar (cheap: no copy of the recent bars).
    pub fn bar_stamp(&self, instrument: &str) -> (u64, Option<Bar>) {
        let forming = self.forming(instrument);
        let version = self
            .recent
            .lock()
            .ok()
            .and_then(|r| r.get(instrument).map(|x| x.version))
            .unwrap_or_default();
        (version, forming)
    }

    /// Now on the instrument's feed clock (epoch ms): the wall clock moved by where its newest
    /// tick's exchange time stood (the demo clock, a replay); the wall clock for others.
    pub fn feed_now(&self, instrument: &str) -> i64 {
        let wall = crate::now_ms();
        self.bars
            .lock()
            .map_or(wall, |b| b.feed_now(instrument, wall))
    }

    /// Start forming bars from the part of their minute already known (the simulator's walk
    /// up to now at start-up or after a clock jump), each with the day's volume so far; the
    /// feed's clock stands at `feed_now_ms`.
    pub fn seed_forming(&self, bars: Vec<(Bar, u64)>, feed_now_ms: i64) {
        let offset = feed_now_ms - crate::now_ms();
        if let Ok(mut b) = self.bars.lock() {
            for (bar, volume) in bars {
                b.seed(bar, Some(volume), Some(offset));
            }
        }
    }

    /// Bars written to the store by someone else (the simulator's history): merged into the
    /// recently closed bars kept here, and every instrument's version bumped so cached series
    /// and indicator values are read again.
    pub fn absorb_history(&self, bars: &[Bar]) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        let mut touched = std::collections::HashSet::new();
        for bar in bars {
            let r = recent.entry(bar.instrument.clone()).or_default();
            if let Some(kept) = r.bars.iter_mut().find(|b| b.start == bar.start) {
                kept.merge(bar);
            }
            if touched.insert(bar.instrument.clone()) {
                r.version += 1;
            }
        }
    }

    /// The instrument's bar state beyond the store (see [`BarState`]).
    pub fn bar_state(&self, instrument: &str) -> BarState {
        let forming = self.forming(instrument);
        let (version, recent) = self
            .recent
            .lock()
            .ok()
            .and_then(|r| {
                r.get(instrument)
                    .map(|x| (x.version, x.bars.iter().cloned().collect()))
            })
            .unwrap_or_default();
        BarState {
            version,
            recent,
            forming,
        }
    }

    /// The start of the instrument's oldest closed 1-minute bar not yet stored (None: all are),
    /// for streams that report a bar close only once it is durable — a close seen live is then
    /// the close `/candles` returns, even after a kill -9. A bar held longer than
    /// [`UNSTORED_HOLD_MS`] counts as stored.
    pub fn unstored_from(&self, instrument: &str, now_ms: i64) -> Option<i64> {
        let settled = self.writer.settled();
        let mut recent = self.recent.lock().ok()?;
        let r = recent.get_mut(instrument)?;
        while r
            .unsettled
            .front()
            .is_some_and(|&(_, ticket, at)| ticket <= settled || now_ms - at > UNSTORED_HOLD_MS)
        {
            r.unsettled.pop_front();
        }
        r.unsettled.front().map(|&(start, _, _)| start)
    }

    /// When the instrument's 1-minute bar starting at `start` closed in this process (wall
    /// ms), for the last few bars; None for older or stored-only bars.
    pub fn closed_at(&self, instrument: &str, start: i64) -> Option<i64> {
        let recent = self.recent.lock().ok()?;
        recent
            .get(instrument)?
            .closed_at
            .iter()
            .find(|&&(t, _)| t == start)
            .map(|&(_, at)| at)
    }

    /// A live stream reports the instrument's bar closes once they are stored: write them
    /// ahead of the minute's batch of every instrument, so the close reaches the stream in a
    /// millisecond or two rather than after the whole batch commits. Held until dropped.
    pub fn watch(&self, instrument: &str) -> Watch {
        let instrument = CompactString::from(instrument);
        if let Ok(mut w) = self.watched.lock() {
            *w.entry(instrument.clone()).or_default() += 1;
        }
        Watch {
            watched: self.watched.clone(),
            instrument,
        }
    }

    /// Keep the closed bars in memory and queue them for the writer, under one lock: a reader
    /// sees a closed bar only together with its writer ticket (see [`Pipeline::unstored_from`]).
    /// Bars of watched instruments are queued first, as an urgent write of their own.
    fn emit(&self, events: Vec<BarEvent>) {
        if events.is_empty() {
            return;
        }
        let (mut urgent, mut bars) = (Vec::new(), Vec::with_capacity(events.len()));
        let mut is_urgent = Vec::with_capacity(events.len());
        {
            let watched = self.watched.lock().ok();
            for e in &events {
                match e {
                    BarEvent::Closed(_) => self.stats.bars_closed.fetch_add(1, Ordering::Relaxed),
                    BarEvent::Amend(_) => self.stats.bar_amendments.fetch_add(1, Ordering::Relaxed),
                };
                let bar = e.bar().clone();
                let hot = watched
                    .as_ref()
                    .is_some_and(|w| w.contains_key(&bar.instrument));
                is_urgent.push(hot);
                if hot {
                    urgent.push(bar);
                } else {
                    bars.push(bar);
                }
            }
        }
        let Ok(mut recent) = self.recent.lock() else {
            self.writer.write_urgent(urgent);
            self.writer.write(bars);
            return;
        };
        let now = crate::now_ms();
        let first = self.writer.write_urgent(urgent);
        let second = self.writer.write(bars);
        for (e, hot) in events.iter().zip(is_urgent) {
            let bar = e.bar();
            // The ticket of the write that holds this bar.
            let ticket = if hot { first } else { second };
            let r = recent.entry(bar.instrument.clone()).or_default();
            r.version += 1;
            match (e, r.bars.iter_mut().find(|b| b.start == bar.start)) {
                (BarEvent::Amend(b), Some(kept)) => kept.merge(b),
                (BarEvent::Closed(b), Some(kept)) => *kept = b.clone(),
                // An amendment of a bar no longer kept: the store merges it.
                (BarEvent::Amend(_), None) => {}
                (BarEvent::Closed(b), None) => {
                    if r.bars.back().is_none_or(|last| last.start < b.start) {
                        r.bars.push_back(b.clone());
                    }
                    while r.bars.len() > RECENT_BARS {
                        r.bars.pop_front();
                    }
                }
            }
            if let BarEvent::Closed(b) = e {
                if r.closed_at.back().is_none_or(|&(t, _)| t < b.start) {
                    r.closed_at.push_back((b.start, now));
                    while r.closed_at.len() > RECENT_BARS {
                        r.closed_at.pop_front();
                    }
                }
                let full = r.unsettled.len() >= RECENT_BARS;
                match r.unsettled.back_mut() {
                    // Bounded: past the bound the newest entry stands for the later bars too
                    // (tickets only grow, so it settles last).
                    Some(last) if full => last.1 = ticket,
                    _ => r.unsettled.push_back((b.start, ticket, now)),
                }
            }
        }
    }
}
