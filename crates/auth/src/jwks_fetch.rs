//! An external identity provider's keys (`USER_SERVICE_URL`): its JWKS
//! (`{url}/v1/auth/.well-known/jwks.json`) fetched by a background task, honouring `max-age`,
//! refetched when a token names an unknown `kid` — the request waits (bounded, single-flight:
//! every waiter shares one fetch) and is verified again, so a rotated key works on first use;
//! the budget of such refetches keeps forged kids from hammering the provider — and kept
//! (reported `stale`) while the provider is down. The when-to-fetch policy is
//! [`crate::jwks_cache`]; this is the fetching.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use crate::jwks_cache::{JwksPolicy, JwksState, max_age_ms};
use crate::jwt::KeySet;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Largest JWKS document accepted (bytes).
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug)]
pub struct RemoteJwks {
    /// The JWKS URL.
    pub jwks_url: String,
    keys: RwLock<KeySet>,
    policy: Mutex<JwksPolicy>,
    wake: tokio::sync::Notify,
    /// Fetch attempts completed (success or failure): waiters watch it.
    generation: tokio::sync::watch::Sender<u64>,
    /// A fetch was asked for and has not completed yet.
    pending: AtomicBool,
    pub fetches: AtomicU64,
    pub fetch_errors: AtomicU64,
}

impl RemoteJwks {
    /// `base` is the provider's URL (`http://idp:8001`).
    pub fn new(base: &str) -> Result<RemoteJwks, String> {
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "USER_SERVICE_URL must be an http(s):// URL, got {base:?}"
            ));
        }
        Ok(RemoteJwks {
            jwks_url: format!("{base}/v1/auth/.well-known/jwks.json"),
            keys: RwLock::new(KeySet::default()),
            policy: Mutex::new(JwksPolicy::default()),
            wake: tokio::sync::Notify::new(),
            generation: tokio::sync::watch::Sender::new(0),
            pending: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
            fetch_errors: AtomicU64::new(0),
        })
    }

    pub fn state(&self) -> JwksState {
        self.policy
            .lock()
            .map_or(JwksState::Missing, |p| p.state(now_ms()))
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.read().is_ok_and(|k| k.contains(kid))
    }

    /// Run `f` over the provider's keys.
    pub fn with_keys<T>(&self, f: impl FnOnce(&KeySet) -> T) -> Option<T> {
        self.keys.read().ok().map(|k| f(&k))
    }

    /// A token named `kid`, which nobody knows: ask for a refetch (within the budget; a fetch
    /// already on its way is shared) and wait up to `wait` for it. True when the key is known
    /// then.
    pub async fn await_kid(&self, kid: &str, wait: Duration) -> bool {
        if self.contains(kid) {
            return true;
        }
        let mut rx = self.generation.subscribe();
        let seen = *rx.borrow();
        let requested = if self.pending.load(Ordering::SeqCst) {
            true
        } else {
            let allowed = self
                .policy
                .lock()
                .is_ok_and(|mut p| p.allow_unknown_kid_refetch(now_ms()));
            if allowed {
                self.pending.store(true, Ordering::SeqCst);
                self.wake.notify_one();
            }
            allowed
        };
        if !requested {
            return false;
        }
        let _ = tokio::time::timeout(wait, rx.wait_for(|g| *g > seen)).await;
        self.contains(kid)
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<usize, String> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let resp = http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        let max_age = resp
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age_ms);
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err("JWKS document too large".into());
        }
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("JWKS document too large".into());
        }
        let text = std::str::from_utf8(&body).map_err(|_| "JWKS is not UTF-8".to_string())?;
        let keys = KeySet::from_jwks_json(text).map_err(|e| e.0)?;
        let n = keys.len();
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        if let Ok(mut p) = self.policy.lock() {
            p.on_success(now_ms(), max_age);
        }
        Ok(n)
    }

    /// The fetch loop: at start, when the cache lifetime ends, and when woken by an unknown kid;
    /// failures back off (1 s doubling to 30 s) and keep the last good keys.
    pub async fn run(self: std::sync::Arc<Self>) -> Result<(), reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let mut backoff = Duration::ZERO;
        let mut woken = true;
        loop {
            let due = woken || self.policy.lock().map_or(true, |p| p.refresh_due(now_ms()));
            if due {
                let outcome = self.fetch(&http).await;
                self.pending.store(false, Ordering::SeqCst);
                self.generation.send_modify(|g| *g += 1);
                match outcome {
                    Ok(n) => {
                        backoff = Duration::ZERO;
                        tracing::info!(url = %self.jwks_url, keys = n, "external JWKS fetched");
                    }
                    Err(e) => {
                        self.fetch_errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut p) = self.policy.lock() {
                            p.on_failure(now_ms());
                        }
                        backoff =
                            (backoff * 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
                        tracing::warn!(url = %self.jwks_url, error = %e, retry_in_s = backoff.as_secs(), state = self.state().as_str(), "external JWKS fetch failed; keeping the last keys");
                    }
                }
            }
            let pause = backoff.max(Duration::from_secs(1));
            woken = tokio::select! {
                () = self.wake.notified() => true,
                () = tokio::time::sleep(pause) => false,
            };
        }
    }
}
