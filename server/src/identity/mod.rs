//! Identity in the server: the built-in provider (signing keys in the store, login, refresh,
//! logout, JWKS), API keys, and the dual-auth extractor every protected route uses. The logic
//! lives in `stocksblitz-auth`; this module wires it to the store and HTTP.

pub(crate) mod accounts;
mod bootstrap;
mod breaker;
pub(crate) mod extract;
pub(crate) mod kek;
pub(crate) mod routes;
pub(crate) mod shared;

use std::sync::RwLock;

use stocksblitz_auth::apikey::{IpNet, KeyRecord};
use stocksblitz_auth::idp::SigningKey;
use stocksblitz_auth::jwt::{KeySet, VerifyConfig};
use stocksblitz_auth::limiter::{KeyRateLimiter, LoginLimiter};
use stocksblitz_auth::verifier::{ApiKeyVerifier, JwtVerifier};
use stocksblitz_auth::{AuthError, Scopes};
use stocksblitz_store::Store;
use stocksblitz_store::identity::{ApiKeyRow, SigningKeyRow};

use crate::ingest::now_ms;
pub(crate) use bootstrap::bootstrap;
pub(crate) use breaker::Breaker;

/// Access-token lifetime (ms).
pub(crate) const ACCESS_TTL_MS: i64 = 15 * 60 * 1000;
/// Refresh-token lifetime with and without `persist_session` (ms).
pub(crate) const REFRESH_TTL_PERSIST_MS: i64 = 30 * 86_400_000;
pub(crate) const REFRESH_TTL_MS: i64 = 86_400_000;
/// How long an API key record is trusted from the cache before the store is asked again.
pub(crate) const KEY_CACHE_MS: i64 = 5_000;

/// Who made a request (the auth crate's principal).
pub(crate) use stocksblitz_auth::verifier::Principal as UserIdentity;

/// Identity state shared by the handlers.
#[derive(Debug)]
pub struct Identity {
    pub store: Store,
    pub access_ttl_ms: i64,
    signing: RwLock<Vec<SigningKey>>,
    jwks: RwLock<serde_json::Value>,
    pub limiter: LoginLimiter,
    key_limiter: KeyRateLimiter,
    /// JWTs of the built-in provider (and of an external one when configured), with the
    /// verified-token cache and revoked sessions.
    pub jwt: JwtVerifier,
    /// API keys: the record cache and the use throttle.
    pub api_keys: ApiKeyVerifier,
    /// Limits and revocations shared with other replicas through Redis (`REDIS_URL`).
    pub shared: Option<std::sync::Arc<shared::Shared>>,
    /// Seals the signing keys in the store ([`kek`]).
    kek: std::sync::Arc<stocksblitz_auth::kek::Kek>,
    /// Open while the store fails API key lookups.
    store_breaker: Breaker,
    /// Whether anyone may register (`--registration`).
    registration_open: std::sync::atomic::AtomicBool,
}

/// Longest a request with an unknown key id waits for the external provider's keys.
pub(crate) const UNKNOWN_KID_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Longest an API key lookup waits for the store.
pub(crate) const STORE_AUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// After a failed lookup, how long the store is not asked (ms).
pub(crate) const STORE_RETRY_MS: i64 = 2_000;

/// How often a key's `last_used_at` is written back (ms).
const TOUCH_EVERY_MS: i64 = 60_000;

fn record_of(row: &ApiKeyRow) -> KeyRecord {
    KeyRecord {
        key_id: row.key_id.clone(),
        hash: row.key_hash.as_slice().try_into().unwrap_or([0; 32]),
        user_id: row.user_id,
        scopes: Scopes::parse_list(&row.scopes).unwrap_or_default(),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        ip_allowlist: row
            .ip_allowlist
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter_map(IpNet::parse)
            .collect(),
        rate_limit_per_min: row
            .rate_limit_per_min
            .map(|r| u32::try_from(r.max(0)).unwrap_or(u32::MAX)),
    }
}

/// Generate a signing key and store it, sealed with `kek`, as the newest (first start, `keys
/// rotate`).
pub(crate) async fn new_signing_key(
    store: &Store,
    kek: &stocksblitz_auth::kek::Kek,
    now: i64,
) -> anyhow::Result<SigningKey> {
    let k = SigningKey::generate()?;
    store
        .insert_signing_key(&SigningKeyRow {
            kid: k.kid.clone(),
            algorithm: "EdDSA".into(),
            private_key: kek.seal(&k.kid, &k.private_der)?,
            public_jwk: k.public_jwk().to_string(),
            created_at: now,
            retired_at: None,
            expires_at: None,
        })
        .await?;
    Ok(k)
}

/// The signing keys of stored rows: sealed blobs opened with `kek` (a plaintext one, left by an
/// older version until [`kek::load`] seals it, is read as it is).
fn open_keys(
    kek: &stocksblitz_auth::kek::Kek,
    rows: &[SigningKeyRow],
) -> anyhow::Result<Vec<SigningKey>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let der = if stocksblitz_auth::kek::is_sealed(&r.private_key) {
            kek.open(&r.kid, &r.private_key).map_err(|e| {
                anyhow::anyhow!(
                    "signing key {}: {e} (key-encryption key fingerprint {})",
                    r.kid,
                    kek.fingerprint()
                )
            })?
        } else {
            r.private_key.clone()
        };
        out.push(SigningKey::from_der(&der)?);
    }
    Ok(out)
}

impl Identity {
    /// Whether anyone may register (else only an admin creates accounts).
    pub fn registration_open(&self) -> bool {
        self.registration_open
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_registration_open(&self, open: bool) {
        self.registration_open
            .store(open, std::sync::atomic::Ordering::Relaxed);
    }

    /// The key-encryption key the signing keys are sealed with.
    pub fn kek(&self) -> &stocksblitz_auth::kek::Kek {
        &self.kek
    }

    /// Load the published signing keys, opened with `kek` (generating the first one at first
    /// start). A key the KEK cannot open stops the start with a message saying so.
    pub async fn load(
        store: Store,
        access_ttl_ms: i64,
        kek: std::sync::Arc<stocksblitz_auth::kek::Kek>,
    ) -> anyhow::Result<Identity> {
        let now = now_ms();
        let mut rows = store.signing_keys(now).await?;
        if rows.is_empty() {
            let k = new_signing_key(&store, &kek, now).await?;
            tracing::info!(kid = %k.kid, "generated the identity provider's signing key");
            rows = store.signing_keys(now).await?;
        }
        let signing = open_keys(&kek, &rows)?;
        let id = Identity {
            store,
            access_ttl_ms,
            signing: RwLock::new(Vec::new()),
            jwks: RwLock::new(serde_json::json!({"keys": []})),
            limiter: LoginLimiter::default(),
            key_limiter: KeyRateLimiter::default(),
            jwt: JwtVerifier::new(VerifyConfig::default()),
            api_keys: ApiKeyVerifier::new(KEY_CACHE_MS),
            shared: None,
            kek,
            store_breaker: Breaker::new(STORE_RETRY_MS),
            registration_open: std::sync::atomic::AtomicBool::new(true),
        };
        id.publish(signing)?;
        // Sessions revoked while their tokens may still be alive stay rejected after a restart.
        let revoked = id
            .store
            .revoked_sessions_since(now - access_ttl_ms - 60_000)
            .await?;
        id.apply_revoked_sessions(revoked);
        Ok(id)
    }

    fn publish(&self, signing: Vec<SigningKey>) -> anyhow::Result<()> {
        let jwks = stocksblitz_auth::idp::jwks(&signing.iter().collect::<Vec<_>>());
        let set = KeySet::from_jwks_json(&jwks.to_string())?;
        if let (Ok(mut s), Ok(mut j)) = (self.signing.write(), self.jwks.write()) {
            *s = signing;
            *j = jwks;
        }
        self.jwt.set_own_keys(set);
        Ok(())
    }

    /// Re-read the published signing keys (after `keys rotate` from the CLI or another
    /// replica). Returns true when the set changed.
    pub async fn reload_keys(&self) -> anyhow::Result<bool> {
        let rows = self.store.signing_keys(now_ms()).await?;
        let current: Vec<String> = self
            .signing
            .read()
            .map(|s| s.iter().map(|k| k.kid.clone()).collect())
            .unwrap_or_default();
        if rows.is_empty() || rows.iter().map(|r| &r.kid).eq(current.iter()) {
            return Ok(false);
        }
        let signing = open_keys(&self.kek, &rows)?;
        self.publish(signing)?;
        tracing::info!(kid = %rows[0].kid, published = rows.len(), "signing keys reloaded");
        Ok(true)
    }

    /// The JWKS document served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        self.jwks.read().map(|j| j.clone()).unwrap_or_default()
    }

    /// The key that signs new tokens (the newest).
    pub fn current_key(&self) -> Option<SigningKey> {
        self.signing.read().ok().and_then(|s| s.first().cloned())
    }

    /// Verify a bearer credential of either kind (classified by shape: a JWT's failure is
    /// final, never retried as an API key).
    pub async fn authenticate(
        &self,
        token: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<UserIdentity, AuthError> {
        match stocksblitz_auth::classify(token) {
            Ok(stocksblitz_auth::Credential::Jwt(t)) => self.verify_jwt(t).await,
            Ok(stocksblitz_auth::Credential::ApiKey(k)) => self.verify_api_key(k, client).await,
            Err(e) => Err(e),
        }
    }

    /// Verify a JWT (built-in provider, or the external one) and check its session.
    pub async fn verify_jwt(&self, token: &str) -> Result<UserIdentity, AuthError> {
        match self.jwt.verify(token, now_ms()) {
            Err(AuthError::UnknownKid) => {
                // The external provider may have just rotated: wait (bounded, one fetch shared
                // by all waiters, within the refetch budget) for its keys, then verify again.
                let Some(ext) = self.jwt.remote() else {
                    return Err(AuthError::UnknownKid);
                };
                let kid = stocksblitz_auth::jwt::header_kid(token)?;
                if ext.await_kid(&kid, UNKNOWN_KID_WAIT).await {
                    self.jwt.verify(token, now_ms())
                } else {
                    Err(AuthError::UnknownKid)
                }
            }
            other => other,
        }
    }

    /// Check an API key (cached record for a few seconds; no store round trip per request).
    pub async fn verify_api_key(
        &self,
        key: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<UserIdentity, AuthError> {
        let now = now_ms();
        let store = &self.store;
        let breaker = &self.store_breaker;
        let (who, record) = self
            .api_keys
            .verify(key, client, now, |key_id| async move {
                // A store that just failed is not asked again for a moment: requests do not
                // each wait out a timeout during an outage.
                if !breaker.allow(now) {
                    return Err(AuthError::StoreUnavailable);
                }
                match tokio::time::timeout(STORE_AUTH_TIMEOUT, store.api_key(&key_id)).await {
                    Ok(Ok(row)) => {
                        breaker.success();
                        Ok(row.as_ref().map(record_of))
                    }
                    Ok(Err(e)) => {
                        breaker.failure(now);
                        tracing::warn!(error = %e, "API key lookup failed: the store is unavailable");
                        Err(AuthError::StoreUnavailable)
                    }
                    Err(_) => {
                        breaker.failure(now);
                        tracing::warn!("API key lookup timed out: the store is unavailable");
                        Err(AuthError::StoreUnavailable)
                    }
                }
            })
            .await?;
        let key_id = record.key_id.clone();
        if let Some(per_min) = record.rate_limit_per_min {
            let shared = match &self.shared {
                Some(sh) => match sh.take_request(&key_id, per_min, now / 1000).await {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::warn!(error = %e, "shared request limit unavailable; limiting in this process");
                        None
                    }
                },
                None => None,
            };
            shared
                .unwrap_or_else(|| self.key_limiter.take(&key_id, per_min, now))
                .map_err(AuthError::RateLimited)?;
        }
        self.note_use(&key_id, now);
        Ok(who)
    }

    /// Record that a key was used: `last_used_at` is written in the background, at most once a
    /// minute per key, never on the request path.
    fn note_use(&self, key_id: &str, now: i64) {
        if !self.api_keys.use_due(key_id, now, TOUCH_EVERY_MS) {
            return;
        }
        let (store, key_id) = (self.store.clone(), key_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(&key_id, now).await {
                tracing::warn!(key_id = %key_id, error = %e, "cannot record API key use");
            }
        });
    }

    /// Forget a key's cached record after its revocation, here and (through Redis) on every
    /// other replica.
    pub fn forget_key(&self, key_id: &str) {
        self.forget_key_locally(key_id);
        self.announce(shared::Revocation::Key(key_id.to_string()));
    }

    pub fn forget_key_locally(&self, key_id: &str) {
        self.api_keys.revoke(key_id);
    }

    /// Mark sessions revoked for token checks, here and (through Redis) on every other replica.
    pub fn revoke_sessions(&self, ids: impl IntoIterator<Item = String>) {
        let ids: Vec<String> = ids.into_iter().collect();
        self.apply_revoked_sessions(ids.iter().cloned());
        for sid in ids {
            self.announce(shared::Revocation::Session(sid));
        }
    }

    pub fn apply_revoked_sessions(&self, ids: impl IntoIterator<Item = String>) {
        self.jwt.revoke_sessions(ids);
    }

    fn announce(&self, r: shared::Revocation) {
        if let Some(sh) = self.shared.clone() {
            tokio::spawn(async move {
                if let Err(e) = sh.publish(&r).await {
                    tracing::warn!(error = %e, "cannot publish a revocation to the other replicas");
                }
            });
        }
    }
}
