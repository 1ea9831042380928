//! The engine: commands, quotes and clock ticks in; events out.
//!
//! Every input is handled in two steps: *decide* (read the state, the quotes and the rules, and
//! produce events) and *apply* (the only code that changes the state, one event at a time). The
//! same `apply` rebuilds the state from a stored log, so the server persists events and recovers,
//! and a backtest drives the same engine with stored bars.

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
use crate::order::{FillBasis, MAX_TAG_LEN, Order, OrderChanges, OrderRequest};
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
    pub orders: Vec<OrderId>,
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

    pub fn quote_of(&self, tradingsymbol: &str) -> Option<&Quote> {
        let id = self.instruments.lookup(tradingsymbol)?;
        self.quotes.get(id.0 as usize)?.as_ref()
    }

    fn grow(&mut self, id: InstrumentId) {
        let n = id.0 as usize + 1;
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
                    for ((sym, _), p) in acc.positions.iter_mut() {
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
        if is_new && let Some(acc) = self.state.accounts.get_mut(&order.account) {
            acc.orders.push(id);
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

    // ----------------------------------------------------------------------------- commands

    fn command(&mut self, at: Millis, cmd: Command) -> Result<Reply, Rejection> {
        match cmd {
            Command::OpenAccount {
                account,
                opening_balance,
            } => {
                if self.state.accounts.contains_key(&account) {
                    return Err(Reject::AccountExists { account }.into());
                }
                check_amount("opening_balance", opening_balance, 0)?;
                self.emit(at, EventBody::AccountOpened { account });
                self.opening(at, account, opening_balance);
                Ok(Reply::Done)
            }
            Command::ResetAccount {
                account,
                opening_balance,
            } => {
                self.account_exists(account)?;
                check_amount("opening_balance", opening_balance, 0)?;
                self.emit(at, EventBody::AccountReset { account });
                self.opening(at, account, opening_balance);
                Ok(Reply::Done)
            }
            Command::Payin { account, amount } => {
                self.account_exists(account)?;
                check_amount("amount", amount, -MAX_AMOUNT)?;
                if amount < 0 {
                    let net = self.funds(account).map(|f| f.net).unwrap_or(0);
                    if -amount > net {
                        return Err(Reject::InsufficientFunds {
                            required: -amount,
                            available: net,
                        }
                        .into());
                    }
                }
                let narration = if amount >= 0 {
                    "funds added"
                } else {
                    "funds withdrawn"
                };
                self.ledger(
                    at,
                    account,
                    EntryKind::Payin,
                    amount,
                    Refs::NONE,
                    narration.into(),
                );
                Ok(Reply::Done)
            }
            Command::Place(req) => self.place(at, req, false),
            Command::Modify {
                account,
                order_id,
                changes,
            } => self.modify(at, account, order_id, changes),
            Command::Cancel { account, order_id } => {
                let o = self.own_open_order(account, order_id)?;
                let mut o = o.clone();
                cancel_fields(&mut o, "cancelled by the user");
                self.emit_order(at, o);
                Ok(Reply::Orders(vec![order_id]))
            }
            Command::Convert {
                account,
                tradingsymbol,
                from,
                to,
                quantity,
            } => self.convert(at, account, &tradingsymbol, from, to, quantity),
        }
    }

    fn opening(&mut self, at: Millis, account: AccountId, amount: Paise) {
        self.ledger(
            at,
            account,
            EntryKind::OpeningBalance,
            amount,
            Refs::NONE,
            "opening balance".into(),
        );
    }

    fn account_exists(&self, account: AccountId) -> Result<(), Rejection> {
        if self.state.accounts.contains_key(&account) {
            Ok(())
        } else {
            Err(Reject::UnknownAccount { account }.into())
        }
    }

    fn own_open_order(&self, account: AccountId, order_id: OrderId) -> Result<&Order, Rejection> {
        self.account_exists(account)?;
        match self.state.orders.get(&order_id) {
            Some(o) if o.account == account => {
                if o.is_open() {
                    Ok(o)
                } else {
                    Err(Reject::OrderNotOpen {
                        order_id,
                        status: o.status,
                    }
                    .into())
                }
            }
            // Another account's order is as good as missing.
            _ => Err(Reject::UnknownOrder { order_id }.into()),
        }
    }

    /// Record a refused placement as a REJECTED order (like Kite's order book).
    fn reject_order(&mut self, at: Millis, req: &OrderRequest, reason: Reject) -> Rejection {
        let id = OrderId(self.cfg.order_id_base.max(self.state.next_order) + 1);
        let mut o = new_order(id, req, at, "");
        o.tradingsymbol = req.tradingsymbol.chars().take(64).collect();
        o.quantity = req.quantity.clamp(0, MAX_QUANTITY);
        o.pending_quantity = 0;
        o.price = req.price.unwrap_or(0).clamp(0, MAX_PRICE);
        o.trigger_price = req.trigger_price.unwrap_or(0).clamp(0, MAX_PRICE);
        o.tag = req
            .tag
            .as_ref()
            .map(|t| t.chars().take(MAX_TAG_LEN).collect());
        o.status = Status::Rejected;
        o.status_message = Some(reason.to_string());
        o.revision = 0;
        self.emit_order(at, o);
        Rejection {
            reason,
            order_id: Some(id),
        }
    }

    fn place(&mut self, at: Millis, req: OrderRequest, system: bool) -> Result<Reply, Rejection> {
        self.account_exists(req.account)?;
        let open = self.state.accounts[&req.account]
            .orders
            .iter()
            .filter(|id| self.state.orders.get(id).is_some_and(Order::is_open))
            .count();
        if open >= MAX_OPEN_ORDERS {
            return Err(Reject::OutOfRange {
                what: "open orders of the account",
                value: open as i64,
            }
            .into());
        }
        let (inst, slices) = match self.validate(at, &req, system) {
            Ok(v) => v,
            Err(reason) => return Err(self.reject_order(at, &req, reason)),
        };
        let info = self.instruments.get(inst).clone();
        // Margin for the whole request at once.
        if !system {
            let price = self.work_price(inst, &req);
            let leg = HypoLeg {
                instrument: inst,
                quantity: req.side.sign() * req.quantity,
                product: req.product,
                price,
                pending: true,
            };
            if let Err(reason) = self.check_margin(req.account, &[leg], &[]) {
                return Err(self.reject_order(at, &req, reason));
            }
        }
        let mut ids = Vec::with_capacity(slices.len());
        let mut parent = None;
        for qty in slices {
            let id = OrderId(self.cfg.order_id_base.max(self.state.next_order) + 1);
            let mut o = new_order(id, &req, at, &info.exchange_str());
            o.tradingsymbol = info.tradingsymbol.clone();
            o.quantity = qty;
            o.pending_quantity = qty;
            o.parent_order_id = parent;
            o.system = system;
            o.status = if req.variety == Variety::Amo {
                Status::AmoReqReceived
            } else if req.order_type.is_stop() {
                Status::TriggerPending
            } else {
                Status::Open
            };
            o.revision = 0;
            self.emit_order(at, o);
            parent = parent.or(Some(id));
            ids.push(id);
        }
        if req.variety == Variety::Regular {
            for id in &ids {
                self.offer(at, inst, *id, true);
            }
        }
        Ok(Reply::Orders(ids))
    }

    /// The price a request works at for margin: its limit, else the touch.
    fn work_price(&self, inst: InstrumentId, req: &OrderRequest) -> Paise {
        if req.order_type.has_limit() {
            return req.price.unwrap_or(0);
        }
        let q = self.quotes.get(inst.0 as usize).copied().flatten();
        match (req.order_type, q) {
            (OrderType::SlM, _) => req.trigger_price.unwrap_or(0),
            (_, Some(q)) => q.touch(req.side).0,
            _ => 0,
        }
    }

    /// Every rule of a placement; returns the instrument and the slice quantities.
    fn validate(
        &mut self,
        at: Millis,
        req: &OrderRequest,
        system: bool,
    ) -> Result<(InstrumentId, Vec<i64>), Reject> {
        let inst = self.instrument(&req.tradingsymbol)?;
        let info = self.instruments.get(inst);
        let Some(spec) = info.spec else {
            let why = match info.kind {
                Kind::Index => "an index is not a tradable instrument".to_string(),
                _ => format!(
                    "no contract specification (lot size) for {} derivatives",
                    info.underlying
                ),
            };
            return Err(Reject::NotTradable {
                tradingsymbol: info.tradingsymbol.clone(),
                why,
            });
        };
        if let (Some(exp), Some(expiry)) = (info.expires_at(), info.expiry)
            && at >= exp
        {
            return Err(Reject::ContractExpired {
                tradingsymbol: info.tradingsymbol.clone(),
                expiry,
            });
        }
        let kind = info.kind;
        match (req.product, kind) {
            (Product::Cnc, Kind::Equity) | (Product::Mis, _) => {}
            (Product::Nrml, Kind::Future | Kind::Option) => {}
            (p, k) => {
                return Err(Reject::ProductNotAllowed {
                    product: p,
                    kind: k.as_str(),
                });
            }
        }
        if req.quantity <= 0 {
            return Err(Reject::QuantityNotPositive {
                quantity: req.quantity,
            });
        }
        if req.quantity > MAX_QUANTITY {
            return Err(Reject::OutOfRange {
                what: "quantity",
                value: req.quantity,
            });
        }
        let lot = i64::from(spec.lot_size);
        if req.quantity % lot != 0 {
            return Err(Reject::NotLotMultiple {
                quantity: req.quantity,
                lot_size: spec.lot_size,
            });
        }
        // Slices: multiples of the lot, each within the freeze quantity.
        let freeze = i64::from(spec.freeze_qty);
        let slices = if req.quantity <= freeze {
            vec![req.quantity]
        } else if req.autoslice || system {
            let per = (freeze / lot) * lot;
            let n = (req.quantity + per - 1) / per;
            if n > i64::from(MAX_SLICES) && !system {
                return Err(Reject::TooManySlices {
                    quantity: req.quantity,
                    freeze_qty: spec.freeze_qty,
                    max: MAX_SLICES,
                });
            }
            let mut v = vec![per; (req.quantity / per) as usize];
            if req.quantity % per != 0 {
                v.push(req.quantity % per);
            }
            v
        } else {
            return Err(Reject::FreezeQuantity {
                quantity: req.quantity,
                freeze_qty: spec.freeze_qty,
            });
        };
        if let Some(tag) = &req.tag
            && tag.chars().count() > MAX_TAG_LEN
        {
            return Err(Reject::TagTooLong {
                len: tag.chars().count(),
                max: MAX_TAG_LEN,
            });
        }
        let tick = i64::from(spec.tick_paise);
        check_prices(req.order_type, req.side, req.price, req.trigger_price, tick)?;
        match req.validity {
            Validity::Ttl if !req.validity_ttl.is_some_and(|m| (1..=1440).contains(&m)) => {
                return Err(Reject::BadTtl {
                    ttl: req.validity_ttl,
                });
            }
            Validity::Ioc if req.order_type.is_stop() => {
                return Err(Reject::BadValidity {
                    order_type: req.order_type,
                    validity: req.validity,
                });
            }
            _ => {}
        }
        // Market state.
        let rules = self.cfg.session;
        let open = rules.is_open(at);
        if !system {
            match req.variety {
                Variety::Regular if !open => return Err(Reject::MarketClosed),
                Variety::Amo if open && !rules.always_open => {
                    return Err(Reject::AmoDuringSession);
                }
                _ => {}
            }
            if req.product == Product::Mis && rules.past_mis_cutoff(at) {
                return Err(Reject::MisCutoff {
                    cutoff: hhmm(rules.mis_cutoff.unwrap_or_default()),
                });
            }
        }
        let Some(q) = self.quotes.get(inst.0 as usize).copied().flatten() else {
            return Err(Reject::NoQuote {
                tradingsymbol: self.instruments.get(inst).tradingsymbol.clone(),
            });
        };
        if let (true, Some(trigger)) = (req.order_type.is_stop(), req.trigger_price) {
            let wrong_side = match req.side {
                Side::Buy => trigger <= q.ltp,
                Side::Sell => trigger >= q.ltp,
            };
            if wrong_side {
                return Err(Reject::TriggerSide {
                    side: req.side,
                    trigger,
                    ltp: q.ltp,
                });
            }
        }
        if req.product == Product::Cnc && req.side == Side::Sell {
            let acc = &self.state.accounts[&req.account];
            let sym = self.instruments.get(inst).tradingsymbol.clone();
            let held = acc
                .positions
                .get(&(sym.clone(), Product::Cnc))
                .map_or(0, |p| p.quantity);
            let selling: i64 = acc
                .orders
                .iter()
                .filter_map(|id| self.state.orders.get(id))
                .filter(|o| {
                    o.is_open()
                        && o.product == Product::Cnc
                        && o.transaction_type == Side::Sell
                        && o.tradingsymbol == sym
                })
                .map(|o| o.pending_quantity)
                .sum();
            if held - selling < req.quantity {
                return Err(Reject::InsufficientHoldings {
                    tradingsymbol: sym,
                    quantity: req.quantity,
                    held: held - selling,
                });
            }
        }
        Ok((inst, slices))
    }

    fn modify(
        &mut self,
        at: Millis,
        account: AccountId,
        order_id: OrderId,
        ch: OrderChanges,
    ) -> Result<Reply, Rejection> {
        let mut o = self.own_open_order(account, order_id)?.clone();
        let inst = self.instrument(&o.tradingsymbol)?;
        let Some(spec) = self.instruments.get(inst).spec else {
            return Err(Reject::NotTradable {
                tradingsymbol: o.tradingsymbol.clone(),
                why: "no contract specification".into(),
            }
            .into());
        };
        let order_type = ch.order_type.unwrap_or(o.order_type);
        if o.triggered && order_type != o.order_type {
            return Err(Reject::PriceNotAllowed {
                field: "order_type",
                order_type,
            }
            .into());
        }
        let price = if order_type.has_limit() {
            Some(ch.price.unwrap_or(o.price))
        } else {
            ch.price.filter(|p| *p != 0)
        };
        let trigger = if order_type.is_stop() {
            Some(ch.trigger_price.unwrap_or(o.trigger_price))
        } else {
            ch.trigger_price.filter(|p| *p != 0)
        };
        check_prices(
            order_type,
            o.transaction_type,
            price,
            trigger,
            i64::from(spec.tick_paise),
        )?;
        let quantity = ch.quantity.unwrap_or(o.quantity);
        if quantity <= 0 {
            return Err(Reject::QuantityNotPositive { quantity }.into());
        }
        if quantity > i64::from(spec.freeze_qty).min(MAX_QUANTITY) {
            return Err(Reject::FreezeQuantity {
                quantity,
                freeze_qty: spec.freeze_qty,
            }
            .into());
        }
        if quantity % i64::from(spec.lot_size) != 0 {
            return Err(Reject::NotLotMultiple {
                quantity,
                lot_size: spec.lot_size,
            }
            .into());
        }
        if quantity <= o.filled_quantity {
            return Err(Reject::BelowFilled {
                quantity,
                filled: o.filled_quantity,
            }
            .into());
        }
        let validity = ch.validity.unwrap_or(o.validity);
        let ttl = ch.validity_ttl.or(o.validity_ttl);
        if validity == Validity::Ttl && !ttl.is_some_and(|m| (1..=1440).contains(&m)) {
            return Err(Reject::BadTtl { ttl }.into());
        }
        if order_type.is_stop()
            && !o.triggered
            && let (Some(t), Some(q)) = (trigger, self.quotes[inst.0 as usize])
        {
            let wrong = match o.transaction_type {
                Side::Buy => t <= q.ltp,
                Side::Sell => t >= q.ltp,
            };
            if wrong {
                return Err(Reject::TriggerSide {
                    side: o.transaction_type,
                    trigger: t,
                    ltp: q.ltp,
                }
                .into());
            }
        }
        // Margin: the order's pending part is replaced by the new one.
        let old_price = self.pending_price(inst, &o);
        let new_pending = quantity - o.filled_quantity;
        let sign = o.transaction_type.sign();
        let mut probe = o.clone();
        probe.order_type = order_type;
        probe.price = price.unwrap_or(0);
        probe.trigger_price = trigger.unwrap_or(0);
        let new_price = self.pending_price(inst, &probe);
        let add = HypoLeg {
            instrument: inst,
            quantity: sign * new_pending,
            product: o.product,
            price: new_price,
            pending: true,
        };
        let remove = HypoLeg {
            instrument: inst,
            quantity: sign * o.pending_quantity,
            product: o.product,
            price: old_price,
            pending: true,
        };
        if !o.system {
            self.check_margin(account, &[add], &[remove])?;
        }
        o.order_type = order_type;
        o.price = price.unwrap_or(0);
        o.trigger_price = trigger.unwrap_or(0);
        o.quantity = quantity;
        o.pending_quantity = new_pending;
        o.validity = validity;
        o.validity_ttl = if validity == Validity::Ttl { ttl } else { None };
        if !o.order_type.is_stop() {
            o.triggered = false;
        }
        o.status = if o.status == Status::AmoReqReceived {
            Status::AmoReqReceived
        } else if o.awaiting_trigger() {
            Status::TriggerPending
        } else {
            Status::Open
        };
        o.status_message = None;
        self.emit_order(at, o);
        if self.state.orders[&order_id].status != Status::AmoReqReceived {
            self.offer(at, inst, order_id, true);
        }
        Ok(Reply::Orders(vec![order_id]))
    }

    fn convert(
        &mut self,
        at: Millis,
        account: AccountId,
        tradingsymbol: &str,
        from: Product,
        to: Product,
        quantity: i64,
    ) -> Result<Reply, Rejection> {
        self.account_exists(account)?;
        let inst = self.instrument(tradingsymbol)?;
        let info = self.instruments.get(inst);
        let sym = info.tradingsymbol.clone();
        let fo = matches!(info.kind, Kind::Future | Kind::Option);
        let allowed = fo
            && matches!(
                (from, to),
                (Product::Mis, Product::Nrml) | (Product::Nrml, Product::Mis)
            );
        if !allowed {
            return Err(Reject::ProductNotAllowed {
                product: to,
                kind: if fo {
                    "conversion between these products"
                } else {
                    "conversion of equity positions"
                },
            }
            .into());
        }
        if to == Product::Mis && self.cfg.session.past_mis_cutoff(at) {
            return Err(Reject::MisCutoff {
                cutoff: hhmm(self.cfg.session.mis_cutoff.unwrap_or_default()),
            }
            .into());
        }
        let have = self.state.accounts[&account]
            .positions
            .get(&(sym.clone(), from))
            .map_or(0, |p| p.quantity);
        if quantity <= 0 || quantity > have.abs() {
            return Err(Reject::NothingToConvert {
                tradingsymbol: sym,
                product: from,
                quantity,
                have,
            }
            .into());
        }
        self.emit(
            at,
            EventBody::Converted {
                account,
                tradingsymbol: sym,
                quantity: have.signum() * quantity,
                from,
                to,
            },
        );
        Ok(Reply::Done)
    }

    // ----------------------------------------------------------------------------- matching

    fn quote_inner(&mut self, id: InstrumentId, quote: Quote) {
        let Some(q) = quote.sanitised() else { return };
        let i = id.0 as usize;
        self.quotes[i] = Some(q);
        if self.resting[i].is_empty() {
            return;
        }
        let fresh = q.at >= self.state.now - self.cfg.max_quote_age_ms;
        // Scan the compact index for orders this quote can act on.
        let mut cands = std::mem::take(&mut self.scratch);
        cands.clear();
        for r in &self.resting[i] {
            let acts = if r.stop {
                match r.side {
                    Side::Buy => q.ltp >= r.trigger,
                    Side::Sell => q.ltp <= r.trigger,
                }
            } else {
                fresh
                    && match r.limit {
                        None => true,
                        Some(l) => {
                            let touch = q.touch(r.side).0;
                            match r.side {
                                Side::Buy => touch <= l,
                                Side::Sell => touch >= l,
                            }
                        }
                    }
            };
            if acts {
                cands.push(r.id);
            }
        }
        if !cands.is_empty() {
            let at = self
                .state
                .now
                .max(q.at.min(self.state.now + self.cfg.max_quote_age_ms));
            let mut avail = [q.bid_qty, q.ask_qty];
            for &oid in &cands {
                self.work(at, id, oid, &q, fresh, false, &mut avail);
            }
        }
        self.scratch = cands;
    }

    /// Offer an order to the current quote (at placement, modification or trigger).
    fn offer(&mut self, at: Millis, inst: InstrumentId, oid: OrderId, fresh_order: bool) {
        let Some(q) = self.quotes.get(inst.0 as usize).copied().flatten() else {
            self.ioc_rest(at, oid);
            return;
        };
        let fresh = q.at >= self.state.now - self.cfg.max_quote_age_ms;
        let mut avail = [q.bid_qty, q.ask_qty];
        self.work(at, inst, oid, &q, fresh, fresh_order, &mut avail);
        self.ioc_rest(at, oid);
    }

    /// Cancel what an IOC order did not fill at once.
    fn ioc_rest(&mut self, at: Millis, oid: OrderId) {
        if let Some(o) = self.state.orders.get(&oid)
            && o.is_open()
            && o.validity == Validity::Ioc
        {
            let mut o = o.clone();
            cancel_fields(&mut o, "IOC: unfilled quantity cancelled");
            self.emit_order(at, o);
        }
    }

    /// Trigger and fill one order against `q`. `fresh_order`: the order is new to the market
    /// (a marketable limit fills at the touch); otherwise a limit fills at its own price.
    #[allow(clippy::too_many_arguments)]
    fn work(
        &mut self,
        at: Millis,
        inst: InstrumentId,
        oid: OrderId,
        q: &Quote,
        fresh: bool,
        mut fresh_order: bool,
        avail: &mut [Option<i64>; 2],
    ) {
        let Some(o) = self.state.orders.get(&oid) else {
            return;
        };
        if !matches!(o.status, Status::Open | Status::TriggerPending) {
            return;
        }
        if o.awaiting_trigger() {
            let hit = match o.transaction_type {
                Side::Buy => q.ltp >= o.trigger_price,
                Side::Sell => q.ltp <= o.trigger_price,
            };
            if !hit {
                return;
            }
            let mut t = o.clone();
            t.triggered = true;
            t.status = Status::Open;
            self.emit_order(at, t);
            fresh_order = true;
        }
        if !fresh {
            return;
        }
        let Some(o) = self.state.orders.get(&oid) else {
            return;
        };
        let side = o.transaction_type;
        let (touch, size, from_book) = q.touch(side);
        let slot = usize::from(side == Side::Buy);
        let size = avail[slot].or(size);
        let (price, basis) = match o.limit() {
            None => (
                touch,
                if from_book {
                    FillBasis::Touch
                } else {
                    FillBasis::Ltp
                },
            ),
            Some(l) => {
                let crosses = match side {
                    Side::Buy => touch <= l,
                    Side::Sell => touch >= l,
                };
                if !crosses {
                    return;
                }
                if fresh_order {
                    (
                        touch,
                        if from_book {
                            FillBasis::Touch
                        } else {
                            FillBasis::Ltp
                        },
                    )
                } else {
                    (l, FillBasis::Limit)
                }
            }
        };
        let qty = match size {
            Some(s) => o.pending_quantity.min(s.max(0)),
            None => o.pending_quantity,
        };
        if qty <= 0 || price <= 0 {
            return;
        }
        if let Some(s) = avail[slot].as_mut() {
            *s -= qty;
        } else if size.is_some() {
            avail[slot] = size.map(|s| s - qty);
        }
        self.fill(at, inst, oid, qty, price, basis);
    }

    /// Book a fill: trade, cash, charges, order update.
    fn fill(
        &mut self,
        at: Millis,
        inst: InstrumentId,
        oid: OrderId,
        qty: i64,
        price: Paise,
        basis: FillBasis,
    ) {
        let Some(o) = self.state.orders.get(&oid).cloned() else {
            return;
        };
        let info = self.instruments.get(inst).clone();
        let trade_id = TradeId(self.state.next_trade + 1);
        let signed = o.transaction_type.sign() * qty;
        let key = (info.tradingsymbol.clone(), o.product);
        let realised = self.state.accounts[&o.account]
            .positions
            .get(&key)
            .map_or(0, |p| p.preview(signed, price).realised);
        let trade = Trade {
            trade_id,
            order_id: Some(oid),
            account: o.account,
            tradingsymbol: info.tradingsymbol.clone(),
            exchange: info.exchange_str(),
            product: o.product,
            transaction_type: o.transaction_type,
            quantity: qty,
            price,
            at,
            basis,
            tag: o.tag.clone(),
        };
        self.emit(at, EventBody::Trade { trade });
        let refs = |c: Option<Charges>| {
            Refs(
                Some(oid),
                Some(trade_id),
                Some(info.tradingsymbol.clone()),
                c,
            )
        };
        if info.premium_style(o.product) {
            let narration = match o.transaction_type {
                Side::Buy => format!(
                    "bought {qty} {} @ {}",
                    info.tradingsymbol,
                    crate::money::format_rupees(price)
                ),
                Side::Sell => format!(
                    "sold {qty} {} @ {}",
                    info.tradingsymbol,
                    crate::money::format_rupees(price)
                ),
            };
            self.ledger(
                at,
                o.account,
                EntryKind::Premium,
                -signed * price,
                refs(None),
                narration,
            );
        } else if realised != 0 {
            self.ledger(
                at,
                o.account,
                EntryKind::FuturesPnl,
                realised,
                refs(None),
                format!("realised P&L on {}", info.tradingsymbol),
            );
        }
        // Charges: the order's charges on its cumulative turnover, less what was debited.
        let mut o2 = o.clone();
        o2.filled_quantity += qty;
        o2.pending_quantity -= qty;
        o2.filled_value += qty * price;
        let date = date_of(o.order_timestamp).unwrap_or_default();
        let mut total = order_charges(
            &self.cfg.rates,
            &self.cfg.brokerage,
            info.segment(o.product),
            o.transaction_type,
            o2.filled_value,
            date,
        );
        if o.system && self.cfg.squareoff_fee > 0 {
            let set = self.cfg.rates.on(date);
            total.brokerage += self.cfg.squareoff_fee;
            total.gst = set.gst.apply(total.brokerage + total.exchange + total.sebi);
        }
        let delta = total.minus(&o.charges);
        if delta.total() != 0 {
            self.ledger(
                at,
                o.account,
                EntryKind::Charges,
                -delta.total(),
                refs(Some(delta)),
                format!("charges on order {oid}"),
            );
        }
        o2.charges = total;
        if o2.pending_quantity == 0 {
            o2.status = Status::Complete;
            o2.status_message = None;
        } else if basis == FillBasis::Ltp {
            o2.status_message = Some("partly filled at the last traded price (no book)".into());
        }
        if basis == FillBasis::Ltp && o2.status == Status::Complete {
            o2.status_message =
                Some("filled at the last traded price: the feed has no book".into());
        }
        self.emit_order(at, o2);
    }

    // ----------------------------------------------------------------------------- clock

    fn clock_inner(&mut self, at: Millis) {
        let now = self.state.now;
        if at <= now {
            return;
        }
        if at - now > MAX_CLOCK_JUMP_DAYS * 86_400_000 && now != 0 {
            return;
        }
        // The first clock of a fresh engine starts the calendar there.
        let from = if now == 0 && self.state.seq == 0 {
            at - 1
        } else {
            now
        };
        let mut steps: Vec<(Millis, Step)> = self
            .cfg
            .session
            .boundaries_between(from, at, MAX_CLOCK_JUMP_DAYS)
            .into_iter()
            .map(|(t, b)| (t, Step::Boundary(b)))
            .collect();
        for &(t, oid) in self.ttl.range(..=(at, OrderId(u64::MAX))) {
            steps.push((t.max(from), Step::Ttl(oid)));
        }
        steps.sort_by_key(|s| (s.0, s.1.rank()));
        let emitted_before = self.out.len();
        for (t, step) in steps {
            let t = t.max(self.state.now);
            match step {
                Step::Ttl(oid) => {
                    if let Some(o) = self.state.orders.get(&oid)
                        && o.is_open()
                    {
                        let mut o = o.clone();
                        cancel_fields(&mut o, "TTL expired");
                        self.emit_order(t, o);
                    }
                    self.ttl.retain(|x| x.1 != oid);
                }
                Step::Boundary(b) => self.boundary(t, b),
            }
        }
        // Persist the clock when it did something, so a replay's clock ends where it was.
        if self.out.len() > emitted_before || self.state.now < at {
            self.emit(at, EventBody::Clock);
        }
    }

    fn boundary(&mut self, at: Millis, b: Boundary) {
        let Some(date) = date_of(at) else { return };
        match b {
            Boundary::Open => {
                if self.state.session_date != Some(date) {
                    let mut closes: Vec<(CompactString, Paise)> = Vec::new();
                    let mut seen = BTreeSet::new();
                    for acc in self.state.accounts.values() {
                        for (sym, _) in acc.positions.keys() {
                            if seen.insert(sym.clone())
                                && let Some(q) = self.quote_of(sym)
                            {
                                closes.push((sym.clone(), q.ltp));
                            }
                        }
                    }
                    self.emit(at, EventBody::SessionRolled { date, closes });
                }
                let amos: Vec<OrderId> = self
                    .state
                    .orders
                    .values()
                    .filter(|o| o.status == Status::AmoReqReceived)
                    .map(|o| o.order_id)
                    .collect();
                for oid in amos {
                    let Some(o) = self.state.orders.get(&oid) else {
                        continue;
                    };
                    let mut o = o.clone();
                    o.status = if o.awaiting_trigger() {
                        Status::TriggerPending
                    } else {
                        Status::Open
                    };
                    let sym = o.tradingsymbol.clone();
                    self.emit_order(at, o);
                    if let Ok(inst) = self.instrument(&sym) {
                        self.offer(at, inst, oid, true);
                    }
                }
            }
            Boundary::SquareOff => self.square_off(at),
            Boundary::Close => {
                // Square-off orders still open fill at the last price; other DAY orders end.
                let open: Vec<OrderId> = self
                    .state
                    .orders
                    .values()
                    .filter(|o| o.is_open() && o.validity == Validity::Day)
                    .map(|o| o.order_id)
                    .collect();
                for oid in open {
                    let Some(o) = self.state.orders.get(&oid).cloned() else {
                        continue;
                    };
                    let inst = self.instruments.lookup(&o.tradingsymbol);
                    let last = inst.and_then(|i| self.quotes[i.0 as usize]);
                    if let (true, Some(inst), Some(q)) = (o.system, inst, last) {
                        self.fill(at, inst, oid, o.pending_quantity, q.ltp, FillBasis::Ltp);
                    } else {
                        let mut o = o;
                        cancel_fields(&mut o, "order expired at the close of the session");
                        self.emit_order(at, o);
                    }
                }
            }
            Boundary::Expiry => self.settle_expiries(at, date),
        }
    }

    fn square_off(&mut self, at: Millis) {
        let mis_orders: Vec<Order> = self
            .state
            .orders
            .values()
            .filter(|o| o.is_open() && o.product == Product::Mis && !o.system)
            .cloned()
            .collect();
        for mut o in mis_orders {
            cancel_fields(&mut o, "cancelled by the auto square-off of MIS positions");
            self.emit_order(at, o);
        }
        let mut legs: Vec<(AccountId, CompactString, i64)> = Vec::new();
        for acc in self.state.accounts.values() {
            for ((sym, product), p) in &acc.positions {
                if *product == Product::Mis && p.quantity != 0 {
                    legs.push((acc.id, sym.clone(), p.quantity));
                }
            }
        }
        for (account, sym, qty) in legs {
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let mut req = OrderRequest::new(
                account,
                &sym,
                side,
                qty.abs(),
                OrderType::Market,
                Product::Mis,
            );
            req.tag = Some("SQUAREOFF".into());
            // A system order bypasses the market-state and margin rules, not the instrument's.
            let _ = self.place(at, req, true);
        }
    }

    fn settle_expiries(&mut self, at: Millis, date: NaiveDate) {
        // Open orders on expiring contracts end first.
        let expiring: Vec<OrderId> = self
            .state
            .orders
            .values()
            .filter(|o| o.is_open())
            .filter(|o| {
                self.instruments
                    .lookup(&o.tradingsymbol)
                    .is_some_and(|i| self.instruments.get(i).expiry == Some(date))
            })
            .map(|o| o.order_id)
            .collect();
        for oid in expiring {
            if let Some(o) = self.state.orders.get(&oid) {
                let mut o = o.clone();
                cancel_fields(&mut o, "contract expired");
                self.emit_order(at, o);
            }
        }
        let mut legs: Vec<(AccountId, CompactString, Product, i64)> = Vec::new();
        for acc in self.state.accounts.values() {
            for ((sym, product), p) in &acc.positions {
                if p.quantity != 0 {
                    legs.push((acc.id, sym.clone(), *product, p.quantity));
                }
            }
        }
        for (account, sym, product, qty) in legs {
            let Some(inst) = self.instruments.lookup(&sym) else {
                continue;
            };
            let info = self.instruments.get(inst).clone();
            if info.expiry != Some(date) {
                continue;
            }
            let spot = self.quote_of(&info.spot_symbol).map(|q| q.ltp);
            let own = self.quotes[inst.0 as usize].map(|q| q.ltp);
            let price = match info.kind {
                Kind::Future => spot.or(own),
                Kind::Option => spot.map(|s| info.intrinsic(s)).or(own),
                _ => None,
            };
            let Some(price) = price else { continue };
            let trade_id = TradeId(self.state.next_trade + 1);
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let realised = self.state.accounts[&account]
                .positions
                .get(&(sym.clone(), product))
                .map_or(0, |p| p.preview(-qty, price).realised);
            let trade = Trade {
                trade_id,
                order_id: None,
                account,
                tradingsymbol: sym.clone(),
                exchange: info.exchange_str(),
                product,
                transaction_type: side,
                quantity: qty.abs(),
                price,
                at,
                basis: FillBasis::Settlement,
                tag: None,
            };
            self.emit(at, EventBody::Trade { trade });
            let refs = |c: Option<Charges>| Refs(None, Some(trade_id), Some(sym.clone()), c);
            match info.kind {
                Kind::Future => self.ledger(
                    at,
                    account,
                    EntryKind::FuturesPnl,
                    realised,
                    refs(None),
                    format!(
                        "{sym} settled at the final settlement price {}",
                        crate::money::format_rupees(price)
                    ),
                ),
                _ => {
                    let narration = if price > 0 {
                        format!(
                            "{sym} exercised: intrinsic value {} per unit",
                            crate::money::format_rupees(price)
                        )
                    } else {
                        format!("{sym} expired worthless")
                    };
                    self.ledger(
                        at,
                        account,
                        EntryKind::ExpirySettlement,
                        qty * price,
                        refs(None),
                        narration,
                    );
                    if qty > 0 && price > 0 {
                        let c = exercise_charges(&self.cfg.rates, qty * price, date);
                        self.ledger(
                            at,
                            account,
                            EntryKind::Charges,
                            -c.total(),
                            refs(Some(c)),
                            format!("STT on the exercise of {sym}"),
                        );
                    }
                }
            }
        }
    }

    // ----------------------------------------------------------------------------- margin

    /// The price a pending order blocks premium at.
    fn pending_price(&self, inst: InstrumentId, o: &Order) -> Paise {
        if o.order_type.has_limit() {
            return o.price;
        }
        if o.order_type == OrderType::SlM && !o.triggered {
            return o.trigger_price;
        }
        self.quotes[inst.0 as usize].map_or(0, |q| q.touch(o.transaction_type).0)
    }

    /// The account's positions and pending orders as legs.
    fn account_legs(&self, account: AccountId) -> Vec<HypoLeg> {
        let Some(acc) = self.state.accounts.get(&account) else {
            return Vec::new();
        };
        let mut legs = Vec::new();
        for ((sym, product), p) in &acc.positions {
            if p.quantity != 0
                && let Some(inst) = self.instruments.lookup(sym)
            {
                legs.push(HypoLeg {
                    instrument: inst,
                    quantity: p.quantity,
                    product: *product,
                    price: 0,
                    pending: false,
                });
            }
        }
        for oid in &acc.orders {
            let Some(o) = self.state.orders.get(oid) else {
                continue;
            };
            if !o.is_open() || o.pending_quantity == 0 {
                continue;
            }
            if let Some(inst) = self.instruments.lookup(&o.tradingsymbol) {
                legs.push(HypoLeg {
                    instrument: inst,
                    quantity: o.transaction_type.sign() * o.pending_quantity,
                    product: o.product,
                    price: self.pending_price(inst, o),
                    pending: true,
                });
            }
        }
        legs
    }

    /// The margin requirement of a set of legs (positions and pending orders as if filled).
    pub fn requirement_of(&self, legs: &[HypoLeg]) -> Requirement {
        let mut req = Requirement::default();
        let mut by_under: BTreeMap<CompactString, Vec<HypoLeg>> = BTreeMap::new();
        for l in legs {
            let info = self.instruments.get(l.instrument);
            if l.pending && l.quantity > 0 && info.premium_style(l.product) {
                req.blocked += l.quantity * l.price;
            }
            match info.kind {
                Kind::Future | Kind::Option => {
                    by_under
                        .entry(info.underlying.clone())
                        .or_default()
                        .push(*l);
                }
                Kind::Equity if l.product == Product::Mis => {
                    let px = self.quotes[l.instrument.0 as usize].map_or(l.price, |q| q.ltp);
                    let v =
                        (l.quantity.abs() * px) as f64 * self.cfg.margins.equity_intraday_margin;
                    req.equity += v.ceil() as Paise;
                }
                _ => {}
            }
        }
        for (under, legs) in by_under {
            let m = self.underlying_margin(&legs);
            req.span += m.span;
            req.exposure += m.exposure;
            req.by_underlying.insert(under, m);
        }
        req
    }

    /// SPAN-style margin of legs on one underlying.
    fn underlying_margin(&self, legs: &[HypoLeg]) -> PortfolioMargin {
        let Some(first) = legs.first() else {
            return PortfolioMargin::default();
        };
        let info0 = self.instruments.get(first.instrument);
        let params = self
            .cfg
            .margins
            .for_underlying(&info0.underlying, info0.is_index);
        let now = self.state.now;
        let mark = |id: InstrumentId| self.quotes[id.0 as usize].map(|q| q.mark());
        // The underlying's price: its spot quote, else a future's, else a strike.
        let spot = self
            .quote_of(&info0.spot_symbol)
            .map(|q| q.ltp)
            .or_else(|| {
                legs.iter().find_map(|l| {
                    (self.instruments.get(l.instrument).kind == Kind::Future)
                        .then(|| mark(l.instrument))
                        .flatten()
                })
            })
            .or_else(|| {
                legs.iter()
                    .find_map(|l| self.instruments.get(l.instrument).strike)
            });
        let Some(spot) = spot else {
            return PortfolioMargin::default();
        };
        let spot_r = spot as f64 / 100.0;
        let rate = self.cfg.margins.rate;
        // Aggregate by instrument.
        let mut agg: BTreeMap<InstrumentId, i64> = BTreeMap::new();
        for l in legs {
            *agg.entry(l.instrument).or_default() += l.quantity;
        }
        let mut out = Vec::with_capacity(agg.len());
        for (id, qty) in agg {
            if qty == 0 {
                continue;
            }
            let info = self.instruments.get(id);
            let years = info
                .expires_at()
                .map_or(0.0, |e| (e - now) as f64 / (365.0 * 86_400_000.0));
            match info.kind {
                Kind::Future => {
                    let f = mark(id).unwrap_or(spot) as f64 / 100.0;
                    out.push(Leg {
                        quantity: qty,
                        kind: LegKind::Future,
                        forward: f,
                        years,
                        vol: 0.0,
                    });
                }
                Kind::Option => {
                    let (Some(k), Some(right)) = (info.strike, info.right) else {
                        continue;
                    };
                    let k = k as f64 / 100.0;
                    let t = years.max(1.0 / (365.0 * 24.0));
                    let forward = spot_r * (rate * t).exp();
                    let q = self.quotes[id.0 as usize];
                    let vol = q
                        .and_then(|q| q.iv)
                        .or_else(|| {
                            let px = q?.mark() as f64 / 100.0;
                            Model::Black76 { forward, rate }.implied_vol(px, k, t, right)
                        })
                        .unwrap_or(params.default_vol);
                    out.push(Leg {
                        quantity: qty,
                        kind: LegKind::Option { strike: k, right },
                        forward,
                        years: t,
                        vol,
                    });
                }
                _ => {}
            }
        }
        portfolio_margin(params, &self.cfg.margins, spot_r, &out)
    }

    /// Refuse when `add` (less `remove`) needs more margin than is available.
    fn check_margin(
        &self,
        account: AccountId,
        add: &[HypoLeg],
        remove: &[HypoLeg],
    ) -> Result<(), Reject> {
        let current = self.account_legs(account);
        // Only the underlyings touched change; compare just those (and the premium blocked).
        let touched: BTreeSet<CompactString> = add
            .iter()
            .chain(remove)
            .map(|l| self.instruments.get(l.instrument).underlying.clone())
            .collect();
        let in_scope =
            |l: &HypoLeg| touched.contains(&self.instruments.get(l.instrument).underlying);
        let before: Vec<HypoLeg> = current.iter().copied().filter(in_scope).collect();
        let mut after = before.clone();
        for r in remove {
            if let Some(i) = after.iter().position(|l| l.pending && l == r) {
                after.remove(i);
            }
        }
        after.extend_from_slice(add);
        let required = self.requirement_of(&after).total() - self.requirement_of(&before).total();
        if required <= 0 {
            return Ok(());
        }
        let available = self.funds_with(account, &current).net;
        if required > available {
            return Err(Reject::InsufficientFunds {
                required,
                available,
            });
        }
        Ok(())
    }

    /// Funds and margins of an account now.
    pub fn funds(&self, account: AccountId) -> Option<Funds> {
        self.state.accounts.get(&account)?;
        Some(self.funds_with(account, &self.account_legs(account)))
    }

    /// The account's margin requirement now.
    pub fn requirement(&self, account: AccountId) -> Requirement {
        self.requirement_of(&self.account_legs(account))
    }

    fn funds_with(&self, account: AccountId, legs: &[HypoLeg]) -> Funds {
        let Some(acc) = self.state.accounts.get(&account) else {
            return Funds::default();
        };
        let sod = date_of(self.state.now).map_or(0, ist_midnight);
        let mut f = Funds {
            ledger_balance: acc.balance,
            ..Funds::default()
        };
        let mut premium_today = 0;
        for e in &acc.ledger {
            if e.at < sod {
                f.cash += e.amount;
                continue;
            }
            match e.kind {
                EntryKind::OpeningBalance => f.cash += e.amount,
                EntryKind::Payin => f.intraday_payin += e.amount,
                EntryKind::Premium => premium_today -= e.amount,
                EntryKind::FuturesPnl => f.m2m_realised -= e.amount,
                EntryKind::Charges => f.charges -= e.amount,
                EntryKind::ExpirySettlement => f.settlement -= e.amount,
            }
        }
        f.opening_balance = f.cash;
        let req = self.requirement_of(legs);
        // Open losses of futures-style positions (options' premium is already in cash).
        let mut unrealised = 0;
        for ((sym, product), p) in &acc.positions {
            if p.quantity == 0 {
                continue;
            }
            let Some(inst) = self.instruments.lookup(sym) else {
                continue;
            };
            let info = self.instruments.get(inst);
            if info.premium_style(*product) {
                continue;
            }
            if let Some(q) = self.quotes[inst.0 as usize] {
                unrealised += p.unrealised(q.ltp);
            }
        }
        f.m2m_unrealised = (-unrealised).max(0);
        f.span = req.span;
        f.exposure = req.exposure + req.equity;
        f.option_premium = premium_today + req.blocked;
        f.net = acc.balance - req.total() - f.m2m_unrealised;
        f.debits = f.cash + f.intraday_payin - f.net;
        f
    }

    /// Initial (each leg alone) and final (one portfolio) margin of a basket, on top of nothing.
    pub fn basket_margin(&self, legs: &[HypoLeg]) -> BasketMargin {
        let per: Vec<Paise> = legs
            .iter()
            .map(|l| self.requirement_of(std::slice::from_ref(l)).total())
            .collect();
        BasketMargin {
            initial: per.iter().sum(),
            final_: self.requirement_of(legs).total(),
            legs: per,
        }
    }

    /// Charges an order of `qty` at `price` would pay (Kite's `charges/orders`).
    pub fn charges_for(
        &mut self,
        tradingsymbol: &str,
        side: Side,
        product: Product,
        qty: i64,
        price: Paise,
        date: NaiveDate,
    ) -> Result<Charges, Reject> {
        if !(0..=MAX_QUANTITY).contains(&qty) || !(0..=MAX_PRICE).contains(&price) {
            return Err(Reject::OutOfRange {
                what: "quantity or price",
                value: qty,
            });
        }
        let inst = self.instrument(tradingsymbol)?;
        let seg = self.instruments.get(inst).segment(product);
        Ok(order_charges(
            &self.cfg.rates,
            &self.cfg.brokerage,
            seg,
            side,
            qty * price,
            date,
        ))
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
