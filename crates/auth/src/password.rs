//! Passwords: Argon2id (PHC strings) and the password policy. A password never appears in an
//! error, a log line or a panic message.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a password is refused by the policy (the password itself is never included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("password must be at least 12 characters")]
    TooShort,
    #[error("password must be at most 256 characters")]
    TooLong,
    #[error("password must mix character classes (not all letters, all digits or all symbols)")]
    OneClass,
    #[error("password must not be the email address")]
    IsEmail,
}

/// Hashing failed (never contains the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

fn hasher() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Check the policy: ≥ 12 characters, not a single character class, not the email.
pub fn check_policy(password: &str, email: &str) -> Result<(), PolicyError> {
    let n = password.chars().count();
    if n < 12 {
        return Err(PolicyError::TooShort);
    }
    if n > 256 {
        return Err(PolicyError::TooLong);
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 2 {
        return Err(PolicyError::OneClass);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(PolicyError::IsEmail);
    }
    Ok(())
}

/// Hash with Argon2id and a random salt; returns the PHC string.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| HashError)?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| HashError)
}

/// Verify a password against a PHC string (false on any mismatch or malformed hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fixed hash verified when the user does not exist, so that an unknown email and a wrong
/// password take the same time.
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("dummy-password-for-timing").unwrap_or_default());
    let _ = verify_password(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("TestSDK123!@#$").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("TestSDK123!@#$", &h));
        assert!(!verify_password("TestSDK123!@#%", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("TestSDK123!@#$").unwrap(), "salted");
    }

    #[test]
    fn policy_errors_never_contain_the_password() {
        let secret = "abcdefghijkl";
        let e = check_policy(secret, "a@b.c").unwrap_err();
        assert_eq!(e, PolicyError::OneClass);
        assert!(!e.to_string().contains(secret));
        assert_eq!(check_policy("short1A", "a@b.c"), Err(PolicyError::TooShort));
        assert_eq!(
            check_policy("trader@example.com", "trader@example.com"),
            Err(PolicyError::IsEmail)
        );
        assert!(check_policy("TestSDK123!@#$", "test_sdk@example.com").is_ok());
    }
}
