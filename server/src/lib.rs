//! The bundled stocksblitz backend. `run` is the whole program (the `stocksblitz-server` binary
//! and the Python console script both call it); [`app`] builds the router for tests.

pub(crate) mod admin;
pub(crate) mod alerts;
pub(crate) mod clock;
pub mod config;
pub(crate) mod error;
pub(crate) mod forward;
pub(crate) mod health;
pub(crate) mod hygiene;
pub(crate) mod identity;
pub mod ingest;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod order_feed;
pub(crate) mod routes;
pub(crate) mod serve;
mod startup;
pub mod state;
pub(crate) mod trading;
pub(crate) mod ui;
pub(crate) mod user_feed;
pub(crate) mod wire;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderName;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::Config;
pub use startup::{run, run_cli};
use state::AppState;
/// What tests of the router need of the pipeline.
pub use stocksblitz_engine::{now_ms, pipeline::UNSTORED_HOLD_MS};
pub use ui::CSP;

/// Largest request body accepted anywhere (bytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Build the router over a shared state.
///
/// A request carrying Kite's `X-Kite-Version` header is routed under `/kite` before routing
/// (pykiteconnect drops the path of its `root`; see `routes::kite`).
pub fn app(state: Arc<AppState>) -> Router {
    let inner = inner_app(state);
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(routes::kite::kite_prefix)
            .service(inner),
    )
}

fn inner_app(state: Arc<AppState>) -> Router {
    let (routes, doc) = api_routes().split_for_parts();
    let doc = Arc::new(openapi::finish(doc));
    let routes = routes.route(
        "/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc) }
        }),
    );
    layered(routes.merge(ui::router()), state)
}

/// The OpenAPI document of [`app`].
pub fn openapi_doc() -> utoipa::openapi::OpenApi {
    openapi::finish(api_routes().into_openapi())
}

/// Every documented route of the main address.
fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health::health))
        .routes(routes!(metrics::metrics))
        .merge(routes::router())
        .merge(identity::routes::router())
}

/// The identity routes alone (the second listener, for old scripts' `user_service_url`).
pub fn identity_app(state: Arc<AppState>) -> Router {
    let (routes, _) = identity::routes::router()
        .routes(routes!(health::health))
        .split_for_parts();
    layered(routes, state)
}

fn layered(routes: Router<Arc<AppState>>, state: Arc<AppState>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            forward::forward,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // A body that stops arriving does not hold a connection forever.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(10),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn(hygiene::check))
        .with_state(state)
}

/// The CORS layer for `--cors-origins` (`*` or a comma-separated list of origins); None when
/// unset. A malformed origin is a start-up error naming it.
pub fn cors_layer(origins: Option<&str>) -> anyhow::Result<Option<tower_http::cors::CorsLayer>> {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let Some(raw) = origins.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let allow = if raw == "*" {
        AllowOrigin::any()
    } else {
        let mut list = Vec::new();
        for o in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let ok = (o.starts_with("http://") || o.starts_with("https://")) && !o.ends_with('/');
            let value = HeaderValue::from_str(o).ok().filter(|_| ok);
            let Some(v) = value else {
                anyhow::bail!(
                    "bad --cors-origins entry {o:?}: expected http(s)://host[:port] or *"
                );
            };
            list.push(v);
        }
        AllowOrigin::list(list)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-api-key"),
                header::HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::RETRY_AFTER,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    ))
}
