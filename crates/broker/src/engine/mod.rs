//! The engine: commands, quotes and clock ticks in; events out.
//!
//! Every input is handled in two steps: *decide* (read the state, the quotes and the rules, and
//! produce events) and *apply* (the only code that changes the state, one event at a time). The
//! same `apply` rebuilds the state from a stored log, so the server persists events and recovers,
//! and a backtest drives the same engine with stored bars.

mod clock;
mod commands;
mod funds;
mod matching;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use stocksblitz_market::greeks::Model;
use stocksblitz_symbols::Kind;

use crate::charges::{Brokerage, Charges, RateTable, exercise_charges, order_charges};
use crate::event::{Event, EventBody};
use crate::instrument::{Instrument, InstrumentId, Instruments, SpecOverrides};
use crate::ledger::{EntryKind, LedgerEntry};
use crate::margin::{Leg, LegKind, MarginParams, PortfolioMargin, portfolio_margin};
use crate::money::Paise;
use crate::order::{
    FillBasis, IDEMPOTENCY_WINDOW_MS, MAX_IDEMPOTENCY_KEY_LEN, MAX_TAG_LEN, Order, OrderChanges,
    OrderRequest,
};
use crate::position::{Position, Trade};
use crate::quote::Quote;
use crate::reject::Reject;
use crate::session::{Boundary, SessionRules, date_of, hhmm, ist_midnight};
use crate::types::{
    AccountId, Millis, OrderId, OrderType, Product, Side, Status, TradeId, Validity, Variety,
};

/// Largest quantity, price and amount accepted in a command (bounds every product in i64).
pub const MAX_QUANTITY: i64 = 10_000_000;
pub const MAX_PRICE: Paise = 10_000_000_000; // ₹10 crore per unit
pub const MAX_AMOUNT: Paise = 1_000_000_000_000_000; // ₹1 lakh crore
/// Open orders one account may have.
pub const MAX_OPEN_ORDERS: usize = 5_000;
/// Slices one autoslice request may produce (Kite's limit).
pub const MAX_SLICES: u32 = 10;
/// The final settlement price is taken from quotes of the last half hour before the expiry.
const SETTLEMENT_WINDOW_MS: i64 = 30 * 60_000;
/// A clock jump longer than this is refused (garbage input, not a real gap).
const MAX_CLOCK_JUMP_DAYS: i64 = 3_700;

/// Everything the engine needs besides its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub rates: RateTable,
    pub brokerage: Brokerage,
    pub margins: MarginParams,
    pub session: SessionRules,
    /// A quote older than this (against the engine's clock) is stale: nothing fills on it.
    pub max_quote_age_ms: i64,
    /// Fee for each auto square-off order, paise (GST added).
    pub squareoff_fee: Paise,
    /// Order ids start after this (lets several engines share an id space).
    pub order_id_base: u64,
    #[serde(skip)]
    pub spec_overrides: SpecOverrides,
}

/// Why the shipped configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Rates(#[from] crate::charges::RateTableError),
    #[error(transparent)]
    Margins(#[from] crate::margin::MarginParamsError),
}

impl Config {
    /// The shipped rate table and margin parameters, exchange session rules, ₹20 brokerage.
    pub fn embedded() -> Result<Config, ConfigError> {
        Ok(Config {
            rates: RateTable::embedded()?.clone(),
            brokerage: Brokerage::default(),
            margins: MarginParams::embedded()?.clone(),
            session: SessionRules::default(),
            max_quote_age_ms: 10_000,
            squareoff_fee: 0,
            order_id_base: 0,
            spec_overrides: SpecOverrides::default(),
        })
    }
}

/// A command, with the time it was received (epoch ms) supplied by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    OpenAccount {
        account: AccountId,
        opening_balance: Paise,
    },
    /// Clear the account and start again from `opening_balance`.
    ResetAccount {
        account: AccountId,
        opening_balance: Paise,
    },
    /// Add (or, negative, withdraw) funds.
    Payin {
        account: AccountId,
        amount: Paise,
    },
    Place(OrderRequest),
    Modify {
        account: AccountId,
        order_id: OrderId,
        changes: OrderChanges,
    },
    Cancel {
        account: AccountId,
        order_id: OrderId,
    },
    /// Settle `underlying`'s contracts that expired on `expiry` at its final settlement price
    /// (for expiries the engine could not price itself: [`Engine::pending_settlements`]).
    SettleExpiry {
        underlying: CompactString,
        expiry: NaiveDate,
        price: Paise,
    },
    /// Move `quantity` units (absolute) of a position from one product to another.
    Convert {
        account: AccountId,
        tradingsymbol: CompactString,
        from: Product,
        to: Product,
        quantity: i64,
    },
}

/// What a command achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The orders placed (several when autosliced), or the order modified / cancelled.
    Orders(Vec<OrderId>),
    Done,
}

/// A refused command: the rule and, when the refusal was recorded as a REJECTED order, its id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{reason}")]
pub struct Rejection {
    pub reason: Reject,
    pub order_id: Option<OrderId>,
}

impl From<Reject> for Rejection {
    fn from(reason: Reject) -> Self {
        Rejection {
            reason,
            order_id: None,
        }
    }
}

/// One account's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub ledger: Vec<LedgerEntry>,
    /// Σ ledger (kept in step by `apply`).
    pub balance: Paise,
    pub positions: BTreeMap<(CompactString, Product), Position>,
    pub trades: Vec<Trade>,
    /// Every order of the account, oldest first.
    pub orders: Vec<OrderId>,
    /// The orders still open (kept by `apply`; margin checks and limits read only these).
    pub open_orders: BTreeSet<OrderId>,
}

/// The state an event log rebuilds (compared whole by the replay tests).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct State {
    pub accounts: BTreeMap<AccountId, Account>,
    pub orders: BTreeMap<OrderId, Order>,
    /// Last applied event.
    pub seq: u64,
    pub now: Millis,
    pub next_order: u64,
    pub next_trade: u64,
    pub next_entry: u64,
    /// The session date positions were last rolled for.
    pub session_date: Option<NaiveDate>,
}

/// A resting order as the matching loop scans it (compact; the record lives in `State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resting {
    id: OrderId,
    side: Side,
    /// Waiting for its trigger (a stop order not yet triggered).
    stop: bool,
    trigger: Paise,
    /// None: market.
    limit: Option<Paise>,
}

impl Resting {
    /// Priority: market orders first, then better limits, then time.
    fn key(&self) -> (bool, i64, OrderId) {
        let price = match (self.limit, self.side) {
            (None, _) => i64::MIN,
            (Some(p), Side::Buy) => -p,
            (Some(p), Side::Sell) => p,
        };
        (self.stop, price, self.id)
    }
}

/// Kite-shaped funds and margins of an account, paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Funds {
    /// Available margin: what a new order may use.
    pub net: Paise,
    /// Cash at the start of the session (ledger before today).
    pub cash: Paise,
    pub opening_balance: Paise,
    pub intraday_payin: Paise,
    /// Σ ledger now.
    pub ledger_balance: Paise,
    /// Total utilised: `cash + intraday_payin − net`.
    pub debits: Paise,
    pub span: Paise,
    pub exposure: Paise,
    /// Premium paid today net of premium received, plus premium blocked by pending buys.
    pub option_premium: Paise,
    /// Loss booked today on futures (negative for a profit).
    pub m2m_realised: Paise,
    /// Open loss on futures-style positions (0 when in profit).
    pub m2m_unrealised: Paise,
    pub charges: Paise,
    /// Cash received (negative) or paid at expiry today.
    pub settlement: Paise,
}

/// What an account's margin is made of.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Requirement {
    pub span: Paise,
    pub exposure: Paise,
    /// Premium (and equity delivery value) blocked by pending buys.
    pub blocked: Paise,
    /// Intraday equity margin.
    pub equity: Paise,
    /// Per underlying.
    pub by_underlying: BTreeMap<CompactString, PortfolioMargin>,
}

impl Requirement {
    pub fn total(&self) -> Paise {
        self.span + self.exposure + self.blocked + self.equity
    }
}

/// A hypothetical position used by the margin calculators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HypoLeg {
    pub instrument: InstrumentId,
    pub quantity: i64,
    pub product: Product,
    /// Price per unit for premium blocking (buys of premium-style instruments).
    pub price: Paise,
    /// Whether the leg is a pending order (blocks premium) rather than a held position.
    pub pending: bool,
}

/// Initial (legs alone) and final (as one portfolio) margin of a basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasketMargin {
    pub initial: Paise,
    pub final_: Paise,
    pub legs: Vec<Paise>,
}

/// The paper broker.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: Config,
    state: State,
    instruments: Instruments,
    quotes: Vec<Option<Quote>>,
    resting: Vec<Vec<Resting>>,
    ttl: BTreeSet<(Millis, OrderId)>,
    /// Every snapshot of every order, oldest first (Kite's order history; rebuilt by replay).
    history: BTreeMap<OrderId, Vec<Order>>,
    /// `(account, idempotency key)` → first placement time and the orders it created.
    keys: HashMap<(AccountId, CompactString), (Millis, Vec<OrderId>)>,
    /// Events of the input being handled.
    out: Vec<Event>,
    scratch: Vec<OrderId>,
}

impl Engine {
    pub fn new(cfg: Config) -> Engine {
        Engine {
            cfg,
            state: State::default(),
            instruments: Instruments::default(),
            quotes: Vec::new(),
            resting: Vec::new(),
            ttl: BTreeSet::new(),
            history: BTreeMap::new(),
            keys: HashMap::new(),
            out: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Rebuild an engine from its event log (quotes come back with the feed).
    pub fn replay<'a>(cfg: Config, events: impl IntoIterator<Item = &'a Event>) -> Engine {
        let mut e = Engine::new(cfg);
        for ev in events {
            e.apply(ev);
        }
        e
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn now(&self) -> Millis {
        self.state.now
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.state.accounts.get(&id)
    }

    /// Every state the order went through, oldest first (Kite's `GET /orders/{id}`).
    pub fn order_history(&self, id: OrderId) -> &[Order] {
        self.history.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The orders a placement with `key` on `account` created, when it was placed within
    /// [`IDEMPOTENCY_WINDOW_MS`] before `at` and not rejected.
    pub fn orders_for_key(&self, account: AccountId, key: &str, at: Millis) -> Option<&[OrderId]> {
        let (first, ids) = self.keys.get(&(account, CompactString::from(key)))?;
        (at - *first < IDEMPOTENCY_WINDOW_MS).then_some(ids.as_slice())
    }

    pub fn order(&self, id: OrderId) -> Option<&Order> {
        self.state.orders.get(&id)
    }

    /// Intern an instrument (for quotes by id on hot paths).
    pub fn instrument(&mut self, tradingsymbol: &str) -> Result<InstrumentId, Reject> {
        let id = self
            .instruments
            .intern(tradingsymbol, &self.cfg.spec_overrides)?;
        self.grow(id);
        Ok(id)
    }

    pub fn instrument_info(&self, id: InstrumentId) -> &Instrument {
        self.instruments.get(id)
    }

    /// Whether the engine has seen `tradingsymbol` (an order, a position or a quote of it):
    /// callers feeding many engines send each only the quotes it can use.
    pub fn knows(&self, tradingsymbol: &str) -> bool {
        self.instruments.lookup(tradingsymbol).is_some()
    }

    pub fn quote_of(&self, tradingsymbol: &str) -> Option<&Quote> {
        let id = self.instruments.lookup(tradingsymbol)?;
        self.quotes.get(id.0 as usize)?.as_ref()
    }

    /// Make room for every interned instrument (interning a derivative interns its spot too).
    fn grow(&mut self, id: InstrumentId) {
        let n = (id.0 as usize + 1).max(self.instruments.len());
        if self.quotes.len() < n {
            self.quotes.resize(n, None);
            self.resting.resize_with(n, Vec::new);
        }
    }

    // ----------------------------------------------------------------------------- inputs

    /// Handle a command received at `at`. Returns the reply and the events it produced.
    pub fn handle(&mut self, at: Millis, cmd: Command) -> (Result<Reply, Rejection>, Vec<Event>) {
        self.out.clear();
        let result = if at < self.state.now - 1000 {
            // Commands may arrive a little out of order; a clock far behind is a caller bug.
            Err(Reject::ClockBackwards {
                at,
                now: self.state.now,
            }
            .into())
        } else {
            let at = at.max(self.state.now);
            self.command(at, cmd)
        };
        (result, std::mem::take(&mut self.out))
    }

    /// A quote for `tradingsymbol`: stored, and resting orders matched against it.
    pub fn on_quote(&mut self, tradingsymbol: &str, quote: Quote) -> Vec<Event> {
        self.out.clear();
        if let Ok(id) = self.instrument(tradingsymbol) {
            self.quote_inner(id, quote);
        }
        std::mem::take(&mut self.out)
    }

    /// [`Engine::on_quote`] by interned id, appending events to `out` (the hot path).
    pub fn on_quote_id(&mut self, id: InstrumentId, quote: Quote, out: &mut Vec<Event>) {
        if id.0 as usize >= self.instruments.len() {
            return;
        }
        std::mem::swap(&mut self.out, out);
        self.quote_inner(id, quote);
        std::mem::swap(&mut self.out, out);
    }

    /// The clock reached `at`: TTL expiries and session boundaries up to it are processed.
    pub fn on_clock(&mut self, at: Millis) -> Vec<Event> {
        self.out.clear();
        self.clock_inner(at);
        std::mem::take(&mut self.out)
    }

    // ----------------------------------------------------------------------------- apply

    /// Apply one event (the only code that changes the state). Events already applied (by
    /// `seq`) are ignored.
    pub fn apply(&mut self, ev: &Event) {
        if ev.seq <= self.state.seq {
            return;
        }
        self.state.seq = ev.seq;
        self.state.now = self.state.now.max(ev.at);
        match &ev.body {
            EventBody::AccountOpened { account } => {
                self.state.accounts.insert(
                    *account,
                    Account {
                        id: *account,
                        ledger: Vec::new(),
                        balance: 0,
                        positions: BTreeMap::new(),
                        trades: Vec::new(),
                        orders: Vec::new(),
                        open_orders: BTreeSet::new(),
                    },
                );
            }
            EventBody::AccountReset { account } => {
                if let Some(acc) = self.state.accounts.get_mut(account) {
                    for oid in std::mem::take(&mut acc.orders) {
                        if let Some(o) = self.state.orders.remove(&oid) {
                            if let Some(id) = self.instruments.lookup(&o.tradingsymbol)
                                && let Some(list) = self.resting.get_mut(id.0 as usize)
                            {
                                list.retain(|r| r.id != oid);
                            }
                            self.ttl.retain(|t| t.1 != oid);
                        }
                    }
                    acc.open_orders.clear();
                    acc.ledger.clear();
                    acc.balance = 0;
                    acc.positions.clear();
                    acc.trades.clear();
                }
            }
            EventBody::Order { order } => self.apply_order(order),
            EventBody::Trade { trade } => {
                self.state.next_trade = self.state.next_trade.max(trade.trade_id.0);
                if let Some(acc) = self.state.accounts.get_mut(&trade.account) {
                    let pos = acc
                        .positions
                        .entry((trade.tradingsymbol.clone(), trade.product))
                        .or_insert_with(|| {
                            Position::new(&trade.tradingsymbol, &trade.exchange, trade.product)
                        });
                    pos.apply_fill(trade.transaction_type.sign() * trade.quantity, trade.price);
                    acc.trades.push(trade.clone());
                }
            }
            EventBody::Ledger { entry } => {
                self.state.next_entry = self.state.next_entry.max(entry.entry_id);
                if let Some(acc) = self.state.accounts.get_mut(&entry.account) {
                    acc.balance += entry.amount;
                    acc.ledger.push(entry.clone());
                }
            }
            EventBody::Converted {
                account,
                tradingsymbol,
                quantity,
                from,
                to,
            } => {
                if let Some(acc) = self.state.accounts.get_mut(account) {
                    let moved = acc
                        .positions
                        .get_mut(&(tradingsymbol.clone(), *from))
                        .map(|p| (p.exchange.clone(), p.split_off(*quantity)));
                    if let Some((exchange, (q, value))) = moved {
                        acc.positions
                            .entry((tradingsymbol.clone(), *to))
                            .or_insert_with(|| Position::new(tradingsymbol, &exchange, *to))
                            .merge_in(q, value);
                    }
                }
            }
            EventBody::SessionRolled { date, closes } => {
                let closes: HashMap<&str, Paise> =
                    closes.iter().map(|(s, p)| (s.as_str(), *p)).collect();
                for acc in self.state.accounts.values_mut() {
                    acc.positions.retain(|_, p| p.quantity != 0);
                    for ((sym, _), p) in &mut acc.positions {
                        p.roll_over(closes.get(sym.as_str()).copied());
                    }
                }
                self.state.session_date = Some(*date);
            }
            EventBody::Clock => {}
        }
    }

    fn apply_order(&mut self, order: &Order) {
        self.state.next_order = self.state.next_order.max(order.order_id.0);
        let id = order.order_id;
        let is_new = !self.state.orders.contains_key(&id);
        if let Some(acc) = self.state.accounts.get_mut(&order.account) {
            if is_new {
                acc.orders.push(id);
            }
            if order.is_open() {
                acc.open_orders.insert(id);
            } else {
                acc.open_orders.remove(&id);
            }
        }
        // The resting index.
        if let Ok(inst) = self
            .instruments
            .intern(&order.tradingsymbol, &self.cfg.spec_overrides)
        {
            self.grow(inst);
            let list = &mut self.resting[inst.0 as usize];
            list.retain(|r| r.id != id);
            let works = matches!(order.status, Status::Open | Status::TriggerPending);
            if works {
                let r = Resting {
                    id,
                    side: order.transaction_type,
                    stop: order.awaiting_trigger(),
                    trigger: order.trigger_price,
                    limit: order.limit(),
                };
                let pos = list.partition_point(|x| x.key() < r.key());
                list.insert(pos, r);
            }
        }
        if order.validity == Validity::Ttl {
            self.ttl.retain(|t| t.1 != id);
            if order.is_open()
                && let Some(m) = order.validity_ttl
            {
                self.ttl
                    .insert((order.order_timestamp + i64::from(m) * 60_000, id));
            }
        }
        if let Some(key) = &order.idempotency_key
            && order.status != Status::Rejected
        {
            let entry = self
                .keys
                .entry((order.account, key.clone()))
                .or_insert_with(|| (order.order_timestamp, Vec::new()));
            if !entry.1.contains(&id) {
                entry.1.push(id);
            }
        }
        self.history.entry(id).or_default().push(order.clone());
        self.state.orders.insert(id, order.clone());
    }

    /// Record an event: give it the next seq and apply it.
    fn emit(&mut self, at: Millis, body: EventBody) {
        let ev = Event {
            seq: self.state.seq + 1,
            at,
            body,
        };
        self.apply(&ev);
        self.out.push(ev);
    }

    fn emit_order(&mut self, at: Millis, mut order: Order) {
        order.exchange_timestamp = at;
        order.revision += 1;
        self.emit(
            at,
            EventBody::Order {
                order: Box::new(order),
            },
        );
    }

    fn ledger(
        &mut self,
        at: Millis,
        account: AccountId,
        kind: EntryKind,
        amount: Paise,
        refs: Refs,
        narration: String,
    ) {
        let Refs(order_id, trade_id, tradingsymbol, charges) = refs;
        if amount == 0 && kind != EntryKind::OpeningBalance {
            return;
        }
        let entry = LedgerEntry {
            entry_id: self.state.next_entry + 1,
            account,
            at,
            kind,
            amount,
            order_id,
            trade_id,
            tradingsymbol,
            charges,
            narration,
        };
        self.emit(at, EventBody::Ledger { entry });
    }
}

/// What a ledger entry refers to: order, trade, instrument, charge breakdown.
struct Refs(
    Option<OrderId>,
    Option<TradeId>,
    Option<CompactString>,
    Option<Charges>,
);

impl Refs {
    const NONE: Refs = Refs(None, None, None, None);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Ttl(OrderId),
    Boundary(Boundary),
}

impl Step {
    fn rank(&self) -> u8 {
        match self {
            Step::Ttl(_) => 0,
            Step::Boundary(b) => 1 + *b as u8,
        }
    }
}

fn new_order(id: OrderId, req: &OrderRequest, at: Millis, exchange: &str) -> Order {
    Order {
        order_id: id,
        parent_order_id: None,
        account: req.account,
        tradingsymbol: req.tradingsymbol.clone(),
        exchange: exchange.into(),
        variety: req.variety,
        order_type: req.order_type,
        transaction_type: req.side,
        product: req.product,
        validity: req.validity,
        validity_ttl: if req.validity == Validity::Ttl {
            req.validity_ttl
        } else {
            None
        },
        quantity: req.quantity,
        price: req.price.unwrap_or(0),
        trigger_price: req.trigger_price.unwrap_or(0),
        status: Status::Open,
        status_message: None,
        filled_quantity: 0,
        pending_quantity: req.quantity,
        cancelled_quantity: 0,
        filled_value: 0,
        tag: req.tag.clone(),
        order_timestamp: at,
        exchange_timestamp: at,
        triggered: false,
        charges: Charges::default(),
        system: false,
        revision: 0,
        idempotency_key: req.idempotency_key.clone(),
    }
}

fn cancel_fields(o: &mut Order, why: &str) {
    o.cancelled_quantity = o.pending_quantity;
    o.pending_quantity = 0;
    o.status = Status::Cancelled;
    o.status_message = Some(why.to_string());
}

fn check_amount(what: &'static str, v: Paise, min: Paise) -> Result<(), Reject> {
    if v < min || v > MAX_AMOUNT {
        return Err(Reject::OutOfRange { what, value: v });
    }
    Ok(())
}

/// Price and trigger rules of an order type on a tick grid.
fn check_prices(
    order_type: OrderType,
    side: Side,
    price: Option<Paise>,
    trigger: Option<Paise>,
    tick: Paise,
) -> Result<(), Reject> {
    let price = price.filter(|p| *p != 0);
    let trigger = trigger.filter(|p| *p != 0);
    let need = |field, v: Option<Paise>| -> Result<Paise, Reject> {
        match v {
            Some(p) if p > 0 && p <= MAX_PRICE => {
                if p % tick != 0 {
                    Err(Reject::OffTick {
                        field,
                        price: p,
                        tick,
                    })
                } else {
                    Ok(p)
                }
            }
            Some(p) if p > MAX_PRICE => Err(Reject::OutOfRange {
                what: field,
                value: p,
            }),
            _ => Err(Reject::PriceRequired { field, order_type }),
        }
    };
    let forbid = |field, v: Option<Paise>| -> Result<(), Reject> {
        match v {
            Some(_) => Err(Reject::PriceNotAllowed { field, order_type }),
            None => Ok(()),
        }
    };
    match order_type {
        OrderType::Market => {
            forbid("price", price)?;
            forbid("trigger_price", trigger)
        }
        OrderType::Limit => {
            need("price", price)?;
            forbid("trigger_price", trigger)
        }
        OrderType::SlM => {
            forbid("price", price)?;
            need("trigger_price", trigger).map(|_| ())
        }
        OrderType::Sl => {
            let p = need("price", price)?;
            let t = need("trigger_price", trigger)?;
            let ok = match side {
                Side::Buy => p >= t,
                Side::Sell => p <= t,
            };
            if ok {
                Ok(())
            } else {
                Err(Reject::LimitVsTrigger {
                    side,
                    price: p,
                    trigger: t,
                })
            }
        }
    }
}
