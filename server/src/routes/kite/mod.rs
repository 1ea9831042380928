//! Kite Connect v3 compatible routes under `/kite`: a Kite script paper-trades by pointing
//! `KiteConnect(root=…)` here. Kite's envelopes (`{status: "success", data}`; errors
//! `{status: "error", message, data: null, error_type}` with Kite's HTTP codes), form or JSON
//! bodies, `Authorization: token <anything>:<our API key or JWT>`.
//!
//! pykiteconnect joins its paths to `root` with `urljoin`, which drops a path in `root`
//! (`root="http://host:8081/kite"` sends `/orders` to `http://host:8081/orders`). So a request
//! carrying Kite's `X-Kite-Version` header is routed here whatever its prefix ([`kite_prefix`]):
//! `root` may be the server's address with or without `/kite`.
//!
//! Handlers adapt: the trading service owns the operations, the broker the rules; the caller's
//! Kite "account" is their primary paper account.

pub(crate) mod charges;
mod form;
pub(crate) use form::{KiteForm, json_list};
pub(crate) mod margins;
pub(crate) mod market;
pub(crate) mod orders;
pub(crate) mod portfolio;
pub(crate) mod user;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stocksblitz_auth::{AuthError, Scope};

use crate::error::ApiError;
use crate::identity::extract::Auth;
use crate::state::AppState;

/// Kite's exception names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[allow(
    clippy::enum_variant_names,
    reason = "Kite's error_type values, spelled as Kite spells them"
)]
pub(crate) enum ErrorType {
    InputException,
    TokenException,
    PermissionException,
    OrderException,
    NetworkException,
    GeneralException,
}

/// An error in Kite's shape.
#[derive(Debug, Clone)]
pub(crate) struct KiteError {
    pub status: StatusCode,
    pub error_type: ErrorType,
    pub message: String,
    /// Another replica that can answer (see `crate::forward`).
    pub forward_to: Option<String>,
}

/// Kite's error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KiteErrorBody {
    /// Always `error`.
    pub status: &'static str,
    pub message: String,
    /// Always null.
    #[schema(value_type = Option<String>)]
    pub data: Option<()>,
    pub error_type: ErrorType,
}

impl KiteError {
    pub(crate) fn input(message: impl Into<String>) -> KiteError {
        KiteError {
            status: StatusCode::BAD_REQUEST,
            error_type: ErrorType::InputException,
            message: message.into(),
            forward_to: None,
        }
    }
}

/// Our errors in Kite's terms: a broker refusal is an `OrderException`, a bad parameter an
/// `InputException`, a credential a `TokenException`, a scope a `PermissionException`, a
/// busy store or replica a `NetworkException`; the HTTP status is kept.
impl From<ApiError> for KiteError {
    fn from(e: ApiError) -> KiteError {
        let error_type = match (e.status, e.code) {
            (_, "insufficient_funds" | "order_rejected" | "order_invalid" | "order_not_found") => {
                ErrorType::OrderException
            }
            (StatusCode::UNAUTHORIZED, _) => ErrorType::TokenException,
            (StatusCode::FORBIDDEN, _) => ErrorType::PermissionException,
            (StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, _) => {
                ErrorType::NetworkException
            }
            (s, _) if s.is_client_error() => ErrorType::InputException,
            _ => ErrorType::GeneralException,
        };
        // Kite answers a bad credential with 403 TokenException.
        let status = if e.status == StatusCode::UNAUTHORIZED {
            StatusCode::FORBIDDEN
        } else {
            e.status
        };
        KiteError {
            status,
            error_type,
            message: e.detail,
            forward_to: e.forward_to,
        }
    }
}

impl From<crate::identity::extract::AuthRejection> for KiteError {
    fn from(r: crate::identity::extract::AuthRejection) -> KiteError {
        ApiError::from(r).into()
    }
}

impl IntoResponse for KiteError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(KiteErrorBody {
                status: "error",
                message: self.message,
                data: None,
                error_type: self.error_type,
            }),
        )
            .into_response();
        if let Some(url) = self.forward_to {
            r.extensions_mut().insert(crate::error::ForwardTo(url));
        }
        r
    }
}

/// Kite's success envelope.
#[derive(Debug, Serialize)]
pub(crate) struct Kite<T: Serialize> {
    pub status: &'static str,
    pub data: T,
}

/// `{status: "success", data}`.
pub(crate) fn ok<T: Serialize>(data: T) -> Json<Kite<T>> {
    Json(Kite {
        status: "success",
        data,
    })
}

pub(crate) type KiteResult<T> = Result<Json<Kite<T>>, KiteError>;

/// A documented `{status: "success", data: T}` (the handlers return [`Kite`]`<T>`).
macro_rules! kite_envelope {
    ($name:ident, $t:ty) => {
        #[derive(Debug, utoipa::ToSchema)]
        #[allow(dead_code)]
        pub(crate) struct $name {
            /// Always `success`.
            pub(crate) status: String,
            pub(crate) data: $t,
        }
    };
}
pub(crate) use kite_envelope;

/// The caller, from `Authorization: token <api_key>:<access_token>` (the access token is our
/// API key or a JWT; the part before the colon is ignored), `Bearer`, or `X-API-Key`.
#[derive(Debug, Clone)]
pub(crate) struct KiteAuth(pub Auth);

impl KiteAuth {
    /// The caller's primary paper account (created on first use).
    pub(crate) async fn account(&self, state: &AppState) -> Result<i64, KiteError> {
        state
            .trading
            .primary_account(&self.0.owner(), state.clock.now())
            .await
            .map(|a| a.account_id)
            .map_err(|e| crate::wire::trading::trading_error(e).into())
    }

    pub(crate) fn read(&self) -> Result<(), KiteError> {
        self.0.require_read().map_err(Into::into)
    }

    pub(crate) fn trade(&self) -> Result<(), KiteError> {
        self.0.require(Scope::Trade).map_err(Into::into)
    }
}

fn credential(parts: &Parts) -> Option<&str> {
    if let Some(h) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let h = h.trim();
        if let Some(rest) = h
            .strip_prefix("token ")
            .or_else(|| h.strip_prefix("Token "))
        {
            let rest = rest.trim();
            return Some(rest.split_once(':').map_or(rest, |(_, t)| t).trim());
        }
    }
    crate::identity::extract::bearer(parts)
}

impl FromRequestParts<Arc<AppState>> for KiteAuth {
    type Rejection = KiteError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let fail = |e: AuthError| {
            state.metrics.auth_failure(e.code());
            KiteError::from(ApiError::from(
                crate::identity::extract::AuthRejection::unauthenticated(&e),
            ))
        };
        let Some(token) = credential(parts).filter(|t| !t.is_empty()) else {
            return Err(fail(AuthError::Missing));
        };
        let client = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        state
            .identity
            .authenticate(token, client)
            .await
            .map(|p| KiteAuth(Auth(p)))
            .map_err(fail)
    }
}

/// Route a Kite client's request here: a request with `X-Kite-Version` whose path is not
/// under `/kite` gets the prefix (see the module documentation).
pub(crate) fn kite_prefix(mut req: Request) -> Request {
    if req.headers().contains_key("x-kite-version") && !is_kite_path(req.uri().path()) {
        let pq = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        if let Ok(uri) = format!("/kite{pq}").parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

pub(crate) fn is_kite_path(path: &str) -> bool {
    path == "/kite" || path.starts_with("/kite/")
}

/// Kite's time text (`YYYY-MM-DD HH:MM:SS`, IST) of epoch ms.
pub(crate) fn ist_text(ms: i64) -> String {
    crate::wire::ist_text(ms)
}

/// The caller's exchange-qualified instrument (`NFO:NIFTY26DECFUT`) as a tradingsymbol.
pub(crate) fn strip_exchange(i: &str) -> &str {
    i.split_once(':').map_or(i, |(_, s)| s).trim()
}

/// Kite Connect v3 compatible routes (`/kite/...`).
pub(crate) fn router() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    utoipa_axum::router::OpenApiRouter::new()
        .merge(orders::router())
        .merge(portfolio::router())
        .merge(user::router())
        .merge(margins::router())
        .merge(charges::router())
        .merge(market::router())
}
