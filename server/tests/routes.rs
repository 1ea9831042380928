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
