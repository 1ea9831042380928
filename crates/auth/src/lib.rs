//! Credentials for stocksblitz — the pure part of dual auth:
//!
//! - [`classify`]: a bearer token is a JWT (three base64url segments), an API key
//!   (`sb_<8 hex>_<40 hex>`) or malformed — decided by shape, never by trying one then the other;
//! - [`apikey`]: generation from the OS CSPRNG, SHA-256 storage, constant-time comparison,
//!   expiry / revocation / IP allow-list checks;
//! - [`email`]: one spelling per address (NFKC, lower case, ASCII only: no look-alikes);
//! - [`scopes`]: `read`, `trade`, `cancel`, `modify`, `admin`;
//! - [`jwt`]: verification with an algorithm allow-list (RS256, ES256, EdDSA), required claims,
//!   leeway and `kid`, with precise error kinds;
//! - [`kek`]: private keys at rest, sealed with a key-encryption key kept outside the database;
//! - [`password`]: Argon2id hashing and the password policy (a password never reaches an error);
//! - [`limiter`]: failed-login limits per (email, IP) and per IP;
//! - [`verifier`]: JWT and API key verification on a request path, with their caches;
//! - [`jwks_cache`] (when to fetch an external provider's keys) and [`jwks_fetch`] (the
//!   background fetching itself — the crate's only I/O).
#![forbid(unsafe_code)]

pub mod apikey;
pub mod email;
pub mod idp;
pub mod jwks_cache;
pub mod jwks_fetch;
pub mod jwt;
pub mod kek;
pub mod limiter;
pub mod password;
pub mod scopes;
pub mod verifier;

use thiserror::Error;

pub use scopes::{Scope, Scopes};

/// Why a request is not authenticated. Messages never contain a token, key or password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("no credentials: send Authorization: Bearer <JWT or API key> or X-API-Key")]
    Missing,
    #[error("malformed credentials: expected a JWT or an API key sb_<8 hex>_<40 hex>")]
    Malformed,
    #[error("credentials too long ({0} bytes)")]
    TooLong(usize),
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("wrong audience")]
    Audience,
    #[error("wrong issuer")]
    Issuer,
    #[error("bad signature")]
    Signature,
    #[error("unknown key id")]
    UnknownKid,
    #[error("missing key id")]
    MissingKid,
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    #[error("missing claim {0}")]
    MissingClaim(String),
    #[error("malformed token")]
    MalformedToken,
    #[error("session revoked")]
    SessionRevoked,
    #[error("invalid API key")]
    InvalidKey,
    #[error("API key revoked")]
    KeyRevoked,
    #[error("API key expired")]
    KeyExpired,
    #[error("address not allowed for this API key")]
    IpNotAllowed,
    /// The key's own request limit is used up; retry after this many seconds.
    #[error("request limit of this API key reached; retry in {0} s")]
    RateLimited(u64),
    /// The key could not be checked: its record is not cached and the store does not answer
    /// (a server-side outage — the key is not known to be bad).
    #[error("the credential store is unavailable; retry shortly")]
    StoreUnavailable,
}

impl AuthError {
    /// Stable reason code (metrics, logs, the `error_description` of RFC 6750).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed_credentials",
            AuthError::TooLong(_) => "too_long",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::Audience => "audience",
            AuthError::Issuer => "issuer",
            AuthError::Signature => "signature",
            AuthError::UnknownKid => "unknown_kid",
            AuthError::MissingKid => "missing_kid",
            AuthError::Algorithm(_) => "algorithm",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::MalformedToken => "malformed_token",
            AuthError::SessionRevoked => "session_revoked",
            AuthError::InvalidKey => "invalid_key",
            AuthError::KeyRevoked => "key_revoked",
            AuthError::KeyExpired => "key_expired",
            AuthError::IpNotAllowed => "ip_not_allowed",
            AuthError::RateLimited(_) => "rate_limited",
            AuthError::StoreUnavailable => "store_unavailable",
        }
    }
}

/// Longest credential accepted (bytes); anything longer is rejected unread.
pub const MAX_CREDENTIAL_LEN: usize = 8 * 1024;

/// What a bearer token is, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    Jwt(&'a str),
    ApiKey(&'a str),
}

/// Classify a bearer token by shape: three base64url segments → JWT; `sb_<8 hex>_<40 hex>` →
/// API key; anything else is malformed. A JWT's errors are then final — there is no fall-through
/// to an API-key lookup.
pub fn classify(token: &str) -> Result<Credential<'_>, AuthError> {
    let t = token.trim();
    if t.is_empty() {
        return Err(AuthError::Missing);
    }
    if t.len() > MAX_CREDENTIAL_LEN {
        return Err(AuthError::TooLong(t.len()));
    }
    if apikey::is_key_shape(t) {
        return Ok(Credential::ApiKey(t));
    }
    let segments: Vec<&str> = t.split('.').collect();
    let b64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if segments.len() == 3
        && b64url(segments[0])
        && b64url(segments[1])
        && segments[2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(Credential::Jwt(t));
    }
    Err(AuthError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_is_by_shape() {
        let key = format!("sb_{}_{}", "a1b2c3d4", "0".repeat(40));
        assert_eq!(classify(&key), Ok(Credential::ApiKey(&key)));
        assert_eq!(
            classify("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"),
            Ok(Credential::Jwt("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"))
        );
        // `alg: none` tokens have an empty signature: still JWT-shaped, rejected by verification.
        assert!(matches!(
            classify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
            Ok(Credential::Jwt(_))
        ));
        assert_eq!(classify(""), Err(AuthError::Missing));
        assert_eq!(classify("sb_a1b2c3d4_short"), Err(AuthError::Malformed));
        assert_eq!(classify("Basic dXNlcjpwYXNz"), Err(AuthError::Malformed));
        assert_eq!(classify("a.b"), Err(AuthError::Malformed));
        assert!(matches!(
            classify(&"a".repeat(9000)),
            Err(AuthError::TooLong(_))
        ));
    }
}
