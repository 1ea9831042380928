//! Paper trading as an application service: the pure broker engine run per shard of accounts
//! over the store. No HTTP here — the server's routes (and later the wheel, in-process) adapt.
//!
//! - **Write-ahead**: a command's events are appended to the shard's log in the store before
//!   the caller gets its reply; if the append fails the shard's engine is dropped and rebuilt
//!   from the log on next use, so memory never runs ahead of what is stored.
//! - **Recovery**: a shard's engine is the replay of its log (`Engine::replay`); open orders
//!   and positions come back and matching resumes with the next quotes. No event is applied
//!   twice (the broker ignores seqs it has applied; the store refuses a seq stored twice).
//! - **One matcher per shard**: a replica serves a shard only while it holds the shard's lease
//!   (renewed by [`Trading::tick`]); appends are fenced by the lease, so a replica that lost it
//!   cannot write. Another replica asking for a held shard gets [`TradingError::Unavailable`].
#![forbid(unsafe_code)]

pub mod strategy;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stocksblitz_broker::{
    AccountId, Command, Config, Engine, Event, Paise, Quote, Rejection, Reply,
};
use stocksblitz_store::trading::{PaperAccount, StoredEvent};
use stocksblitz_store::{Store, StoreError};
use tokio::sync::Mutex;

/// Where the service gets the latest quote of an instrument it has not been fed yet (the
/// server's snapshot): a first order on an instrument is priced from it.
pub trait QuoteSource: Send + Sync {
    fn quote(&self, tradingsymbol: &str) -> Option<Quote>;
}

/// Told about every batch of events once it is stored (order updates for streams, metrics).
/// Called with the shard's lock held: it must not block (hand the events to a task).
pub trait EventSink: Send + Sync {
    fn stored(&self, shard: i64, events: &[Event]);
}

/// The name of the account created on first use.
pub const PRIMARY: &str = "primary";

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct TradingConfig {
    /// Accounts are spread over this many shards (fixed for a store's life).
    pub shards: i64,
    /// A shard lease lasts this long unless renewed.
    pub lease_ttl_ms: i64,
    /// Opening balance of accounts created without one, paise (default ₹10 lakh).
    pub default_opening_balance: Paise,
    pub broker: Config,
}

impl TradingConfig {
    pub fn new(broker: Config) -> TradingConfig {
        TradingConfig {
            shards: 16,
            lease_ttl_ms: 5_000,
            default_opening_balance: 100_000_000,
            broker,
        }
    }
}

/// Why a trading operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TradingError {
    /// The account does not exist or is not the caller's (indistinguishable on purpose).
    #[error("no account {0}")]
    NotFound(i64),
    /// The broker refused the command (the reason names the rule).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Another replica matches this account's shard right now, or it lost the lease.
    #[error("the account's shard is served by another replica; retry")]
    Unavailable {
        shard: i64,
        /// The replica holding the shard's lease, when known.
        holder: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored event {seq} of shard {shard} is not valid: {why}")]
    CorruptLog { shard: i64, seq: i64, why: String },
}

struct Shard {
    engine: Engine,
    lease_until: i64,
}

/// The paper-trading service of one replica.
pub struct Trading {
    store: Store,
    cfg: TradingConfig,
    holder: String,
    shards: Vec<Mutex<Option<Shard>>>,
    quotes: Arc<dyn QuoteSource>,
    /// Set by [`Trading::release_all`]: no shard is taken again afterwards.
    closed: AtomicBool,
    sink: Option<Arc<dyn EventSink>>,
    /// The time leases are kept in (None: the times the caller passes).
    lease_clock: Option<Arc<dyn Fn() -> i64 + Send + Sync>>,
    /// Owners' primary accounts once looked up (accounts are never deleted or renamed, so an
    /// entry never goes stale): the Kite routes resolve one per request.
    primaries: std::sync::Mutex<std::collections::HashMap<String, PaperAccount>>,
}

impl std::fmt::Debug for Trading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trading")
            .field("holder", &self.holder)
            .field("shards", &self.cfg.shards)
            .finish_non_exhaustive()
    }
}

impl Trading {
    /// A service for replica `holder` (unique per process) over `store`.
    pub fn new(
        store: Store,
        cfg: TradingConfig,
        holder: impl Into<String>,
        quotes: Arc<dyn QuoteSource>,
    ) -> Trading {
        let n = usize::try_from(cfg.shards.max(1)).unwrap_or(1);
        Trading {
            store,
            holder: holder.into(),
            shards: (0..n).map(|_| Mutex::new(None)).collect(),
            cfg,
            quotes,
            closed: AtomicBool::new(false),
            sink: None,
            lease_clock: None,
            primaries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Keep leases in `clock`'s time (epoch ms) rather than the times passed in: a virtual
    /// exchange clock (the demo clock, faster than real time) must not age leases.
    #[must_use]
    pub fn with_lease_clock(mut self, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Trading {
        self.lease_clock = Some(clock);
        self
    }

    fn lease_now(&self, given: i64) -> i64 {
        self.lease_clock.as_ref().map_or(given, |c| c())
    }

    /// Tell `sink` about every batch of events stored from now on.
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Trading {
        self.sink = Some(sink);
        self
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The owner's accounts, oldest first.
    pub async fn accounts(&self, owner: &str) -> Result<Vec<PaperAccount>, TradingError> {
        Ok(self.store.paper_accounts_of(owner).await?)
    }

    /// The owner's primary account, created (with the default balance) on first use.
    pub async fn primary_account(
        &self,
        owner: &str,
        now: i64,
    ) -> Result<PaperAccount, TradingError> {
        if let Some(a) = self
            .primaries
            .lock()
            .ok()
            .and_then(|m| m.get(owner).cloned())
        {
            return Ok(a);
        }
        let a = self.primary_account_uncached(owner, now).await?;
        if let Ok(mut m) = self.primaries.lock() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(owner.to_string(), a.clone());
        }
        Ok(a)
    }

    async fn primary_account_uncached(
        &self,
        owner: &str,
        now: i64,
    ) -> Result<PaperAccount, TradingError> {
        if let Some(a) = self
            .store
            .paper_accounts_of(owner)
            .await?
            .into_iter()
            .find(|a| a.name == PRIMARY)
        {
            return Ok(a);
        }
        match self
            .create_account(owner, PRIMARY, self.cfg.default_opening_balance, now)
            .await
        {
            Err(TradingError::Store(StoreError::Exists(_))) => self
                .store
                .paper_accounts_of(owner)
                .await?
                .into_iter()
                .find(|a| a.name == PRIMARY)
                .ok_or(TradingError::NotFound(0)),
            other => other,
        }
    }

    /// Create an account and open it in its shard's engine.
    pub async fn create_account(
        &self,
        owner: &str,
        name: &str,
        opening_balance: Paise,
        now: i64,
    ) -> Result<PaperAccount, TradingError> {
        let acc = self
            .store
            .create_paper_account(owner, name, opening_balance, self.cfg.shards, now)
            .await?;
        // Opened in the engine now when its shard is ours; otherwise lazily on first use.
        let _ = self
            .with_shard(acc.shard, now, |sh| {
                Ok(((), open_if_missing(sh, &acc, now)))
            })
            .await;
        Ok(acc)
    }

    /// Run `cmd` on the owner's account at `at`: the events are stored before this returns.
    pub async fn execute(
        &self,
        owner: &str,
        account_id: i64,
        at: i64,
        cmd: Command,
    ) -> Result<(Reply, Vec<Event>), TradingError> {
        let acc = self.owned(owner, account_id).await?;
        if command_account(&cmd) != Some(AccountId(account_id as u64)) {
            return Err(TradingError::NotFound(account_id));
        }
        let quotes = self.quotes.clone();
        self.with_shard(acc.shard, at, |sh| {
            let mut events = open_if_missing(sh, &acc, at);
            events.extend(refresh_quotes(&mut sh.engine, &cmd, quotes.as_ref()));
            // Another replica's clock may have run a little ahead (skew, a take-over): the
            // engine's time never goes back.
            let at = at.max(sh.engine.now());
            let (result, ev) = sh.engine.handle(at, cmd);
            events.extend(ev);
            Ok(((result, events.clone()), events))
        })
        .await
        .and_then(|(result, events)| match result {
            Ok(reply) => Ok((reply, events)),
            Err(rej) => Err(TradingError::Rejected(rej)),
        })
    }

    /// Read the owner's account through its shard's engine (funds, positions, orders …).
    pub async fn view<R>(
        &self,
        owner: &str,
        account_id: i64,
        at: i64,
        read: impl FnOnce(&Engine, AccountId) -> R,
    ) -> Result<R, TradingError> {
        let acc = self.owned(owner, account_id).await?;
        self.with_shard(acc.shard, at, |sh| {
            let events = open_if_missing(sh, &acc, at);
            Ok((read(&sh.engine, AccountId(account_id as u64)), events))
        })
        .await
    }

    /// Evaluate something over the owner's account without commanding it (margins of
    /// hypothetical orders, their charges): the instruments in `symbols` get their latest
    /// quotes first (any fills that causes are stored like any events), then `f` runs with the
    /// engine. `f` must only read and look instruments up — it never calls `handle`.
    pub async fn evaluate<R>(
        &self,
        owner: &str,
        account_id: i64,
        at: i64,
        symbols: &[&str],
        f: impl FnOnce(&mut Engine, AccountId) -> R,
    ) -> Result<R, TradingError> {
        let acc = self.owned(owner, account_id).await?;
        let quotes = self.quotes.clone();
        self.with_shard(acc.shard, at, |sh| {
            let mut events = open_if_missing(sh, &acc, at);
            for s in symbols {
                events.extend(refresh_symbol(&mut sh.engine, s, quotes.as_ref()));
            }
            Ok((f(&mut sh.engine, AccountId(account_id as u64)), events))
        })
        .await
    }

    /// Feed quotes to the shards this replica serves (each engine gets only the instruments it
    /// knows); fills are stored like any other event. Returns the events.
    pub async fn on_quotes(&self, quotes: &[(String, Quote)]) -> Result<Vec<Event>, TradingError> {
        let mut all = Vec::new();
        for shard in 0..self.cfg.shards {
            let mut guard = self.shards[shard as usize].lock().await;
            let Some(sh) = guard.as_mut() else { continue };
            let mut events = Vec::new();
            for (sym, q) in quotes {
                if sh.engine.knows(sym) {
                    events.extend(sh.engine.on_quote(sym, *q));
                }
            }
            let lease_t = self.lease_now(sh.engine.now());
            if let Err(e) = self.persist(shard, lease_t, &events).await {
                *guard = None;
                return Err(e);
            }
            all.extend(events);
        }
        Ok(all)
    }

    /// The clock: renew the leases of the shards served (dropping those lost) and run session
    /// events (square-off, expiry, TTL) up to `now`, stored. Returns the events.
    pub async fn tick(&self, now: i64) -> Result<Vec<Event>, TradingError> {
        let mut all = Vec::new();
        let lease_t = self.lease_now(now);
        for shard in 0..self.cfg.shards {
            let mut guard = self.shards[shard as usize].lock().await;
            let Some(sh) = guard.as_mut() else { continue };
            match self
                .store
                .acquire_lease(shard, &self.holder, lease_t, self.cfg.lease_ttl_ms)
                .await
            {
                Ok(true) if sh.lease_until > lease_t => {
                    sh.lease_until = lease_t + self.cfg.lease_ttl_ms;
                }
                Ok(true) => {
                    // The lease had lapsed: someone may have served the shard meanwhile.
                    *guard = None;
                    drop(guard);
                    let _ = self.with_shard(shard, now, |_| Ok(((), Vec::new()))).await;
                    guard = self.shards[shard as usize].lock().await;
                    let Some(_) = guard.as_mut() else { continue };
                }
                Ok(false) => {
                    tracing::warn!(shard, "shard lease lost to another replica; engine dropped");
                    *guard = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let Some(sh) = guard.as_mut() else { continue };
            // Nothing due (no boundary, no TTL): an idle clock stores nothing.
            if sh.engine.next_due().is_some_and(|due| due > now) {
                continue;
            }
            let events = sh.engine.on_clock(now);
            if let Err(e) = self.persist(shard, lease_t, &events).await {
                *guard = None;
                return Err(e);
            }
            all.extend(events);
        }
        Ok(all)
    }

    /// Take over every shard whose lease is free (a replica that died): load them now.
    pub async fn claim_free_shards(&self, now: i64) -> Result<Vec<i64>, TradingError> {
        let mut claimed = Vec::new();
        for shard in 0..self.cfg.shards {
            let loaded = self.shards[shard as usize].lock().await.is_some();
            if loaded {
                continue;
            }
            if self
                .with_shard(shard, now, |_| Ok(((), Vec::new())))
                .await
                .is_ok()
            {
                claimed.push(shard);
            }
        }
        Ok(claimed)
    }

    /// Free the leases of holders `is_dead` says are gone (a predecessor of this replica killed
    /// without releasing them), so they are taken at once rather than when they expire.
    /// Returns the shards freed.
    pub async fn release_dead(
        &self,
        is_dead: impl Fn(&str) -> bool,
    ) -> Result<Vec<i64>, TradingError> {
        let mut freed = Vec::new();
        for shard in 0..self.cfg.shards {
            if let Some(lease) = self.store.lease(shard).await?
                && lease.holder != self.holder
                && is_dead(&lease.holder)
                && self.store.release_lease(shard, &lease.holder).await?
            {
                freed.push(shard);
            }
        }
        Ok(freed)
    }

    /// Give up every lease (orderly shutdown, so another replica takes over at once).
    pub async fn release_all(&self) -> Result<usize, TradingError> {
        self.closed.store(true, Ordering::SeqCst);
        let mut released = 0;
        for shard in 0..self.cfg.shards {
            let mut guard = self.shards[shard as usize].lock().await;
            guard.take();
            if self.store.release_lease(shard, &self.holder).await? {
                released += 1;
            }
        }
        tracing::info!(released, holder = %self.holder, "trading shard leases released");
        Ok(released)
    }

    /// The shards this replica serves now.
    pub async fn served_shards(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for (i, m) in self.shards.iter().enumerate() {
            if m.lock().await.is_some() {
                out.push(i as i64);
            }
        }
        out
    }

    async fn owned(&self, owner: &str, account_id: i64) -> Result<PaperAccount, TradingError> {
        match self.store.paper_account(account_id).await? {
            Some(a) if a.owner == owner => Ok(a),
            _ => Err(TradingError::NotFound(account_id)),
        }
    }

    /// Run `f` on the shard's engine (loaded and leased first), then store the events it
    /// returns; on a storage failure the engine is dropped (rebuilt from the log next time).
    async fn with_shard<R>(
        &self,
        shard: i64,
        now: i64,
        f: impl FnOnce(&mut Shard) -> Result<(R, Vec<Event>), TradingError>,
    ) -> Result<R, TradingError> {
        let slot = self
            .shards
            .get(usize::try_from(shard).unwrap_or(usize::MAX))
            .ok_or(TradingError::Unavailable {
                shard,
                holder: None,
            })?;
        let mut guard = slot.lock().await;
        let now = self.lease_now(now);
        if self.closed.load(Ordering::SeqCst) {
            *guard = None;
            return Err(TradingError::Unavailable {
                shard,
                holder: None,
            });
        }
        let fresh = guard.as_ref().is_none_or(|s| s.lease_until <= now);
        if fresh {
            if !self
                .store
                .acquire_lease(shard, &self.holder, now, self.cfg.lease_ttl_ms)
                .await?
            {
                *guard = None;
                let holder = self
                    .store
                    .lease(shard)
                    .await
                    .ok()
                    .flatten()
                    .map(|l| l.holder);
                return Err(TradingError::Unavailable { shard, holder });
            }
            // Ours again, but another replica may have served it in between: reload when the
            // log went on without us.
            let behind = match guard.as_ref() {
                None => true,
                Some(sh) => !self
                    .store
                    .broker_events(shard, sh.engine.state().seq as i64)
                    .await?
                    .is_empty(),
            };
            if behind {
                *guard = Some(Shard {
                    engine: self.load(shard).await?,
                    lease_until: 0,
                });
            }
            if let Some(sh) = guard.as_mut() {
                sh.lease_until = now + self.cfg.lease_ttl_ms;
            }
        }
        let Some(sh) = guard.as_mut() else {
            return Err(TradingError::Unavailable {
                shard,
                holder: None,
            });
        };
        let (out, events) = f(sh)?;
        if let Err(e) = self.persist(shard, now, &events).await {
            *guard = None;
            return Err(e);
        }
        Ok(out)
    }

    /// Rebuild a shard's engine from its log.
    async fn load(&self, shard: i64) -> Result<Engine, TradingError> {
        let stored = self.store.broker_events(shard, 0).await?;
        let mut events = Vec::with_capacity(stored.len());
        for s in &stored {
            let e: Event = serde_json::from_str(&s.body).map_err(|e| TradingError::CorruptLog {
                shard,
                seq: s.seq,
                why: e.to_string(),
            })?;
            if e.seq as i64 != s.seq {
                return Err(TradingError::CorruptLog {
                    shard,
                    seq: s.seq,
                    why: format!("body has seq {}", e.seq),
                });
            }
            events.push(e);
        }
        tracing::info!(
            shard,
            events = events.len(),
            "shard engine rebuilt from its log"
        );
        Ok(Engine::replay(self.cfg.broker.clone(), &events))
    }

    async fn persist(&self, shard: i64, now: i64, events: &[Event]) -> Result<(), TradingError> {
        if events.is_empty() {
            return Ok(());
        }
        let stored: Vec<StoredEvent> = events
            .iter()
            .map(|e| {
                Ok(StoredEvent {
                    seq: e.seq as i64,
                    at: e.at,
                    body: serde_json::to_string(e).map_err(|err| TradingError::CorruptLog {
                        shard,
                        seq: e.seq as i64,
                        why: err.to_string(),
                    })?,
                })
            })
            .collect::<Result<_, TradingError>>()?;
        match self
            .store
            .append_broker_events(shard, &self.holder, now, &stored)
            .await
        {
            Ok(()) => {
                if let Some(sink) = &self.sink {
                    sink.stored(shard, events);
                }
                Ok(())
            }
            Err(StoreError::LeaseLost { shard }) => Err(TradingError::Unavailable {
                shard,
                holder: None,
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Open the account in the engine if the log has not yet (created while another replica held
/// the shard, or a crash between the row and the event).
fn open_if_missing(sh: &mut Shard, acc: &PaperAccount, at: i64) -> Vec<Event> {
    let id = AccountId(acc.account_id as u64);
    if sh.engine.account(id).is_some() {
        return Vec::new();
    }
    let at = at.max(sh.engine.now());
    let (_, events) = sh.engine.handle(
        at,
        Command::OpenAccount {
            account: id,
            opening_balance: acc.opening_balance,
        },
    );
    events
}

/// Give the engine the latest quotes of the instrument a command trades (and its underlying)
/// before it is priced; fills this causes for resting orders are returned like any events.
fn refresh_quotes(engine: &mut Engine, cmd: &Command, source: &dyn QuoteSource) -> Vec<Event> {
    let symbol = match cmd {
        Command::Place(r) => Some(r.tradingsymbol.to_string()),
        Command::Modify { order_id, .. } => {
            engine.order(*order_id).map(|o| o.tradingsymbol.to_string())
        }
        _ => None,
    };
    symbol.map_or_else(Vec::new, |s| refresh_symbol(engine, &s, source))
}

/// Give the engine the latest quotes of one instrument and its underlying (a symbol the broker
/// cannot trade is left alone: the command itself will say why).
fn refresh_symbol(engine: &mut Engine, symbol: &str, source: &dyn QuoteSource) -> Vec<Event> {
    let Ok(id) = engine.instrument(symbol) else {
        return Vec::new();
    };
    let info = engine.instrument_info(id);
    let (own, spot) = (info.tradingsymbol.to_string(), info.spot_symbol.to_string());
    let mut events = Vec::new();
    for s in [spot, own] {
        let stale = |q: &Quote| engine.quote_of(&s).is_some_and(|have| have.at >= q.at);
        if let Some(q) = source.quote(&s).filter(|q| !stale(q)) {
            events.extend(engine.on_quote(&s, q));
        }
    }
    events
}

fn command_account(cmd: &Command) -> Option<AccountId> {
    match cmd {
        Command::OpenAccount { account, .. }
        | Command::ResetAccount { account, .. }
        | Command::Payin { account, .. }
        | Command::Modify { account, .. }
        | Command::Cancel { account, .. }
        | Command::Convert { account, .. } => Some(*account),
        Command::Place(r) => Some(r.account),
        Command::SettleExpiry { .. } => None,
    }
}
