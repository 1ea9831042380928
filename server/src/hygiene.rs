//! Request hygiene before routing: a bounded `X-Request-ID` (a client's id is echoed only when
//! it is 1–128 visible characters), URIs and header blocks within limits answered as JSON
//! (414, 431), and a body-size refusal as JSON (413) instead of the layers' plain text.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest request target (path and query) accepted.
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest block of request headers accepted.
pub(crate) const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest client request id echoed.
pub(crate) const MAX_REQUEST_ID: usize = 128;

fn request_id_ok(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= MAX_REQUEST_ID && b.iter().all(u8::is_ascii_graphic)
}

/// The checks, outermost (before the request id is set, so a refused request still gets one).
pub(crate) async fn check(mut req: Request, next: Next) -> Response {
    let id = axum::http::HeaderName::from_static("x-request-id");
    if req.headers().get(&id).is_some_and(|v| !request_id_ok(v)) {
        // Not echoed: a fresh id is generated instead.
        req.headers_mut().remove(&id);
    }
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {uri_len} bytes; at most {MAX_URI_BYTES}"),
        )
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.as_bytes().len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES}"),
        )
        .into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&resp) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is larger than {} bytes",
                crate::MAX_BODY_BYTES
            ),
        )
        .into_response();
    }
    resp
}

fn is_json(resp: &Response<Body>) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(request_id_ok(&HeaderValue::from_static("abc-123")));
        assert!(!request_id_ok(&HeaderValue::from_static("")));
        assert!(!request_id_ok(&HeaderValue::from_static("a b")));
        let long = "x".repeat(MAX_REQUEST_ID + 1);
        assert!(!request_id_ok(&HeaderValue::from_str(&long).unwrap()));
    }
}
