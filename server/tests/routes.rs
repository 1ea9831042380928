//! Router-level tests (no network): health reports 503 when the database is down, errors are
//! JSON, request ids are echoed or generated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use stocksblitz_server::{app, state::AppState};
use stocksblitz_store::Store;
use tower::ServiceExt as _;

async fn body_json(resp: axum::response::Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn state() -> (tempfile::TempDir, Arc<AppState>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    (dir, Arc::new(AppState::new(store).await.unwrap()))
}

#[tokio::test]
async fn health_is_503_when_the_database_is_down() {
    let (_dir, st) = state().await;
    let ok = app(st.clone())
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body_json(ok).await["status"], "healthy");

    st.store.close().await;
    let down = app(st)
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body_json(down).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"]["status"], "down");
    assert!(
        body["database"]["error"]
            .as_str()
            .unwrap()
            .contains("closed"),
        "{body}"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let (_dir, st) = state().await;
    let resp = app(st.clone())
        .oneshot(
            Request::get("/health")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app(st)
        .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()["x-request-id"].len(), 36);
    assert_eq!(body_json(resp).await["code"], "not_found");
}

#[tokio::test]
async fn bad_query_is_json_400() {
    let (_dir, st) = state().await;
    let resp = app(st.clone())
        .oneshot(
            Request::get("/symbols?symbol=%FF%FE")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = body_json(resp).await;
    assert!(
        body["detail"].is_string() && body["code"].is_string(),
        "{body}"
    );
    let resp = app(st)
        .oneshot(
            Request::get(format!("/symbols?symbol={}", "A".repeat(5000)))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        body_json(resp).await["detail"]
            .as_str()
            .unwrap()
            .contains("too long")
    );
}

/// A closed bar is "unstored" until the writer settles it, so a stream never reports a close
/// a kill -9 could lose; past the hold it counts as stored (the database is down: late data
/// helps no one).
#[tokio::test]
async fn a_closed_bar_is_unstored_until_the_writer_settles_it() {
    use stocksblitz_market::{Bar, Timeframe};
    use stocksblitz_server::UNSTORED_HOLD_MS;
    let (_dir, st) = state().await;
    let now = stocksblitz_server::now_ms();
    let start = (now / 1000 / 60 - 1) * 60;
    let bar = Bar {
        instrument: "NIFTY 50".into(),
        timeframe: Timeframe::M1,
        start,
        open: 100.0,
        high: 101.0,
        low: 99.0,
        close: 100.5,
        volume: 0,
        oi: None,
        open_oi: None,
        first_ts_ms: start * 1000,
        last_ts_ms: start * 1000 + 1000,
    };
    let p = &st.pipeline;
    assert_eq!(p.unstored_from("NIFTY 50", now), None);
    p.seed_forming(vec![(bar, 0)], now);
    assert_eq!(p.flush_open_bars(), 1);
    // Closed and visible to readers, not stored yet (the writer task has not run: this test
    // runs on one thread and has not yielded).
    assert_eq!(p.bar_state("NIFTY 50").recent.len(), 1);
    assert_eq!(p.unstored_from("NIFTY 50", now), Some(start));
    assert_eq!(p.writer().flush(std::time::Duration::from_secs(5)).await, 0);
    assert_eq!(p.unstored_from("NIFTY 50", now), None);
    let stored = st
        .store
        .last_bars("NIFTY 50", Timeframe::M1, 1, None)
        .await
        .unwrap();
    assert_eq!(stored[0].start, start);

    // With the database gone the bar stays unstored, until the hold runs out.
    st.store.close().await;
    let next = Bar {
        instrument: "NIFTY 50".into(),
        timeframe: Timeframe::M1,
        start: start + 60,
        open: 100.5,
        high: 100.5,
        low: 100.5,
        close: 100.5,
        volume: 0,
        oi: None,
        open_oi: None,
        first_ts_ms: (start + 60) * 1000,
        last_ts_ms: (start + 60) * 1000,
    };
    p.seed_forming(vec![(next, 0)], now);
    assert_eq!(p.flush_open_bars(), 1);
    let later = stocksblitz_server::now_ms();
    assert_eq!(p.unstored_from("NIFTY 50", later + 300), Some(start + 60));
    assert_eq!(
        p.unstored_from("NIFTY 50", later + UNSTORED_HOLD_MS + 1000),
        None
    );
}

#[tokio::test]
async fn the_page_is_served_at_the_root_with_its_policy_and_the_api_keeps_its_paths() {
    let (_dir, st) = state().await;
    let page = app(st.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert_eq!(h["content-security-policy"], stocksblitz_server::CSP);
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-cache");
    let html = axum::body::to_bytes(page.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(html.to_vec()).unwrap();
    let js = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(js.starts_with("/ui/app.js?v="), "{js}");

    // The asset, gzipped when accepted and revalidated by its ETag.
    let asset = app(st.clone())
        .oneshot(
            Request::get(&js)
                .header("accept-encoding", "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()["content-encoding"], "gzip");
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = asset.headers()["etag"].clone();
    let again = app(st.clone())
        .oneshot(
            Request::get(&js)
                .header("if-none-match", etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Unknown assets and API paths stay JSON.
    let missing = app(st.clone())
        .oneshot(Request::get("/ui/nope.js").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(missing).await["code"], "not_found");
    let list = app(st)
        .oneshot(
            Request::get("/indicators/list")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list = body_json(list).await;
    assert_eq!(
        list["timeframes"],
        serde_json::json!(["1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d"])
    );
}
