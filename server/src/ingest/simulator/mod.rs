//! The built-in market simulator as a task. The walk, the book and the payloads are the market
//! crate's (`stocksblitz_market::sim`, pure); this runs it on the exchange clock (the demo
//! clock under `--demo-clock`), continues from the stored history, and delivers rounds into
//! the pipeline or to Redis (so several replicas share one feed).
//!
//! At start it looks at the stored history of the last `--backfill-days` sessions (and back
//! to the last stored minute, up to five sessions, so downtime is filled even with no
//! back-fill): holes inside it are bridged from the price before to the price after; the
//! stretch from the last stored minute to now is walked from the stored prices, its minute in
//! progress starts the forming bars, and live rounds continue the same walk. The minutes are
//! written by a background writer (oldest first, whole minutes per transaction, skipping any
//! bar already stored) while live ticks already flow. A jump of the clock (`POST
//! /admin/clock`) is caught up the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::NaiveDate;
use stocksblitz_market::session::{Session, ist_date, next_session_instant, session_window_ms};
use stocksblitz_market::sim::{self, Fill, Resume, Simulator, UNDERLYINGS};
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::Store;
use stocksblitz_symbols::{Calendar, find_index};
use tokio::sync::mpsc;

use super::Pipeline;
use crate::clock::TradingClock;

mod history;
pub use history::stored_history_end;
use history::*;

/// How the simulator delivers its payloads.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Straight into this process's pipeline.
    Pipeline(Arc<Pipeline>),
    /// PUBLISH to Redis in the legacy formats (the Redis source consumes them).
    Redis(String),
}

/// The simulator's settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// Time between live rounds (wall time).
    pub interval: Duration,
    /// Sessions of history to have before today (0: none, only downtime is filled).
    pub backfill_days: usize,
}

/// Most trading sessions back a restart fills (a store last written long ago is not walked
/// through month by month).
const MAX_CATCH_UP_SESSIONS: usize = 5;
/// Minutes per write (one transaction): about 5,000 bars.
const MINUTES_PER_CHUNK: usize = 15;

/// The index tradingsymbols of the simulated underlyings (`NIFTY 50`, …) with their names.
fn indices() -> Vec<(&'static str, &'static str)> {
    UNDERLYINGS
        .iter()
        .filter_map(|u| find_index(u.name).map(|i| (u.name, i.display)))
        .collect()
}

/// Run the live simulator: plan and hand over the history, then a round every `interval`
/// during the session (always on the demo clock). One round is emitted at start so that quotes
/// exist at once.
pub async fn run(
    opts: Options,
    sink: Sink,
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: Arc<TradingClock>,
) -> anyhow::Result<()> {
    let now = clock.now();
    // The live feed does not wait for the store: without its history the walk starts afresh.
    let plan = match tokio::time::timeout(
        Duration::from_secs(10),
        plan(&store, now, opts.backfill_days),
    )
    .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the stored history: the simulator starts afresh, history not continued");
            Plan::fresh(now)
        }
        Err(_) => {
            tracing::warn!(
                "the store did not answer within 10 s: the simulator starts afresh, history not continued"
            );
            Plan::fresh(now)
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_history(rx, store.clone(), pipeline.clone()));
    let _abort = AbortOnDrop(writer);
    for (start, to, end) in &plan.holes {
        let fill = sim::bridge(opts.seed, start, *to, end);
        announce(&fill, "a hole in the stored history");
        pipeline
            .stats
            .backfill
            .minutes_total
            .fetch_add(fill.minutes() as u64, Ordering::Relaxed);
        pipeline
            .stats
            .backfill
            .pending
            .fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(Arc::new(fill));
    }
    let mut sim = Simulator::resume(opts.seed, &plan.tail);
    catch_up(&mut sim, now, &pipeline, &tx);
    pipeline
        .stats
        .backfill
        .planned
        .store(true, Ordering::Relaxed);
    tracing::info!(
        instruments = sim.listed().len(),
        interval_ms = opts.interval.as_millis() as u64,
        holes = plan.holes.len(),
        resumed_from = plan.tail.at_ms,
        "simulator ready"
    );
    let mut redis = match &sink {
        Sink::Redis(url) => Some(
            redis::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?,
        ),
        Sink::Pipeline(_) => None,
    };
    // A gap beyond this (session seconds) is a jump of the clock, walked minute by minute.
    let step_secs = opts.interval.as_secs_f64() * clock.speed();
    let jump_secs = (3.0 * step_secs).max(10.0);
    let session = Session::exchange();
    let mut ticker = tokio::time::interval(opts.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first = true;
    loop {
        ticker.tick().await;
        let now = clock.now();
        if !first && !session.is_open(now.div_euclid(1000)) {
            continue;
        }
        first = false;
        if sim.lag_secs(now) > jump_secs {
            // Close what is forming: the walk through the skipped minutes continues it.
            pipeline.flush_open_bars();
            catch_up(&mut sim, now, &pipeline, &tx);
        }
        let payloads = sim.round(now);
        let recv = super::now_ms();
        match (&sink, redis.as_mut()) {
            (Sink::Pipeline(p), _) => {
                p.ingest_batch(payloads.iter().map(|(_, b)| b.as_slice()), recv);
            }
            (Sink::Redis(_), Some(conn)) => {
                let mut pipe = redis::pipe();
                for (channel, bytes) in &payloads {
                    pipe.cmd("PUBLISH")
                        .arg(channel)
                        .arg(bytes.as_slice())
                        .ignore();
                }
                pipe.query_async::<()>(conn).await?;
            }
            (Sink::Redis(_), None) => anyhow::bail!("no Redis connection"),
        }
    }
}

/// Ends the writer when the simulator task ends (a restart plans again from the store).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_back_counts_trading_days() {
        let at = |d: u32, h: i64| {
            stocksblitz_market::session::ist_midnight_ms(
                NaiveDate::from_ymd_opt(2026, 12, d).unwrap(),
            ) + h * 3_600_000
        };
        // Wednesday 2 Dec 2026 noon: one session back is Tuesday's open, three is Friday's.
        assert_eq!(sessions_back(at(2, 12), 0), at(2, 12));
        assert_eq!(sessions_back(at(2, 12), 1), at(1, 9) + 15 * 60_000);
        let fri = stocksblitz_market::session::ist_midnight_ms(
            NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        ) + 9 * 3_600_000
            + 15 * 60_000;
        assert_eq!(sessions_back(at(2, 12), 3), fri);
    }
}
