//! The dual-auth extractor: `Authorization: Bearer <JWT or API key>`, or `X-API-Key`. The token
//! is classified by shape; a JWT's failure is final (no fall-through to an API-key lookup).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use stocksblitz_auth::{AuthError, Scope};

use super::UserIdentity;
use crate::error::ApiError;
use crate::state::AppState;

/// A 401 with the RFC 6750 challenge, or a 403 for a missing scope.
#[derive(Debug)]
pub(crate) struct AuthRejection {
    status: StatusCode,
    code: &'static str,
    detail: String,
    retry_after: Option<u64>,
}

impl AuthRejection {
    pub(crate) fn unauthenticated(e: &AuthError) -> Self {
        if *e == AuthError::StoreUnavailable {
            // Not the client's fault, and the key is not known to be bad: 503, never 401.
            return AuthRejection {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: e.code(),
                detail: e.to_string(),
                retry_after: Some(1),
            };
        }
        if let AuthError::RateLimited(secs) = e {
            return AuthRejection {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: e.code(),
                detail: e.to_string(),
                retry_after: Some(*secs),
            };
        }
        AuthRejection {
            status: StatusCode::UNAUTHORIZED,
            code: e.code(),
            detail: format!("not authenticated: {e}"),
            retry_after: None,
        }
    }
    pub(crate) fn forbidden(scope: Scope) -> Self {
        AuthRejection {
            status: StatusCode::FORBIDDEN,
            code: "insufficient_scope",
            detail: format!("this route needs the {} scope", scope.as_str()),
            retry_after: None,
        }
    }
}

/// The same error as an [`ApiError`] (for handlers returning one; a 401's challenge header is
/// only added by the extractor's own rejection).
impl From<AuthRejection> for ApiError {
    fn from(r: AuthRejection) -> ApiError {
        ApiError::new(r.status, r.code, r.detail)
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let mut resp = ApiError::new(self.status, self.code, self.detail.clone()).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.code == "missing" {
                "Bearer".to_string()
            } else {
                format!(
                    r#"Bearer error="invalid_token", error_description="{}""#,
                    self.detail.replace('"', "'")
                )
            };
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().insert(WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}

/// The authenticated caller (any valid credential).
#[derive(Debug, Clone)]
pub(crate) struct Auth(pub UserIdentity);

impl Auth {
    /// 403 unless the caller may read market data (scope `read`).
    pub(crate) fn require_read(&self) -> Result<(), ApiError> {
        if self.0.scopes.contains(Scope::Read) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "this route needs the read scope",
            ))
        }
    }

    /// The owner of the caller's accounts, alerts, messages and strategies: its user (an API
    /// key acts for its user).
    pub(crate) fn owner(&self) -> String {
        format!("user:{}", self.0.user_id)
    }

    /// The client whose subscriptions a request changes: the API key, or the user of a JWT.
    pub(crate) fn client_id(&self) -> String {
        match &self.0.key_id {
            Some(k) => format!("key:{k}"),
            None => format!("user:{}", self.0.user_id),
        }
    }

    /// 403 unless the caller holds `scope` (admin holds every scope).
    pub(crate) fn require(&self, scope: Scope) -> Result<(), AuthRejection> {
        if self.0.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AuthRejection::forbidden(scope))
        }
    }
}

/// The bearer token of a request, if any (`Authorization: Bearer`, or `X-API-Key`).
pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

/// The credential in request headers — the one parser for HTTP routes and WebSocket upgrades:
/// `Authorization: Bearer <token>` (the scheme in any case, RFC 7235), a bare `Authorization:
/// <token>`, or `X-API-Key: <token>`.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    if let Some(h) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let h = h.trim();
        let token = match h.split_once(char::is_whitespace) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => h,
        };
        return Some(token);
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let fail = |e: AuthError| {
            state.metrics.auth_failure(e.code());
            AuthRejection::unauthenticated(&e)
        };
        let Some(token) = bearer(parts) else {
            return Err(fail(AuthError::Missing));
        };
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        state
            .identity
            .authenticate(token, client)
            .await
            .map(Auth)
            .map_err(fail)
    }
}

/// The client's address when the server was started with connect info (None in router tests).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
