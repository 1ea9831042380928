//! API keys: create (shown once), list, revoke, validate.

use super::*;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct CreateKey {
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
pub(super) fn owner(auth: &Auth) -> Result<(), AuthRejection> {
    if auth.0.source == "jwt" || auth.0.scopes.contains(Scope::Admin) {
        Ok(())
    } else {
        Err(AuthRejection::forbidden(Scope::Admin))
    }
}

pub(super) fn key_json(k: &ApiKeyRow) -> Value {
    json!({"key_id": k.key_id, "key_prefix": format!("sb_{}", k.key_id), "name": k.name, "permissions": k.scopes.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
           "created_at": k.created_at / 1000, "last_used_at": k.last_used_at.map(|t| t / 1000), "expires_at": k.expires_at.map(|t| t / 1000), "revoked_at": k.revoked_at.map(|t| t / 1000)})
}

#[utoipa::path(post, path = "/api-keys", tag = "identity", request_body = CreateKey, security(("bearer" = [])), responses((status = 201, body = Object)))]
pub(super) async fn create_key(
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
pub(super) async fn list_keys(
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
pub(super) struct Revoke {
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(delete, path = "/api-keys/{key_id}", tag = "identity", params(("key_id" = String, Path)), request_body(content = Option<Revoke>), security(("bearer" = [])), responses((status = 200, body = Object)))]
pub(super) async fn revoke_key(
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
pub(super) async fn validate_key(
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
