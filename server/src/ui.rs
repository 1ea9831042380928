//! The built-in page: `/` serves a one-page app (chart, option chain, paper account) over the
//! JSON API and the WebSockets. Its assets are built from `ui/` (`npm --prefix ui run build`)
//! into `server/assets/`, committed, and embedded here, so neither `cargo build` nor
//! `pip install .` needs Node. Each asset is stored gzipped too and sent that way when the
//! client accepts it.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;

/// One embedded file.
struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
    gzip: &'static [u8],
    /// Its ETag, computed on first use (not per request).
    etag: OnceLock<String>,
}

impl Asset {
    fn etag(&self) -> &str {
        self.etag.get_or_init(|| etag(self.body))
    }
}

macro_rules! asset {
    ($name:literal, $mime:literal) => {
        Asset {
            name: $name,
            mime: $mime,
            body: include_bytes!(concat!("../assets/", $name)),
            gzip: include_bytes!(concat!("../assets/", $name, ".gz")),
            etag: OnceLock::new(),
        }
    };
}

static INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

/// What `/ui/{name}` serves (the page links them with `?v=<content hash>`).
static ASSETS: [Asset; 3] = [
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!(
        "LICENSE-lightweight-charts.txt",
        "text/plain; charset=utf-8"
    ),
];

/// The page's Content-Security-Policy: its own scripts, styles and connections only (no inline
/// script or style, no third-party origin); `'self'` covers the same-origin WebSockets.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The routes of the page (not part of the OpenAPI document: they are not the API).
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/ui/{name}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers, "no-cache")
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        // Linked with a content hash in the query: a new build is a new URL.
        Some(a) => serve(a, &headers, "public, max-age=31536000, immutable"),
        None => ApiError::not_found(
            "not_found",
            format!("no asset {:?}", name.chars().take(64).collect::<String>()),
        )
        .into_response(),
    }
}

/// A weak validator from the content (FNV-1a, enough to tell builds apart).
fn etag(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn serve(a: &Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let tag = a.etag();
    let mut out = HeaderMap::new();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(a.mime));
    out.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(tag) {
        out.insert(ETAG, v);
    }
    security_headers(&mut out);
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    if accepts_gzip(headers) {
        out.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return (out, a.gzip).into_response();
    }
    (out, a.body).into_response()
}

/// The page's security headers.
const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

fn security_headers(h: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert!(accepts_gzip(&h));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("br, gzip;q=0"));
        assert!(!accepts_gzip(&h));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        assert!(!accepts_gzip(&h));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("*;q=0.5"));
        assert!(accepts_gzip(&h));
    }

    #[test]
    fn the_page_links_its_assets_by_content_hash() {
        let html = std::str::from_utf8(INDEX.body).unwrap_or_default();
        for a in &ASSETS[..2] {
            let tag = a.etag();
            let hash = &tag[1..9];
            assert!(
                html.contains(&format!("/ui/{}?v={hash}", a.name)),
                "index.html does not link {} at its current content ({hash}): rebuild with `npm --prefix ui run build`",
                a.name
            );
        }
        // No inline script or style (the CSP forbids them).
        assert!(!html.contains("<script>"), "inline script in index.html");
        assert!(!html.contains("<style"), "inline style in index.html");
        assert!(!html.contains("style="), "style attribute in index.html");
    }
}
