//! Live ingestion: sources (Redis consumer of the legacy ticker, the built-in simulator, none)
//! feeding one pipeline — decode, snapshot, 1-minute bars closed on a clock, persistence.

pub mod pipeline;
pub mod redis_source;
pub mod simulator;
pub mod supervisor;

pub use pipeline::{IngestStats, Pipeline};

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
