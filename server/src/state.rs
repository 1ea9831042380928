//! Shared application state handed to every handler.

use std::sync::Arc;
use std::time::Instant;

use stocksblitz_market::session::Session;
use stocksblitz_store::{BarWriter, Store, WriterConfig};

use crate::identity::Identity;
use crate::ingest::Pipeline;
use crate::ingest::supervisor::TaskHealth;
use crate::metrics::Metrics;

#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub started: Instant,
    pub metrics: Metrics,
    pub pipeline: Arc<Pipeline>,
    /// How events reach the other replicas.
    pub bus: Bus,
    pub tasks: std::sync::Mutex<Vec<(&'static str, Arc<TaskHealth>)>>,
    pub identity: Arc<Identity>,
    /// The application's operations (series, indicator values, quotes) and their caches.
    pub engine: stocksblitz_engine::Engine,
    /// Paper trading (accounts, orders, the matching of this replica's shards).
    pub trading: Arc<stocksblitz_trading::Trading>,
    /// The exchange clock trading runs on (the wall clock, or the demo clock).
    pub clock: Arc<crate::clock::TradingClock>,
    /// Order updates for `/orders/stream` (this replica's and, through Redis, the others').
    pub order_feed: Arc<crate::order_feed::OrderFeed>,
    /// Connections of the listeners (open, accepted, refused at the cap).
    pub conns: Arc<crate::serve::ConnStats>,
    /// Alerts evaluated on this replica.
    pub alerts: Arc<crate::alerts::AlertEngine>,
    /// Per-user messages (alerts fired) to this replica's sockets and, through Redis, the others'.
    pub user_feed: Arc<crate::user_feed::UserFeed>,
}

/// How order updates, alert events and auth changes reach the other replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// Redis pub/sub.
    Redis,
    /// This process only.
    Memory,
}

impl Bus {
    pub fn as_str(self) -> &'static str {
        match self {
            Bus::Redis => "redis",
            Bus::Memory => "memory",
        }
    }
}

/// How this replica trades: the URL other replicas forward to, the exchange clock.
#[derive(Debug)]
pub struct TradingSetup {
    pub advertise_url: Option<String>,
    pub clock: Arc<crate::clock::TradingClock>,
}

impl AppState {
    /// Now on the exchange clock (the demo clock under `--demo-clock`, else the wall clock):
    /// what is live, time to expiry, the trading day.
    pub fn market_now(&self) -> i64 {
        self.clock.now()
    }

    /// How quote ages are measured: from the exchange time on the wall clock; from the receive
    /// time on the demo clock (its exchange times are virtual).
    pub fn age_basis(&self) -> stocksblitz_market::snapshot::AgeBasis {
        if self.clock.is_demo() {
            stocksblitz_market::snapshot::AgeBasis::Received
        } else {
            stocksblitz_market::snapshot::AgeBasis::Exchange
        }
    }

    /// State with a pipeline and its bar writer (the writer task starts on the current runtime).
    pub fn with_pipeline(
        store: Store,
        source: crate::config::Source,
        session: Session,
        grace_ms: i64,
        bus: Bus,
        identity: Arc<Identity>,
        trading: TradingSetup,
    ) -> anyhow::Result<Self> {
        let TradingSetup {
            advertise_url,
            clock,
        } = trading;
        let (writer, _task) = BarWriter::spawn(store.clone(), WriterConfig::default());
        let pipeline = Arc::new(Pipeline::new(source.as_str(), session, grace_ms, writer));
        let alerts = crate::alerts::AlertEngine::new();
        pipeline.observe_ticks(alerts.clone() as Arc<dyn stocksblitz_engine::TickObserver>);
        let (order_feed, sink) = crate::order_feed::OrderFeed::new();
        let trading = Arc::new(
            crate::trading::service(
                store.clone(),
                pipeline.clone(),
                clock.clone(),
                advertise_url.as_deref(),
            )?
            .with_sink(sink),
        );
        let user_feed = crate::user_feed::UserFeed::new(trading.holder());
        let metrics = Metrics::default();
        // The engine's counters register with this server's recorder (not the process's: the
        // bindings can run several servers in one process, each with its own /metrics).
        let engine = metrics.scoped(|| {
            stocksblitz_engine::metric::describe();
            stocksblitz_engine::Engine::new(store.clone(), pipeline.clone())
        });
        Ok(AppState {
            alerts,
            user_feed,
            clock,
            trading,
            order_feed,
            store,
            started: Instant::now(),
            metrics,
            conns: Arc::default(),
            pipeline,
            bus,
            tasks: std::sync::Mutex::new(Vec::new()),
            identity,
            engine,
        })
    }

    /// State with no live source (tests of the router).
    pub async fn new(store: Store) -> anyhow::Result<Self> {
        // Router tests: a fresh store and a KEK that lives as long as the state.
        let (kek, _) = stocksblitz_auth::kek::Kek::generate()?;
        let identity = Arc::new(
            Identity::load(store.clone(), crate::identity::ACCESS_TTL_MS, Arc::new(kek)).await?,
        );
        Self::with_pipeline(
            store,
            crate::config::Source::None,
            Session::exchange(),
            2000,
            Bus::Memory,
            identity,
            TradingSetup {
                advertise_url: None,
                clock: Arc::new(crate::clock::TradingClock::wall()),
            },
        )
    }
}
