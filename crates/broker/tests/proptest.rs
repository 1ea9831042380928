//! Properties over random command / quote / clock sequences: no panic, cash conserved, positions
//! equal their fills, no fill better than the touch or worse than the limit, replay identical.

#![allow(clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{A, ist};
use proptest::prelude::*;
use stocksblitz_broker::{
    Command, Config, Engine, EntryKind, Event, EventBody, FillBasis, Millis, OrderChanges, OrderId,
    OrderRequest, OrderType, Paise, Product, Quote, Side, Validity,
};

const SYMS: [&str; 4] = [
    "NIFTY26DECFUT",
    "NIFTY26DEC26000CE",
    "NIFTY26DEC26000PE",
    "NIFTY26DEC25800CE",
];
const SPOT: &str = "NIFTY 50";
const OPENING: Paise = 500_000_000; // ₹50 lakh

#[derive(Debug, Clone)]
enum Op {
    Quote {
        sym: usize,
        mid_ticks: i64,
        spread_ticks: i64,
        size: Option<i64>,
        book: bool,
    },
    Spot(i64),
    Place {
        sym: usize,
        buy: bool,
        lots: i64,
        odd: bool,
        kind: u8,
        offset_ticks: i64,
        product: u8,
        validity: u8,
    },
    Modify {
        pick: usize,
        lots: Option<i64>,
        offset_ticks: i64,
    },
    Cancel(usize),
    Convert {
        sym: usize,
        lots: i64,
        to_nrml: bool,
    },
    Clock(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, -200i64..200, 0i64..6, prop::option::of(1i64..400), prop::bool::weighted(0.85))
            .prop_map(|(sym, mid_ticks, spread_ticks, size, book)| Op::Quote { sym, mid_ticks, spread_ticks, size, book }),
        1 => (-3000i64..3000).prop_map(Op::Spot),
        4 => (0..4usize, any::<bool>(), 1i64..6, prop::bool::weighted(0.1), 0u8..4, -40i64..40, 0u8..2, 0u8..3)
            .prop_map(|(sym, buy, lots, odd, kind, offset_ticks, product, validity)| Op::Place { sym, buy, lots, odd, kind, offset_ticks, product, validity }),
        1 => (0..50usize, prop::option::of(1i64..6), -40i64..40)
            .prop_map(|(pick, lots, offset_ticks)| Op::Modify { pick, lots, offset_ticks }),
        1 => (0..50usize).prop_map(Op::Cancel),
        1 => (0..4usize, 1i64..3, any::<bool>()).prop_map(|(sym, lots, to_nrml)| Op::Convert { sym, lots, to_nrml }),
        2 => prop_oneof![1i64..30, 30i64..3_600, 3_600i64..30_000].prop_map(Op::Clock),
    ]
}

fn base_price(sym: usize) -> Paise {
    [2_600_000, 20_000, 19_000, 32_000][sym]
}

struct Run {
    e: Engine,
    log: Vec<Event>,
    now: Millis,
    quotes: HashMap<String, Quote>,
    orders: Vec<OrderId>,
    spot: Paise,
}

impl Run {
    fn record(&mut self, ev: Vec<Event>) {
        // No fill better than the touch, none worse than the limit (checked against the quote
        // in force when the event was produced).
        for e in &ev {
            if let EventBody::Trade { trade } = &e.body {
                let q = self.quotes.get(trade.tradingsymbol.as_str());
                match (trade.basis, q) {
                    (FillBasis::Settlement, _) => {}
                    (_, None) => panic!("a fill with no quote: {trade:?}"),
                    (FillBasis::Touch, Some(q)) => {
                        let touch = match trade.transaction_type {
                            Side::Buy => q.ask,
                            Side::Sell => q.bid,
                        };
                        assert_eq!(Some(trade.price), touch, "touch fill {trade:?} vs {q:?}");
                    }
                    (FillBasis::Limit, Some(q)) => {
                        let (touch, _, _) = q.touch(trade.transaction_type);
                        match trade.transaction_type {
                            Side::Buy => assert!(trade.price >= touch, "{trade:?} {q:?}"),
                            Side::Sell => assert!(trade.price <= touch, "{trade:?} {q:?}"),
                        }
                    }
                    (FillBasis::Ltp, Some(q)) => {
                        // No book on that side, or the square-off at the close.
                        assert_eq!(trade.price, q.ltp, "{trade:?} {q:?}");
                    }
                }
                if let Some(oid) = trade.order_id
                    && let Some(o) = self.e.order(oid)
                    && o.order_type.has_limit()
                    && trade.basis != FillBasis::Ltp
                {
                    match trade.transaction_type {
                        Side::Buy => assert!(trade.price <= o.price, "{trade:?} over {o:?}"),
                        Side::Sell => assert!(trade.price >= o.price, "{trade:?} under {o:?}"),
                    }
                }
            }
        }
        self.log.extend(ev);
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Quote {
                sym,
                mid_ticks,
                spread_ticks,
                size,
                book,
            } => {
                let mid = base_price(*sym) + mid_ticks * 5 * if *sym == 0 { 40 } else { 1 };
                let mid = mid.max(10);
                let half = (spread_ticks + 1) * 5;
                let mut q = Quote::ltp(self.now, mid);
                if *book {
                    q.bid = Some((mid - half).max(5));
                    q.ask = Some(mid + half);
                    q.bid_qty = *size;
                    q.ask_qty = *size;
                }
                let s = SYMS[*sym];
                if let Some(clean) = q.sanitised() {
                    self.quotes.insert(s.to_string(), clean);
                }
                let ev = self.e.on_quote(s, q);
                self.record(ev);
            }
            Op::Spot(d) => {
                self.spot = (2_600_000 + d * 100).max(100);
                let q = Quote::ltp(self.now, self.spot);
                self.quotes.insert(SPOT.to_string(), q);
                let ev = self.e.on_quote(SPOT, q);
                self.record(ev);
            }
            Op::Place {
                sym,
                buy,
                lots,
                odd,
                kind,
                offset_ticks,
                product,
                validity,
            } => {
                let s = SYMS[*sym];
                let order_type = [
                    OrderType::Market,
                    OrderType::Limit,
                    OrderType::Sl,
                    OrderType::SlM,
                ][*kind as usize];
                let side = if *buy { Side::Buy } else { Side::Sell };
                let qty = lots * 65 + if *odd { 7 } else { 0 };
                let product = if *product == 0 {
                    Product::Mis
                } else {
                    Product::Nrml
                };
                let mut r = OrderRequest::new(A, s, side, qty, order_type, product);
                let ref_px = self.quotes.get(s).map_or(base_price(*sym), |q| q.ltp);
                let px = (ref_px + offset_ticks * 5).max(5);
                match order_type {
                    OrderType::Limit => r.price = Some(px),
                    OrderType::Sl | OrderType::SlM => {
                        let away = offset_ticks.abs() * 5 + 5;
                        let trig = if *buy {
                            ref_px + away
                        } else {
                            (ref_px - away).max(5)
                        };
                        r.trigger_price = Some(trig);
                        if order_type == OrderType::Sl {
                            r.price = Some(if *buy { trig + 10 } else { (trig - 10).max(5) });
                        }
                    }
                    OrderType::Market => {}
                }
                r.validity = match validity {
                    0 => Validity::Day,
                    1 => Validity::Ioc,
                    _ => Validity::Ttl,
                };
                r.validity_ttl = Some(3);
                let (res, ev) = self.e.handle(self.now, Command::Place(r));
                self.record(ev);
                match res {
                    Ok(stocksblitz_broker::Reply::Orders(ids)) => self.orders.extend(ids),
                    Ok(_) => {}
                    Err(rej) => {
                        if let Some(id) = rej.order_id {
                            self.orders.push(id);
                        }
                    }
                }
            }
            Op::Modify {
                pick,
                lots,
                offset_ticks,
            } => {
                if let Some(&oid) = self.orders.get(pick % self.orders.len().max(1)) {
                    let price = self
                        .e
                        .order(oid)
                        .filter(|o| o.order_type.has_limit())
                        .map(|o| (o.price + offset_ticks * 5).max(5));
                    let changes = OrderChanges {
                        quantity: lots.map(|l| l * 65),
                        price,
                        ..OrderChanges::default()
                    };
                    let (_, ev) = self.e.handle(
                        self.now,
                        Command::Modify {
                            account: A,
                            order_id: oid,
                            changes,
                        },
                    );
                    self.record(ev);
                }
            }
            Op::Cancel(pick) => {
                if let Some(&oid) = self.orders.get(pick % self.orders.len().max(1)) {
                    let (_, ev) = self.e.handle(
                        self.now,
                        Command::Cancel {
                            account: A,
                            order_id: oid,
                        },
                    );
                    self.record(ev);
                }
            }
            Op::Convert { sym, lots, to_nrml } => {
                let (from, to) = if *to_nrml {
                    (Product::Mis, Product::Nrml)
                } else {
                    (Product::Nrml, Product::Mis)
                };
                let (_, ev) = self.e.handle(
                    self.now,
                    Command::Convert {
                        account: A,
                        tradingsymbol: SYMS[*sym].into(),
                        from,
                        to,
                        quantity: lots * 65,
                    },
                );
                self.record(ev);
            }
            Op::Clock(secs) => {
                self.now += secs * 1000;
                let ev = self.e.on_clock(self.now);
                self.record(ev);
            }
        }
    }

    fn check(&self) {
        let acc = self.e.account(A).expect("account");
        // Events are numbered 1.. without gaps.
        for (i, e) in self.log.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
        }
        // Ledger = balance.
        let ledger: Paise = acc.ledger.iter().map(|e| e.amount).sum();
        assert_eq!(ledger, acc.balance);
        // Cash conserved: opening + premium flows of options − charges + futures P&L, where the
        // futures' realised P&L is Σ sell value − Σ buy value + the cost still open.
        let mut premium = 0;
        let mut fut_cash: HashMap<String, Paise> = HashMap::new();
        for t in &acc.trades {
            let signed = t.transaction_type.sign() * t.quantity * t.price;
            if t.tradingsymbol.ends_with("FUT") {
                *fut_cash.entry(t.tradingsymbol.to_string()).or_default() -= signed;
            } else {
                premium -= signed;
            }
        }
        let open_cost: Paise = acc
            .positions
            .iter()
            .filter(|((s, _), _)| s.ends_with("FUT"))
            .map(|(_, p)| p.open_value)
            .sum();
        let fut_realised: Paise = fut_cash.values().sum::<Paise>() + open_cost;
        let order_charges: Paise = acc
            .orders
            .iter()
            .filter_map(|o| self.e.order(*o))
            .map(|o| o.charges.total())
            .sum();
        let exercise: Paise = acc
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Charges && e.order_id.is_none())
            .map(|e| -e.amount)
            .sum();
        assert_eq!(
            ledger,
            OPENING + premium + fut_realised - order_charges - exercise,
            "cash not conserved"
        );
        // Ledger charge entries of orders add up to the orders' charges.
        let charged: Paise = acc
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Charges && e.order_id.is_some())
            .map(|e| -e.amount)
            .sum();
        assert_eq!(charged, order_charges);
        // A position's quantity is the sum of its fills (across products, since conversions
        // move quantity between them).
        let mut filled: HashMap<String, i64> = HashMap::new();
        for t in &acc.trades {
            *filled.entry(t.tradingsymbol.to_string()).or_default() +=
                t.transaction_type.sign() * t.quantity;
        }
        let mut held: HashMap<String, i64> = HashMap::new();
        for ((s, _), p) in &acc.positions {
            *held.entry(s.to_string()).or_default() += p.quantity;
        }
        for (s, q) in &filled {
            assert_eq!(held.get(s).copied().unwrap_or(0), *q, "{s}");
        }
        // Orders' quantities add up; fills equal the trades of each order.
        let mut by_order: HashMap<OrderId, i64> = HashMap::new();
        for t in &acc.trades {
            if let Some(o) = t.order_id {
                *by_order.entry(o).or_default() += t.quantity;
            }
        }
        for oid in &acc.orders {
            let o = self.e.order(*oid).expect("order");
            assert!(o.filled_quantity >= 0 && o.pending_quantity >= 0);
            if o.status.is_final() {
                assert_eq!(o.pending_quantity, 0, "{o:?}");
            }
            assert_eq!(
                o.filled_quantity + o.pending_quantity + o.cancelled_quantity,
                if o.status == stocksblitz_broker::Status::Rejected {
                    o.filled_quantity + o.cancelled_quantity
                } else {
                    o.quantity
                },
                "{o:?}"
            );
            assert_eq!(by_order.get(oid).copied().unwrap_or(0), o.filled_quantity);
        }
        // Replay gives the same state.
        let r = Engine::replay(self.e.config().clone(), &self.log);
        assert_eq!(r.state(), self.e.state(), "replay differs");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_books_right(ops in prop::collection::vec(op(), 1..80)) {
        let cfg = Config::embedded().expect("config");
        let start = ist("2026-12-28", 10, 0, 0); // Monday before the December expiry
        let mut run = Run {
            e: Engine::new(cfg),
            log: Vec::new(),
            now: start,
            quotes: HashMap::new(),
            orders: Vec::new(),
            spot: 2_600_000,
        };
        let ev = run.e.on_clock(start);
        run.record(ev);
        let (r, ev) = run.e.handle(start, Command::OpenAccount { account: A, opening_balance: OPENING });
        prop_assert!(r.is_ok());
        run.record(ev);
        let q = Quote::ltp(start, run.spot);
        run.quotes.insert(SPOT.to_string(), q);
        let ev = run.e.on_quote(SPOT, q);
        run.record(ev);
        for op in &ops {
            run.step(op);
        }
        run.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary commands (garbage included) never panic and never corrupt the ledger.
    #[test]
    fn arbitrary_commands_never_panic(
        sym in "[A-Z0-9 &]{0,24}",
        qty in any::<i64>(),
        price in prop::option::of(any::<i64>()),
        trigger in prop::option::of(any::<i64>()),
        kind in 0u8..4,
        ttl in prop::option::of(any::<u32>()),
        at_offset in -10_000_000i64..10_000_000_000,
        amount in any::<i64>(),
    ) {
        let start = ist("2026-12-02", 10, 0, 0);
        let mut e = Engine::new(Config::embedded().expect("config"));
        e.on_clock(start);
        let _ = e.handle(start, Command::OpenAccount { account: A, opening_balance: OPENING });
        e.on_quote("NIFTY26DECFUT", Quote::book(start, 2_600_000, 2_599_900, 2_600_100, 100, 100));
        e.on_quote(&sym, Quote::ltp(start, price.unwrap_or(1)));
        let order_type = [OrderType::Market, OrderType::Limit, OrderType::Sl, OrderType::SlM][kind as usize];
        for s in [sym.as_str(), "NIFTY26DECFUT"] {
            let mut r = OrderRequest::new(A, s, Side::Buy, qty, order_type, Product::Nrml);
            r.price = price;
            r.trigger_price = trigger;
            r.validity_ttl = ttl;
            r.validity = if ttl.is_some() { Validity::Ttl } else { Validity::Day };
            let _ = e.handle(start.saturating_add(at_offset), Command::Place(r));
        }
        let _ = e.handle(start, Command::Payin { account: A, amount });
        let _ = e.on_clock(start.saturating_add(at_offset));
        let acc = e.account(A).expect("account");
        prop_assert_eq!(acc.ledger.iter().map(|x| x.amount).sum::<i64>(), acc.balance);
    }
}
