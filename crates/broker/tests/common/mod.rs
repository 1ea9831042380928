//! Helpers shared by the broker's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use stocksblitz_broker::{
    AccountId, Command, Config, Engine, Event, Millis, OrderId, OrderRequest, OrderType, Paise,
    Product, Quote, Rejection, Reply, Side,
};

pub(crate) const A: AccountId = AccountId(1);
pub(crate) const B: AccountId = AccountId(2);
/// ₹10 lakh.
pub(crate) const LAKH10: Paise = 100_000_000;

/// Epoch ms of `date` at hh:mm:ss IST.
pub(crate) fn ist(date: &str, hh: u32, mm: u32, ss: u32) -> Millis {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let t = d.and_hms_opt(hh, mm, ss).unwrap().and_utc().timestamp() - 19_800;
    t * 1000
}

pub(crate) struct Harness {
    pub e: Engine,
    pub log: Vec<Event>,
    pub now: Millis,
}

impl Harness {
    /// An engine whose clock is at `at`, with account A holding `balance`.
    pub(crate) fn new(at: Millis, balance: Paise) -> Harness {
        Harness::with_config(Config::embedded().unwrap(), at, balance)
    }

    pub(crate) fn with_config(cfg: Config, at: Millis, balance: Paise) -> Harness {
        let mut h = Harness {
            e: Engine::new(cfg),
            log: Vec::new(),
            now: at,
        };
        h.clock(at);
        h.cmd(Command::OpenAccount {
            account: A,
            opening_balance: balance,
        })
        .unwrap();
        h
    }

    pub(crate) fn clock(&mut self, at: Millis) -> Vec<Event> {
        self.now = at;
        let ev = self.e.on_clock(at);
        self.log.extend(ev.iter().cloned());
        ev
    }

    /// Advance the clock by `secs`.
    pub(crate) fn wait(&mut self, secs: i64) -> Vec<Event> {
        self.clock(self.now + secs * 1000)
    }

    pub(crate) fn cmd(&mut self, c: Command) -> Result<Reply, Rejection> {
        let (r, ev) = self.e.handle(self.now, c);
        self.log.extend(ev);
        r
    }

    pub(crate) fn quote(&mut self, sym: &str, q: Quote) -> Vec<Event> {
        let ev = self.e.on_quote(sym, q);
        self.log.extend(ev.iter().cloned());
        ev
    }

    /// A book quote now: bid/ask with sizes.
    pub(crate) fn book(&mut self, sym: &str, bid: Paise, ask: Paise, size: i64) -> Vec<Event> {
        let q = Quote::book(self.now, (bid + ask) / 2, bid, ask, size, size);
        self.quote(sym, q)
    }

    pub(crate) fn ltp(&mut self, sym: &str, ltp: Paise) -> Vec<Event> {
        self.quote(sym, Quote::ltp(self.now, ltp))
    }

    pub(crate) fn place(&mut self, req: OrderRequest) -> Result<Vec<OrderId>, Rejection> {
        match self.cmd(Command::Place(req))? {
            Reply::Orders(ids) => Ok(ids),
            Reply::Done => Ok(Vec::new()),
        }
    }

    pub(crate) fn market(
        &mut self,
        sym: &str,
        side: Side,
        qty: i64,
        product: Product,
    ) -> Result<OrderId, Rejection> {
        self.place(OrderRequest::new(
            A,
            sym,
            side,
            qty,
            OrderType::Market,
            product,
        ))
        .map(|v| v[0])
    }

    pub(crate) fn limit(
        &mut self,
        sym: &str,
        side: Side,
        qty: i64,
        price: Paise,
        product: Product,
    ) -> Result<OrderId, Rejection> {
        let mut r = OrderRequest::new(A, sym, side, qty, OrderType::Limit, product);
        r.price = Some(price);
        self.place(r).map(|v| v[0])
    }

    pub(crate) fn balance(&self) -> Paise {
        self.e.account(A).unwrap().balance
    }

    pub(crate) fn position_qty(&self, sym: &str, product: Product) -> i64 {
        self.e
            .account(A)
            .unwrap()
            .positions
            .get(&(sym.into(), product))
            .map_or(0, |p| p.quantity)
    }

    /// Rebuild from the log and check the state is the same.
    pub(crate) fn assert_replays(&self) {
        let r = Engine::replay(self.e.config().clone(), &self.log);
        assert_eq!(r.state(), self.e.state(), "replayed state differs");
    }
}
