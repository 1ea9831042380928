//! The background tasks of a server, as one table: each row names a task, says when it runs
//! (the live source, Redis configured, an external identity provider) and how to make it. Every
//! task is supervised (restarted when it fails, its health in `/health`).

use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{Config, Source};
use crate::ingest::simulator::{self, Sink};
use crate::ingest::supervisor::{TaskHealth, supervise};
use crate::state::AppState;
use crate::{alerts, ingest, order_feed, routes, trading};

/// The tasks started, for `/health` and for stopping them.
pub(super) struct Tasks(Vec<(&'static str, Arc<TaskHealth>, tokio::task::JoinHandle<()>)>);

impl Tasks {
    fn add(
        &mut self,
        name: &'static str,
        (health, handle): (Arc<TaskHealth>, tokio::task::JoinHandle<()>),
    ) {
        self.0.push((name, health, handle));
    }

    pub(super) fn abort_all(&self) {
        for (_, _, handle) in &self.0 {
            handle.abort();
        }
    }
}

/// Start every task this configuration asks for; their health goes into the state.
pub(super) fn start(cfg: &Config, state: &Arc<AppState>, source: Source) -> anyhow::Result<Tasks> {
    let mut t = Tasks(Vec::new());
    let redis = cfg.redis_url.clone().map(|u| (u, cfg.redis_prefix.clone()));

    // Paper trading: snapshots of strategies, the matching loop, order updates.
    let (st, every) = (
        state.clone(),
        std::time::Duration::from_secs(cfg.strategy_snapshot_secs),
    );
    t.add(
        "strategy_snapshots",
        supervise("strategy_snapshots", move || {
            routes::strategies::performance::run_snapshots(st.clone(), every)
        }),
    );
    let st = state.clone();
    t.add(
        "trading",
        supervise("trading", move || trading::run(st.clone())),
    );
    // Order updates: this replica's to its sockets (and Redis); the others' from Redis.
    let (st, r) = (state.clone(), redis.clone());
    tokio::spawn(async move {
        if let Err(e) = order_feed::run(st, r).await {
            tracing::error!(error = %e, "order feed stopped");
        }
    });
    if let Some((url, prefix)) = redis.clone() {
        let st = state.clone();
        t.add(
            "order_updates",
            supervise("order_updates", move || {
                order_feed::run_subscriber(st.clone(), url.clone(), prefix.clone())
            }),
        );
    }

    // Alerts: evaluation, reminders, delivery, and the per-user feed across replicas.
    let st = state.clone();
    t.add(
        "alerts",
        supervise("alerts", move || alerts::run(st.clone())),
    );
    let st = state.clone();
    t.add(
        "reminders",
        supervise("reminders", move || alerts::reminders::run(st.clone())),
    );
    let st = state.clone();
    t.add(
        "alert_delivery",
        supervise("alert_delivery", move || alerts::deliver::run(st.clone())),
    );
    if let Some((url, prefix)) = redis.clone() {
        let feed = state.user_feed.clone();
        let (u, p, f) = (url.clone(), prefix.clone(), feed.clone());
        t.add(
            "user_events_out",
            supervise("user_events_out", move || {
                f.clone().run_publisher(u.clone(), p.clone())
            }),
        );
        t.add(
            "user_events_in",
            supervise("user_events_in", move || {
                feed.clone().run_subscriber(url.clone(), prefix.clone())
            }),
        );
    }

    // Identity: revocations from other replicas, the external provider's keys.
    if let Some(sh) = state.identity.shared.clone() {
        let id = state.identity.clone();
        t.add(
            "revocations",
            supervise("revocations", move || sh.clone().run_subscriber(id.clone())),
        );
    }
    if let Some(ext) = state.identity.jwt.remote() {
        t.add(
            "jwks",
            supervise("jwks", move || {
                let ext = ext.clone();
                async move { ext.run().await.map_err(anyhow::Error::from) }
            }),
        );
    }

    // Market data: the bar clock, and the live source.
    let p = state.pipeline.clone();
    t.add(
        "bar_clock",
        supervise("bar_clock", move || ingest::run_clock(p.clone())),
    );
    if source == Source::Simulator {
        simulator_task(&mut t, cfg, state, cfg.redis_url.clone());
    }
    // The simulator publishing to Redis is consumed back like the legacy ticker.
    if let Some(url) = cfg.redis_url.clone()
        && source != Source::None
    {
        redis_consumer_task(&mut t, cfg, state, url)?;
    }
    if let Ok(mut health) = state.tasks.lock() {
        health.extend(t.0.iter().map(|(name, h, _)| (*name, h.clone())));
    }
    Ok(t)
}

/// The built-in simulator: its ticks through Redis when configured (other replicas see them),
/// else straight into this pipeline.
fn simulator_task(t: &mut Tasks, cfg: &Config, state: &Arc<AppState>, redis_url: Option<String>) {
    let pipeline = state.pipeline.clone();
    let sink = if let Some(url) = redis_url {
        Sink::Redis(url)
    } else {
        pipeline
            .stats
            .connected
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Sink::Pipeline(pipeline.clone())
    };
    let opts = simulator::Options {
        seed: cfg.seed,
        interval: std::time::Duration::from_millis(cfg.tick_interval_ms),
        backfill_days: cfg.backfill_days as usize,
    };
    let (st, c) = (state.store.clone(), state.clock.clone());
    t.add(
        "simulator",
        supervise("simulator", move || {
            simulator::run(
                opts.clone(),
                sink.clone(),
                st.clone(),
                pipeline.clone(),
                c.clone(),
            )
        }),
    );
}

/// The consumer of the legacy ticker's channels, feeding the pipeline through a bounded queue.
fn redis_consumer_task(
    t: &mut Tasks,
    cfg: &Config,
    state: &Arc<AppState>,
    url: String,
) -> anyhow::Result<()> {
    let queue = ingest::redis_source::IngestQueue::start(
        state.pipeline.clone(),
        usize::try_from(cfg.ingest_queue_bytes).unwrap_or(usize::MAX),
    )
    .context("cannot start the ingest thread")?;
    let pattern = cfg.redis_pattern.clone();
    t.add(
        "redis_consumer",
        supervise("redis_consumer", move || {
            ingest::redis_source::run(url.clone(), pattern.clone(), queue.clone())
        }),
    );
    Ok(())
}
