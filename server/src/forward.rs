//! Any replica accepts trading requests: one that does not match the account (another replica
//! holds its shard's lease) replays the request at the holder — once, marked with
//! [`FORWARDED`] so it is never forwarded again — and returns the holder's answer. The holder
//! is found through the lease (its name carries the URL it advertised); when it cannot be
//! reached the first answer (503 `shard_unavailable`, retry) stands.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ForwardTo};
use crate::state::AppState;

/// Marks a forwarded request (its value: the forwarding replica).
pub(crate) const FORWARDED: &str = "x-stocksblitz-forwarded";

fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(2))
                .pool_max_idle_per_host(32)
                .build()
                .ok()
        })
        .as_ref()
}

fn forwardable(path: &str) -> bool {
    path == "/accounts"
        || path.starts_with("/accounts/")
        || path.starts_with("/strategies/")
        || crate::routes::kite::is_kite_path(path)
}

/// The middleware (on the main router).
pub(crate) async fn forward(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if !forwardable(req.uri().path()) {
        return next.run(req).await;
    }
    let hop = req.headers().contains_key(FORWARDED);
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (
        parts.method.clone(),
        parts.uri.clone(),
        parts.headers.clone(),
    );
    let Ok(bytes) = to_bytes(body, crate::MAX_BODY_BYTES).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
        )
        .into_response();
    };
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    let Some(ForwardTo(url)) = resp.extensions().get::<ForwardTo>().cloned() else {
        return resp;
    };
    if hop || url.is_empty() {
        return resp;
    }
    match replay(&state, &url, method, &uri, &headers, bytes).await {
        Ok(r) => {
            state.metrics.forwarded(true);
            r
        }
        Err(e) => {
            state.metrics.forwarded(false);
            tracing::warn!(error = %e, target = %url, "forwarding to the account's replica failed");
            resp
        }
    }
}

async fn replay(
    state: &AppState,
    base: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, reqwest::Error> {
    let Some(http) = client() else {
        return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response());
    };
    let pq = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut rb = http.request(method, format!("{base}{pq}"));
    for (k, v) in headers {
        if k == axum::http::header::HOST || k == axum::http::header::CONTENT_LENGTH {
            continue;
        }
        rb = rb.header(k, v);
    }
    let me = HeaderValue::from_str(state.trading.holder()).unwrap_or(HeaderValue::from_static("1"));
    let r = rb.header(FORWARDED, me).body(body).send().await?;
    let status = r.status();
    let mut out_headers = HeaderMap::new();
    for (k, v) in r.headers() {
        if k == axum::http::header::CONTENT_LENGTH || k == axum::http::header::TRANSFER_ENCODING {
            continue;
        }
        out_headers.append(k, v.clone());
    }
    let bytes = r.bytes().await?;
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = out_headers;
    Ok(resp)
}
