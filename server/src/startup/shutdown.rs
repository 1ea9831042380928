//! Stopping: the signal that starts it, and the orderly steps once the listeners are done.

use std::sync::Arc;

use super::tasks::Tasks;
use crate::state::AppState;

/// Longest each shutdown step after the bar flush may take.
pub(crate) const SHUTDOWN_STEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Stop the tasks, store the open bars, hand the trading shards over, close the store.
pub(super) async fn shutdown(state: &Arc<AppState>, tasks: &Tasks) {
    tasks.abort_all();
    let pipeline = &state.pipeline;
    let open = pipeline.flush_open_bars();
    let left = pipeline
        .writer()
        .flush(std::time::Duration::from_secs(10))
        .await;
    if left > 0 {
        tracing::error!(bars = left, "shutdown: bars could not be stored");
    } else {
        tracing::info!(open_bars_flushed = open, "shutdown: all bars stored");
    }
    // Hand the trading shards over at once (another replica need not wait for the leases).
    // Bounded, like the rest of the shutdown: a database that hangs must not keep the process
    // alive (the leases then expire on their own).
    match tokio::time::timeout(SHUTDOWN_STEP, state.trading.release_all()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "shutdown: trading leases not released"),
        Err(_) => tracing::warn!("shutdown: trading leases not released within 5 s"),
    }
    if tokio::time::timeout(SHUTDOWN_STEP, state.store.close())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: the database connections did not close within 5 s");
    }
    tracing::info!("stocksblitz-server stopped");
}

/// A receiver that turns true on SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are
/// registered before this returns.
pub(super) fn stop_signal() -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
            }
            let _ = tx.send(true);
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received, shutting down");
            let _ = tx.send(true);
        }
    });
    Ok(rx)
}

/// Resolves once [`stop_signal`]'s receiver turns true.
pub(super) async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|&v| v).await;
}
