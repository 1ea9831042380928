//! Where the key-encryption key of the signing keys comes from: `STOCKSBLITZ_KEK` (base64, for
//! production secrets managers), else a file — `--kek-file`, default `<data-dir>/signing.kek`
//! (0600, generated at first start). Several replicas on one database must share it. A store
//! whose keys are sealed and no KEK to open them with is a start-up error, never a silently new
//! key (that would make the sealed keys unreadable).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use stocksblitz_auth::kek::{Kek, is_sealed};
use stocksblitz_store::{Store, fsperm};

/// The environment variable holding the KEK itself (base64 of 32 bytes).
pub(crate) const KEK_ENV: &str = "STOCKSBLITZ_KEK";
/// The KEK file's name in the data directory.
pub(crate) const KEK_FILE: &str = "signing.kek";

/// The KEK file this configuration uses.
pub(crate) fn kek_path(data_dir: &Path, kek_file: Option<&Path>) -> PathBuf {
    kek_file.map_or_else(|| data_dir.join(KEK_FILE), Path::to_path_buf)
}

/// Load (or at first start generate) the KEK, then seal any plaintext signing key the store
/// still holds (stores from before keys were sealed migrate on their first start).
pub(crate) async fn load(
    store: &Store,
    data_dir: &Path,
    kek_file: Option<&Path>,
) -> anyhow::Result<Kek> {
    let blobs = store.signing_key_blobs().await?;
    let any_sealed = blobs.iter().any(|(_, b)| is_sealed(b));
    let kek = if let Ok(text) = std::env::var(KEK_ENV) {
        Kek::from_base64(&text).map_err(|e| anyhow::anyhow!("{KEK_ENV}: {e}"))?
    } else {
        let path = kek_path(data_dir, kek_file);
        if path.exists() {
            if let Some(w) = fsperm::secure_file(&path)
                .with_context(|| format!("checking the mode of {}", path.display()))?
            {
                tracing::warn!("{w}");
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the key-encryption key {}", path.display()))?;
            Kek::from_base64(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        } else if any_sealed {
            bail!(
                "the store's signing keys are sealed, but there is no key-encryption key at {} \
                 (and {KEK_ENV} is not set): restore that file, or point --kek-file or \
                 {KEK_ENV} at the key the store was sealed with",
                path.display()
            );
        } else {
            let (kek, text) = Kek::generate()?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fsperm::secure_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            fsperm::write_private(&path, format!("{text}\n").as_bytes())
                .with_context(|| format!("writing the key-encryption key {}", path.display()))?;
            tracing::info!(file = %path.display(), fingerprint = kek.fingerprint(), "generated the key-encryption key of the signing keys (keep it with the data: the keys cannot be read without it)");
            kek
        }
    };
    for (kid, blob) in &blobs {
        if is_sealed(blob) {
            kek.open(kid, blob).map_err(|e| {
                anyhow::anyhow!(
                    "signing key {kid}: {e}; this key-encryption key (fingerprint {}) is not the \
                     one the store's keys were sealed with",
                    kek.fingerprint()
                )
            })?;
        } else {
            let sealed = kek.seal(kid, blob)?;
            store.set_signing_key_blob(kid, &sealed).await?;
            tracing::warn!(kid = %kid, "sealed a signing key that was stored in plaintext");
        }
    }
    Ok(kek)
}
