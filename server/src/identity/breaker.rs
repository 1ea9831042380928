//! A circuit breaker for the store's API key lookups.

/// A circuit breaker: after a failure, calls are refused for `retry_ms`; then one call goes
/// through as a probe (others still refused until it answers).
#[derive(Debug)]
pub(crate) struct Breaker {
    retry_ms: i64,
    /// Refuse calls until this time (epoch ms; 0: closed).
    open_until: std::sync::atomic::AtomicI64,
    /// Calls refused without trying (diagnostics).
    pub refused: std::sync::atomic::AtomicU64,
}

impl Breaker {
    pub(crate) fn new(retry_ms: i64) -> Breaker {
        Breaker {
            retry_ms,
            open_until: std::sync::atomic::AtomicI64::new(0),
            refused: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether a call may go out now.
    pub(crate) fn allow(&self, now: i64) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        let until = self.open_until.load(SeqCst);
        if until == 0 {
            return true;
        }
        // Half-open: the first caller after the pause probes, pushing the pause on for others.
        let ok = now >= until
            && self
                .open_until
                .compare_exchange(until, now + self.retry_ms, SeqCst, SeqCst)
                .is_ok();
        if !ok {
            self.refused.fetch_add(1, SeqCst);
        }
        ok
    }
    pub(crate) fn failure(&self, now: i64) {
        self.open_until
            .store(now + self.retry_ms, std::sync::atomic::Ordering::SeqCst);
    }
    pub(crate) fn success(&self) {
        self.open_until
            .store(0, std::sync::atomic::Ordering::SeqCst);
    }
    pub(crate) fn is_open(&self) -> bool {
        self.open_until.load(std::sync::atomic::Ordering::SeqCst) != 0
    }
}
