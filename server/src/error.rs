//! One error type for every route, rendered as `{"detail": …, "code": …}` with the right status.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Another replica that can answer this request (see `forward`).
    pub forward_to: Option<String>,
}

/// A response extension: replay the request at this replica (the forwarding middleware).
#[derive(Debug, Clone)]
pub(crate) struct ForwardTo(pub String);

/// The error body of every route (documentation; rendered from [`ApiError`]).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// A human sentence naming the problem (and the parameter).
    pub detail: String,
    /// A machine code (`invalid_parameter`, `missing`, `rate_limited`, …).
    pub code: String,
}

#[derive(Serialize)]
struct Body<'a> {
    detail: &'a str,
    code: &'a str,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            forward_to: None,
        }
    }

    /// 400 naming the offending parameter.
    pub(crate) fn bad_param(param: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("{param}: {detail}"),
        )
    }

    pub(crate) fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 503: the store did not answer (the cause is logged, not sent).
    pub(crate) fn store_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "store read failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store did not answer",
        )
    }

    /// A store error on a write a user asked for: a name taken is a 409 (`exists`), a per-user
    /// limit reached a 400 (`limit`, naming it), anything else the store's 503.
    pub(crate) fn from_store(e: stocksblitz_store::StoreError) -> Self {
        match e {
            stocksblitz_store::StoreError::Exists(what) => Self::new(
                StatusCode::CONFLICT,
                "exists",
                format!("{what} exists already"),
            ),
            stocksblitz_store::StoreError::Limit(what) => {
                Self::new(StatusCode::BAD_REQUEST, "limit", what)
            }
            other => Self::store_unavailable(other),
        }
    }

    /// 503: the in-memory snapshot cannot be read (its lock was poisoned by a panic).
    pub(crate) fn snapshot_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "snapshot_unavailable",
            "snapshot lock poisoned",
        )
    }
}

impl From<stocksblitz_store::StoreError> for ApiError {
    fn from(e: stocksblitz_store::StoreError) -> Self {
        Self::from_store(e)
    }
}

impl From<stocksblitz_engine::EngineError> for ApiError {
    fn from(e: stocksblitz_engine::EngineError) -> Self {
        use stocksblitz_engine::EngineError as E;
        match e {
            E::Store(e) => Self::from_store(e),
            E::SnapshotUnavailable => Self::snapshot_unavailable(),
            E::EmptyWindow { from, to } => {
                Self::bad_param("from", format!("must not be after to ({from} > {to})"))
            }
            e @ E::NoSpot { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "no_spot", e.to_string())
            }
            E::Spec(e) => Self::bad_param("spec", e),
            e @ E::Compute { .. } => {
                // Ids are validated when parsed: a failure here is ours, not the request's.
                tracing::error!(error = %e, "indicator computation failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "compute_failed",
                    "the indicator could not be computed",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(Body {
            detail: &self.detail,
            code: self.code,
        });
        let mut r = (self.status, body).into_response();
        if let Some(url) = self.forward_to {
            r.extensions_mut().insert(ForwardTo(url));
        }
        r
    }
}

/// `Query<T>` whose rejection is an [`ApiError`] (JSON, 400) instead of axum's plain text.
#[derive(Debug, Clone)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
}

/// JSON 404 for unknown paths (in Kite's shape under `/kite`).
pub(crate) async fn not_found_fallback(uri: axum::http::Uri) -> Response {
    let path: String = uri.path().chars().take(200).collect();
    let e = ApiError::not_found("not_found", format!("no route for {path}"));
    if crate::routes::kite::is_kite_path(&path) {
        crate::routes::kite::KiteError::from(e).into_response()
    } else {
        e.into_response()
    }
}

/// A JSON body whose rejection is an [`ApiError`]: 422 `invalid_body` naming what is wrong
/// (malformed JSON, a field of the wrong type), never axum's plain text.
#[derive(Debug, Clone)]
pub(crate) struct ApiJson<T>(pub T);

/// Parse a JSON body (422 `invalid_body` when it does not fit `T`).
pub(crate) fn json_body<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(raw).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("invalid JSON body: {e}"),
        )
    })
}

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
        json_body(&raw).map(ApiJson)
    }
}
