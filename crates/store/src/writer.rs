//! The bar writer: a task that batches bars into one transaction per flush, keeps them in a
//! bounded buffer while the database is unreachable, retries with backoff, and reports what it
//! did. Nothing is dropped silently: overflow is counted and logged.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stocksblitz_market::Bar;
use tokio::sync::{mpsc, oneshot};

use crate::Store;

/// Writer settings.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Longest a bar waits before a flush. Zero (the default) is group commit: a write starts
    /// as soon as bars arrive, and what arrives during a write goes into the next one — the
    /// least latency when idle, large batches under load.
    pub flush_interval: Duration,
    /// Rows per transaction.
    pub max_batch: usize,
    /// After an urgent transaction, how long the batch queued behind it waits: the readers
    /// woken by the urgent commit (live streams) get the CPU and the database first, instead of
    /// racing a large write. Those bars are served from memory meanwhile; a flush or another
    /// urgent write ends the wait.
    pub defer_after_urgent: Duration,
    /// Bars held while the database is down; beyond it the oldest are dropped (and counted).
    pub max_buffer: usize,
    /// Retry backoff bounds.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            flush_interval: Duration::ZERO,
            max_batch: 5000,
            defer_after_urgent: Duration::from_millis(25),
            max_buffer: 1_000_000,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Counters of the writer (shared with /health and /metrics).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Bars handed to the writer since start (each [`BarWriter::write`] returns the running total).
    pub queued: AtomicU64,
    pub rows_written: AtomicU64,
    pub batches: AtomicU64,
    pub failures: AtomicU64,
    pub dropped: AtomicU64,
    pub buffered: AtomicU64,
    /// Duration of the last successful batch, microseconds.
    pub last_batch_us: AtomicU64,
    /// Sum of batch durations (µs), for a mean.
    pub batch_us_total: AtomicU64,
}

enum Msg {
    /// Bars, and whether they are urgent: written in a transaction of their own, ahead of
    /// anything queued after them.
    Bars(Vec<Bar>, bool),
    Flush(oneshot::Sender<usize>),
}

/// Handle to the writer task (cheap to clone).
#[derive(Debug, Clone)]
pub struct BarWriter {
    tx: mpsc::UnboundedSender<Msg>,
    stats: Arc<WriterStats>,
    /// The settled count ([`BarWriter::settled`]), changed after every write.
    settled: tokio::sync::watch::Receiver<u64>,
    /// Numbers bars in the order they enter the channel (the task writes them in that order).
    order: Arc<std::sync::Mutex<()>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Bars(b, urgent) => write!(f, "Bars({}, urgent: {urgent})", b.len()),
            Msg::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl BarWriter {
    /// Start the writer task on the current tokio runtime.
    pub fn spawn(store: Store, cfg: WriterConfig) -> (BarWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(WriterStats::default());
        let (settled_tx, settled) = tokio::sync::watch::channel(0);
        let task = tokio::spawn(run(store, cfg, rx, stats.clone(), settled_tx));
        let order = Arc::new(std::sync::Mutex::new(()));
        (
            BarWriter {
                tx,
                stats,
                settled,
                order,
            },
            task,
        )
    }

    /// Queue bars for writing (never blocks). Returns their ticket: they are settled (stored,
    /// or dropped and counted) once [`BarWriter::settled`] reaches it.
    pub fn write(&self, bars: Vec<Bar>) -> u64 {
        self.send(bars, false)
    }

    /// Queue bars someone is waiting for (a live stream reports their close once stored):
    /// they go into a small transaction of their own, started at once, instead of joining a
    /// large batch — a one-row commit takes about a millisecond where the minute's batch of
    /// every instrument takes tens. Same ticket rule as [`BarWriter::write`].
    pub fn write_urgent(&self, bars: Vec<Bar>) -> u64 {
        self.send(bars, true)
    }

    fn send(&self, bars: Vec<Bar>, urgent: bool) -> u64 {
        let n = bars.len() as u64;
        let _order = self.order.lock();
        let ticket = self.stats.queued.fetch_add(n, Ordering::Relaxed) + n;
        if n > 0 && self.tx.send(Msg::Bars(bars, urgent)).is_err() {
            tracing::error!("bar writer has stopped; bars not queued");
        }
        ticket
    }

    /// How many of the queued bars are settled: written, or dropped when the buffer overflowed.
    /// Bars are written in queue order, so every ticket up to this is settled.
    pub fn settled(&self) -> u64 {
        self.stats.rows_written.load(Ordering::Acquire) + self.stats.dropped.load(Ordering::Acquire)
    }

    /// Write everything queued so far, waiting up to `timeout`; returns the bars still
    /// buffered (0 when all are stored).
    pub async fn flush(&self, timeout: Duration) -> usize {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_err() {
            return self.stats.buffered.load(Ordering::Relaxed) as usize;
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(left)) => left,
            _ => self.stats.buffered.load(Ordering::Relaxed) as usize,
        }
    }

    pub fn stats(&self) -> &Arc<WriterStats> {
        &self.stats
    }

    /// Changes whenever bars are settled: wait on it to report stored bars without polling.
    pub fn watch_settled(&self) -> tokio::sync::watch::Receiver<u64> {
        self.settled.clone()
    }
}

async fn run(
    store: Store,
    cfg: WriterConfig,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    stats: Arc<WriterStats>,
    settled: tokio::sync::watch::Sender<u64>,
) {
    let announce = |stats: &WriterStats| {
        let n = stats.rows_written.load(Ordering::Acquire) + stats.dropped.load(Ordering::Acquire);
        settled.send_if_modified(|v| std::mem::replace(v, n) != n);
    };
    let mut buffer: VecDeque<Bar> = VecDeque::new();
    // Where transactions must end (buffer positions just past each urgent message), ascending.
    let mut cuts: VecDeque<usize> = VecDeque::new();
    let mut waiters: Vec<oneshot::Sender<usize>> = Vec::new();
    let mut backoff = cfg.min_backoff;
    let mut failing_since: Option<Instant> = None;
    let mut next_try = Instant::now();
    loop {
        let wait = if buffer.is_empty() {
            Duration::from_secs(3600)
        } else {
            next_try
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        let first = tokio::select! {
            m = rx.recv() => m,
            () = tokio::time::sleep(wait) => Some(Msg::Bars(Vec::new(), false)),
        };
        // Everything already queued joins this round (group commit).
        let mut msgs = vec![first];
        while msgs.len() < 10_000 {
            match rx.try_recv() {
                Ok(m) => msgs.push(Some(m)),
                Err(_) => break,
            }
        }
        for msg in msgs {
            match msg {
                None => {
                    // All handles dropped: final attempts, then stop.
                    for _ in 0..5 {
                        if buffer.is_empty()
                            || write_some(&store, &cfg, &mut buffer, &mut cuts, &stats)
                                .await
                                .is_err()
                        {
                            break;
                        }
                    }
                    if !buffer.is_empty() {
                        tracing::error!(
                            bars = buffer.len(),
                            "bar writer stopping with bars not stored"
                        );
                    }
                    return;
                }
                Some(Msg::Flush(w)) => {
                    waiters.push(w);
                    next_try = Instant::now();
                }
                Some(Msg::Bars(bars, urgent)) => {
                    if !bars.is_empty() {
                        if failing_since.is_none() {
                            if urgent {
                                next_try = Instant::now();
                            } else if buffer.is_empty() {
                                next_try = Instant::now() + cfg.flush_interval;
                            }
                        }
                        buffer.extend(bars);
                        if urgent {
                            cuts.push_back(buffer.len());
                        }
                        let over = buffer.len().saturating_sub(cfg.max_buffer);
                        if over > 0 {
                            buffer.drain(..over);
                            shift(&mut cuts, over);
                            let total = stats.dropped.fetch_add(over as u64, Ordering::Release)
                                + over as u64;
                            tracing::error!(
                                dropped = over,
                                dropped_total = total,
                                bound = cfg.max_buffer,
                                "bar buffer full: oldest bars dropped"
                            );
                        }
                        if buffer.len() >= cfg.max_batch && failing_since.is_none() {
                            next_try = Instant::now();
                        }
                    }
                }
            }
        }
        announce(&stats);
        stats.buffered.store(buffer.len() as u64, Ordering::Relaxed);
        if buffer.is_empty() || Instant::now() < next_try {
            if buffer.is_empty() {
                for w in waiters.drain(..) {
                    let _ = w.send(0);
                }
            }
            continue;
        }
        // Drain what is due, batch by batch.
        loop {
            match write_some(&store, &cfg, &mut buffer, &mut cuts, &stats).await {
                Ok(urgent) => {
                    if let Some(since) = failing_since.take() {
                        tracing::info!(
                            down_for_ms = since.elapsed().as_millis() as u64,
                            "database writes recovered"
                        );
                    }
                    backoff = cfg.min_backoff;
                    // Each transaction announced as it commits: an urgent one is not held
                    // back by the batch behind it.
                    announce(&stats);
                    if buffer.is_empty() {
                        break;
                    }
                    if urgent && !cfg.defer_after_urgent.is_zero() && waiters.is_empty() {
                        next_try = Instant::now() + cfg.defer_after_urgent;
                        break;
                    }
                }
                Err(e) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    if failing_since.is_none() {
                        failing_since = Some(Instant::now());
                        tracing::warn!(error = %e, buffered = buffer.len(), "bar write failed; buffering and retrying");
                    } else {
                        tracing::debug!(error = %e, buffered = buffer.len(), "bar write retry failed");
                    }
                    next_try = Instant::now() + backoff;
                    backoff = (backoff * 2).min(cfg.max_backoff);
                    break;
                }
            }
        }
        stats.buffered.store(buffer.len() as u64, Ordering::Relaxed);
        announce(&stats);
        if buffer.is_empty() {
            for w in waiters.drain(..) {
                let _ = w.send(0);
            }
        } else if failing_since.is_some() {
            for w in waiters.drain(..) {
                let _ = w.send(buffer.len());
            }
        }
    }
}

/// The buffer lost its first `n` bars: move the cuts with it (those passed are gone).
fn shift(cuts: &mut VecDeque<usize>, n: usize) {
    while cuts.front().is_some_and(|&c| c <= n) {
        cuts.pop_front();
    }
    for c in cuts.iter_mut() {
        *c -= n;
    }
}

/// One transaction: the buffer's front up to the batch size or the first cut, whichever is
/// nearer. Ok(true) when it ended at a cut (an urgent write).
async fn write_some(
    store: &Store,
    cfg: &WriterConfig,
    buffer: &mut VecDeque<Bar>,
    cuts: &mut VecDeque<usize>,
    stats: &WriterStats,
) -> Result<bool, crate::StoreError> {
    let cut = cuts.front().copied().unwrap_or(usize::MAX);
    let n = buffer.len().min(cfg.max_batch).min(cut);
    let batch: Vec<Bar> = buffer.iter().take(n).cloned().collect();
    let t = Instant::now();
    store.upsert_bars(&batch).await?;
    let us = t.elapsed().as_micros() as u64;
    buffer.drain(..n);
    shift(cuts, n);
    stats.rows_written.fetch_add(n as u64, Ordering::Release);
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.last_batch_us.store(us, Ordering::Relaxed);
    stats.batch_us_total.fetch_add(us, Ordering::Relaxed);
    Ok(n == cut)
}
