//! JWT verification: an algorithm allow-list (RS256, ES256, EdDSA — `none` and every HMAC
//! algorithm are refused, so a token signed with HS256 using the public key as the secret
//! fails), a required `kid` resolved in a JWK set, the key's own algorithm enforced, required
//! claims `exp`, `iat`, `iss`, `aud`, `sub`, `nbf` honoured, 30 s leeway by default.

use std::collections::HashMap;

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::AuthError;

/// Accepted algorithms.
pub const ALLOWED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Verification settings.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            issuer: "user_service".into(),
            audience: "trading_platform".into(),
            leeway_secs: 30,
        }
    }
}

/// Verification keys by `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids())
            .finish()
    }
}

/// A JWK set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad JWKS: {0}")]
pub struct JwksError(pub String);

impl KeySet {
    /// Keys of a JWKS document; keys without `kid`, of other algorithms or unusable are skipped.
    pub fn from_jwks_json(text: &str) -> Result<Self, JwksError> {
        let set: JwkSet = serde_json::from_str(text).map_err(|e| JwksError(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let Some(alg) = jwk
                .common
                .key_algorithm
                .and_then(|ka| Algorithm::try_from(ka).ok())
                .or_else(|| infer_alg(jwk).ok())
            else {
                continue;
            };
            if !ALLOWED.contains(&alg) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (key, alg));
            }
        }
        Ok(KeySet { keys })
    }

    pub fn kids(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn infer_alg(jwk: &jsonwebtoken::jwk::Jwk) -> Result<Algorithm, ()> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    match &jwk.algorithm {
        P::RSA(_) => Ok(Algorithm::RS256),
        P::EllipticCurve(ec) if format!("{:?}", ec.curve) == "P256" => Ok(Algorithm::ES256),
        P::OctetKeyPair(_) => Ok(Algorithm::EdDSA),
        _ => Err(()),
    }
}

/// `aud` may be a string or a list.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The claims stocksblitz reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Claims {
    // The required claims are enforced by the validation (which names a missing one); the
    // defaults only let that check run first.
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub aud: Option<OneOrMany>,
    #[serde(default)]
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub jti: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    /// Scopes: a space- or comma-separated string, or a list.
    #[serde(default)]
    pub scp: Option<OneOrMany>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

/// The token's `kid` after checking the algorithm (for a JWKS refetch on an unknown kid).
pub fn header_kid(token: &str) -> Result<String, AuthError> {
    let head = token.split('.').next().ok_or(AuthError::MalformedToken)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|_| AuthError::MalformedToken)?;
    let h: RawHeader = serde_json::from_slice(&bytes).map_err(|_| AuthError::MalformedToken)?;
    let alg = h.alg.ok_or(AuthError::MalformedToken)?;
    if !ALLOWED.iter().any(|a| format!("{a:?}") == alg) {
        return Err(AuthError::Algorithm(alg.chars().take(16).collect()));
    }
    h.kid.filter(|k| !k.is_empty()).ok_or(AuthError::MissingKid)
}

/// Verify a token against `keys`; every failure has a precise kind.
pub fn verify(token: &str, keys: &KeySet, cfg: &VerifyConfig) -> Result<Claims, AuthError> {
    let kid = header_kid(token)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::MalformedToken)?;
    let (key, key_alg) = keys.keys.get(&kid).ok_or(AuthError::UnknownKid)?;
    if header.alg != *key_alg {
        return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
    }
    let mut v = Validation::new(*key_alg);
    v.algorithms = vec![*key_alg];
    v.leeway = cfg.leeway_secs;
    v.validate_nbf = true;
    v.set_issuer(&[cfg.issuer.as_str()]);
    v.set_audience(&[cfg.audience.as_str()]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    match jsonwebtoken::decode::<Claims>(token, key, &v) {
        Ok(data) => Ok(data.claims),
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind as K;
            Err(match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::ImmatureSignature => AuthError::NotYetValid,
                K::InvalidAudience => AuthError::Audience,
                K::InvalidIssuer => AuthError::Issuer,
                K::InvalidSignature => AuthError::Signature,
                K::InvalidAlgorithm | K::InvalidAlgorithmName => {
                    AuthError::Algorithm(format!("{:?}", header.alg))
                }
                K::MissingRequiredClaim(c) => AuthError::MissingClaim(c.chars().take(16).collect()),
                _ => AuthError::MalformedToken,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    // RFC 8032 test vector 1 (Ed25519): secret seed and public key.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn signing_key() -> EncodingKey {
        let mut der = unhex("302e020100300506032b657004220420");
        der.extend(unhex(SEED));
        EncodingKey::from_ed_der(&der)
    }

    fn keys() -> KeySet {
        let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X, "kid": "k1", "alg": "EdDSA", "use": "sig"}]});
        KeySet::from_jwks_json(&jwks.to_string()).unwrap()
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn token(kid: Option<&str>, claims: serde_json::Value) -> String {
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&h, &claims, &signing_key()).unwrap()
    }

    fn good_claims() -> serde_json::Value {
        let t = now();
        json!({"sub": "user:7", "iss": "user_service", "aud": "trading_platform", "exp": t + 900, "iat": t, "nbf": t, "sid": "s1", "scp": "read trade"})
    }

    #[test]
    fn valid_token_and_precise_failures() {
        let ks = keys();
        let cfg = VerifyConfig::default();
        let c = verify(&token(Some("k1"), good_claims()), &ks, &cfg).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_deref()), ("user:7", Some("s1")));

        let t = now();
        let mut expired = good_claims();
        expired["exp"] = json!(t - 120);
        assert_eq!(
            verify(&token(Some("k1"), expired), &ks, &cfg),
            Err(AuthError::Expired)
        );
        let mut within_leeway = good_claims();
        within_leeway["exp"] = json!(t - 10);
        assert!(verify(&token(Some("k1"), within_leeway), &ks, &cfg).is_ok());
        let mut future = good_claims();
        future["nbf"] = json!(t + 600);
        assert_eq!(
            verify(&token(Some("k1"), future), &ks, &cfg),
            Err(AuthError::NotYetValid)
        );
        let mut aud = good_claims();
        aud["aud"] = json!("someone_else");
        assert_eq!(
            verify(&token(Some("k1"), aud), &ks, &cfg),
            Err(AuthError::Audience)
        );
        let mut iss = good_claims();
        iss["iss"] = json!("evil");
        assert_eq!(
            verify(&token(Some("k1"), iss), &ks, &cfg),
            Err(AuthError::Issuer)
        );
        let mut no_sub = good_claims();
        no_sub.as_object_mut().unwrap().remove("sub");
        assert!(matches!(
            verify(&token(Some("k1"), no_sub), &ks, &cfg),
            Err(AuthError::MissingClaim(_))
        ));
        assert_eq!(
            verify(&token(Some("k9"), good_claims()), &ks, &cfg),
            Err(AuthError::UnknownKid)
        );
        assert_eq!(
            verify(&token(None, good_claims()), &ks, &cfg),
            Err(AuthError::MissingKid)
        );

        // Tampered payload: signature no longer matches.
        let good = token(Some("k1"), good_claims());
        let parts: Vec<&str> = good.split('.').collect();
        let mut claims = good_claims();
        claims["sub"] = json!("user:1");
        let forged_payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(&tampered, &ks, &cfg), Err(AuthError::Signature));

        // alg none and HS256 (the public key used as an HMAC secret) are refused by name.
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!(
            "{}.{}.",
            b64(json!({"alg": "none", "kid": "k1"})),
            b64(good_claims())
        );
        assert_eq!(
            verify(&none, &ks, &cfg),
            Err(AuthError::Algorithm("none".into()))
        );
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("k1".into());
        let hs_token = jsonwebtoken::encode(
            &hs,
            &good_claims(),
            &EncodingKey::from_secret(PUBLIC_X.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            verify(&hs_token, &ks, &cfg),
            Err(AuthError::Algorithm("HS256".into()))
        );
        assert_eq!(verify("x.y.z", &ks, &cfg), Err(AuthError::MalformedToken));
    }

    #[test]
    fn jwks_parsing_keeps_only_usable_keys() {
        let jwks = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X, "kid": "k1", "alg": "EdDSA"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
            {"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X}
        ]});
        let ks = KeySet::from_jwks_json(&jwks.to_string()).unwrap();
        assert_eq!(ks.kids(), vec!["k1"]);
        assert!(KeySet::from_jwks_json("not json").is_err());
    }
}
