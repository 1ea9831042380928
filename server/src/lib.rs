//! The bundled stocksblitz backend. `run` is the whole program (the `stocksblitz-server` binary
//! and the Python console script both call it); [`app`] builds the router for tests.

pub mod admin;
pub mod alerts;
pub mod clock;
pub mod config;
pub mod error;
pub mod forward;
pub mod health;
pub mod hygiene;
pub mod identity;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod order_feed;
pub mod routes;
pub mod serve;
pub mod state;
pub mod trading;
pub mod ui;
pub mod user_feed;
pub mod wire;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::http::HeaderName;
use axum::routing::get;
use clap::Parser as _;
use stocksblitz_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::Config;
use state::AppState;

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

/// Parse arguments, run the server until SIGINT/SIGTERM, and return the process exit code
/// (0 on a clean stop, 1 on a runtime failure, 2 on bad usage).
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cfg = match Config::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if let Err(e) = init_tracing(&cfg) {
        eprintln!("stocksblitz-server: {e:#}");
        return 2;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stocksblitz-server: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let result = match cfg.command.clone() {
        Some(cmd) => rt.block_on(async {
            let store = open_store(&cfg).await?;
            let shared = match cfg.redis_url.as_deref() {
                Some(url) => Some(
                    identity::shared::Shared::connect(url, &cfg.redis_prefix)
                        .await
                        .map_err(|e| {
                            anyhow::anyhow!(
                                "cannot reach Redis: {}",
                                stocksblitz_store::redact_url(&e.to_string())
                            )
                        })?,
                ),
                None => None,
            };
            admin::run(&store, &cfg, cmd, shared.as_ref()).await
        }),
        None => rt.block_on(serve(cfg)),
    };
    // Tasks still running (a retry loop on a database that hangs) do not hold the exit.
    rt.shutdown_timeout(SHUTDOWN_STEP);
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("stocksblitz-server: {e:#}");
            1
        }
    }
}

/// [`run`] as a process exit code.
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(u8::try_from(run(args)).unwrap_or(1))
}

fn init_tracing(cfg: &Config) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.log_level)
        .with_context(|| format!("bad --log-level {:?}", cfg.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call in one process (the Python module can start the server twice) keeps the
    // first subscriber.
    let _ = match cfg.log_format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text => builder.try_init(),
    };
    Ok(())
}

async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    Ok(match &cfg.database_url {
        Some(url) => Store::open_url(url).await?,
        None => Store::open_sqlite_dir(&cfg.data_dir).await?,
    })
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    // Signals are caught from here on, once for every listener: one that arrives while the
    // listeners start is not lost (each listener used to register its own, later).
    let stop = stop_signal()?;
    use config::Source;
    use ingest::simulator::{self, Sink};
    use stocksblitz_market::session::Session;

    // Configuration errors before anything binds or opens.
    let cors = cors_layer(cfg.cors_origins.as_deref())?;
    let store = open_store(&cfg).await?;
    tracing::info!(
        backend = store.backend().as_str(),
        target = store.target(),
        "store open, migrations applied"
    );
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.addr))?;
    let addr = listener.local_addr().context("listener address")?;

    let source = cfg.effective_source();
    let source_name = match source {
        Source::Simulator => "simulator",
        Source::Redis => "redis",
        Source::None => "none",
    };
    let session = if cfg.demo_clock {
        Session::always_open()
    } else {
        Session::exchange()
    };
    let bus_kind = if cfg.redis_url.is_some() && source != Source::None {
        "redis"
    } else {
        "memory"
    };
    if source == Source::Redis && cfg.redis_url.is_none() {
        anyhow::bail!("--source redis needs REDIS_URL (or --redis-url)");
    }
    let kek = identity::kek::load(&store, &cfg.data_dir, cfg.kek_file.as_deref()).await?;
    let mut identity = identity::Identity::load(
        store.clone(),
        cfg.access_token_ttl_secs as i64 * 1000,
        Arc::new(kek),
    )
    .await?;
    if let Some(url) = cfg
        .user_service_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let ext = Arc::new(
            stocksblitz_auth::jwks_fetch::RemoteJwks::new(url).map_err(anyhow::Error::msg)?,
        );
        tracing::info!(jwks = %ext.jwks_url, "trusting tokens of the external identity provider");
        identity.jwt.set_remote(ext);
    }
    if let Some(url) = cfg.redis_url.as_deref() {
        match identity::shared::Shared::connect(url, &cfg.redis_prefix).await {
            Ok(sh) => identity.shared = Some(Arc::new(sh)),
            Err(e) => tracing::warn!(
                error = %stocksblitz_store::redact_url(&e.to_string()),
                "Redis unavailable for shared auth state; login limits and revocations stay per process"
            ),
        }
    }
    identity.set_registration_open(cfg.registration_open());
    tracing::info!(
        registration = if cfg.registration_open() {
            "open"
        } else {
            "closed"
        },
        "self-registration"
    );
    let identity = Arc::new(identity);
    identity::bootstrap(&identity, &cfg.data_dir).await?;
    {
        // Pick up keys rotated with `keys rotate` (or by another replica) without a restart.
        let identity = identity.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(e) = identity.reload_keys().await {
                    tracing::warn!(error = %e, "cannot reload the signing keys");
                }
            }
        });
    }
    let advertise = cfg.advertise_url.clone().unwrap_or_else(|| {
        let ip = if addr.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            addr.ip()
        };
        format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
    });
    let clock = Arc::new(if cfg.demo_clock {
        // The demo clock goes on where the books or the simulated history left off.
        let books = store.latest_broker_event_at().await?;
        let bars = if source == Source::Simulator {
            simulator::stored_history_end(&store).await?
        } else {
            None
        };
        let resume = books.max(bars);
        let c = clock::TradingClock::demo(cfg.demo_speed, resume);
        tracing::info!(speed = cfg.demo_speed, now = %wire::ist_text(c.now()), "paper trading on the demo exchange clock");
        c
    } else {
        clock::TradingClock::wall()
    });
    let state = Arc::new(AppState::with_pipeline(
        store.clone(),
        source_name,
        session,
        cfg.bar_grace_ms as i64,
        bus_kind,
        identity,
        state::TradingSetup {
            advertise_url: Some(advertise),
            clock,
        },
    )?);
    let pipeline = state.pipeline.clone();
    let mut tasks = Vec::new();
    {
        let st = state.clone();
        let every = std::time::Duration::from_secs(cfg.strategy_snapshot_secs);
        tasks.push((
            "strategy_snapshots",
            ingest::supervisor::supervise("strategy_snapshots", move || {
                routes::strategies::run_snapshots(st.clone(), every)
            }),
        ));
    }
    let st = state.clone();
    tasks.push((
        "trading",
        ingest::supervisor::supervise("trading", move || trading::run(st.clone())),
    ));
    {
        // Order updates: this replica's to its sockets (and Redis); the others' from Redis.
        let st = state.clone();
        let redis = cfg.redis_url.clone().map(|u| (u, cfg.redis_prefix.clone()));
        let r = redis.clone();
        tokio::spawn(async move {
            if let Err(e) = order_feed::run(st, r).await {
                tracing::error!(error = %e, "order feed stopped");
            }
        });
        if let Some((url, prefix)) = redis {
            let st = state.clone();
            tasks.push((
                "order_updates",
                ingest::supervisor::supervise("order_updates", move || {
                    order_feed::run_subscriber(st.clone(), url.clone(), prefix.clone())
                }),
            ));
        }
    }
    {
        // Alerts: evaluation, delivery, and the per-user feed across replicas.
        let st = state.clone();
        tasks.push((
            "alerts",
            ingest::supervisor::supervise("alerts", move || alerts::run(st.clone())),
        ));
        let st = state.clone();
        tasks.push((
            "reminders",
            ingest::supervisor::supervise("reminders", move || alerts::reminders::run(st.clone())),
        ));
        let st = state.clone();
        tasks.push((
            "alert_delivery",
            ingest::supervisor::supervise("alert_delivery", move || {
                alerts::deliver::run(st.clone())
            }),
        ));
        if let Some(url) = cfg.redis_url.clone() {
            let (feed, prefix) = (state.user_feed.clone(), cfg.redis_prefix.clone());
            let (u, p) = (url.clone(), prefix.clone());
            let f = feed.clone();
            tasks.push((
                "user_events_out",
                ingest::supervisor::supervise("user_events_out", move || {
                    f.clone().run_publisher(u.clone(), p.clone())
                }),
            ));
            tasks.push((
                "user_events_in",
                ingest::supervisor::supervise("user_events_in", move || {
                    feed.clone().run_subscriber(url.clone(), prefix.clone())
                }),
            ));
        }
    }
    if let Some(sh) = state.identity.shared.clone() {
        let id = state.identity.clone();
        tasks.push((
            "revocations",
            ingest::supervisor::supervise("revocations", move || {
                sh.clone().run_subscriber(id.clone())
            }),
        ));
    }
    if let Some(ext) = state.identity.jwt.remote() {
        tasks.push((
            "jwks",
            ingest::supervisor::supervise("jwks", move || {
                let ext = ext.clone();
                async move { ext.run().await.map_err(anyhow::Error::from) }
            }),
        ));
    }
    let p = pipeline.clone();
    tasks.push((
        "bar_clock",
        ingest::supervisor::supervise("bar_clock", move || ingest::run_clock(p.clone())),
    ));
    if source == Source::Simulator {
        let sink = match &cfg.redis_url {
            Some(url) => Sink::Redis(url.clone()),
            None => Sink::Pipeline(pipeline.clone()),
        };
        if matches!(sink, Sink::Pipeline(_)) {
            pipeline
                .stats
                .connected
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let opts = simulator::Options {
            seed: cfg.seed,
            interval: std::time::Duration::from_millis(cfg.tick_interval_ms),
            backfill_days: cfg.backfill_days as usize,
        };
        let (st, p, c) = (store.clone(), pipeline.clone(), state.clock.clone());
        tasks.push((
            "simulator",
            ingest::supervisor::supervise("simulator", move || {
                simulator::run(opts.clone(), sink.clone(), st.clone(), p.clone(), c.clone())
            }),
        ));
    }
    if let Some(url) = &cfg.redis_url
        && source != Source::None
    {
        let queue = ingest::redis_source::IngestQueue::start(
            pipeline.clone(),
            usize::try_from(cfg.ingest_queue_bytes).unwrap_or(usize::MAX),
        )
        .context("cannot start the ingest thread")?;
        let (url, pattern) = (url.clone(), cfg.redis_pattern.clone());
        tasks.push((
            "redis_consumer",
            ingest::supervisor::supervise("redis_consumer", move || {
                ingest::redis_source::run(url.clone(), pattern.clone(), queue.clone())
            }),
        ));
    }
    if let Ok(mut t) = state.tasks.lock() {
        t.extend(
            tasks
                .iter()
                .map(|(name, (health, _))| (*name, health.clone())),
        );
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        store = store.backend().as_str(),
        source = source_name,
        bus = bus_kind,
        demo_clock = cfg.demo_clock,
        "stocksblitz-server listening on http://{addr}"
    );
    let limits = serve::Limits {
        max_connections: usize::try_from(cfg.max_connections).unwrap_or(usize::MAX),
        header_timeout: std::time::Duration::from_secs(cfg.header_timeout_secs),
    };
    let identity_server = match cfg.identity_addr.as_deref().map(str::trim) {
        None | Some("off") | Some("") => None,
        Some(a) => match a.parse::<std::net::SocketAddr>() {
            Err(e) => anyhow::bail!("bad --identity-addr {a:?}: {e} (use host:port or off)"),
            Ok(ia) => match tokio::net::TcpListener::bind(ia).await {
                Ok(l) => {
                    tracing::info!("identity routes also on http://{ia}");
                    let app = identity_app(state.clone());
                    let (limits, stats) = (limits, state.conns.clone());
                    let stop2 = stop.clone();
                    Some(tokio::spawn(async move {
                        serve::serve(l, app, limits, stats, stopped(stop2)).await;
                    }))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen on the identity address {ia}; identity routes stay on the main address only");
                    None
                }
            },
        },
    };
    let mut main_app = app(state.clone());
    if let Some(cors) = cors {
        main_app = main_app.layer(cors);
    }
    serve::serve(
        listener,
        main_app,
        limits,
        state.conns.clone(),
        stopped(stop.clone()),
    )
    .await;
    if let Some(h) = identity_server {
        h.abort();
    }
    for (_, (_, handle)) in &tasks {
        handle.abort();
    }
    let open = pipeline.flush_open_bars();
    let left = pipeline
        .writer()
        .flush(std::time::Duration::from_secs(10))
        .await;
    if left > 0 {
        tracing::error!(bars = left, "shutdown: bars could not be stored");
    } else {
        tracing::info!(open_bars_flushed = open, "shutdown: all bars stored");
    }
    // Hand the trading shards over at once (another replica need not wait for the leases).
    // Bounded, like the rest of the shutdown: a database that hangs must not keep the process
    // alive (the leases then expire on their own).
    match tokio::time::timeout(SHUTDOWN_STEP, state.trading.release_all()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "shutdown: trading leases not released"),
        Err(_) => tracing::warn!("shutdown: trading leases not released within 5 s"),
    }
    if tokio::time::timeout(SHUTDOWN_STEP, store.close())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: the database connections did not close within 5 s");
    }
    tracing::info!("stocksblitz-server stopped");
    Ok(())
}

/// Longest each shutdown step after the bar flush may take.
const SHUTDOWN_STEP: std::time::Duration = std::time::Duration::from_secs(5);

/// A receiver that turns true on SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are
/// registered before this returns.
fn stop_signal() -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
            }
            let _ = tx.send(true);
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received, shutting down");
            let _ = tx.send(true);
        }
    });
    Ok(rx)
}

/// Resolves once [`stop_signal`]'s receiver turns true.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|&v| v).await;
}
