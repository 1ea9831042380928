//! Identity at start-up: the key-encryption key, signing keys, an external identity provider,
//! state shared through Redis, registration, the bootstrap admin, and the key reload loop.

use std::sync::Arc;

use stocksblitz_store::Store;

use crate::config::Config;
use crate::identity::{self, Identity};

/// Identity loaded and ready (its key reload loop running).
pub(super) async fn load(cfg: &Config, store: &Store) -> anyhow::Result<Arc<Identity>> {
    let kek = identity::kek::load(store, &cfg.data_dir, cfg.kek_file.as_deref()).await?;
    let mut identity = Identity::load(
        store.clone(),
        cfg.access_token_ttl_secs as i64 * 1000,
        Arc::new(kek),
    )
    .await?;
    if let Some(url) = cfg
        .user_service_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let ext = Arc::new(
            stocksblitz_auth::jwks_fetch::RemoteJwks::new(url).map_err(anyhow::Error::msg)?,
        );
        tracing::info!(jwks = %ext.jwks_url, "trusting tokens of the external identity provider");
        identity.jwt.set_remote(ext);
    }
    if let Some(url) = cfg.redis_url.as_deref() {
        match identity::shared::Shared::connect(url, &cfg.redis_prefix).await {
            Ok(sh) => identity.shared = Some(Arc::new(sh)),
            Err(e) => tracing::warn!(
                error = %stocksblitz_store::redact_url(&e.to_string()),
                "Redis unavailable for shared auth state; login limits and revocations stay per process"
            ),
        }
    }
    identity.set_registration_open(cfg.registration_open());
    tracing::info!(
        registration = if cfg.registration_open() {
            "open"
        } else {
            "closed"
        },
        "self-registration"
    );
    let identity = Arc::new(identity);
    identity::bootstrap(&identity, &cfg.data_dir).await?;
    reload_keys_every(identity.clone(), std::time::Duration::from_secs(30));
    Ok(identity)
}

/// Pick up keys rotated with `keys rotate` (or by another replica) without a restart.
fn reload_keys_every(identity: Arc<Identity>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(every);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = identity.reload_keys().await {
                tracing::warn!(error = %e, "cannot reload the signing keys");
            }
        }
    });
}
