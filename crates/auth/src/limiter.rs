//! The failed-login limiter: at most 5 failures per (email, IP) and 50 per IP in a sliding
//! 15-minute window; successes do not count. In-process; the server swaps in Redis for several
//! replicas.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub const WINDOW_MS: i64 = 15 * 60 * 1000;
pub const PER_EMAIL_IP: usize = 5;
pub const PER_IP: usize = 50;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    inner: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    by_pair: HashMap<(String, String), VecDeque<i64>>,
    by_ip: HashMap<String, VecDeque<i64>>,
}

fn prune(q: &mut VecDeque<i64>, now: i64) {
    while q.front().is_some_and(|t| *t <= now - WINDOW_MS) {
        q.pop_front();
    }
}

impl LoginLimiter {
    /// Ok, or the seconds to wait before the next attempt.
    pub fn check(&self, email: &str, ip: &str, now_ms: i64) -> Result<(), u64> {
        let Ok(mut s) = self.inner.lock() else {
            return Ok(());
        };
        let key = (email.trim().to_ascii_lowercase(), ip.to_string());
        let mut wait = 0i64;
        if let Some(q) = s.by_pair.get_mut(&key) {
            prune(q, now_ms);
            if q.len() >= PER_EMAIL_IP
                && let Some(first) = q.front()
            {
                wait = wait.max(first + WINDOW_MS - now_ms);
            }
        }
        if let Some(q) = s.by_ip.get_mut(ip) {
            prune(q, now_ms);
            if q.len() >= PER_IP
                && let Some(first) = q.front()
            {
                wait = wait.max(first + WINDOW_MS - now_ms);
            }
        }
        if wait > 0 {
            Err(((wait + 999) / 1000) as u64)
        } else {
            Ok(())
        }
    }

    /// Record a failed attempt (check and record happen under one lock in `attempt`).
    pub fn record_failure(&self, email: &str, ip: &str, now_ms: i64) {
        let Ok(mut s) = self.inner.lock() else { return };
        let key = (email.trim().to_ascii_lowercase(), ip.to_string());
        s.by_pair.entry(key).or_default().push_back(now_ms);
        s.by_ip.entry(ip.to_string()).or_default().push_back(now_ms);
    }
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

/// Per-key request limits: a token bucket per key holding `per_min` requests, refilled
/// continuously (so a key may burst its whole minute, then proceeds at the steady rate).
#[derive(Debug, Default)]
pub struct KeyRateLimiter {
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

impl KeyRateLimiter {
    /// Take one request for `key` at `now_ms`; Err(seconds to wait) when none is left.
    pub fn take(&self, key: &str, per_min: u32, now_ms: i64) -> Result<(), u64> {
        if per_min == 0 {
            return Err(60);
        }
        let Ok(mut b) = self.buckets.lock() else {
            return Ok(());
        };
        let cap = f64::from(per_min);
        let rate = cap / 60_000.0; // requests per ms
        if b.len() >= MAX_BUCKETS && !b.contains_key(key) {
            // Idle keys have refilled to the brim: forgetting them changes nothing.
            b.retain(|_, (tokens, at)| *tokens + (now_ms - *at).max(0) as f64 * rate < cap);
        }
        let (tokens, at) = b.entry(key.to_string()).or_insert((cap, now_ms));
        *tokens = (*tokens + (now_ms - *at).max(0) as f64 * rate).min(cap);
        *at = now_ms;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - *tokens) / rate;
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_per_pair_then_wait_and_successes_do_not_count() {
        let l = LoginLimiter::default();
        for i in 0..5 {
            assert!(l.check("a@b.c", "1.2.3.4", i).is_ok());
            l.record_failure("a@b.c", "1.2.3.4", i);
        }
        let wait = l.check("A@b.c", "1.2.3.4", 10).unwrap_err();
        assert!(wait > 0 && wait <= 900);
        // Another address for the same email is not blocked by the pair limit.
        assert!(l.check("a@b.c", "5.6.7.8", 10).is_ok());
        // After the window the pair may try again.
        assert!(l.check("a@b.c", "1.2.3.4", WINDOW_MS + 5).is_ok());
        // 50 failures from one address block it for every email.
        let m = LoginLimiter::default();
        for i in 0..50 {
            m.record_failure(&format!("u{i}@x.y"), "9.9.9.9", i);
        }
        assert!(m.check("new@x.y", "9.9.9.9", 60).is_err());
    }

    #[test]
    fn key_bucket_bursts_then_refills_at_the_steady_rate() {
        let l = KeyRateLimiter::default();
        for _ in 0..3 {
            assert_eq!(l.take("k1", 3, 0), Ok(()));
        }
        // 3 per minute: the next request is 20 s away.
        assert_eq!(l.take("k1", 3, 0), Err(20));
        assert_eq!(l.take("k1", 3, 10_000), Err(10));
        // Other keys are independent.
        assert_eq!(l.take("k2", 3, 0), Ok(()));
        assert_eq!(l.take("k1", 3, 20_000), Ok(()));
        assert_eq!(l.take("k1", 3, 20_001), Err(20));
        // A long pause refills to the cap, not beyond.
        for _ in 0..3 {
            assert_eq!(l.take("k1", 3, 10_000_000), Ok(()));
        }
        assert!(l.take("k1", 3, 10_000_000).is_err());
        assert_eq!(l.take("k3", 0, 0), Err(60));
    }
}
