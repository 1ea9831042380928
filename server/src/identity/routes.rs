//! `/v1/auth/*`, `/v1/users/me`, `/.well-known/jwks.json` and `/api-keys`, with the shapes of
//! the spec (compatible with the old user service).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use stocksblitz_auth::idp::{AccessClaims, random_token, token_hash};
use stocksblitz_auth::{Scope, Scopes, password};
use stocksblitz_store::identity::{ApiKeyRow, RefreshRow, SessionRow};

use super::accounts::{self, AccountError, KeySpec};
use super::extract::{Auth, AuthRejection, ClientIp};
use super::{REFRESH_TTL_MS, REFRESH_TTL_PERSIST_MS};
use crate::error::ApiError;
use crate::ingest::now_ms;
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "identity store error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "the identity store is unavailable",
    )
}

fn body<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    crate::error::json_body(raw)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Register {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::Invalid { param, message } => ApiError::bad_param(param, message),
        AccountError::Taken => ApiError::new(
            StatusCode::CONFLICT,
            "email_taken",
            "an account with this email exists",
        ),
        AccountError::Internal(e) => internal(e),
    }
}

#[utoipa::path(post, path = "/v1/auth/register", tag = "identity", request_body = Register, responses((status = 201, body = Object), (status = 409, body = crate::error::ErrorBody)))]
pub async fn register(
    State(st): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    ClientIp(addr): ClientIp,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if !st.identity.registration_open() {
        // Closed: only an admin may create accounts (with its credential on this request).
        let token = super::extract::bearer_token(&headers);
        let admin = match token {
            Some(t) => st
                .identity
                .authenticate(t, addr)
                .await
                .is_ok_and(|who| who.scopes.contains(stocksblitz_auth::Scope::Admin)),
            None => false,
        };
        if !admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "registration_closed",
                "self-registration is closed on this server: an administrator creates accounts (stocksblitz-server users add, or this route with an admin credential)",
            ));
        }
    }
    let r: Register = body(&raw)?;
    let (user_id, email) =
        accounts::create_user(&st.identity.store, &r.email, &r.name, &r.password, "user")
            .await
            .map_err(account_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user_id": user_id, "email": email, "status": "active"})),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Login {
    email: String,
    password: String,
    #[serde(default)]
    persist_session: bool,
}

fn too_many(retry_after: u64) -> Response {
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many failed logins; retry after {retry_after} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        resp.headers_mut().insert(RETRY_AFTER, v);
    }
    resp
}

/// Issue an access token and a refresh token in `session_id` for `user_id`.
async fn issue(
    st: &AppState,
    user_id: i64,
    session_id: &str,
    persistent: bool,
) -> Result<Value, ApiError> {
    let user = st
        .identity
        .store
        .user_by_id(user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unknown_user",
                "the account no longer exists",
            )
        })?;
    let now = now_ms();
    let key = st
        .identity
        .current_key()
        .ok_or_else(|| internal("no signing key"))?;
    let roles: Vec<String> = user.roles.split(',').map(str::to_string).collect();
    let scopes = if roles.iter().any(|r| r == "admin") {
        "read trade cancel modify admin"
    } else {
        "read trade cancel modify"
    };
    let claims = AccessClaims {
        iss: st.identity.jwt.config().issuer.clone(),
        aud: st.identity.jwt.config().audience.clone(),
        sub: format!("user:{user_id}"),
        exp: (now + st.identity.access_ttl_ms) / 1000,
        iat: now / 1000,
        nbf: now / 1000,
        jti: random_token().map_err(internal)?,
        sid: session_id.to_string(),
        scp: scopes.into(),
        roles: roles.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        ver: 1,
    };
    let access = key.sign(&claims).map_err(internal)?;
    let refresh = random_token().map_err(internal)?;
    let ttl = if persistent {
        REFRESH_TTL_PERSIST_MS
    } else {
        REFRESH_TTL_MS
    };
    st.identity
        .store
        .insert_refresh(&RefreshRow {
            token_hash: token_hash(&refresh).to_vec(),
            session_id: session_id.into(),
            issued_at: now,
            expires_at: now + ttl,
            used_at: None,
        })
        .await
        .map_err(internal)?;
    Ok(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": st.identity.access_ttl_ms / 1000,
        "refresh_token": refresh,
        "user": {"user_id": user_id, "email": user.email, "name": user.name, "roles": roles},
    }))
}

fn with_cookie(v: Value) -> Response {
    let cookie = v.get("refresh_token").and_then(Value::as_str).map(|t| {
        format!("__Secure-refresh_token={t}; HttpOnly; Secure; SameSite=Strict; Path=/v1/auth")
    });
    let mut resp = Json(v).into_response();
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(SET_COOKIE, c);
    }
    resp
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "identity", request_body = Login, responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(st): State<Arc<AppState>>,
    ClientIp(addr): ClientIp,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let mut l: Login = body(&raw)?;
    // The limiters and the lookup see the one spelling of the address; one that cannot be an
    // account is a failed login like any other (no hint which rule it broke).
    l.email = accounts::normalize_email(&l.email).unwrap_or_else(|_| l.email.trim().to_string());
    let ip = addr.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    let now = now_ms();
    // With Redis the attempt is counted up front (atomic across replicas) and given back on
    // success; without it (or when Redis fails) the in-process limiter checks and records.
    let shared = match &st.identity.shared {
        Some(sh) => match sh.login_attempt(&l.email, &ip).await {
            Ok(r) => Some((sh.clone(), r)),
            Err(e) => {
                tracing::warn!(error = %e, "shared login limiter unavailable; limiting in this process");
                None
            }
        },
        None => None,
    };
    let limited = match &shared {
        Some((_, r)) => *r,
        None => st.identity.limiter.check(&l.email, &ip, now),
    };
    if let Err(wait) = limited {
        tracing::info!(reason = "login_rate_limited", "login refused");
        return Ok(too_many(wait));
    }
    let user = st
        .identity
        .store
        .user_by_email(&l.email)
        .await
        .map_err(internal)?;
    let pw = l.password;
    let ok = match &user {
        Some(u) if u.status == "active" => {
            let phc = u.password_hash.clone();
            tokio::task::spawn_blocking(move || password::verify_password(&pw, &phc))
                .await
                .unwrap_or(false)
        }
        _ => {
            // Same work for an unknown user: no timing oracle.
            let _ = tokio::task::spawn_blocking(move || password::dummy_verify(&pw)).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        if shared.is_none() {
            st.identity.limiter.record_failure(&l.email, &ip, now);
        }
        st.metrics.auth_failure("bad_credentials");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Authentication failed: invalid email or password",
        ));
    };
    if let Some((sh, _)) = &shared
        && let Err(e) = sh.login_succeeded(&l.email, &ip).await
    {
        tracing::warn!(error = %e, "cannot give back a successful login attempt");
    }
    let session_id = random_token().map_err(internal)?;
    let ttl = if l.persist_session {
        REFRESH_TTL_PERSIST_MS
    } else {
        REFRESH_TTL_MS
    };
    st.identity
        .store
        .create_session(&SessionRow {
            session_id: session_id.clone(),
            user_id: user.user_id,
            persistent: l.persist_session,
            created_at: now,
            expires_at: now + ttl,
            revoked_at: None,
        })
        .await
        .map_err(internal)?;
    Ok(with_cookie(
        issue(&st, user.user_id, &session_id, l.persist_session).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct Refresh {
    #[serde(default)]
    refresh_token: Option<String>,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix("__Secure-refresh_token=")
                .map(str::to_string)
        })
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "identity", request_body(content = Option<Refresh>, description = "or the refresh cookie"), responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody)))]
pub async fn refresh(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let r: Refresh = if raw.is_empty() {
        Refresh::default()
    } else {
        body(&raw)?
    };
    let token = r
        .refresh_token
        .or_else(|| cookie_token(&headers))
        .ok_or_else(|| ApiError::bad_param("refresh_token", "is required (body or cookie)"))?;
    let unauthorized = |code: &'static str, msg: &str| {
        ApiError::new(StatusCode::UNAUTHORIZED, code, msg.to_string())
    };
    let hash = token_hash(&token);
    let now = now_ms();
    let row = st
        .identity
        .store
        .refresh_token(&hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| unauthorized("invalid_refresh_token", "unknown refresh token"))?;
    if row.used_at.is_some()
        || !st
            .identity
            .store
            .use_refresh_token(&hash, now)
            .await
            .map_err(internal)?
    {
        // Reuse of a rotated token: the family (session) is revoked.
        st.identity
            .store
            .revoke_session(&row.session_id, now)
            .await
            .map_err(internal)?;
        st.identity.revoke_sessions([row.session_id.clone()]);
        tracing::warn!(
            reason = "refresh_token_reuse",
            "refresh token reused; session revoked"
        );
        return Err(unauthorized(
            "refresh_token_reused",
            "refresh token already used: the session is revoked",
        ));
    }
    let session = st
        .identity
        .store
        .session(&row.session_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| unauthorized("invalid_refresh_token", "unknown session"))?;
    if session.revoked_at.is_some() || row.expires_at <= now || session.expires_at <= now {
        return Err(unauthorized(
            "session_revoked",
            "the session has ended; log in again",
        ));
    }
    Ok(with_cookie(
        issue(
            &st,
            session.user_id,
            &session.session_id,
            session.persistent,
        )
        .await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct Logout {
    #[serde(default)]
    all_devices: bool,
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "identity", request_body(content = Option<Logout>), security(("bearer" = [])), responses((status = 200, body = Object)))]
pub async fn logout(
    State(st): State<Arc<AppState>>,
    auth: Auth,
    raw: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let l: Logout = if raw.is_empty() {
        Logout::default()
    } else {
        body(&raw)?
    };
    let now = now_ms();
    let revoked = if l.all_devices {
        let n = st
            .identity
            .store
            .revoke_sessions_of(auth.0.user_id, now)
            .await
            .map_err(internal)?;
        let ids = st
            .identity
            .store
            .revoked_sessions_since(now)
            .await
            .map_err(internal)?;
        st.identity.revoke_sessions(ids);
        n
    } else {
        let Some(sid) = auth.0.session_id.clone() else {
            return Err(ApiError::bad_param(
                "authorization",
                "logout needs a JWT of the session (an API key has no session)",
            ));
        };
        let n = st
            .identity
            .store
            .revoke_session(&sid, now)
            .await
            .map_err(internal)?;
        st.identity.revoke_sessions([sid]);
        n
    };
    Ok(Json(
        json!({"message": "logged out", "sessions_revoked": revoked}),
    ))
}

#[utoipa::path(get, path = "/v1/auth/.well-known/jwks.json", tag = "identity", responses((status = 200, body = Object)))]
pub async fn jwks(State(st): State<Arc<AppState>>) -> Response {
    let mut resp = Json(st.identity.jwks()).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    resp
}

/// The JWKS at the root path as well (`/.well-known/jwks.json`).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity", responses((status = 200, body = Object)))]
pub async fn jwks_root(st: State<Arc<AppState>>) -> Response {
    jwks(st).await
}

#[utoipa::path(get, path = "/v1/users/me", tag = "identity", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub async fn me(State(st): State<Arc<AppState>>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let user = st
        .identity
        .store
        .user_by_id(auth.0.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("unknown_user", "no such user"))?;
    Ok(Json(json!({
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "roles": user.roles.split(',').collect::<Vec<_>>(),
        "auth": {"source": auth.0.source, "scopes": auth.0.scopes.iter().map(Scope::as_str).collect::<Vec<_>>(), "key_id": auth.0.key_id},
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CreateKey {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    can_read: Option<bool>,
    #[serde(default)]
    can_trade: Option<bool>,
    #[serde(default)]
    can_cancel: Option<bool>,
    #[serde(default)]
    can_modify: Option<bool>,
    #[serde(default)]
    rate_limit_requests_per_min: Option<i64>,
    #[serde(default)]
    ip_whitelist: Option<Vec<String>>,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

/// The owner of keys must authenticate with a JWT (or be an admin).
fn owner(auth: &Auth) -> Result<(), AuthRejection> {
    if auth.0.source == "jwt" || auth.0.scopes.contains(Scope::Admin) {
        Ok(())
    } else {
        Err(AuthRejection::forbidden(Scope::Admin))
    }
}

fn key_json(k: &ApiKeyRow) -> Value {
    json!({"key_id": k.key_id, "key_prefix": format!("sb_{}", k.key_id), "name": k.name, "permissions": k.scopes.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
           "created_at": k.created_at / 1000, "last_used_at": k.last_used_at.map(|t| t / 1000), "expires_at": k.expires_at.map(|t| t / 1000), "revoked_at": k.revoked_at.map(|t| t / 1000)})
}

#[utoipa::path(post, path = "/api-keys", tag = "identity", request_body = CreateKey, security(("bearer" = [])), responses((status = 201, body = Object)))]
pub async fn create_key(
    State(st): State<Arc<AppState>>,
    auth: Auth,
    raw: axum::body::Bytes,
) -> Result<Response, Response> {
    owner(&auth).map_err(IntoResponse::into_response)?;
    let c: CreateKey = body(&raw).map_err(IntoResponse::into_response)?;
    let bad = |p: &str, m: String| ApiError::bad_param(p, m).into_response();
    let scopes = match &c.scopes {
        Some(list) => {
            Scopes::parse_list(&list.join(",")).map_err(|e| bad("scopes", e.to_string()))?
        }
        None => Scopes::from_flags(
            c.can_read.unwrap_or(true),
            c.can_trade.unwrap_or(false),
            c.can_cancel.unwrap_or(false),
            c.can_modify.unwrap_or(false),
        ),
    };
    // A key never carries more than its creator holds.
    if scopes.iter().any(|s| !auth.0.scopes.contains(s)) {
        return Err(bad(
            "scopes",
            format!("cannot grant scopes you do not hold ({scopes})"),
        ));
    }
    let spec = KeySpec {
        name: c.name,
        description: c.description,
        scopes,
        rate_limit_per_min: c.rate_limit_requests_per_min,
        ip_allowlist: c.ip_whitelist.unwrap_or_default(),
        expires_in_days: c.expires_in_days,
    };
    let (row, key) = accounts::issue_api_key(&st.identity.store, auth.0.user_id, spec)
        .await
        .map_err(|e| account_error(e).into_response())?;
    // An earlier lookup of this id (it did not exist then) must not be answered from the cache.
    st.identity.api_keys.forget(&row.key_id);
    let mut out = key_json(&row);
    out["api_key"] = json!(key);
    out["user_id"] = json!(auth.0.user_id);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[utoipa::path(get, path = "/api-keys", tag = "identity", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub async fn list_keys(
    State(st): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, Response> {
    owner(&auth).map_err(IntoResponse::into_response)?;
    let keys = st
        .identity
        .store
        .api_keys_of(auth.0.user_id)
        .await
        .map_err(|e| internal(e).into_response())?;
    Ok(Json(
        json!({"keys": keys.iter().map(key_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct Revoke {
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(delete, path = "/api-keys/{key_id}", tag = "identity", params(("key_id" = String, Path)), request_body(content = Option<Revoke>), security(("bearer" = [])), responses((status = 200, body = Object)))]
pub async fn revoke_key(
    State(st): State<Arc<AppState>>,
    auth: Auth,
    Path(key_id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<Value>, Response> {
    owner(&auth).map_err(IntoResponse::into_response)?;
    let r: Revoke = if raw.is_empty() {
        Revoke::default()
    } else {
        body(&raw).map_err(IntoResponse::into_response)?
    };
    let key_id: String = key_id.chars().take(16).collect();
    let done = st
        .identity
        .store
        .revoke_api_key(&key_id, auth.0.user_id, now_ms(), r.reason.as_deref())
        .await
        .map_err(|e| internal(e).into_response())?;
    if !done {
        return Err(
            ApiError::not_found("unknown_key", format!("no active key {key_id} of yours"))
                .into_response(),
        );
    }
    st.identity.forget_key(&key_id);
    Ok(Json(json!({"status": "success", "key_id": key_id})))
}

#[utoipa::path(post, path = "/api-keys/validate", tag = "identity", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub async fn validate_key(
    State(st): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, Response> {
    let Some(key_id) = auth.0.key_id.clone() else {
        return Err(
            ApiError::bad_param("authorization", "send the API key to validate").into_response(),
        );
    };
    let row = st
        .identity
        .store
        .api_key(&key_id)
        .await
        .map_err(|e| internal(e).into_response())?
        .ok_or_else(|| ApiError::not_found("unknown_key", "no such key").into_response())?;
    Ok(Json(
        json!({"status": "valid", "key_id": key_id, "user_id": row.user_id, "name": row.name,
                   "permissions": row.scopes.split(',').collect::<Vec<_>>(), "rate_limits": {"requests_per_min": row.rate_limit_per_min}}),
    ))
}

/// The identity routes (also served alone on the identity address).
pub fn router() -> utoipa_axum::router::OpenApiRouter<std::sync::Arc<AppState>> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(jwks))
        .routes(routes!(jwks_root))
        .routes(routes!(me))
        .routes(routes!(create_key, list_keys))
        .routes(routes!(validate_key))
        .routes(routes!(revoke_key))
}
