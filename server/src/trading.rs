//! Paper trading in the server: the trading service (`crates/trading`) over this store, fed by
//! the pipeline's snapshot (a loop that sends each quote once, when it changes, and a clock
//! tick every second), and its quotes for first orders. Routes are in `routes::accounts`; placing
//! with an idempotency key (shared by the native and Kite routes) is here.

use std::sync::Arc;
use std::time::Duration;

use stocksblitz_broker::money::paise_rounded;
use stocksblitz_broker::{Config as BrokerConfig, Quote};
use stocksblitz_market::snapshot::Quote as SnapQuote;
use stocksblitz_store::Store;
use stocksblitz_trading::{QuoteSource, Trading, TradingConfig};

use crate::clock::TradingClock;
use crate::ingest::Pipeline;
use crate::ingest::now_ms;
use crate::state::AppState;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksblitz_auth::Scope;
use stocksblitz_broker::{Command, OrderRequest, Reply};
use stocksblitz_trading::TradingError;

use crate::error::ApiError;
use crate::identity::extract::Auth;
use crate::wire::trading::{reject_error, trading_error};

/// The broker's view of a snapshot quote: its own prices, the book (with the units at the
/// touch) when the feed has one, the IV it was valued at. Under the demo clock a quote is stamped with the
/// clock's time when it is handed over (`at`), as the exchange would stamp it now.
pub(crate) fn broker_quote(q: &SnapQuote, at: Option<i64>) -> Option<Quote> {
    Some(Quote {
        at: at.unwrap_or(q.exchange_ts_ms),
        ltp: paise_rounded(q.ltp)?,
        bid: q.bid.and_then(paise_rounded),
        ask: q.ask.and_then(paise_rounded),
        bid_qty: q.bid.and(q.bid_qty).and_then(|v| i64::try_from(v).ok()),
        ask_qty: q.ask.and(q.ask_qty).and_then(|v| i64::try_from(v).ok()),
        iv: q.greeks.and_then(|g| g.iv),
        close: None,
    })
}

/// Quotes for first orders, straight from the snapshot.
struct SnapshotQuotes(Arc<Pipeline>, Arc<TradingClock>);

impl QuoteSource for SnapshotQuotes {
    fn quote(&self, tradingsymbol: &str) -> Option<Quote> {
        let snap = self.0.snapshot.read().ok()?;
        broker_quote(snap.get(tradingsymbol)?, demo_stamp(&self.1))
    }
}

/// The time a quote handed over now carries (None: its own exchange time).
fn demo_stamp(clock: &TradingClock) -> Option<i64> {
    clock.is_demo().then(|| clock.now())
}

/// The trading service of this process: the shipped broker configuration, market hours as the
/// pipeline's session (always open under the demo clock: no cut-off or square-off then).
///
/// The replica's holder name ends in `@<advertise_url>` when it has one: a replica that does not
/// match an account forwards its requests to the holder ([`forward_target`]).
pub(crate) fn service(
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: Arc<TradingClock>,
    advertise_url: Option<&str>,
) -> anyhow::Result<Trading> {
    // The exchange's session rules on either clock: the demo clock is always in a session.
    let broker = BrokerConfig::embedded()?;
    let mut holder = format!("{}-{}-{}", hostname(), std::process::id(), now_ms());
    if let Some(url) = advertise_url {
        holder.push('@');
        holder.push_str(url.trim_end_matches('/'));
    }
    Ok(Trading::new(
        store,
        TradingConfig::new(broker),
        holder,
        Arc::new(SnapshotQuotes(pipeline, clock)),
    )
    .with_lease_clock(Arc::new(now_ms)))
}

/// The base URL of the replica named `holder` (None: it advertised none).
pub(crate) fn forward_target(holder: &str) -> Option<&str> {
    holder
        .split_once('@')
        .map(|(_, url)| url)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// Whether lease holder `other` is a dead predecessor of replica `me`: the same host and
/// advertised URL, a process that no longer exists (Linux `/proc`; elsewhere never — its lease
/// then simply expires).
pub(crate) fn is_dead_predecessor(me: &str, other: &str) -> bool {
    fn parts(h: &str) -> Option<(&str, u32, &str)> {
        let (id, url) = h.split_once('@').unwrap_or((h, ""));
        let mut it = id.rsplitn(3, '-');
        let _started = it.next()?;
        let pid = it.next()?.parse().ok()?;
        Some((it.next()?, pid, url))
    }
    let (Some((host, pid, url)), Some((my_host, my_pid, my_url))) = (parts(other), parts(me))
    else {
        return false;
    };
    host == my_host
        && url == my_url
        && pid != my_pid
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map_or_else(|_| "host".into(), |s| s.trim().chars().take(32).collect())
}

/// The matching loop: woken by the pipeline whenever quotes change, it feeds the changed
/// instruments' quotes to the shards this replica serves (each engine takes the instruments it
/// knows), so a resting order fills on the quote that makes it marketable; every second the
/// clock (which renews the 5 s leases) and a claim of free shards (a dead replica's, taken
/// over within about 6 s). It reads the snapshot and never blocks ingestion (a slow store
/// delays only this loop; changes arriving meanwhile are merged into the next round).
pub(crate) async fn run(state: Arc<AppState>) -> anyhow::Result<()> {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut round: u64 = 0;
    // A kill -9 leaves this replica's leases held by its former self: free them now rather
    // than answer 503 until they expire.
    let me = state.trading.holder().to_string();
    match state
        .trading
        .release_dead(|other| is_dead_predecessor(&me, other))
        .await
    {
        Ok(freed) if !freed.is_empty() => {
            tracing::info!(shards = ?freed, "took over the leases of this replica's dead predecessor");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot look at the trading leases"),
    }
    loop {
        tokio::select! {
            _ = every.tick() => {
                round += 1;
                let now = state.clock.now();
                if let Err(e) = state.trading.claim_free_shards(now).await {
                    tracing::warn!(error = %e, "cannot claim trading shards");
                }
                if round > 1
                    && let Err(e) = state.trading.tick(now).await
                {
                    tracing::warn!(error = %e, "trading: clock tick not applied");
                }
            }
            () = state.pipeline.quotes_changed.notified() => {
                let changed = state.pipeline.take_changed();
                let stamp = demo_stamp(&state.clock);
                if changed.is_empty() {
                    continue;
                }
                let quotes: Vec<(String, Quote)> = {
                    let Ok(snap) = state.pipeline.snapshot.read() else {
                        continue;
                    };
                    changed
                        .iter()
                        .filter_map(|s| snap.get(s))
                        .filter_map(|q| Some((q.tradingsymbol.to_string(), broker_quote(q, stamp)?)))
                        .collect()
                };
                if let Err(e) = state.trading.on_quotes(&quotes).await {
                    tracing::warn!(error = %e, "trading: quotes not applied");
                }
            }
        }
    }
}

/// What a keyed placement answered, as stored for its retries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Placed(Vec<String>),
    Refused {
        status: u16,
        code: String,
        detail: String,
    },
}

/// The codes a stored refusal can carry (an `ApiError` code is static).
fn known_code(code: &str) -> &'static str {
    [
        "insufficient_funds",
        "order_not_found",
        "account_not_found",
        "order_rejected",
        "order_invalid",
        "invalid_parameter",
    ]
    .into_iter()
    .find(|c| *c == code)
    .unwrap_or("order_rejected")
}

impl Outcome {
    fn into_result(self) -> Result<Vec<String>, ApiError> {
        match self {
            Outcome::Placed(ids) => Ok(ids),
            Outcome::Refused {
                status,
                code,
                detail,
            } => Err(ApiError::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                known_code(&code),
                detail,
            )),
        }
    }
}

/// Place `req` on the caller's account (both families): with an idempotency key, the first
/// answer is returned for every retry within 24 h — the broker itself refuses to place a
/// keyed order twice (so a crash between placing and remembering the answer is safe too), and
/// the stored answer replays a refusal exactly. Returns the order ids.
pub(crate) async fn place(
    state: &AppState,
    auth: &Auth,
    account_id: i64,
    mut req: OrderRequest,
    key: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    auth.require(Scope::Trade)?;
    let who = auth.owner();
    let now = now_ms();
    let window = now - stocksblitz_broker::IDEMPOTENCY_WINDOW_MS;
    let scoped = key.map(|k| format!("{account_id}:{k}"));
    if let Some(k) = &scoped {
        let stored = state.store.idempotent_response(&who, k, window).await?;
        if let Some(o) = stored.and_then(|s| serde_json::from_str::<Outcome>(&s).ok()) {
            return o.into_result();
        }
    }
    req.idempotency_key = key.map(Into::into);
    let outcome = match state
        .trading
        .execute(&who, account_id, state.clock.now(), Command::Place(req))
        .await
    {
        Ok((Reply::Orders(ids), _)) => {
            Outcome::Placed(ids.iter().map(ToString::to_string).collect())
        }
        Ok((Reply::Done, _)) => Outcome::Placed(Vec::new()),
        Err(TradingError::Rejected(rej)) => {
            let e = reject_error(&rej.reason);
            Outcome::Refused {
                status: e.status.as_u16(),
                code: e.code.to_string(),
                detail: e.detail,
            }
        }
        // Not an answer to remember (a retry should try again).
        Err(e) => return Err(trading_error(e)),
    };
    if let Some(k) = &scoped
        && let Ok(text) = serde_json::to_string(&outcome)
    {
        match state
            .store
            .remember_response(&who, k, &text, now, window)
            .await
        {
            Ok(first) => {
                if let Ok(o) = serde_json::from_str::<Outcome>(&first) {
                    return o.into_result();
                }
            }
            Err(e) => tracing::warn!(error = %e, "idempotent answer not stored"),
        }
    }
    outcome.into_result()
}

#[cfg(test)]
mod tests {
    use super::is_dead_predecessor;

    #[test]
    fn a_dead_predecessor_is_same_host_same_url_and_gone() {
        let me = format!("my-host-{}-1000@http://127.0.0.1:8081", std::process::id());
        // pid 0x7ffffffe: beyond any pid_max, so never running.
        let dead = "my-host-2147483646-900@http://127.0.0.1:8081";
        assert!(is_dead_predecessor(&me, dead));
        // Another replica's (a different URL or host), or a live process: never.
        assert!(!is_dead_predecessor(
            &me,
            "my-host-2147483646-900@http://10.0.0.2:8081"
        ));
        assert!(!is_dead_predecessor(
            &me,
            "other-2147483646-900@http://127.0.0.1:8081"
        ));
        assert!(!is_dead_predecessor(
            &me,
            "my-host-1-900@http://127.0.0.1:8081"
        )); // pid 1 runs
        assert!(!is_dead_predecessor(&me, &me));
        assert!(!is_dead_predecessor(&me, "garbage"));
    }
}
