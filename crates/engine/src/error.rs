//! The engine's one error type: what went wrong, for the adapters (HTTP, bindings) to map.

use stocksblitz_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store did not answer (or refused a write).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An indicator could not be computed over a well-formed series: a fault of ours, never
    /// of the request (ids are validated when parsed).
    #[error("computing {id}: {reason}")]
    Compute { id: String, reason: String },
    /// The in-memory snapshot cannot be read (its lock was poisoned by a panic).
    #[error("the market snapshot is unavailable")]
    SnapshotUnavailable,
    /// A read window that cannot hold anything (`from` after `to`).
    #[error("from must not be after to ({from} > {to})")]
    EmptyWindow { from: i64, to: i64 },
    /// A relative strike asked of an underlying not quoted yet.
    #[error("no live price for {underlying} yet: a relative strike cannot be resolved")]
    NoSpot { underlying: String },
    /// An instrument spec that names nothing listed (an expiry past those listed, say).
    #[error(transparent)]
    Spec(#[from] stocksblitz_symbols::SpecError),
}
