//! The built-in identity provider's keys and tokens: Ed25519 signing keys generated from the OS
//! CSPRNG, `kid` = the RFC 7638 JWK thumbprint, a JWKS that keeps publishing retired keys, and
//! access tokens with the claims of the spec. Opaque refresh tokens are random and stored hashed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// PKCS#8 v1 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A signing key of the built-in provider.
#[derive(Clone)]
pub struct SigningKey {
    /// RFC 7638 thumbprint of the public JWK.
    pub kid: String,
    /// PKCS#8 DER of the private key (stored in the database, never logged).
    pub private_der: Vec<u8>,
    /// base64url public key (the JWK's `x`).
    pub public_x: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Key generation or loading failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(pub &'static str);

/// RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over the canonical JWK members.
pub fn thumbprint(public_x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public_x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl SigningKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| KeyError("no randomness"))?;
        Ok(Self::from_seed(&seed))
    }

    fn from_seed(seed: &[u8; 32]) -> Self {
        let sk = ed25519_dalek::SigningKey::from_bytes(seed);
        let public_x = URL_SAFE_NO_PAD.encode(sk.verifying_key().to_bytes());
        let mut private_der = PKCS8_ED25519_PREFIX.to_vec();
        private_der.extend_from_slice(seed);
        SigningKey {
            kid: thumbprint(&public_x),
            private_der,
            public_x,
        }
    }

    /// Load a stored key (PKCS#8 DER as written by [`SigningKey::generate`]).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let seed: [u8; 32] = der
            .strip_prefix(&PKCS8_ED25519_PREFIX[..])
            .and_then(|s| s.try_into().ok())
            .ok_or(KeyError("not an Ed25519 PKCS#8 key"))?;
        Ok(Self::from_seed(&seed))
    }

    /// The public JWK (for the JWKS).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": self.public_x, "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// Sign claims with this key (`kid` in the header).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ed_der(&self.private_der),
        )
        .map_err(|_| KeyError("signing failed"))
    }
}

/// The JWKS document of the current and still-published keys.
pub fn jwks(keys: &[&SigningKey]) -> serde_json::Value {
    serde_json::json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})
}

/// Access-token claims issued by the built-in provider.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub sid: String,
    pub scp: String,
    pub roles: Vec<String>,
    pub email: String,
    pub name: String,
    pub ver: u32,
}

/// A random opaque token (refresh tokens, session and token ids): 32 bytes, base64url.
pub fn random_token() -> Result<String, KeyError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|_| KeyError("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// SHA-256 of an opaque token (what is stored).
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{KeySet, VerifyConfig, verify};

    #[test]
    fn rfc8037_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn issued_tokens_verify_against_the_published_jwks() {
        let k = SigningKey::generate().unwrap();
        let again = SigningKey::from_der(&k.private_der).unwrap();
        assert_eq!(
            (again.kid.as_str(), again.public_x.as_str()),
            (k.kid.as_str(), k.public_x.as_str())
        );
        assert!(!format!("{k:?}").contains(&k.public_x));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = AccessClaims {
            iss: "user_service".into(),
            aud: "trading_platform".into(),
            sub: "user:3".into(),
            exp: now + 900,
            iat: now,
            nbf: now,
            jti: random_token().unwrap(),
            sid: random_token().unwrap(),
            scp: "read trade".into(),
            roles: vec!["user".into()],
            email: "a@b.c".into(),
            name: "A".into(),
            ver: 1,
        };
        let token = k.sign(&claims).unwrap();
        let old = SigningKey::generate().unwrap();
        let set = KeySet::from_jwks_json(&jwks(&[&k, &old]).to_string()).unwrap();
        assert_eq!(set.len(), 2);
        let c = verify(&token, &set, &VerifyConfig::default()).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_deref()),
            ("user:3", Some(claims.sid.as_str()))
        );
        // A token of the retired key still verifies while it is published.
        let old_token = old.sign(&claims).unwrap();
        assert!(verify(&old_token, &set, &VerifyConfig::default()).is_ok());
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert!(SigningKey::from_der(b"junk").is_err());
    }
}
