//! Sessions: login (with its rate limits), refresh (rotating, reuse detected), logout.

use super::*;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Login {
    email: String,
    password: String,
    #[serde(default)]
    persist_session: bool,
}

pub(super) fn too_many(retry_after: u64) -> Response {
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
pub(super) async fn issue(
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

pub(super) fn with_cookie(v: Value) -> Response {
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
pub(super) async fn login(
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
pub(super) struct Refresh {
    #[serde(default)]
    refresh_token: Option<String>,
}

pub(super) fn cookie_token(headers: &HeaderMap) -> Option<String> {
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
pub(super) async fn refresh(
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
pub(super) struct Logout {
    #[serde(default)]
    all_devices: bool,
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "identity", request_body(content = Option<Logout>), security(("bearer" = [])), responses((status = 200, body = Object)))]
pub(super) async fn logout(
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
