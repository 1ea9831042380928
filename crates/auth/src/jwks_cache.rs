//! When to (re)fetch an external provider's JWKS: honour the cache lifetime, refetch on an
//! unknown `kid` within a budget (a burst of two, then one per 15 s: a provider's rotation is
//! picked up on first use, and forged kids cost at most the burst), keep serving the last good
//! keys while the provider is down and say they are stale. Pure: the caller does the fetching.

/// Default cache lifetime when the provider sends no `max-age`.
pub const DEFAULT_MAX_AGE_MS: i64 = 10 * 60 * 1000;
/// Refetches an unknown key id may trigger at once.
pub const UNKNOWN_KID_BURST: f64 = 2.0;
/// One more such refetch is allowed per this many ms.
pub const UNKNOWN_KID_REFILL_MS: i64 = 15 * 1000;

/// State of a cached key set.
#[derive(Debug, Clone, Default)]
pub struct JwksPolicy {
    fetched_at: Option<i64>,
    max_age_ms: i64,
    /// Budget of refetches for unknown kids already spent (0 = the full burst is available),
    /// as of `kid_spent_at`.
    kid_spent: f64,
    kid_spent_at: i64,
    last_error_at: Option<i64>,
}

/// What `/health` reports about the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksState {
    /// Never fetched successfully.
    Missing,
    Ok,
    /// The last refresh failed or the cache outlived its max-age: old keys in use.
    Stale,
}

impl JwksState {
    pub fn as_str(self) -> &'static str {
        match self {
            JwksState::Missing => "missing",
            JwksState::Ok => "ok",
            JwksState::Stale => "stale",
        }
    }
}

/// `max-age` seconds from a Cache-Control header value, if present.
pub fn max_age_ms(cache_control: &str) -> Option<i64> {
    cache_control.split(',').find_map(|d| {
        let d = d.trim();
        d.strip_prefix("max-age=")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|s| s.clamp(0, 86_400) * 1000)
    })
}

impl JwksPolicy {
    /// A refresh is due (never fetched, or past max-age).
    pub fn refresh_due(&self, now_ms: i64) -> bool {
        self.fetched_at
            .is_none_or(|t| now_ms - t >= self.max_age_ms)
    }

    /// Whether an unknown `kid` may trigger a refetch now (and spends the budget if so).
    pub fn allow_unknown_kid_refetch(&mut self, now_ms: i64) -> bool {
        let refilled = (now_ms - self.kid_spent_at).max(0) as f64 / UNKNOWN_KID_REFILL_MS as f64;
        self.kid_spent = (self.kid_spent - refilled).max(0.0);
        self.kid_spent_at = now_ms;
        if self.kid_spent + 1.0 > UNKNOWN_KID_BURST + 1e-9 {
            return false;
        }
        self.kid_spent += 1.0;
        true
    }

    pub fn on_success(&mut self, now_ms: i64, max_age_ms: Option<i64>) {
        self.fetched_at = Some(now_ms);
        self.max_age_ms = max_age_ms.unwrap_or(DEFAULT_MAX_AGE_MS);
        self.last_error_at = None;
    }

    pub fn on_failure(&mut self, now_ms: i64) {
        self.last_error_at = Some(now_ms);
    }

    pub fn state(&self, now_ms: i64) -> JwksState {
        match self.fetched_at {
            None => JwksState::Missing,
            Some(t) if self.last_error_at.is_some() || now_ms - t >= self.max_age_ms => {
                JwksState::Stale
            }
            Some(_) => JwksState::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refetch_policy() {
        let mut p = JwksPolicy::default();
        assert!(p.refresh_due(0) && p.state(0) == JwksState::Missing);
        p.on_success(1000, max_age_ms("public, max-age=60"));
        assert!(!p.refresh_due(30_000) && p.state(30_000) == JwksState::Ok);
        assert!(p.refresh_due(61_000));
        // Unknown kids: a burst of two refetches, then one per 15 s.
        assert!(p.allow_unknown_kid_refetch(2000));
        assert!(p.allow_unknown_kid_refetch(2001));
        for t in [2002, 10_000, 16_000] {
            assert!(!p.allow_unknown_kid_refetch(t), "{t}");
        }
        assert!(p.allow_unknown_kid_refetch(17_002));
        assert!(!p.allow_unknown_kid_refetch(17_003));
        // Thirty forged kids at once cost two fetches.
        let mut q = JwksPolicy::default();
        let allowed = (0..30)
            .filter(|i| q.allow_unknown_kid_refetch(100 + i))
            .count();
        assert_eq!(allowed, 2);
        // Provider down: keys kept, reported stale.
        p.on_failure(40_000);
        assert_eq!(p.state(40_000), JwksState::Stale);
        p.on_success(50_000, None);
        assert_eq!(p.state(50_000), JwksState::Ok);
        assert!(!p.refresh_due(50_000 + DEFAULT_MAX_AGE_MS - 1));
        assert_eq!(max_age_ms("no-cache"), None);
    }
}
