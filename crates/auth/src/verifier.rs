//! Verifying credentials on a request path, with the caches that make it cheap:
//!
//! - [`JwtVerifier`]: the built-in provider's keys and, optionally, an external provider's
//!   ([`RemoteJwks`]); verified tokens are cached until their `exp` (plus leeway), so a repeated
//!   token costs a lookup instead of a signature check — revocation is still checked on every hit.
//! - [`ApiKeyVerifier`]: key records cached for a few seconds (no storage round trip per
//!   request), checked by [`apikey::check`] every time; and the throttle that records a key's
//!   use at most once a minute.
//!
//! Storage stays with the caller: records are loaded through a closure.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use crate::apikey::{self, KeyRecord};
use crate::jwks_fetch::RemoteJwks;
use crate::jwt::{self, KeySet, OneOrMany, VerifyConfig};
use crate::{AuthError, Scopes};

/// Verified tokens kept (each holds the ~0.6 KB token: ≈ 8 MB at the cap).
pub const JWT_CACHE_CAP: usize = 10_000;
/// API key records and use stamps kept before the caches start over (bounds memory).
pub const KEY_CACHE_CAP: usize = 100_000;

/// Who a credential is.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: i64,
    /// `jwt` or `api_key`.
    pub source: &'static str,
    pub scopes: Scopes,
    pub roles: Vec<String>,
    pub session_id: Option<String>,
    pub key_id: Option<String>,
}

/// JWT verification against the own and (optionally) an external provider's keys.
#[derive(Debug)]
pub struct JwtVerifier {
    cfg: VerifyConfig,
    own: RwLock<KeySet>,
    remote: RwLock<Option<Arc<RemoteJwks>>>,
    revoked: RwLock<HashSet<String>>,
    /// Token → principal and the instant (ms) past which it must be verified again.
    cache: RwLock<HashMap<String, (Principal, i64)>>,
}

impl JwtVerifier {
    pub fn new(cfg: VerifyConfig) -> Self {
        JwtVerifier {
            cfg,
            own: RwLock::new(KeySet::default()),
            remote: RwLock::new(None),
            revoked: RwLock::new(HashSet::new()),
            cache: RwLock::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &VerifyConfig {
        &self.cfg
    }

    /// Replace the built-in provider's keys (forgets verified tokens).
    pub fn set_own_keys(&self, keys: KeySet) {
        if let Ok(mut k) = self.own.write() {
            *k = keys;
        }
        if let Ok(mut c) = self.cache.write() {
            c.clear();
        }
    }

    /// Trust an external provider's keys as well.
    pub fn set_remote(&self, remote: Arc<RemoteJwks>) {
        if let Ok(mut r) = self.remote.write() {
            *r = Some(remote);
        }
    }

    pub fn remote(&self) -> Option<Arc<RemoteJwks>> {
        self.remote.read().ok().and_then(|r| r.clone())
    }

    /// Sessions whose tokens fail from now on.
    pub fn revoke_sessions(&self, ids: impl IntoIterator<Item = String>) {
        if let Ok(mut r) = self.revoked.write() {
            r.extend(ids);
        }
    }

    /// Verify `token` at `now_ms`: cached principal or a full check, then the revocation check.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Principal, AuthError> {
        let cached = self.cache.read().ok().and_then(|c| {
            c.get(token)
                .filter(|(_, until)| now_ms <= *until)
                .map(|(who, _)| who.clone())
        });
        let who = if let Some(who) = cached {
            who
        } else {
            let (who, until) = self.verify_uncached(token)?;
            if let Ok(mut c) = self.cache.write() {
                if c.len() >= JWT_CACHE_CAP {
                    c.clear();
                }
                c.insert(token.to_string(), (who.clone(), until));
            }
            who
        };
        if let Some(sid) = &who.session_id
            && self.revoked.read().is_ok_and(|r| r.contains(sid))
        {
            return Err(AuthError::SessionRevoked);
        }
        Ok(who)
    }

    fn verify_uncached(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let own_has = |kid: &str| self.own.read().is_ok_and(|k| k.contains(kid));
        let claims = if let Some(ext) = self.remote() {
            let kid = jwt::header_kid(token)?;
            if own_has(&kid) {
                let keys = self.own.read().map_err(|_| AuthError::UnknownKid)?;
                jwt::verify(token, &keys, &self.cfg)?
            } else if ext.contains(&kid) {
                ext.with_keys(|k| jwt::verify(token, k, &self.cfg))
                    .unwrap_or(Err(AuthError::UnknownKid))?
            } else {
                // Maybe the provider rotated: the caller may wait for a refetch
                // (`RemoteJwks::await_kid`) and verify again.
                return Err(AuthError::UnknownKid);
            }
        } else {
            let keys = self.own.read().map_err(|_| AuthError::UnknownKid)?;
            jwt::verify(token, &keys, &self.cfg)?
        };
        let user_id = claims
            .sub
            .strip_prefix("user:")
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or(AuthError::MissingClaim("sub".into()))?;
        let scopes = match &claims.scp {
            Some(OneOrMany::One(s)) => Scopes::parse_list(s).unwrap_or_default(),
            Some(OneOrMany::Many(v)) => Scopes::parse_list(&v.join(",")).unwrap_or_default(),
            None => Scopes::default(),
        };
        let leeway_ms = i64::try_from(self.cfg.leeway_secs).unwrap_or(0) * 1000;
        let until = claims.exp.saturating_mul(1000).saturating_add(leeway_ms);
        Ok((
            Principal {
                user_id,
                source: "jwt",
                scopes,
                roles: claims.roles.unwrap_or_default(),
                session_id: claims.sid,
                key_id: None,
            },
            until,
        ))
    }
}

/// API key verification with a short-lived record cache and a use throttle.
#[derive(Debug)]
pub struct ApiKeyVerifier {
    /// How long a record is trusted before storage is asked again (ms).
    ttl_ms: i64,
    /// Records (None: the key id does not exist) with when storage last gave them.
    cache: RwLock<HashMap<String, (Option<KeyRecord>, i64)>>,
    /// Key ids revoked since start (through this replica or Redis): refused while storage is
    /// down, whatever the cache holds.
    revoked: RwLock<HashSet<String>>,
    touched: RwLock<HashMap<String, i64>>,
}

/// How long a record storage gave stays usable while storage does not answer (ms): keys in use
/// keep working through an outage of up to an hour; revocations through Redis still apply.
pub const OUTAGE_GRACE_MS: i64 = 3_600_000;

impl ApiKeyVerifier {
    pub fn new(ttl_ms: i64) -> Self {
        ApiKeyVerifier {
            ttl_ms,
            cache: RwLock::new(HashMap::new()),
            revoked: RwLock::new(HashSet::new()),
            touched: RwLock::new(HashMap::new()),
        }
    }

    /// Check `key` at `now_ms` from `client`; `load(key_id)` reads the record from storage when
    /// the cached answer is missing or older than the lifetime (an unknown key id is cached
    /// like a known one, so both cost the same). When storage fails (`load` errs with
    /// [`AuthError::StoreUnavailable`]) a record it gave within [`OUTAGE_GRACE_MS`] is used —
    /// unless the key was revoked meanwhile — and anything else is `StoreUnavailable`, never
    /// `InvalidKey`. Returns the principal and the record (for its request limit).
    pub async fn verify<F, Fut>(
        &self,
        key: &str,
        client: Option<IpAddr>,
        now_ms: i64,
        load: F,
    ) -> Result<(Principal, KeyRecord), AuthError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<Option<KeyRecord>, AuthError>>,
    {
        let key_id = apikey::key_id(key).ok_or(AuthError::Malformed)?.to_string();
        let cached = self.cache.read().ok().and_then(|c| c.get(&key_id).cloned());
        let record = match cached {
            Some((r, at)) if now_ms - at < self.ttl_ms => r,
            stale => match load(key_id.clone()).await {
                Ok(r) => {
                    if let Ok(mut c) = self.cache.write() {
                        if c.len() >= KEY_CACHE_CAP {
                            c.clear();
                        }
                        c.insert(key_id.clone(), (r.clone(), now_ms));
                    }
                    r
                }
                Err(AuthError::StoreUnavailable) => {
                    let revoked = self.revoked.read().is_ok_and(|r| r.contains(&key_id));
                    match stale {
                        _ if revoked => return Err(AuthError::KeyRevoked),
                        Some((Some(r), at)) if now_ms - at < OUTAGE_GRACE_MS => Some(r),
                        _ => return Err(AuthError::StoreUnavailable),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let record = record.ok_or_else(|| apikey::check_unknown(key))?;
        let scopes = apikey::check(key, &record, now_ms, client)?;
        Ok((
            Principal {
                user_id: record.user_id,
                source: "api_key",
                scopes,
                roles: Vec::new(),
                session_id: None,
                key_id: Some(key_id),
            },
            record,
        ))
    }

    /// Forget a key's cached record (after it was created or changed: the next use reads
    /// storage).
    pub fn forget(&self, key_id: &str) {
        if let Ok(mut c) = self.cache.write() {
            c.remove(key_id);
        }
    }

    /// A key was revoked: forget its record and refuse it even while storage is down.
    pub fn revoke(&self, key_id: &str) {
        self.forget(key_id);
        if let Ok(mut r) = self.revoked.write() {
            if r.len() >= KEY_CACHE_CAP {
                r.clear();
            }
            r.insert(key_id.to_string());
        }
    }

    /// Whether the key's use should be recorded now (at most once per `every_ms`); marks it.
    pub fn use_due(&self, key_id: &str, now_ms: i64, every_ms: i64) -> bool {
        let due = self
            .touched
            .read()
            .is_ok_and(|t| t.get(key_id).is_none_or(|at| now_ms - at >= every_ms));
        if !due {
            return false;
        }
        if let Ok(mut t) = self.touched.write() {
            if t.len() >= KEY_CACHE_CAP {
                t.clear();
            }
            t.insert(key_id.to_string(), now_ms);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_is_due_once_per_interval() {
        let v = ApiKeyVerifier::new(5_000);
        assert!(v.use_due("k", 0, 60_000));
        assert!(!v.use_due("k", 59_999, 60_000));
        assert!(v.use_due("k", 60_000, 60_000));
        assert!(v.use_due("other", 1, 60_000));
    }

    fn record(k: &apikey::NewKey) -> KeyRecord {
        KeyRecord {
            key_id: k.key_id.clone(),
            hash: k.hash,
            user_id: 7,
            scopes: Scopes::parse_list("read").unwrap_or_default(),
            expires_at: None,
            revoked_at: None,
            ip_allowlist: vec![],
            rate_limit_per_min: None,
        }
    }

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map_or_else(|e| panic!("{e}"), |rt| rt.block_on(f))
    }

    /// A store outage does not turn keys into bad keys: one verified within the grace keeps
    /// working, an unchecked one is "store unavailable" (503), a revoked one stays refused.
    #[test]
    fn keys_through_a_store_outage() {
        let v = ApiKeyVerifier::new(5_000);
        let (a, b, c) = (
            apikey::generate().unwrap(),
            apikey::generate().unwrap(),
            apikey::generate().unwrap(),
        );
        let (ra, rc) = (record(&a), record(&c));
        let up = |r: Option<KeyRecord>| move |_| async move { Ok(r) };
        let down = |_| async { Err(AuthError::StoreUnavailable) };
        assert!(block(v.verify(&a.key, None, 0, up(Some(ra.clone())))).is_ok());
        assert!(block(v.verify(&c.key, None, 0, up(Some(rc.clone())))).is_ok());
        // Unknown ids are cached as unknown: the second lookup does not reach storage.
        assert_eq!(
            block(v.verify(&b.key, None, 0, up(None))).unwrap_err(),
            AuthError::InvalidKey
        );
        let never = |_| async { panic!("storage asked for a cached answer") };
        assert_eq!(
            block(v.verify(&b.key, None, 10, never)).unwrap_err(),
            AuthError::InvalidKey
        );
        // Storage down, cache stale: a known key still works within the grace…
        let t = 60_000;
        let (who, _) = block(v.verify(&a.key, None, t, down)).unwrap();
        assert_eq!(who.user_id, 7);
        // …a wrong secret for it is still wrong…
        let forged = format!("sb_{}_{}", a.key_id, "0".repeat(40));
        assert_eq!(
            block(v.verify(&forged, None, t, down)).unwrap_err(),
            AuthError::InvalidKey
        );
        // …a key never seen is unavailable, not invalid…
        let d = apikey::generate().unwrap();
        assert_eq!(
            block(v.verify(&d.key, None, t, down)).unwrap_err(),
            AuthError::StoreUnavailable
        );
        // …a revoked one (news through Redis) is refused…
        v.revoke(&c.key_id);
        assert_eq!(
            block(v.verify(&c.key, None, t, down)).unwrap_err(),
            AuthError::KeyRevoked
        );
        // …and past the grace nothing is taken on trust.
        assert_eq!(
            block(v.verify(&a.key, None, OUTAGE_GRACE_MS + 1, down)).unwrap_err(),
            AuthError::StoreUnavailable
        );
    }

    #[test]
    fn a_revoked_session_fails_even_from_the_cache() {
        let v = JwtVerifier::new(VerifyConfig::default());
        let who = Principal {
            user_id: 1,
            source: "jwt",
            scopes: Scopes::default(),
            roles: vec![],
            session_id: Some("s1".into()),
            key_id: None,
        };
        if let Ok(mut c) = v.cache.write() {
            c.insert("tok".into(), (who.clone(), i64::MAX));
        }
        assert_eq!(v.verify("tok", 0), Ok(who));
        v.revoke_sessions(["s1".to_string()]);
        assert_eq!(v.verify("tok", 0), Err(AuthError::SessionRevoked));
    }
}
