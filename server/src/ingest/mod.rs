//! Live ingestion: sources (Redis consumer of the legacy ticker, the built-in simulator, none)
//! feeding the engine's pipeline — decode, snapshot, 1-minute bars closed on a clock,
//! persistence.

pub mod redis_source;
pub mod simulator;
pub mod supervisor;

pub use stocksblitz_engine::now_ms;
pub use stocksblitz_engine::pipeline::{self, IngestStats, Pipeline};

/// Run the bar clock: every 250 ms close the bars that are due.
pub async fn run_clock(pipeline: std::sync::Arc<Pipeline>) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        pipeline.on_clock(now_ms());
    }
}
