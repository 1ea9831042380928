//! Supervised tasks: a task that fails or panics is logged, counted and restarted with
//! backoff; its state is visible in /health.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What /health shows about one task.
#[derive(Debug, Default)]
pub struct TaskHealth {
    pub running: AtomicBool,
    pub restarts: AtomicU64,
    pub last_error: std::sync::Mutex<Option<String>>,
}

/// Spawn `make()` and restart it whenever it returns an error or panics.
pub fn supervise<F, Fut>(
    name: &'static str,
    make: F,
) -> (Arc<TaskHealth>, tokio::task::JoinHandle<()>)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let health = Arc::new(TaskHealth::default());
    let h = health.clone();
    let handle = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(200);
        loop {
            h.running.store(true, Ordering::Relaxed);
            let outcome = tokio::spawn(make()).await;
            h.running.store(false, Ordering::Relaxed);
            let error = match outcome {
                Ok(Ok(())) => {
                    tracing::info!(task = name, "task finished");
                    return;
                }
                Ok(Err(e)) => format!("{e:#}"),
                Err(join) if join.is_panic() => "panicked".to_string(),
                Err(join) => format!("{join}"),
            };
            let n = h.restarts.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(task = name, error = %error, restarts = n, backoff_ms = backoff.as_millis() as u64, "task failed; restarting");
            if let Ok(mut e) = h.last_error.lock() {
                *e = Some(error);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    });
    (health, handle)
}
