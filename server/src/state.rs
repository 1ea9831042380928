//! Shared application state handed to every handler.

use std::time::Instant;

use stocksblitz_store::Store;

use crate::metrics::Metrics;

#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub started: Instant,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            store,
            started: Instant::now(),
            metrics: Metrics::default(),
        }
    }
}
