//! Private keys at rest: sealed with a key-encryption key (KEK) that is not in the database.
//!
//! A sealed blob is `sbk1` ‖ 12-byte random nonce ‖ AES-256-GCM ciphertext and tag, with the
//! key's id as associated data (a blob copied to another row does not open). A blob that does
//! not start with the tag is a legacy plaintext key, to be sealed on the next start.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::Digest as _;

/// The tag every sealed blob starts with (format version 1).
pub const SEALED_TAG: &[u8; 4] = b"sbk1";
/// Bytes of a key-encryption key.
pub const KEK_BYTES: usize = 32;

/// Why a KEK could not be read or a blob could not be opened. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KekError {
    #[error("a key-encryption key is {KEK_BYTES} bytes (base64 in the environment or a file)")]
    BadKey,
    #[error("no randomness available")]
    NoRandomness,
    #[error("not a sealed key")]
    NotSealed,
    #[error("the sealed key does not open with this key-encryption key (wrong key, or altered)")]
    WrongKeyOrAltered,
}

/// A key-encryption key.
pub struct Kek {
    key: LessSafeKey,
    /// First bytes of SHA-256 of the key, hex: says which KEK without revealing it.
    fingerprint: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Kek, KekError> {
        if bytes.len() != KEK_BYTES {
            return Err(KekError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KekError::BadKey)?;
        let digest = sha2::Sha256::digest(bytes);
        let fingerprint = crate::apikey::hex(&digest[..6]);
        Ok(Kek {
            key: LessSafeKey::new(key),
            fingerprint,
        })
    }

    /// A KEK from base64 text (a file's content or an environment variable; surrounding
    /// whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Kek, KekError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| KekError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    /// A new random KEK and its base64 text (to be written where the database is not).
    pub fn generate() -> Result<(Kek, String), KekError> {
        let mut bytes = [0u8; KEK_BYTES];
        getrandom::fill(&mut bytes).map_err(|_| KekError::NoRandomness)?;
        let text = STANDARD.encode(bytes);
        let kek = Self::from_bytes(&bytes)?;
        bytes.fill(0);
        Ok((kek, text))
    }

    /// Says which KEK this is without revealing it (for logs and errors).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seal `plaintext`, bound to `id` (the key's id).
    pub fn seal(&self, id: &str, plaintext: &[u8]) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| KekError::NoRandomness)?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KekError::WrongKeyOrAltered)?;
        let mut out = Vec::with_capacity(SEALED_TAG.len() + NONCE_LEN + buf.len());
        out.extend_from_slice(SEALED_TAG);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Open a blob sealed for `id`.
    pub fn open(&self, id: &str, blob: &[u8]) -> Result<Vec<u8>, KekError> {
        let rest = blob
            .strip_prefix(SEALED_TAG.as_slice())
            .ok_or(KekError::NotSealed)?;
        if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(KekError::WrongKeyOrAltered);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KekError::NotSealed)?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(id.as_bytes()), &mut buf)
            .map_err(|_| KekError::WrongKeyOrAltered)?;
        Ok(plain.to_vec())
    }
}

/// Whether a stored blob is sealed (else a legacy plaintext key).
pub fn is_sealed(blob: &[u8]) -> bool {
    blob.starts_with(SEALED_TAG)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_kek_and_id() {
        let (kek, text) = Kek::generate().unwrap();
        let secret = b"0.\x02\x01\x000\x05\x06\x03+ep\x04\"\x04 seed-of-thirty-two-bytes-here!!";
        let blob = kek.seal("kid-1", secret).unwrap();
        assert!(is_sealed(&blob));
        assert!(
            !blob.windows(8).any(|w| secret.windows(8).any(|s| s == w)),
            "no run of the key in the blob"
        );
        assert_eq!(kek.open("kid-1", &blob).unwrap(), secret);
        // The same KEK from its text opens it; another KEK or another id does not.
        assert_eq!(
            Kek::from_base64(&text)
                .unwrap()
                .open("kid-1", &blob)
                .unwrap(),
            secret
        );
        let (other, _) = Kek::generate().unwrap();
        assert_eq!(other.open("kid-1", &blob), Err(KekError::WrongKeyOrAltered));
        assert_eq!(kek.open("kid-2", &blob), Err(KekError::WrongKeyOrAltered));
        let mut altered = blob.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(
            kek.open("kid-1", &altered),
            Err(KekError::WrongKeyOrAltered)
        );
        assert_eq!(kek.open("kid-1", secret), Err(KekError::NotSealed));
        assert_eq!(
            kek.open("kid-1", b"sbk1short"),
            Err(KekError::WrongKeyOrAltered)
        );
        // Two seals of one key differ (fresh nonces).
        assert_ne!(kek.seal("kid-1", secret).unwrap(), blob);
    }

    #[test]
    fn bad_keks_are_refused_without_echoing_them() {
        for bad in ["", "not base64 !!", "c2hvcnQ="] {
            let e = Kek::from_base64(bad).unwrap_err();
            assert_eq!(e, KekError::BadKey);
            assert!(!e.to_string().contains("c2hvcnQ"));
        }
        let (kek, text) = Kek::generate().unwrap();
        assert_eq!(kek.fingerprint().len(), 12);
        assert!(!format!("{kek:?}").contains(&text));
    }
}
