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
        let who = match cached {
            Some(who) => who,
            None => {
                let (who, until) = self.verify_uncached(token)?;
                if let Ok(mut c) = self.cache.write() {
                    if c.len() >= JWT_CACHE_CAP {
                        c.clear();
                    }
                    c.insert(token.to_string(), (who.clone(), until));
                }
                who
            }
        };
        if let Some(sid) = &who.session_id
            && self
                .revoked
                .read()
                .map(|r| r.contains(sid))
                .unwrap_or(false)
        {
            return Err(AuthError::SessionRevoked);
        }
        Ok(who)
    }

    fn verify_uncached(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let own_has = |kid: &str| self.own.read().map(|k| k.contains(kid)).unwrap_or(false);
        let claims = match self.remote() {
            Some(ext) => {
                let kid = jwt::header_kid(token)?;
                if own_has(&kid) {
                    let keys = self.own.read().map_err(|_| AuthError::UnknownKid)?;
                    jwt::verify(token, &keys, &self.cfg)?
                } else if ext.contains(&kid) {
                    ext.with_keys(|k| jwt::verify(token, k, &self.cfg))
                        .unwrap_or(Err(AuthError::UnknownKid))?
                } else {
                    // Maybe the provider rotated: refetch in the background (rate-limited).
                    ext.unknown_kid();
                    return Err(AuthError::UnknownKid);
                }
            }
            None => {
                let keys = self.own.read().map_err(|_| AuthError::UnknownKid)?;
                jwt::verify(token, &keys, &self.cfg)?
            }
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
    cache: RwLock<HashMap<String, (KeyRecord, i64)>>,
    touched: RwLock<HashMap<String, i64>>,
}

impl ApiKeyVerifier {
    pub fn new(ttl_ms: i64) -> Self {
        ApiKeyVerifier {
            ttl_ms,
            cache: RwLock::new(HashMap::new()),
            touched: RwLock::new(HashMap::new()),
        }
    }

    /// Check `key` at `now_ms` from `client`; `load(key_id)` reads the record from storage when
    /// the cached one is missing or older than the lifetime. Returns the principal and the
    /// record (for its request limit).
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
        let cached = self.cache.read().ok().and_then(|c| {
            c.get(&key_id)
                .filter(|(_, at)| now_ms - at < self.ttl_ms)
                .map(|(r, _)| r.clone())
        });
        let record = match cached {
            Some(r) => r,
            None => {
                let r = load(key_id.clone()).await?.ok_or(AuthError::InvalidKey)?;
                if let Ok(mut c) = self.cache.write() {
                    if c.len() >= KEY_CACHE_CAP {
                        c.clear();
                    }
                    c.insert(key_id.clone(), (r.clone(), now_ms));
                }
                r
            }
        };
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

    /// Forget a key's cached record (after its revocation).
    pub fn forget(&self, key_id: &str) {
        if let Ok(mut c) = self.cache.write() {
            c.remove(key_id);
        }
    }

    /// Whether the key's use should be recorded now (at most once per `every_ms`); marks it.
    pub fn use_due(&self, key_id: &str, now_ms: i64, every_ms: i64) -> bool {
        let due = self
            .touched
            .read()
            .map(|t| t.get(key_id).is_none_or(|at| now_ms - at >= every_ms))
            .unwrap_or(false);
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
