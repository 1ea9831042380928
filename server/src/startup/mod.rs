//! The program: arguments, logging, the runtime, and the server's life — configuration checked
//! before anything binds, identity, state, the background tasks (`tasks`), the listeners, and an
//! orderly shutdown (`shutdown`). Each step is a function of its own.

mod identity;
mod shutdown;
mod tasks;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use stocksblitz_store::Store;

use crate::config::{self, Config, Source};
use crate::state::{self, AppState};
use crate::{admin, clock, serve, wire};
pub(crate) use shutdown::SHUTDOWN_STEP;

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
                    crate::identity::shared::Shared::connect(url, &cfg.redis_prefix)
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

pub(crate) async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    Ok(match &cfg.database_url {
        Some(url) => Store::open_url(url).await?,
        None => Store::open_sqlite_dir(&cfg.data_dir).await?,
    })
}

/// Run the server until SIGINT/SIGTERM.
async fn serve(cfg: Config) -> anyhow::Result<()> {
    // Signals are caught from here on, once for every listener: one that arrives while the
    // listeners start is not lost.
    let stop = shutdown::stop_signal()?;
    // Configuration errors before anything binds or opens.
    let source = cfg.effective_source();
    if source == Source::Redis && cfg.redis_url.is_none() {
        anyhow::bail!("--source redis needs REDIS_URL (or --redis-url)");
    }
    let cors = crate::cors_layer(cfg.cors_origins.as_deref())?;
    let identity_addr = identity_addr(&cfg)?;
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

    let identity = identity::load(&cfg, &store).await?;
    let state = Arc::new(app_state(&cfg, &store, source, addr, identity).await?);
    let tasks = tasks::start(&cfg, &state, source)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        store = store.backend().as_str(),
        source = source.as_str(),
        bus = state.bus.as_str(),
        demo_clock = cfg.demo_clock,
        "stocksblitz-server listening on http://{addr}"
    );
    let limits = serve::Limits {
        max_connections: usize::try_from(cfg.max_connections).unwrap_or(usize::MAX),
        header_timeout: std::time::Duration::from_secs(cfg.header_timeout_secs),
    };
    let identity_server = match identity_addr {
        Some(ia) => identity_listener(ia, &state, limits, &stop).await,
        None => None,
    };
    let mut main_app = crate::app(state.clone());
    if let Some(cors) = cors {
        main_app = main_app.layer(cors);
    }
    serve::serve(
        listener,
        main_app,
        limits,
        state.conns.clone(),
        shutdown::stopped(stop.clone()),
    )
    .await;
    if let Some(h) = identity_server {
        h.abort();
    }
    shutdown::shutdown(&state, &tasks).await;
    Ok(())
}

/// `--identity-addr`: None when off.
fn identity_addr(cfg: &Config) -> anyhow::Result<Option<std::net::SocketAddr>> {
    match cfg.identity_addr.as_deref().map(str::trim) {
        None | Some("off" | "") => Ok(None),
        Some(a) => a
            .parse::<std::net::SocketAddr>()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("bad --identity-addr {a:?}: {e} (use host:port or off)")),
    }
}

/// The identity routes alone on their own address (old scripts' `user_service_url`); a port
/// taken is a warning, not a failure (the routes stay on the main address).
async fn identity_listener(
    ia: std::net::SocketAddr,
    state: &Arc<AppState>,
    limits: serve::Limits,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    match tokio::net::TcpListener::bind(ia).await {
        Ok(l) => {
            tracing::info!("identity routes also on http://{ia}");
            let app = crate::identity_app(state.clone());
            let stats = state.conns.clone();
            let stopped = shutdown::stopped(stop.clone());
            Some(tokio::spawn(async move {
                serve::serve(l, app, limits, stats, stopped).await;
            }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen on the identity address {ia}; identity routes stay on the main address only");
            None
        }
    }
}

/// The state every handler shares: the pipeline on the session the clock asks for, trading
/// on this replica's advertised address and the exchange clock.
async fn app_state(
    cfg: &Config,
    store: &Store,
    source: Source,
    addr: std::net::SocketAddr,
    identity: Arc<crate::identity::Identity>,
) -> anyhow::Result<AppState> {
    use stocksblitz_market::session::Session;
    let session = if cfg.demo_clock {
        Session::always_open()
    } else {
        Session::exchange()
    };
    let bus = if cfg.redis_url.is_some() && source != Source::None {
        state::Bus::Redis
    } else {
        state::Bus::Memory
    };
    let advertise = cfg.advertise_url.clone().unwrap_or_else(|| {
        let ip = if addr.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            addr.ip()
        };
        format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
    });
    let clock = Arc::new(trading_clock(cfg, store, source).await?);
    AppState::with_pipeline(
        store.clone(),
        source,
        session,
        cfg.bar_grace_ms as i64,
        bus,
        identity,
        state::TradingSetup {
            advertise_url: Some(advertise),
            clock,
        },
    )
}

/// The wall clock, or the demo clock going on where the books or the simulated history left
/// off.
async fn trading_clock(
    cfg: &Config,
    store: &Store,
    source: Source,
) -> anyhow::Result<clock::TradingClock> {
    if !cfg.demo_clock {
        return Ok(clock::TradingClock::wall());
    }
    let books = store.latest_broker_event_at().await?;
    let bars = if source == Source::Simulator {
        crate::ingest::simulator::stored_history_end(store).await?
    } else {
        None
    };
    let c = clock::TradingClock::demo(cfg.demo_speed, books.max(bars));
    tracing::info!(speed = cfg.demo_speed, now = %wire::ist_text(c.now()), "paper trading on the demo exchange clock");
    Ok(c)
}
