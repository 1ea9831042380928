//! API keys: `sb_<8 hex key id>_<40 hex secret>` (160 random bits after the id), generated from
//! the OS CSPRNG. Only the SHA-256 of the whole key is stored; comparison is constant-time.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{AuthError, Scopes};

const ID_HEX: usize = 8;
const SECRET_HEX: usize = 40;
/// `sb_` + id + `_` + secret.
pub const KEY_LEN: usize = 3 + ID_HEX + 1 + SECRET_HEX;

/// Whether `s` has the shape `sb_<8 lowercase hex>_<40 lowercase hex>`.
pub fn is_key_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == KEY_LEN
        && b.starts_with(b"sb_")
        && b[3 + ID_HEX] == b'_'
        && b[3..3 + ID_HEX]
            .iter()
            .chain(&b[4 + ID_HEX..])
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// The public key id of a well-formed key.
pub fn key_id(key: &str) -> Option<&str> {
    is_key_shape(key).then(|| &key[3..3 + ID_HEX])
}

/// SHA-256 of the whole key (what is stored).
pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Lower-case hex of `bytes` (key ids, fingerprints, webhook signatures).
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// A freshly generated key: the full key is shown once; only `key_id` and `hash` are stored.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    pub key: String,
    pub key_id: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("NewKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Generate a key from the operating system's CSPRNG.
pub fn generate() -> Result<NewKey, getrandom::Error> {
    let mut raw = [0u8; (ID_HEX + SECRET_HEX) / 2];
    getrandom::fill(&mut raw)?;
    let id = hex(&raw[..ID_HEX / 2]);
    let secret = hex(&raw[ID_HEX / 2..]);
    let key = format!("sb_{id}_{secret}");
    Ok(NewKey {
        hash: hash(&key),
        key_id: id,
        key,
    })
}

/// What the store keeps about a key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub key_id: String,
    pub hash: [u8; 32],
    pub user_id: i64,
    pub scopes: Scopes,
    /// UTC epoch ms.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Allowed client addresses (exact addresses or CIDR blocks); empty = any.
    pub ip_allowlist: Vec<IpNet>,
    /// The key's own request limit per minute (none: only global limits apply).
    pub rate_limit_per_min: Option<u32>,
}

/// Check a presented key against its stored record at `now_ms` from `client`: the hash in
/// constant time, then revocation, expiry and the IP allow-list.
pub fn check(
    key: &str,
    record: &KeyRecord,
    now_ms: i64,
    client: Option<IpAddr>,
) -> Result<Scopes, AuthError> {
    let presented = hash(key);
    if !bool::from(presented.ct_eq(&record.hash)) {
        return Err(AuthError::InvalidKey);
    }
    if record.revoked_at.is_some_and(|t| t <= now_ms) {
        return Err(AuthError::KeyRevoked);
    }
    if record.expires_at.is_some_and(|t| t <= now_ms) {
        return Err(AuthError::KeyExpired);
    }
    if !record.ip_allowlist.is_empty() {
        let Some(ip) = client else {
            return Err(AuthError::IpNotAllowed);
        };
        if !record.ip_allowlist.iter().any(|net| net.contains(ip)) {
            return Err(AuthError::IpNotAllowed);
        }
    }
    Ok(record.scopes)
}

/// The work [`check`] does for a key whose id has no record: the same hash and constant-time
/// comparison, against nothing, so an unknown key id costs what a known id with a wrong secret
/// costs (key ids cannot be found by timing).
pub fn check_unknown(key: &str) -> AuthError {
    let presented = hash(key);
    let _ = std::hint::black_box(presented.ct_eq(&[0u8; 32]));
    AuthError::InvalidKey
}

/// An address block (`10.0.0.0/8`, `2001:db8::/32`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;

    fn record(key: &NewKey) -> KeyRecord {
        KeyRecord {
            key_id: key.key_id.clone(),
            hash: key.hash,
            user_id: 1,
            scopes: Scopes::none().with(Scope::Read),
            expires_at: None,
            revoked_at: None,
            ip_allowlist: vec![],
            rate_limit_per_min: None,
        }
    }

    #[test]
    fn generated_keys_have_the_format_and_are_unique() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(is_key_shape(&a.key) && a.key.len() == KEY_LEN);
        assert_ne!(a.key, b.key);
        assert_eq!(key_id(&a.key), Some(a.key_id.as_str()));
        assert!(
            !format!("{a:?}").contains(&a.key[12..]),
            "Debug must not print the secret"
        );
    }

    #[test]
    fn checks_hash_revocation_expiry_and_addresses() {
        let k = generate().unwrap();
        let mut r = record(&k);
        assert!(check(&k.key, &r, 1000, None).unwrap().contains(Scope::Read));
        // A wrong secret part (same id) fails.
        let mut wrong = k.key.clone();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(KEY_LEN - 1.., last);
        assert_eq!(check(&wrong, &r, 1000, None), Err(AuthError::InvalidKey));
        r.expires_at = Some(500);
        assert_eq!(check(&k.key, &r, 1000, None), Err(AuthError::KeyExpired));
        r.expires_at = None;
        r.revoked_at = Some(900);
        assert_eq!(check(&k.key, &r, 1000, None), Err(AuthError::KeyRevoked));
        r.revoked_at = None;
        r.ip_allowlist = vec![
            IpNet::parse("10.1.0.0/16").unwrap(),
            IpNet::parse("::1").unwrap(),
        ];
        assert!(check(&k.key, &r, 1000, Some("10.1.2.3".parse().unwrap())).is_ok());
        assert!(check(&k.key, &r, 1000, Some("::1".parse().unwrap())).is_ok());
        assert_eq!(
            check(&k.key, &r, 1000, Some("10.2.0.1".parse().unwrap())),
            Err(AuthError::IpNotAllowed)
        );
        assert_eq!(check(&k.key, &r, 1000, None), Err(AuthError::IpNotAllowed));
        assert!(IpNet::parse("10.0.0.0/33").is_none() && IpNet::parse("nope").is_none());
    }

    #[test]
    fn shape() {
        assert!(is_key_shape(&format!("sb_30d4d5ea_{}", "ab12".repeat(10))));
        assert!(!is_key_shape(&format!("sb_30D4d5ea_{}", "ab12".repeat(10))));
        assert!(!is_key_shape(&format!("sb_30d4d5e_{}", "ab12".repeat(10))));
        assert!(!is_key_shape(&format!("sx_30d4d5ea_{}", "ab12".repeat(10))));
    }
}
