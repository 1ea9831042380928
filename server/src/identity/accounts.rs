//! Creating users and API keys — one place for the HTTP routes, the first-start bootstrap and
//! the admin CLI.

use stocksblitz_auth::{Scopes, apikey, password};
use stocksblitz_store::Store;
use stocksblitz_store::identity::{ApiKeyRow, is_conflict};

use crate::ingest::now_ms;

/// Why an account or key could not be created; `param` names the offending input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccountError {
    #[error("{param}: {message}")]
    Invalid {
        param: &'static str,
        message: String,
    },
    #[error("an account with this email exists")]
    Taken,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn invalid(param: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        param,
        message: message.into(),
    }
}

/// The one spelling of an address (see `stocksblitz_auth::email`): the same for registration,
/// login, the limiters and the CLI.
pub(crate) fn normalize_email(e: &str) -> Result<String, AccountError> {
    stocksblitz_auth::email::normalize(e).map_err(|why| invalid("email", why.to_string()))
}

/// Check the email and password policy, hash with Argon2id off the async threads, store the
/// user. Returns the new user id and the normalised email.
pub(crate) async fn create_user(
    store: &Store,
    email: &str,
    name: &str,
    password: &str,
    roles: &str,
) -> Result<(i64, String), AccountError> {
    let email = normalize_email(email)?;
    password::check_policy(password, &email).map_err(|e| invalid("password", e.to_string()))?;
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&pw))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::from)?;
    let name = match name.trim() {
        "" => email.split('@').next().unwrap_or_default().to_string(),
        n => n.to_string(),
    };
    match store
        .create_user(&email, &name, &hash, roles, now_ms())
        .await
    {
        Ok(id) => Ok((id, email)),
        Err(e) if is_conflict(&e) => Err(AccountError::Taken),
        Err(e) => Err(AccountError::Internal(e.into())),
    }
}

/// What a new API key carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySpec {
    pub name: String,
    pub description: Option<String>,
    pub scopes: Scopes,
    pub rate_limit_per_min: Option<i64>,
    pub ip_allowlist: Vec<String>,
    pub expires_in_days: Option<i64>,
}

/// Validate the spec, generate the key (CSPRNG) and store its hash. Returns the stored row and
/// the key itself, which exists nowhere else afterwards.
pub(crate) async fn issue_api_key(
    store: &Store,
    user_id: i64,
    spec: KeySpec,
) -> Result<(ApiKeyRow, String), AccountError> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "must be 1–100 characters"));
    }
    if let Some(bad) = spec
        .ip_allowlist
        .iter()
        .find(|a| apikey::IpNet::parse(a).is_none())
    {
        return Err(invalid(
            "ip_whitelist",
            format!("{bad:?} is not an address or CIDR block"),
        ));
    }
    if let Some(d) = spec.expires_in_days
        && !(1..=3650).contains(&d)
    {
        return Err(invalid("expires_in_days", "must be 1..=3650"));
    }
    if let Some(r) = spec.rate_limit_per_min
        && !(1..=1_000_000).contains(&r)
    {
        return Err(invalid(
            "rate_limit_requests_per_min",
            "must be 1..=1000000",
        ));
    }
    let new = apikey::generate().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let now = now_ms();
    let row = ApiKeyRow {
        key_id: new.key_id.clone(),
        key_hash: new.hash.to_vec(),
        user_id,
        name: name.into(),
        description: spec.description,
        scopes: spec.scopes.to_string(),
        rate_limit_per_min: spec.rate_limit_per_min,
        ip_allowlist: (!spec.ip_allowlist.is_empty()).then(|| spec.ip_allowlist.join(",")),
        created_at: now,
        expires_at: spec.expires_in_days.map(|d| now + d * 86_400_000),
        last_used_at: None,
        revoked_at: None,
    };
    store
        .insert_api_key(&row)
        .await
        .map_err(|e| AccountError::Internal(e.into()))?;
    Ok((row, new.key))
}
