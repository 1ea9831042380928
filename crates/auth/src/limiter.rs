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
}
