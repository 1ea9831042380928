//! Live updates over the server's WebSockets, for sync and async consumers alike.
//!
//! One [`Stream`] keeps up to three kinds of connection — `/indicators/stream` for bar closes
//! and indicator values, `/monitor/stream?underlying=` (one per underlying) for quotes, and
//! `/orders/stream` for order and trade events — each on the client's runtime, with:
//!
//! - heartbeats: a WebSocket ping every [`PING_EVERY`]; no frame for [`DEAD_AFTER`] means the
//!   connection is dead (a proxy that stopped forwarding, a machine gone), and it is replaced;
//! - reconnects with jittered exponential backoff, the current token (refreshed when due, so a
//!   stream outlives short tokens), and every subscription sent again;
//! - a gap fill after a reconnect, before anything new is read: the bar closes and indicator
//!   values missed come from `/candles` and `/indicators/history`, the order and trade events
//!   from the order book — so a consumer sees every bar close exactly once and in order, and
//!   every order change;
//! - backpressure with a stated policy: quotes are latest-wins per instrument (a slow consumer
//!   gets the newest quote, not a backlog), bar closes, indicator values, orders and trades are
//!   never dropped — past [`EVENTS_CAP`] waiting, reading stops until the consumer catches up.
//!
//! Updates are JSON objects with a `type`: `quote`, `bar`, `indicator`, `order`, `trade`, and
//! `status` when a connection becomes live (subscribed and caught up) or drops.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::{Client, ClientError};

/// A ping this often.
pub const PING_EVERY: Duration = Duration::from_secs(2);
/// No frame at all for this long: the connection is dead.
pub const DEAD_AFTER: Duration = Duration::from_secs(6);
/// Events (not quotes) waiting for the consumer beyond which reading pauses.
pub const EVENTS_CAP: usize = 100_000;
/// Longest a subscription waits for the server's answer.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(15);

/// What to stream (added to what the stream already has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Instruments whose quotes to stream (any spelling the symbols crate reads; `NIFTY*`:
    /// every contract of an index underlying).
    pub quotes: Vec<String>,
    /// (symbol, timeframe, indicator id): the indicator's value at every bar close.
    pub indicators: Vec<(String, String, String)>,
    /// (symbol, timeframe): every bar close.
    pub bars: Vec<(String, String)>,
    /// Order and trade events of the user's paper accounts.
    pub orders: bool,
    /// The user's alert events (alerts the server evaluates, events the user raises).
    pub alerts: bool,
    /// The user's messages (every topic and recipient; `/messages/stream`).
    pub messages: bool,
    /// News items as they are posted (`/news/stream`).
    pub news: bool,
}

/// Counters of a stream.
#[derive(Debug, Default)]
pub struct StreamStats {
    pub connects: AtomicU64,
    pub reconnects: AtomicU64,
    /// Connections found dead by the heartbeat.
    pub dead: AtomicU64,
    pub gap_fills: AtomicU64,
    /// Bar closes and indicator values recovered by gap fills.
    pub gap_filled_updates: AtomicU64,
    /// Quotes replaced by a newer one before the consumer took them.
    pub quotes_coalesced: AtomicU64,
    pub delivered: AtomicU64,
}

enum Item {
    Event(Value),
    Quote(String),
}

#[derive(Default)]
struct Buffer {
    items: VecDeque<Item>,
    quotes: HashMap<String, Value>,
    events: usize,
    error: Option<String>,
}

struct Shared {
    buffer: Mutex<Buffer>,
    cv: Condvar,
    ready: tokio::sync::Notify,
    space: tokio::sync::Notify,
    closed: AtomicBool,
    stats: StreamStats,
}

impl Shared {
    fn push_event(&self, v: Value) -> usize {
        let n = match self.buffer.lock() {
            Ok(mut b) => {
                b.items.push_back(Item::Event(v));
                b.events += 1;
                b.events
            }
            Err(_) => 0,
        };
        self.cv.notify_all();
        self.ready.notify_waiters();
        n
    }

    fn push_quote(&self, symbol: String, v: Value) {
        if let Ok(mut b) = self.buffer.lock() {
            if b.quotes.insert(symbol.clone(), v).is_some() {
                self.stats.quotes_coalesced.fetch_add(1, Ordering::Relaxed);
            } else {
                b.items.push_back(Item::Quote(symbol));
            }
        }
        self.cv.notify_all();
        self.ready.notify_waiters();
    }

    /// Wait (async) while too many events wait for the consumer.
    async fn room(&self) {
        loop {
            let waiting = self.space.notified();
            let full = self.buffer.lock().is_ok_and(|b| b.events >= EVENTS_CAP);
            if !full || self.closed.load(Ordering::Relaxed) {
                return;
            }
            waiting.await;
        }
    }

    fn pop(&self, b: &mut Buffer) -> Option<Value> {
        let item = b.items.pop_front()?;
        let v = match item {
            Item::Event(v) => {
                b.events -= 1;
                v
            }
            Item::Quote(s) => b.quotes.remove(&s)?,
        };
        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        self.space.notify_waiters();
        Some(v)
    }
}

/// What [`Stream::next_blocking`] returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Update(Value),
    /// Nothing within the timeout.
    Timeout,
    /// The stream was closed (by [`Stream::close`] or a fatal error).
    Closed(Option<String>),
}

/// The answer a subscriber waits for.
type Ack = oneshot::Sender<Result<(), ClientError>>;
/// Subscriptions sent and not yet answered: (symbol, timeframe, who waits).
type Waiting = VecDeque<(String, String, Option<Ack>)>;

/// Commands to the indicator connection.
enum IndCmd {
    Subscribe {
        symbol: String,
        timeframe: String,
        ids: Vec<String>,
        bars: bool,
        ack: oneshot::Sender<Result<(), ClientError>>,
    },
}

/// A live stream (see the module documentation). Dropping it closes it.
pub struct Stream {
    client: Arc<Client>,
    shared: Arc<Shared>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    indicators: Mutex<Option<mpsc::UnboundedSender<IndCmd>>>,
    monitors: Mutex<HashMap<String, Arc<Mutex<QuoteFilter>>>>,
    orders: AtomicBool,
    alerts: AtomicBool,
    messages: AtomicBool,
    news: AtomicBool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

/// Which quotes of an underlying the consumer asked for (None: all of them).
#[derive(Debug, Default)]
struct QuoteFilter {
    all: bool,
    symbols: HashSet<String>,
}

impl Stream {
    /// A stream on `client` (nothing connects until the first subscription).
    pub fn new(client: Arc<Client>) -> Stream {
        Stream {
            client,
            shared: Arc::new(Shared {
                buffer: Mutex::new(Buffer::default()),
                cv: Condvar::new(),
                ready: tokio::sync::Notify::new(),
                space: tokio::sync::Notify::new(),
                closed: AtomicBool::new(false),
                stats: StreamStats::default(),
            }),
            tasks: Mutex::new(Vec::new()),
            indicators: Mutex::new(None),
            monitors: Mutex::new(HashMap::new()),
            orders: AtomicBool::new(false),
            alerts: AtomicBool::new(false),
            messages: AtomicBool::new(false),
            news: AtomicBool::new(false),
        }
    }

    pub fn stats(&self) -> &StreamStats {
        &self.shared.stats
    }

    /// Add subscriptions; returns once the server accepted the bar and indicator ones (its
    /// refusal — an unknown symbol or indicator — is the error). Blocking.
    pub fn subscribe(&self, sub: Subscription) -> Result<(), ClientError> {
        let acks = self.start(sub)?;
        self.client.rt.block_on(wait_acks(acks))
    }

    /// [`Stream::subscribe`] for async callers.
    pub async fn subscribe_async(&self, sub: Subscription) -> Result<(), ClientError> {
        let acks = self.start(sub)?;
        let h = self.client.spawn(wait_acks(acks));
        h.await
            .map_err(|e| ClientError::Usage(format!("subscription task: {e}")))?
    }

    fn spawn_task<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let h = self.client.spawn(fut);
        if let Ok(mut t) = self.tasks.lock() {
            t.push(h);
        }
    }

    fn start(
        &self,
        sub: Subscription,
    ) -> Result<Vec<oneshot::Receiver<Result<(), ClientError>>>, ClientError> {
        if self.shared.closed.load(Ordering::Relaxed) {
            return Err(ClientError::Usage("the stream is closed".into()));
        }
        // Quotes: one monitor connection per underlying.
        for raw in &sub.quotes {
            // `NIFTY*`: every contract of the underlying.
            let (name, every) = match raw.trim().strip_suffix('*') {
                Some(name) => (name.trim(), true),
                None => (raw.trim(), false),
            };
            let sym = stocksblitz_symbols::parse(name)
                .map_err(|e| ClientError::Usage(format!("quotes: {e}")))?;
            if every && sym.kind != stocksblitz_symbols::Kind::Index {
                return Err(ClientError::Usage(format!(
                    "quotes: {raw:?}: a trailing * (every contract) follows an index underlying, as in NIFTY*"
                )));
            }
            let under = sym.underlying.to_string();
            let mut monitors = self
                .monitors
                .lock()
                .map_err(|_| ClientError::Usage("stream lock poisoned".into()))?;
            let filter = monitors.entry(under.clone()).or_insert_with(|| {
                let f = Arc::new(Mutex::new(QuoteFilter::default()));
                let (c, s, f2) = (self.client.clone(), self.shared.clone(), f.clone());
                let under2 = under.clone();
                let h = self.client.spawn(monitor_task(c, s, under2, f2));
                if let Ok(mut t) = self.tasks.lock() {
                    t.push(h);
                }
                f
            });
            if let Ok(mut f) = filter.lock() {
                if every {
                    f.all = true;
                } else {
                    f.symbols.insert(sym.tradingsymbol.to_string());
                }
            }
        }
        // Bars and indicators: one connection, one subscription per (symbol, timeframe).
        let mut wanted: BTreeMap<(String, String), (Vec<String>, bool)> = BTreeMap::new();
        for (s, tf, id) in &sub.indicators {
            wanted
                .entry((s.clone(), tf.clone()))
                .or_default()
                .0
                .push(id.clone());
        }
        for (s, tf) in &sub.bars {
            wanted.entry((s.clone(), tf.clone())).or_default().1 = true;
        }
        let mut acks = Vec::new();
        if !wanted.is_empty() {
            let mut slot = self
                .indicators
                .lock()
                .map_err(|_| ClientError::Usage("stream lock poisoned".into()))?;
            let tx = match slot.as_ref() {
                Some(tx) if !tx.is_closed() => tx.clone(),
                _ => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let (c, s) = (self.client.clone(), self.shared.clone());
                    self.spawn_task(indicator_task(c, s, rx));
                    *slot = Some(tx.clone());
                    tx
                }
            };
            for ((symbol, timeframe), (ids, bars)) in wanted {
                let (ack, rx) = oneshot::channel();
                tx.send(IndCmd::Subscribe {
                    symbol,
                    timeframe,
                    ids,
                    bars,
                    ack,
                })
                .map_err(|_| ClientError::Usage("the stream is closed".into()))?;
                acks.push(rx);
            }
        }
        if sub.alerts && !self.alerts.swap(true, Ordering::SeqCst) {
            let (c, s) = (self.client.clone(), self.shared.clone());
            self.spawn_task(user_task(c, s, UserFeed::ALERTS));
        }
        if sub.messages && !self.messages.swap(true, Ordering::SeqCst) {
            let (c, s) = (self.client.clone(), self.shared.clone());
            self.spawn_task(user_task(c, s, UserFeed::MESSAGES));
        }
        if sub.news && !self.news.swap(true, Ordering::SeqCst) {
            let (c, s) = (self.client.clone(), self.shared.clone());
            self.spawn_task(user_task(c, s, UserFeed::NEWS));
        }
        if sub.orders && !self.orders.swap(true, Ordering::SeqCst) {
            let (c, s) = (self.client.clone(), self.shared.clone());
            self.spawn_task(order_task(c, s));
        }
        Ok(acks)
    }

    /// The next update, waiting at most `timeout` (None: until there is one or the stream
    /// closes). Blocking; call with the GIL released.
    pub fn next_blocking(&self, timeout: Option<Duration>) -> Next {
        let deadline = timeout.map(|t| Instant::now() + t);
        let Ok(mut b) = self.shared.buffer.lock() else {
            return Next::Closed(Some("stream lock poisoned".into()));
        };
        loop {
            if let Some(v) = self.shared.pop(&mut b) {
                return Next::Update(v);
            }
            if self.shared.closed.load(Ordering::Relaxed) {
                return Next::Closed(b.error.clone());
            }
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(w) if !w.is_zero() => w,
                    _ => return Next::Timeout,
                },
                None => Duration::from_millis(500),
            };
            b = match self.shared.cv.wait_timeout(b, wait) {
                Ok((g, _)) => g,
                Err(_) => return Next::Closed(Some("stream lock poisoned".into())),
            };
        }
    }

    /// The next update without blocking a thread (None once the stream is closed).
    pub async fn next_async(&self) -> Option<Value> {
        loop {
            let ready = self.shared.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            if let Ok(mut b) = self.shared.buffer.lock()
                && let Some(v) = self.shared.pop(&mut b)
            {
                return Some(v);
            }
            if self.shared.closed.load(Ordering::Relaxed) {
                return None;
            }
            // Wake at least every half second to notice a close.
            let _ = tokio::time::timeout(Duration::from_millis(500), ready).await;
        }
    }

    /// Close every connection; waiting consumers return, and updates not read yet are
    /// discarded (a closed stream yields nothing more).
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        if let Ok(mut b) = self.shared.buffer.lock() {
            b.items.clear();
            b.quotes.clear();
        }
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
        self.shared.cv.notify_all();
        self.shared.ready.notify_waiters();
        self.shared.space.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// Updates waiting for the consumer.
    pub fn pending(&self) -> usize {
        self.shared.buffer.lock().map_or(0, |b| b.items.len())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.close();
    }
}

async fn wait_acks(
    acks: Vec<oneshot::Receiver<Result<(), ClientError>>>,
) -> Result<(), ClientError> {
    for a in acks {
        match tokio::time::timeout(ACK_TIMEOUT, a).await {
            Ok(Ok(r)) => r?,
            Ok(Err(_)) => return Err(ClientError::Usage("the stream closed".into())),
            Err(_) => {
                return Err(ClientError::Timeout(ACK_TIMEOUT.as_secs_f64()));
            }
        }
    }
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open a WebSocket to `path` with the client's current token (as a header, never in the URL).
async fn connect(client: &Client, path: &str, query: &[(&str, String)]) -> Result<Ws, ClientError> {
    let url = client.ws_url(path, query)?;
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::Usage(format!("WebSocket request: {e}")))?;
    let token = client.token().await?;
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::Usage("the token is not a valid header value".into()))?;
    req.headers_mut().insert("authorization", value);
    let connecting = tokio_tungstenite::connect_async(req);
    let (ws, _) = tokio::time::timeout(client.config().timeout, connecting)
        .await
        .map_err(|_| ClientError::Timeout(client.config().timeout.as_secs_f64()))?
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => ClientError::Api {
                status: resp.status().as_u16(),
                code: None,
                message: format!("WebSocket refused: HTTP {}", resp.status()),
                body: None,
            },
            other => ClientError::Connect {
                url: url.to_string(),
                message: other.to_string(),
            },
        })?;
    Ok(ws)
}

/// Jittered exponential backoff: 0.2 s doubling to 5 s.
struct Backoff {
    n: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let base = 0.2 * f64::from(1u32 << self.n.min(5));
        self.n += 1;
        Duration::from_secs_f64(base.min(5.0) * crate::jitter())
    }
}

/// A text frame as JSON (other frames: None).
fn parse(msg: &Message) -> Option<Value> {
    match msg {
        Message::Text(t) => serde_json::from_str(t.as_str()).ok(),
        _ => None,
    }
}

/// What a reader loop got: a message, or the connection ended (closed, errored, or dead).
enum Read {
    Msg(Message),
    Ended(String),
}

/// The next frame, pinging every [`PING_EVERY`] and giving up after [`DEAD_AFTER`] of silence.
async fn read(ws: &mut Ws, last_seen: &mut Instant, stats: &StreamStats) -> Read {
    loop {
        let wait = DEAD_AFTER.saturating_sub(last_seen.elapsed());
        if wait.is_zero() {
            stats.dead.fetch_add(1, Ordering::Relaxed);
            return Read::Ended("heartbeat missed: no frame for 6 s, connection dead".into());
        }
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(msg)) => {
                    *last_seen = Instant::now();
                    if matches!(msg, Message::Close(_)) {
                        return Read::Ended("closed by the server".into());
                    }
                    return Read::Msg(msg);
                }
                Some(Err(e)) => return Read::Ended(e.to_string()),
                None => return Read::Ended("connection closed".into()),
            },
            () = tokio::time::sleep(wait.min(PING_EVERY)) => {
                if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return Read::Ended("ping failed".into());
                }
            }
        }
    }
}

// ---- bars and indicators --------------------------------------------------------------------

#[derive(Debug, Default)]
struct SubState {
    ids: Vec<String>,
    bars: bool,
    /// Newest bar close delivered (or the baseline at subscription).
    last_bar: Option<i64>,
    /// Newest value delivered per indicator id.
    last_value: HashMap<String, i64>,
}

async fn indicator_task(
    client: Arc<Client>,
    shared: Arc<Shared>,
    mut cmds: mpsc::UnboundedReceiver<IndCmd>,
) {
    let mut subs: BTreeMap<(String, String), SubState> = BTreeMap::new();
    // Subscriptions not yet answered by the server, in the order sent.
    let mut waiting: Waiting = VecDeque::new();
    let mut pending_cmds: Vec<IndCmd> = Vec::new();
    let mut backoff = Backoff { n: 0 };
    let mut first = true;
    while !shared.closed.load(Ordering::Relaxed) {
        let mut ws = match connect(&client, "/indicators/stream", &[]).await {
            Ok(ws) => ws,
            Err(e) => {
                // A refused credential or route will not get better by retrying fast.
                tracing::debug!(error = %e, "indicator stream: connect failed");
                // Answer subscriptions still waiting with the error only when nothing was ever
                // connected (a first connect that fails).
                if first {
                    while let Ok(cmd) = cmds.try_recv() {
                        let IndCmd::Subscribe { ack, .. } = cmd;
                        let _ = ack.send(Err(e.clone()));
                    }
                }
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        shared.stats.connects.fetch_add(1, Ordering::Relaxed);
        if !first {
            shared.stats.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let connected_at = Instant::now();
        let mut last_seen = Instant::now();
        // Subscribe again to everything (the server's answers are matched in order); callers
        // still waiting for an answer get the new connection's.
        let mut old_acks: HashMap<(String, String), Vec<Ack>> = HashMap::new();
        for (symbol, tf, ack) in waiting.drain(..) {
            if let Some(a) = ack {
                old_acks.entry((symbol, tf)).or_default().push(a);
            }
        }
        let mut ok = true;
        for ((symbol, tf), st) in &subs {
            if send_subscribe(&mut ws, symbol, tf, &st.ids, st.bars)
                .await
                .is_err()
            {
                ok = false;
                break;
            }
            let ack = old_acks
                .get_mut(&(symbol.clone(), tf.clone()))
                .and_then(Vec::pop);
            waiting.push_back((symbol.clone(), tf.clone(), ack));
        }
        for cmd in pending_cmds.drain(..) {
            let IndCmd::Subscribe {
                symbol,
                timeframe,
                ids,
                bars,
                ack,
            } = cmd;
            if send_subscribe(&mut ws, &symbol, &timeframe, &ids, bars)
                .await
                .is_err()
            {
                ok = false;
            }
            let st = subs.entry((symbol.clone(), timeframe.clone())).or_default();
            for id in ids {
                if !st.ids.contains(&id) {
                    st.ids.push(id);
                }
            }
            st.bars |= bars;
            waiting.push_back((symbol, timeframe, Some(ack)));
        }
        if ok && !first {
            // Before reading anything new: what was missed while disconnected.
            gap_fill(&client, &shared, &mut subs).await;
        }
        first = false;
        if ok {
            status(&shared, "indicators", "live", None);
        }
        let why = loop {
            if !ok {
                break "send failed".to_string();
            }
            tokio::select! {
                cmd = cmds.recv() => {
                    let Some(IndCmd::Subscribe { symbol, timeframe, ids, bars, ack }) = cmd else {
                        return;
                    };
                    if send_subscribe(&mut ws, &symbol, &timeframe, &ids, bars).await.is_err() {
                        pending_cmds.push(IndCmd::Subscribe { symbol, timeframe, ids, bars, ack });
                        break "send failed".to_string();
                    }
                    let st = subs.entry((symbol.clone(), timeframe.clone())).or_default();
                    for id in ids {
                        if !st.ids.contains(&id) {
                            st.ids.push(id);
                        }
                    }
                    st.bars |= bars;
                    waiting.push_back((symbol, timeframe, Some(ack)));
                }
                r = read(&mut ws, &mut last_seen, &shared.stats) => match r {
                    Read::Ended(why) => break why,
                    Read::Msg(m) => {
                        let Some(v) = parse(&m) else { continue };
                        shared.room().await;
                        on_indicator_msg(&shared, &mut subs, &mut waiting, v);
                    }
                }
            }
        };
        tracing::debug!(why = %why, "indicator stream: reconnecting");
        status(&shared, "indicators", "reconnecting", Some(&why));
        if connected_at.elapsed() > Duration::from_secs(10) {
            backoff.n = 0;
        }
        tokio::time::sleep(backoff.next()).await;
    }
}

fn status(shared: &Shared, stream: &str, state: &str, reason: Option<&str>) {
    shared
        .push_event(json!({"type": "status", "stream": stream, "state": state, "reason": reason}));
}

async fn send_subscribe(
    ws: &mut Ws,
    symbol: &str,
    tf: &str,
    ids: &[String],
    bars: bool,
) -> Result<(), ()> {
    let msg = json!({
        "action": "subscribe",
        "symbol": symbol,
        "timeframe": tf,
        "indicators": ids,
        "bars": bars,
    });
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .map_err(|_| ())
}

fn on_indicator_msg(
    shared: &Shared,
    subs: &mut BTreeMap<(String, String), SubState>,
    waiting: &mut Waiting,
    v: Value,
) {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match v.get("type").and_then(Value::as_str) {
        Some("success") if v.get("action").and_then(Value::as_str) == Some("subscribe") => {
            let Some((sent_symbol, sent_tf, ack)) = waiting.pop_front() else {
                return;
            };
            // The server answers with the canonical symbol and timeframe: re-key the state.
            let (symbol, tf) = (s("symbol"), s("timeframe"));
            if (symbol.clone(), tf.clone()) != (sent_symbol.clone(), sent_tf.clone())
                && let Some(st) = subs.remove(&(sent_symbol, sent_tf))
            {
                let entry = subs.entry((symbol.clone(), tf.clone())).or_default();
                for id in st.ids {
                    if !entry.ids.contains(&id) {
                        entry.ids.push(id);
                    }
                }
                entry.bars |= st.bars;
                entry.last_bar = entry.last_bar.or(st.last_bar);
                entry.last_value.extend(st.last_value);
            }
            let baseline = v.get("last_closed").and_then(Value::as_i64);
            if let Some(st) = subs.get_mut(&(symbol, tf)) {
                // A new subscription starts after the newest closed bar; one re-sent after a
                // reconnect keeps what was delivered (the gap fill covers the rest).
                if st.last_bar.is_none() {
                    st.last_bar = baseline.or(Some(i64::MIN));
                }
                if let Some(ids) = v.get("indicators").and_then(Value::as_array) {
                    for id in ids.iter().filter_map(Value::as_str) {
                        st.last_value
                            .entry(id.to_string())
                            .or_insert(baseline.unwrap_or(i64::MIN));
                    }
                }
            }
            if let Some(a) = ack {
                let _ = a.send(Ok(()));
            }
        }
        Some("error") => {
            // An answer to a subscription (the server answers each message in order).
            let msg = s("message");
            let code = s("error_code");
            if let Some((symbol, tf, ack)) = waiting.pop_front() {
                let st = subs.get(&(symbol.clone(), tf.clone()));
                if st.is_some_and(|st| st.last_bar.is_none()) {
                    subs.remove(&(symbol, tf));
                }
                if let Some(a) = ack {
                    let _ = a.send(Err(ClientError::Api {
                        status: 400,
                        code: Some(code),
                        message: msg,
                        body: Some(v.clone()),
                    }));
                }
            }
        }
        Some("bar") => {
            let (symbol, tf) = (s("symbol"), s("timeframe"));
            let Some(t) = v.get("time").and_then(Value::as_i64) else {
                return;
            };
            let Some(st) = subs.get_mut(&(symbol, tf)) else {
                return;
            };
            if st.bars && st.last_bar.is_none_or(|l| t > l) {
                st.last_bar = Some(t);
                let mut out = v.clone();
                out["type"] = json!("bar");
                shared.push_event(out);
            }
        }
        Some("indicator_update") => {
            if v.get("complete").and_then(Value::as_bool) == Some(false) {
                return;
            }
            let (symbol, tf, id) = (s("symbol"), s("timeframe"), s("indicator_id"));
            let Some(t) = v.get("candle_time").and_then(Value::as_i64) else {
                return;
            };
            let Some(st) = subs.get_mut(&(symbol.clone(), tf.clone())) else {
                return;
            };
            let last = st.last_value.entry(id.clone()).or_insert(i64::MIN);
            if t > *last {
                *last = t;
                if !st.bars {
                    st.last_bar = Some(st.last_bar.map_or(t, |b| b.max(t)));
                }
                shared.push_event(json!({
                    "type": "indicator",
                    "symbol": symbol,
                    "timeframe": tf,
                    "indicator_id": id,
                    "value": v.get("value").cloned().unwrap_or(Value::Null),
                    "candle_time": t,
                }));
            }
        }
        _ => {}
    }
}

/// After a reconnect: every bar close and indicator value newer than what was delivered, from
/// the HTTP routes, in time order (bars first at each time).
async fn gap_fill(
    client: &Client,
    shared: &Shared,
    subs: &mut BTreeMap<(String, String), SubState>,
) {
    shared.stats.gap_fills.fetch_add(1, Ordering::Relaxed);
    for ((symbol, tf), st) in subs.iter_mut() {
        let mut from = st.last_bar;
        for t in st.last_value.values() {
            from = Some(from.map_or(*t, |f| f.min(*t)));
        }
        let Some(from) = from.filter(|f| *f > i64::MIN) else {
            continue;
        };
        let q = [
            ("symbol", symbol.clone()),
            ("timeframe", tf.clone()),
            ("from", (from + 1).max(0).to_string()),
            ("limit", "5000".to_string()),
        ];
        let Ok(body) = client.get_async("/candles", &q, None).await else {
            continue;
        };
        let closed: Vec<&Value> = body
            .get("candles")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter(|b| b.get("complete").and_then(Value::as_bool) != Some(false))
                    .collect()
            })
            .unwrap_or_default();
        if closed.is_empty() {
            continue;
        }
        let times: Vec<i64> = closed
            .iter()
            .filter_map(|b| b.get("time").and_then(Value::as_i64))
            .collect();
        // Each indicator's values at those bars.
        let mut values: HashMap<String, HashMap<i64, Value>> = HashMap::new();
        for id in &st.ids {
            let q = [
                ("symbol", symbol.clone()),
                ("timeframe", tf.clone()),
                ("indicator", id.clone()),
                ("lookback", (times.len() + 1).min(5000).to_string()),
            ];
            let Ok(h) = client.get_async("/indicators/history", &q, None).await else {
                continue;
            };
            let mut at = HashMap::new();
            for p in h
                .get("series")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(t) = p.get("time").and_then(Value::as_i64) else {
                    continue;
                };
                let value = if let Some(v) = p.get("value") {
                    v.clone()
                } else {
                    // Several outputs: the entry's own fields but the bookkeeping ones.
                    let mut o = p.as_object().cloned().unwrap_or_default();
                    o.remove("time");
                    o.remove("candles_back");
                    Value::Object(o)
                };
                at.insert(t, value);
            }
            values.insert(id.clone(), at);
        }
        for (b, t) in closed.iter().zip(&times) {
            shared.room().await;
            if st.bars && st.last_bar.is_none_or(|l| *t > l) {
                let mut out = json!({
                    "type": "bar",
                    "symbol": symbol,
                    "timeframe": tf,
                    "complete": true,
                });
                for k in ["time", "open", "high", "low", "close", "volume", "oi"] {
                    out[k] = b.get(k).cloned().unwrap_or(Value::Null);
                }
                shared.push_event(out);
                shared
                    .stats
                    .gap_filled_updates
                    .fetch_add(1, Ordering::Relaxed);
            }
            for id in &st.ids {
                let last = st.last_value.entry(id.clone()).or_insert(i64::MIN);
                if *t <= *last {
                    continue;
                }
                let Some(value) = values.get(id).and_then(|m| m.get(t)) else {
                    continue;
                };
                *last = *t;
                shared.push_event(json!({
                    "type": "indicator",
                    "symbol": symbol,
                    "timeframe": tf,
                    "indicator_id": id,
                    "value": value,
                    "candle_time": t,
                }));
                shared
                    .stats
                    .gap_filled_updates
                    .fetch_add(1, Ordering::Relaxed);
            }
            st.last_bar = Some(st.last_bar.map_or(*t, |l| l.max(*t)));
        }
    }
}

// ---- quotes ---------------------------------------------------------------------------------

async fn monitor_task(
    client: Arc<Client>,
    shared: Arc<Shared>,
    underlying: String,
    filter: Arc<Mutex<QuoteFilter>>,
) {
    let mut backoff = Backoff { n: 0 };
    let mut first = true;
    while !shared.closed.load(Ordering::Relaxed) {
        let q = [("underlying", underlying.clone())];
        let mut ws = match connect(&client, "/monitor/stream", &q).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, "quote stream: connect failed");
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        shared.stats.connects.fetch_add(1, Ordering::Relaxed);
        if !first {
            shared.stats.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        let name = format!("quotes:{underlying}");
        status(&shared, &name, "live", None);
        let connected_at = Instant::now();
        let mut last_seen = Instant::now();
        loop {
            match read(&mut ws, &mut last_seen, &shared.stats).await {
                Read::Ended(why) => {
                    status(&shared, &name, "reconnecting", Some(&why));
                    break;
                }
                Read::Msg(m) => {
                    let Some(v) = parse(&m) else { continue };
                    let Some(p) = v.get("payload") else { continue };
                    let symbol = p
                        .get("tradingsymbol")
                        .or_else(|| p.get("symbol"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let wanted = filter
                        .lock()
                        .is_ok_and(|f| f.all || f.symbols.contains(&symbol));
                    if wanted {
                        let mut out = p.clone();
                        out["type"] = json!("quote");
                        out["symbol"] = json!(symbol);
                        shared.push_quote(symbol, out);
                    }
                }
            }
        }
        if connected_at.elapsed() > Duration::from_secs(10) {
            backoff.n = 0;
        }
        tokio::time::sleep(backoff.next()).await;
    }
}

// ---- orders and trades ----------------------------------------------------------------------

/// What is known of the user's orders and trades (to emit each change once).
#[derive(Debug, Default)]
struct Book {
    orders: HashMap<String, (String, i64)>,
    trades: HashSet<String>,
}

fn order_key(o: &Value) -> Option<(String, (String, i64))> {
    let id = o.get("order_id").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })?;
    let status = o
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let filled = o
        .get("filled_quantity")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Some((id, (status, filled)))
}

fn trade_key(t: &Value) -> Option<String> {
    t.get("trade_id").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The user's orders and trades now, from the books (every account).
async fn read_book(client: &Client) -> Result<(Vec<Value>, Vec<Value>), ClientError> {
    let accounts = client.get_async("/accounts", &[], None).await?;
    let mut orders = Vec::new();
    let mut trades = Vec::new();
    for a in accounts
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = a
            .get("account_id")
            .map(|v| v.to_string().trim_matches('"').to_string())
        else {
            continue;
        };
        let o = client
            .get_async(&format!("/accounts/{id}/orders"), &[], None)
            .await?;
        orders.extend(
            o.get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        let t = client
            .get_async(&format!("/accounts/{id}/trades"), &[], None)
            .await?;
        trades.extend(
            t.get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
    }
    Ok((orders, trades))
}

fn emit_order(shared: &Shared, book: &mut Book, o: &Value) {
    let Some((id, state)) = order_key(o) else {
        return;
    };
    if book.orders.get(&id) == Some(&state) {
        return;
    }
    book.orders.insert(id, state);
    shared.push_event(json!({"type": "order", "data": o}));
}

fn emit_trade(shared: &Shared, book: &mut Book, t: &Value) {
    let Some(id) = trade_key(t) else { return };
    if book.trades.insert(id) {
        shared.push_event(json!({"type": "trade", "data": t}));
    }
}

async fn order_task(client: Arc<Client>, shared: Arc<Shared>) {
    let mut book = Book::default();
    let mut backoff = Backoff { n: 0 };
    let mut first = true;
    while !shared.closed.load(Ordering::Relaxed) {
        let mut ws = match connect(&client, "/orders/stream", &[]).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, "order stream: connect failed");
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        shared.stats.connects.fetch_add(1, Ordering::Relaxed);
        // The books now: a baseline on the first connection, the gap fill after a reconnect
        // (the socket is read only afterwards, and duplicates are dropped by state).
        match read_book(&client).await {
            Ok((orders, trades)) => {
                if first {
                    for o in &orders {
                        if let Some((id, st)) = order_key(o) {
                            book.orders.insert(id, st);
                        }
                    }
                    book.trades.extend(trades.iter().filter_map(trade_key));
                } else {
                    shared.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    shared.stats.gap_fills.fetch_add(1, Ordering::Relaxed);
                    for o in &orders {
                        emit_order(&shared, &mut book, o);
                    }
                    for t in &trades {
                        emit_trade(&shared, &mut book, t);
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "order stream: cannot read the books");
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        }
        first = false;
        status(&shared, "orders", "live", None);
        let connected_at = Instant::now();
        let mut last_seen = Instant::now();
        loop {
            match read(&mut ws, &mut last_seen, &shared.stats).await {
                Read::Ended(why) => {
                    status(&shared, "orders", "reconnecting", Some(&why));
                    break;
                }
                Read::Msg(m) => {
                    let Some(v) = parse(&m) else { continue };
                    shared.room().await;
                    match v.get("type").and_then(Value::as_str) {
                        Some("order") => {
                            if let Some(d) = v.get("data") {
                                emit_order(&shared, &mut book, d);
                            }
                        }
                        Some("trade") => {
                            if let Some(d) = v.get("data") {
                                emit_trade(&shared, &mut book, d);
                            }
                        }
                        // Updates were missed on the server side: re-read the books.
                        Some("error")
                            if v.get("error_code").and_then(Value::as_str) == Some("lagged") =>
                        {
                            status(&shared, "orders", "reconnecting", Some("lagged"));
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        if connected_at.elapsed() > Duration::from_secs(10) {
            backoff.n = 0;
        }
        tokio::time::sleep(backoff.next()).await;
    }
}

// ---- alert events and messages ------------------------------------------------------------

/// One of the per-user feeds: its socket, its listing, the id field and the message type.
#[derive(Debug, Clone, Copy)]
struct UserFeed {
    stream: &'static str,
    path: &'static str,
    listing: &'static str,
    id: &'static str,
    kind: &'static str,
}

impl UserFeed {
    const ALERTS: UserFeed = UserFeed {
        stream: "alerts",
        path: "/alerts/stream",
        listing: "/alerts/events",
        id: "event_id",
        kind: "alert",
    };
    const NEWS: UserFeed = UserFeed {
        stream: "news",
        path: "/news/stream",
        listing: "/news",
        id: "news_id",
        kind: "news",
    };
    const MESSAGES: UserFeed = UserFeed {
        stream: "messages",
        path: "/messages/stream",
        listing: "/messages",
        id: "message_id",
        kind: "message",
    };
}

/// Ids before the highest seen that a reconnect asks for again (deduplicated by [`Seen`]).
const REPLAY_MARGIN: i64 = 1000;
/// Ids a per-user feed remembers having delivered.
const SEEN_CAP: usize = 10_000;

/// The ids delivered lately (bounded: the oldest are forgotten first).
#[derive(Default)]
struct Seen {
    set: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Seen {
    fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// False when `id` was delivered already.
    fn insert(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        while self.order.len() > SEEN_CAP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// The newest id of the feed now (0: none), where a new stream starts from.
async fn newest_id(client: &Client, feed: UserFeed) -> Result<i64, ClientError> {
    let v = client
        .get_async(feed.listing, &[("limit", "1".to_string())], None)
        .await?;
    Ok(v.get("data")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|e| item_id(e, feed))
        .unwrap_or(0))
}

fn item_id(e: &Value, feed: UserFeed) -> Option<i64> {
    e.get(feed.id).and_then(|v| {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_i64())
    })
}

/// A per-user feed (`/alerts/stream`, `/messages/stream`): every item after the last one seen
/// — the server replays what a reconnect missed (`after_id`) before going live, so each item
/// arrives once, in order.
async fn user_task(client: Arc<Client>, shared: Arc<Shared>, feed: UserFeed) {
    let mut backoff = Backoff { n: 0 };
    // The highest id seen, and the ids seen lately: ids are no order (items stored at the
    // same time reach the feed in any order), so an item is a duplicate only when it was seen.
    let mut last: Option<i64> = None;
    let mut seen = Seen::default();
    while !shared.closed.load(Ordering::Relaxed) {
        let after = match last {
            Some(l) => l,
            None => match newest_id(&client, feed).await {
                Ok(n) => {
                    last = Some(n);
                    n
                }
                Err(e) => {
                    tracing::debug!(error = %e, stream = feed.stream, "cannot read the newest item");
                    tokio::time::sleep(backoff.next()).await;
                    continue;
                }
            },
        };
        // Replay from a little before the highest id seen: an item stored just before it may
        // not have been delivered yet; what was seen is skipped.
        let from = if seen.is_empty() {
            after
        } else {
            after.saturating_sub(REPLAY_MARGIN)
        };
        let mut ws = match connect(&client, feed.path, &[("after_id", from.to_string())]).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, stream = feed.stream, "connect failed");
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        if shared.stats.connects.fetch_add(1, Ordering::Relaxed) > 0 {
            shared.stats.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        status(&shared, feed.stream, "live", None);
        let connected_at = Instant::now();
        let mut last_seen = Instant::now();
        loop {
            match read(&mut ws, &mut last_seen, &shared.stats).await {
                Read::Ended(why) => {
                    status(&shared, feed.stream, "reconnecting", Some(&why));
                    break;
                }
                Read::Msg(m) => {
                    let Some(v) = parse(&m) else { continue };
                    shared.room().await;
                    match v.get("type").and_then(Value::as_str) {
                        Some(t) if t == feed.kind => {
                            let id = v.get("data").and_then(|d| item_id(d, feed));
                            if let Some(id) = id {
                                if !seen.insert(id) {
                                    continue;
                                }
                                last = Some(last.map_or(id, |l| l.max(id)));
                            }
                            shared.push_event(v);
                        }
                        // Items were missed on the server side: reconnect and replay.
                        Some("error")
                            if v.get("error_code").and_then(Value::as_str) == Some("lagged") =>
                        {
                            status(&shared, feed.stream, "reconnecting", Some("lagged"));
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        if connected_at.elapsed() > Duration::from_secs(10) {
            backoff.n = 0;
        }
        tokio::time::sleep(backoff.next()).await;
    }
}
