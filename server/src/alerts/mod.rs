//! Alerts evaluated by the server.
//!
//! Price alerts are evaluated on every tick of their instrument: the pipeline hands the ticks
//! of watched instruments to [`AlertEngine`] (a bounded queue; never blocking ingestion) and
//! the engine task steps each alert's trigger with the tick's values. Indicator alerts are
//! evaluated on every bar close of their (instrument, timeframe): the task looks for closes
//! every [`BAR_POLL`] and computes the indicators over the closed bars with the same code as
//! `/indicators/*`. What fires goes to the delivery task ([`deliver`]): recorded in the store
//! (the claim that makes one replica of several deliver it), sent to the owner's sockets on
//! every replica, and POSTed to the alert's webhook when it has one.
//!
//! Every replica loads the active alerts at start and looks for changes made elsewhere every
//! [`SYNC_EVERY`]; changes made through this replica apply at once.

pub(crate) mod deliver;
mod eval;
pub(crate) mod reminders;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use compact_str::CompactString;
use stocksblitz_alerts::{Condition, Kind, Repeat, Trigger};
use stocksblitz_market::{Tick, Timeframe};
use stocksblitz_store::alerts::AlertRow;
use tokio::sync::mpsc;

use crate::state::AppState;

/// How often indicator alerts look for bar closes.
pub(crate) const BAR_POLL: Duration = Duration::from_millis(250);
/// How often a replica reads alerts changed elsewhere.
pub(crate) const SYNC_EVERY: Duration = Duration::from_secs(2);
/// Ticks of watched instruments waiting for the engine (past it they are counted and dropped).
const TICK_QUEUE: usize = 65_536;
/// Newly closed bars evaluated per (instrument, timeframe) and look (a longer gap is caught up
/// to its newest bars only).
const MAX_NEW_BARS: usize = 10;

/// The values of one tick the evaluation reads.
#[derive(Debug, Clone)]
pub(crate) struct TickView {
    pub symbol: CompactString,
    pub ltp: f64,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub volume: Option<u64>,
    pub oi: Option<u64>,
    pub exchange_ts_ms: i64,
    pub recv_ts_ms: i64,
}

/// An alert being evaluated.
#[derive(Debug)]
struct Live {
    row: Arc<AlertRow>,
    cond: Condition,
    repeat: Repeat,
    trigger: Trigger,
}

#[derive(Debug, Default)]
struct Index {
    by_id: HashMap<i64, Live>,
    price: HashMap<CompactString, Vec<i64>>,
    indicator: HashMap<(CompactString, Timeframe), Vec<i64>>,
}

impl Index {
    fn remove(&mut self, id: i64) -> Option<Live> {
        let live = self.by_id.remove(&id)?;
        let sym = CompactString::from(live.row.symbol.as_str());
        let drop_id = |v: &mut Vec<i64>| v.retain(|x| *x != id);
        match live.cond.kind {
            Kind::Price => {
                if let Some(v) = self.price.get_mut(&sym) {
                    drop_id(v);
                    if v.is_empty() {
                        self.price.remove(&sym);
                    }
                }
            }
            Kind::Indicator => {
                let tf = timeframe_of(&live.row);
                if let Some(tf) = tf
                    && let Some(v) = self.indicator.get_mut(&(sym.clone(), tf))
                {
                    drop_id(v);
                    if v.is_empty() {
                        self.indicator.remove(&(sym, tf));
                    }
                }
            }
        }
        Some(live)
    }

    fn insert(&mut self, live: Live) {
        let id = live.row.alert_id;
        let sym = CompactString::from(live.row.symbol.as_str());
        match live.cond.kind {
            Kind::Price => self.price.entry(sym).or_default().push(id),
            Kind::Indicator => match timeframe_of(&live.row) {
                Some(tf) => self.indicator.entry((sym, tf)).or_default().push(id),
                None => return,
            },
        }
        self.by_id.insert(id, live);
    }
}

fn timeframe_of(row: &AlertRow) -> Option<Timeframe> {
    row.timeframe
        .as_deref()
        .and_then(|t| Timeframe::parse(t).ok())
}

fn kind_of(row: &AlertRow) -> Option<Kind> {
    match row.kind.as_str() {
        "price" => Some(Kind::Price),
        "indicator" => Some(Kind::Indicator),
        _ => None,
    }
}

/// Counters for `/metrics` and `/health`.
#[derive(Debug, Default)]
pub struct AlertStats {
    pub evaluations: AtomicU64,
    pub fired: AtomicU64,
    /// Firings another replica recorded first (delivered there).
    pub claimed_elsewhere: AtomicU64,
    pub ticks_dropped: AtomicU64,
    pub webhooks_delivered: AtomicU64,
    pub webhooks_failed: AtomicU64,
    pub delivery_errors: AtomicU64,
    /// Tick (receive time) to the event on this replica's sockets, in ms: sum and count.
    pub latency_ms_sum: AtomicU64,
    pub latency_count: AtomicU64,
}

/// A firing on its way to the store and the owner.
#[derive(Debug)]
pub(crate) struct Firing {
    pub row: Arc<AlertRow>,
    pub fire_no: i64,
    pub data: serde_json::Value,
    /// What the message says when the alert has none of its own.
    pub summary: String,
    /// Receive time of the tick that fired it (latency metric), when a tick did.
    pub tick_recv_ms: Option<i64>,
}

#[derive(Debug)]
pub struct AlertEngine {
    index: Mutex<Index>,
    /// Instruments with price alerts (what the tick hook forwards).
    watched: RwLock<HashSet<CompactString>>,
    ticks_tx: mpsc::Sender<TickView>,
    ticks_rx: Mutex<Option<mpsc::Receiver<TickView>>>,
    fires_tx: mpsc::UnboundedSender<Firing>,
    fires_rx: Mutex<Option<mpsc::UnboundedReceiver<Firing>>>,
    pub stats: AlertStats,
    /// Webhook deliveries (no redirects followed, a timeout per request).
    pub http: reqwest::Client,
}

impl AlertEngine {
    pub fn new() -> Arc<AlertEngine> {
        let (ticks_tx, ticks_rx) = mpsc::channel(TICK_QUEUE);
        let (fires_tx, fires_rx) = mpsc::unbounded_channel();
        Arc::new(AlertEngine {
            index: Mutex::default(),
            watched: RwLock::default(),
            ticks_tx,
            ticks_rx: Mutex::new(Some(ticks_rx)),
            fires_tx,
            fires_rx: Mutex::new(Some(fires_rx)),
            stats: AlertStats::default(),
            http: reqwest::Client::builder()
                .timeout(deliver::WEBHOOK_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        })
    }

    /// Alerts being evaluated (price, indicator).
    pub fn counts(&self) -> (usize, usize) {
        self.index.lock().map_or((0, 0), |ix| {
            let price = ix
                .by_id
                .values()
                .filter(|l| l.cond.kind == Kind::Price)
                .count();
            (price, ix.by_id.len() - price)
        })
    }

    /// Take `row` into account: evaluate it when active, stop evaluating it otherwise. The
    /// trigger state of an alert already evaluated is kept (it is the same alert).
    pub fn upsert(&self, row: AlertRow) {
        let Ok(mut ix) = self.index.lock() else {
            return;
        };
        let id = row.alert_id;
        let previous = ix.remove(id);
        if row.status != "active" {
            drop(ix);
            self.refresh_watched();
            return;
        }
        let Some(kind) = kind_of(&row) else {
            tracing::warn!(alert = id, kind = %row.kind, "alert of an unknown kind not evaluated");
            return;
        };
        let cond = match stocksblitz_alerts::parse(&row.condition, kind) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(alert = id, error = %e, "stored alert condition does not parse; not evaluated");
                return;
            }
        };
        // An alert already evaluated keeps its own state: every replica sees the same ticks,
        // so their firing numbers agree; taking the store's count (another replica may have
        // recorded a firing this one has not evaluated yet) would number this replica's next
        // firing past it and deliver that crossing twice.
        let trigger = match previous {
            Some(p) => p.trigger,
            None => Trigger::resume(row.fired.max(0) as u64, row.last_fired_at),
        };
        let repeat = Repeat {
            repeating: row.repeating,
            cooldown_ms: row.cooldown_ms,
        };
        ix.insert(Live {
            row: Arc::new(row),
            cond,
            repeat,
            trigger,
        });
        drop(ix);
        self.refresh_watched();
    }

    /// Prime a new price alert's crossing on the instrument's current quote (see
    /// `eval::prime_price`); nothing when there is no quote yet.
    pub fn prime_from_quote(&self, alert_id: i64, quote: &stocksblitz_market::snapshot::Quote) {
        if let Ok(mut ix) = self.index.lock()
            && let Some(live) = ix.by_id.get_mut(&alert_id)
            && live.cond.kind == Kind::Price
        {
            eval::prime_price(live, quote);
        }
    }

    fn refresh_watched(&self) {
        let symbols: HashSet<CompactString> = self
            .index
            .lock()
            .map(|ix| ix.price.keys().cloned().collect())
            .unwrap_or_default();
        if let Ok(mut w) = self.watched.write() {
            *w = symbols;
        }
    }

    /// The pipeline's hook: forward ticks of instruments with price alerts (never blocks).
    pub fn on_ticks<'a>(&self, ticks: impl Iterator<Item = &'a Tick>) {
        let Ok(w) = self.watched.read() else {
            return;
        };
        if w.is_empty() {
            return;
        }
        for t in ticks {
            if !w.contains(&t.tradingsymbol) {
                continue;
            }
            let view = TickView {
                symbol: t.tradingsymbol.clone(),
                ltp: t.price,
                bid: t.bid,
                ask: t.ask,
                volume: t.volume,
                oi: t.oi,
                exchange_ts_ms: t.exchange_ts_ms,
                recv_ts_ms: t.recv_ts_ms,
            };
            if self.ticks_tx.try_send(view).is_err() {
                self.stats.ticks_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn fire(&self, f: Firing) {
        self.stats.fired.fetch_add(1, Ordering::Relaxed);
        let _ = self.fires_tx.send(f);
    }
}

/// Load every active alert (at start; a restart resumes where the store stands).
async fn load(state: &AppState) -> anyhow::Result<()> {
    let rows = state.store.alerts_in("active").await?;
    let n = rows.len();
    for row in rows {
        state.alerts.upsert(row);
    }
    tracing::info!(alerts = n, "alerts loaded");
    Ok(())
}

/// The engine task (supervised): ticks → price alerts, bar closes → indicator alerts, and the
/// changes other replicas made.
pub(crate) async fn run(state: Arc<AppState>) -> anyhow::Result<()> {
    let Some(mut ticks) = state.alerts.ticks_rx.lock().ok().and_then(|mut r| r.take()) else {
        anyhow::bail!("the alert engine runs once");
    };
    let result = engine_loop(&state, &mut ticks).await;
    // A restart of the task gets the queue back.
    if let Ok(mut r) = state.alerts.ticks_rx.lock() {
        *r = Some(ticks);
    }
    result
}

async fn engine_loop(
    state: &Arc<AppState>,
    ticks: &mut mpsc::Receiver<TickView>,
) -> anyhow::Result<()> {
    load(state).await?;
    let mut synced_at = crate::ingest::now_ms();
    let mut bars = tokio::time::interval(BAR_POLL);
    bars.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sync = tokio::time::interval(SYNC_EVERY);
    sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut closes = eval::BarCursor::default();
    let mut prev_close = eval::PrevClose::default();
    let mut batch = Vec::with_capacity(256);
    loop {
        tokio::select! {
            n = ticks.recv_many(&mut batch, 1024) => {
                if n == 0 {
                    anyhow::bail!("the tick queue closed");
                }
                eval::price_ticks(state, &mut prev_close, &batch).await;
                batch.clear();
            }
            _ = bars.tick() => {
                eval::bar_closes(state, &mut closes).await;
            }
            _ = sync.tick() => {
                let now = crate::ingest::now_ms();
                if let Err(e) = state.store.expire_alerts(now).await {
                    tracing::warn!(error = %e, "alert expiry failed");
                }
                // Overlap the window: a change committed while the last read ran is read again.
                match state.store.alerts_changed_since(synced_at - SYNC_EVERY.as_millis() as i64 * 2).await {
                    Ok(rows) => {
                        for row in rows {
                            state.alerts.upsert(row);
                        }
                        synced_at = now;
                    }
                    Err(e) => tracing::warn!(error = %e, "reading changed alerts failed"),
                }
            }
        }
    }
}

impl stocksblitz_engine::pipeline::TickObserver for AlertEngine {
    fn on_ticks(&self, ticks: &mut dyn Iterator<Item = &Tick>) {
        AlertEngine::on_ticks(self, ticks);
    }
}
