//! Identity persistence (users, API keys, sessions, refresh tokens, signing keys) over both
//! back-ends. Only hashes of secrets are stored. Times: UTC epoch ms.

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub roles: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub key_hash: Vec<u8>,
    pub user_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub scopes: String,
    pub rate_limit_per_min: Option<i64>,
    pub ip_allowlist: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: String,
    pub user_id: i64,
    pub persistent: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefreshRow {
    pub token_hash: Vec<u8>,
    pub session_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A uniqueness conflict (e.g. an email already registered).
pub fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Query(sqlx::Error::Database(d)) if d.is_unique_violation())
}

fn user_id_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("user_id")?)
}

fn n_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

fn session_id_col<R: Row>(r: &R) -> Result<String, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("session_id")?)
}

/// A row as one of the row structs (their `FromRow` derives name the columns).
fn row<T, R: Row>(r: &R) -> Result<T, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, R>,
{
    Ok(T::from_row(r)?)
}

const USER_COLS: &str = "user_id, email, name, password_hash, roles, status";
const KEY_COLS: &str = "key_id, key_hash, user_id, name, description, scopes, rate_limit_per_min, ip_allowlist, created_at, expires_at, last_used_at, revoked_at";

impl Store {
    /// Create a user; a duplicate email is a conflict (see [`is_conflict`]).
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        roles: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO users (email, name, password_hash, roles, status, created_at) VALUES (?, ?, ?, ?, 'active', ?) RETURNING user_id";
        let id: Option<i64> = run!(
            self,
            optional,
            sql,
            user_id_col,
            email,
            name,
            password_hash,
            roles,
            now
        )?;
        id.ok_or(StoreError::Corrupt("insert returned no id".into()))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = ?");
        run!(self, optional, &sql, row::<UserRow, _>, email)
    }

    pub async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE user_id = ?");
        run!(self, optional, &sql, row::<UserRow, _>, user_id)
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let n: Option<i64> = run!(self, optional, "SELECT COUNT(*) AS n FROM users", n_col)?;
        Ok(n.unwrap_or(0))
    }

    pub async fn insert_api_key(&self, k: &ApiKeyRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO api_keys ({KEY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        run!(
            self,
            execute,
            &sql,
            (),
            k.key_id.as_str(),
            k.key_hash.as_slice(),
            k.user_id,
            k.name.as_str(),
            k.description.as_deref(),
            k.scopes.as_str(),
            k.rate_limit_per_min,
            k.ip_allowlist.as_deref(),
            k.created_at,
            k.expires_at,
            k.last_used_at,
            k.revoked_at
        )?;
        Ok(())
    }

    pub async fn api_key(&self, key_id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys WHERE key_id = ?");
        run!(self, optional, &sql, row::<ApiKeyRow, _>, key_id)
    }

    pub async fn api_keys_of(&self, user_id: i64) -> Result<Vec<ApiKeyRow>, StoreError> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys WHERE user_id = ? ORDER BY created_at");
        run!(self, all, &sql, row::<ApiKeyRow, _>, user_id)
    }

    /// Revoke a key of `user_id`; false when there is no such (unrevoked) key of that user.
    pub async fn revoke_api_key(
        &self,
        key_id: &str,
        user_id: i64,
        now: i64,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE api_keys SET revoked_at = ?, revoked_reason = ? WHERE key_id = ? AND user_id = ? AND revoked_at IS NULL";
        Ok(run!(self, execute, sql, (), now, reason, key_id, user_id)? > 0)
    }

    /// Record use (callers throttle this to once a minute per key).
    pub async fn touch_api_key(&self, key_id: &str, now: i64) -> Result<(), StoreError> {
        run!(
            self,
            execute,
            "UPDATE api_keys SET last_used_at = ? WHERE key_id = ?",
            (),
            now,
            key_id
        )?;
        Ok(())
    }

    pub async fn create_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (session_id, user_id, persistent, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
        run!(
            self,
            execute,
            sql,
            (),
            s.session_id.as_str(),
            s.user_id,
            s.persistent,
            s.created_at,
            s.expires_at
        )?;
        Ok(())
    }

    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = "SELECT session_id, user_id, persistent, created_at, expires_at, revoked_at FROM sessions WHERE session_id = ?";
        run!(self, optional, sql, row::<SessionRow, _>, session_id)
    }

    pub async fn revoke_session(&self, session_id: &str, now: i64) -> Result<u64, StoreError> {
        run!(
            self,
            execute,
            "UPDATE sessions SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
            (),
            now,
            session_id
        )
    }

    pub async fn revoke_sessions_of(&self, user_id: i64, now: i64) -> Result<u64, StoreError> {
        run!(
            self,
            execute,
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (),
            now,
            user_id
        )
    }

    /// Session ids revoked since `since` (for revocation caches).
    pub async fn revoked_sessions_since(&self, since: i64) -> Result<Vec<String>, StoreError> {
        run!(
            self,
            all,
            "SELECT session_id FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at >= ?",
            session_id_col,
            since
        )
    }

    pub async fn insert_refresh(&self, r: &RefreshRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)";
        run!(
            self,
            execute,
            sql,
            (),
            r.token_hash.as_slice(),
            r.session_id.as_str(),
            r.issued_at,
            r.expires_at
        )?;
        Ok(())
    }

    pub async fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshRow>, StoreError> {
        let sql = "SELECT token_hash, session_id, issued_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?";
        run!(self, optional, sql, row::<RefreshRow, _>, hash)
    }

    /// Mark a refresh token used; false when it was already used (reuse).
    pub async fn use_refresh_token(&self, hash: &[u8], now: i64) -> Result<bool, StoreError> {
        Ok(run!(
            self,
            execute,
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            (),
            now,
            hash
        )? == 1)
    }

    pub async fn insert_signing_key(&self, k: &SigningKeyRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
        run!(
            self,
            execute,
            sql,
            (),
            k.kid.as_str(),
            k.algorithm.as_str(),
            k.private_key.as_slice(),
            k.public_jwk.as_str(),
            k.created_at,
            k.retired_at,
            k.expires_at
        )?;
        Ok(())
    }

    /// Keys still published at `now` (active, or retired but not yet expired), newest first.
    /// Every signing key's id and stored private-key blob, expired ones included (to seal the
    /// plaintext keys of an older store).
    pub async fn signing_key_blobs(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        const SQL: &str = "SELECT kid, private_key FROM signing_keys";
        Ok(match &self.pool {
            Pool::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await?,
            Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await?,
        })
    }

    /// Replace a signing key's stored private-key blob (sealing a plaintext key).
    pub async fn set_signing_key_blob(&self, kid: &str, blob: &[u8]) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE signing_keys SET private_key = ? WHERE kid = ?";
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query(SQL).bind(blob).bind(kid).execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::query(&crate::pg_placeholders(SQL))
                    .bind(blob)
                    .bind(kid)
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn signing_keys(&self, now: i64) -> Result<Vec<SigningKeyRow>, StoreError> {
        let sql = "SELECT kid, algorithm, private_key, public_jwk, created_at, retired_at, expires_at FROM signing_keys WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at DESC";
        run!(self, all, sql, row::<SigningKeyRow, _>, now)
    }

    /// Retire every active key (it stays published until `expires_at`).
    pub async fn retire_signing_keys(&self, now: i64, expires_at: i64) -> Result<u64, StoreError> {
        run!(
            self,
            execute,
            "UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE retired_at IS NULL",
            (),
            now,
            expires_at
        )
    }
}
