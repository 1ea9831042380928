//! The response cache shared by every object of one client: per-kind time to live, bounded size,
//! cleared on demand. Values are shared (`Arc`), so a hit copies nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Most entries kept; beyond it expired entries are dropped, then everything.
pub const MAX_ENTRIES: usize = 4096;

/// What a response is, for its time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Quotes: about a second.
    Quote,
    /// Candles and indicator values: until the next tick could change them (a second).
    Bars,
    /// Registry, definitions, expiries: minutes.
    Static,
}

impl Kind {
    pub fn ttl(self) -> Duration {
        match self {
            Kind::Quote | Kind::Bars => Duration::from_secs(1),
            Kind::Static => Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
pub struct Cache {
    map: Mutex<HashMap<String, (Instant, Arc<Value>)>>,
}

impl Cache {
    pub fn get(&self, key: &str) -> Option<Arc<Value>> {
        let map = self.map.lock().ok()?;
        match map.get(key) {
            Some((until, v)) if *until > Instant::now() => Some(v.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: String, kind: Kind, value: Arc<Value>) {
        let Ok(mut map) = self.map.lock() else { return };
        let now = Instant::now();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (until, _)| *until > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (now + kind.ttl(), value));
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
