//! Paper trading in the server: the trading service (`crates/trading`) over this store, fed by
//! the pipeline's snapshot (a loop that sends each quote once, when it changes, and a clock
//! tick every second), and its quotes for first orders. Routes are in `routes::accounts`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use stocksblitz_broker::money::paise_rounded;
use stocksblitz_broker::{Config as BrokerConfig, Quote, SessionRules};
use stocksblitz_market::session::{Session, SessionMode};
use stocksblitz_market::snapshot::Quote as SnapQuote;
use stocksblitz_store::Store;
use stocksblitz_trading::{QuoteSource, Trading, TradingConfig};

use crate::ingest::Pipeline;
use crate::ingest::now_ms;
use crate::state::AppState;

/// The broker's view of a snapshot quote: its own prices, the book when the feed has one
/// (sizes unknown), the IV it was valued at.
pub fn broker_quote(q: &SnapQuote) -> Option<Quote> {
    Some(Quote {
        at: q.exchange_ts_ms,
        ltp: paise_rounded(q.ltp)?,
        bid: q.bid.and_then(paise_rounded),
        ask: q.ask.and_then(paise_rounded),
        bid_qty: None,
        ask_qty: None,
        iv: q.greeks.and_then(|g| g.iv),
        close: None,
    })
}

/// Quotes for first orders, straight from the snapshot.
struct SnapshotQuotes(Arc<Pipeline>);

impl QuoteSource for SnapshotQuotes {
    fn quote(&self, tradingsymbol: &str) -> Option<Quote> {
        let snap = self.0.snapshot.read().ok()?;
        broker_quote(snap.get(tradingsymbol)?)
    }
}

/// The trading service of this process: the shipped broker configuration, market hours as the
/// pipeline's session (always open under the demo clock: no cut-off or square-off then).
///
/// The replica's holder name ends in `@<advertise_url>` when it has one: a replica that does not
/// match an account forwards its requests to the holder ([`forward_target`]).
pub fn service(
    store: Store,
    pipeline: Arc<Pipeline>,
    session: Session,
    advertise_url: Option<&str>,
) -> anyhow::Result<Trading> {
    let mut broker = BrokerConfig::embedded()?;
    if session.mode == SessionMode::AlwaysOpen {
        broker.session = SessionRules {
            always_open: true,
            squareoff: None,
            mis_cutoff: None,
            ..SessionRules::default()
        };
    }
    let mut holder = format!("{}-{}-{}", hostname(), std::process::id(), now_ms());
    if let Some(url) = advertise_url {
        holder.push('@');
        holder.push_str(url.trim_end_matches('/'));
    }
    Ok(Trading::new(
        store,
        TradingConfig::new(broker),
        holder,
        Arc::new(SnapshotQuotes(pipeline)),
    ))
}

/// The base URL of the replica named `holder` (None: it advertised none).
pub fn forward_target(holder: &str) -> Option<&str> {
    holder
        .split_once('@')
        .map(|(_, url)| url)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().chars().take(32).collect())
        .unwrap_or_else(|_| "host".into())
}

/// The matching loop: every 250 ms the quotes that changed since the last round go to the
/// shards this replica serves; every second the clock (which renews the 5 s leases) and a claim
/// of free shards (a dead replica's, taken over within about 6 s). It
/// reads the snapshot and never blocks ingestion (a slow store delays only this loop).
pub async fn run(state: Arc<AppState>) -> anyhow::Result<()> {
    let mut fed: HashMap<String, i64> = HashMap::new();
    let mut every = tokio::time::interval(Duration::from_millis(250));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut round: u64 = 0;
    loop {
        every.tick().await;
        round += 1;
        let now = now_ms();
        if round % 4 == 1
            && let Err(e) = state.trading.claim_free_shards(now).await
        {
            tracing::warn!(error = %e, "cannot claim trading shards");
        }
        let quotes: Vec<(String, Quote)> = {
            let Ok(snap) = state.pipeline.snapshot.read() else {
                continue;
            };
            snap.quotes()
                .filter(|q| {
                    fed.get(q.tradingsymbol.as_str())
                        .is_none_or(|t| *t < q.exchange_ts_ms)
                })
                .filter_map(|q| Some((q.tradingsymbol.to_string(), broker_quote(q)?)))
                .collect()
        };
        for (s, q) in &quotes {
            fed.insert(s.clone(), q.at);
        }
        if let Err(e) = state.trading.on_quotes(&quotes).await {
            tracing::warn!(error = %e, "trading: quotes not applied");
        }
        if round.is_multiple_of(4)
            && let Err(e) = state.trading.tick(now).await
        {
            tracing::warn!(error = %e, "trading: clock tick not applied");
        }
    }
}
