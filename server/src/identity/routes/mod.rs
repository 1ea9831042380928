//! `/v1/auth/*`, `/v1/users/me`, `/.well-known/jwks.json` and `/api-keys`, with the shapes of
//! the spec (compatible with the old user service).

mod keys;
mod sessions;

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
pub(crate) async fn register(
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

#[utoipa::path(get, path = "/v1/auth/.well-known/jwks.json", tag = "identity", responses((status = 200, body = Object)))]
pub(crate) async fn jwks(State(st): State<Arc<AppState>>) -> Response {
    let mut resp = Json(st.identity.jwks()).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    resp
}

/// The JWKS at the root path as well (`/.well-known/jwks.json`).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity", responses((status = 200, body = Object)))]
pub(crate) async fn jwks_root(st: State<Arc<AppState>>) -> Response {
    jwks(st).await
}

#[utoipa::path(get, path = "/v1/users/me", tag = "identity", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub(crate) async fn me(
    State(st): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
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

/// The identity routes (also served alone on the identity address).
pub(crate) fn router() -> utoipa_axum::router::OpenApiRouter<std::sync::Arc<AppState>> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::logout))
        .routes(routes!(jwks))
        .routes(routes!(jwks_root))
        .routes(routes!(me))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::validate_key))
        .routes(routes!(keys::revoke_key))
}
