//! The broker's hot paths:
//! - matching: a stream of quote updates against 10,000 resting orders across 500 instruments
//!   (target ≥ 1M quote updates/s on one core);
//! - margin: the SPAN-style margin of a 40-leg portfolio on one underlying (target < 50 µs) and
//!   of an account with 200 legs across 5 underlyings (target < 1 ms).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stocksblitz_broker::margin::{Leg, LegKind, portfolio_margin};
use stocksblitz_broker::{
    AccountId, Command, Config, Engine, HypoLeg, MarginParams, OrderRequest, OrderType, Product,
    Quote, Side,
};
use stocksblitz_symbols::Right;

fn ist(date: &str, hh: u32, mm: u32) -> i64 {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (d.and_hms_opt(hh, mm, 0).unwrap().and_utc().timestamp() - 19_800) * 1000
}

/// A small deterministic generator (no dependency, same stream every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn matching(c: &mut Criterion) {
    let now = ist("2026-12-02", 10, 0);
    let mut cfg = Config::embedded().unwrap();
    cfg.max_quote_age_ms = i64::MAX / 4;
    let mut e = Engine::new(cfg);
    e.on_clock(now);
    e.on_quote("NIFTY 50", Quote::ltp(now, 2_600_000));
    // 500 option instruments: 250 strikes × CE/PE.
    let syms: Vec<String> = (0..250)
        .flat_map(|i| {
            let k = 20_000 + i * 50;
            [format!("NIFTY26DEC{k}CE"), format!("NIFTY26DEC{k}PE")]
        })
        .collect();
    let ids: Vec<_> = syms.iter().map(|s| e.instrument(s).unwrap()).collect();
    let base: Vec<i64> = (0..syms.len())
        .map(|i| 10_000 + (i as i64 % 50) * 1_000)
        .collect();
    for (i, s) in syms.iter().enumerate() {
        let p = base[i];
        e.on_quote(s, Quote::book(now, p, p - 5, p + 5, 650, 650));
    }
    // 10,000 resting orders: 20 per instrument, limits away from the market and stops not yet
    // triggered, spread over 100 accounts.
    let mut rng = Lcg(7);
    for a in 0..100u64 {
        e.handle(
            now,
            Command::OpenAccount {
                account: AccountId(a),
                opening_balance: 10_000_000_000,
            },
        )
        .0
        .unwrap();
    }
    let mut placed = 0;
    for n in 0..10_000usize {
        let i = n % syms.len();
        let p = base[i];
        let account = AccountId((n / 100) as u64);
        let kind = rng.next() % 4;
        let mut r = OrderRequest::new(
            account,
            &syms[i],
            Side::Buy,
            65,
            OrderType::Limit,
            Product::Nrml,
        );
        match kind {
            0 | 1 => r.price = Some((p / 2 / 5) * 5),
            2 => {
                r.order_type = OrderType::SlM;
                r.trigger_price = Some(((p * 2) / 5) * 5);
            }
            _ => {
                r.side = Side::Sell;
                r.order_type = OrderType::SlM;
                r.trigger_price = Some(((p / 3) / 5) * 5);
            }
        }
        if e.handle(now, Command::Place(r)).0.is_ok() {
            placed += 1;
        }
    }
    assert_eq!(placed, 10_000, "all resting orders accepted");
    // Quote updates: a walk of ±1–3 ticks around each instrument's price, no order crossing.
    let quotes: Vec<(usize, Quote)> = (0..100_000)
        .map(|n| {
            let i = (rng.next() as usize) % syms.len();
            let p = base[i] + ((rng.next() % 7) as i64 - 3) * 5;
            let _ = n;
            (i, Quote::book(now, p, p - 5, p + 5, 650, 650))
        })
        .collect();
    let mut out = Vec::new();
    let mut g = c.benchmark_group("matching");
    g.throughput(Throughput::Elements(quotes.len() as u64));
    g.bench_function("100k_quotes_vs_10k_resting_orders_500_instruments", |b| {
        b.iter(|| {
            for (i, q) in &quotes {
                e.on_quote_id(ids[*i], *q, &mut out);
            }
            assert!(out.is_empty(), "no order should fill");
            black_box(&out);
        });
    });
    g.finish();
}

fn option_legs(n: usize, spot: f64, step: f64, seed: u64) -> Vec<Leg> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|i| {
            let k = spot + ((i as f64) - n as f64 / 2.0) * step;
            let right = if i % 2 == 0 { Right::Call } else { Right::Put };
            let qty = ((rng.next() % 5) as i64 + 1)
                * if rng.next().is_multiple_of(2) {
                    65
                } else {
                    -65
                };
            let years = [7.0, 14.0, 28.0, 56.0][i % 4] / 365.0;
            Leg {
                quantity: qty,
                kind: LegKind::Option { strike: k, right },
                forward: spot * (0.065f64 * years).exp(),
                years,
                vol: 0.12 + 0.0005 * (i as f64 - n as f64 / 2.0).abs(),
            }
        })
        .collect()
}

fn margin(c: &mut Criterion) {
    let params = MarginParams::embedded().unwrap();
    let nifty = params.for_underlying("NIFTY", true);
    let mut legs = option_legs(38, 26_000.0, 100.0, 3);
    legs.push(Leg {
        quantity: 130,
        kind: LegKind::Future,
        forward: 26_050.0,
        years: 28.0 / 365.0,
        vol: 0.0,
    });
    legs.push(Leg {
        quantity: -65,
        kind: LegKind::Future,
        forward: 26_120.0,
        years: 56.0 / 365.0,
        vol: 0.0,
    });
    let mut g = c.benchmark_group("margin");
    g.bench_function("portfolio_40_legs_one_underlying", |b| {
        b.iter(|| black_box(portfolio_margin(nifty, params, black_box(26_000.0), &legs)));
    });

    // A whole account through the engine: 200 legs across 5 underlyings, quotes with the feed's
    // implied volatility (the engine solves for it when a quote has none).
    let now = ist("2026-12-02", 10, 0);
    let mut e = Engine::new(Config::embedded().unwrap());
    e.on_clock(now);
    let unders = [
        ("NIFTY", "NIFTY 50", 2_600_000i64, 50i64),
        ("BANKNIFTY", "NIFTY BANK", 5_900_000, 100),
        ("FINNIFTY", "NIFTY FIN SERVICE", 2_750_000, 50),
        ("MIDCPNIFTY", "NIFTY MID SELECT", 1_350_000, 25),
        ("SENSEX", "SENSEX", 8_500_000, 100),
    ];
    let mut hypo = Vec::new();
    let mut rng = Lcg(11);
    for (u, spot_sym, spot, step) in unders {
        e.on_quote(spot_sym, Quote::ltp(now, spot));
        for i in 0..40i64 {
            let k = (spot / 100 / step + (i - 20)) * step;
            let right = if i % 2 == 0 { "CE" } else { "PE" };
            let sym = format!("{u}26DEC{k}{right}");
            let id = e.instrument(&sym).unwrap();
            let mut q = Quote::ltp(now, 10_000 + rng.next() as i64 % 20_000);
            q.iv = Some(0.12 + (i as f64) * 0.001);
            e.on_quote(&sym, q);
            hypo.push(HypoLeg {
                instrument: id,
                quantity: ((rng.next() % 3) as i64 + 1) * if i % 3 == 0 { 1 } else { -1 } * 20,
                product: Product::Nrml,
                price: 0,
                pending: false,
            });
        }
    }
    assert_eq!(hypo.len(), 200);
    g.bench_function("account_200_legs_5_underlyings", |b| {
        b.iter(|| black_box(e.requirement_of(&hypo)));
    });
    g.finish();
}

/// Placing an order with its synchronous margin check in an account that already has 200 open
/// orders across 5 underlyings (40 on the order's underlying), then cancelling it.
fn placement(c: &mut Criterion) {
    let now = ist("2026-12-02", 10, 0);
    let mut e = Engine::new(Config::embedded().unwrap());
    e.on_clock(now);
    let a = AccountId(1);
    e.handle(
        now,
        Command::OpenAccount {
            account: a,
            opening_balance: 100_000_000_000,
        },
    )
    .0
    .unwrap();
    let unders = [
        ("NIFTY", "NIFTY 50", 2_600_000i64, 50i64, 65i64),
        ("BANKNIFTY", "NIFTY BANK", 5_900_000, 100, 30),
        ("FINNIFTY", "NIFTY FIN SERVICE", 2_750_000, 50, 60),
        ("MIDCPNIFTY", "NIFTY MID SELECT", 1_350_000, 25, 120),
        ("SENSEX", "SENSEX", 8_500_000, 100, 20),
    ];
    let mut first = String::new();
    for (u, spot_sym, spot, step, lot) in unders {
        e.on_quote(spot_sym, Quote::ltp(now, spot));
        for i in 0..40i64 {
            let k = (spot / 100 / step + (i - 20)) * step;
            let right = if i % 2 == 0 { "CE" } else { "PE" };
            let sym = format!("{u}26DEC{k}{right}");
            let mut q = Quote::book(now, 10_000, 9_995, 10_005, 1000, 1000);
            q.iv = Some(0.13);
            e.on_quote(&sym, q);
            let side = if i % 3 == 0 { Side::Buy } else { Side::Sell };
            let mut r = OrderRequest::new(a, &sym, side, lot, OrderType::Limit, Product::Nrml);
            r.price = Some(if side == Side::Buy { 5_000 } else { 20_000 });
            e.handle(now, Command::Place(r)).0.unwrap();
            if first.is_empty() {
                first = sym;
            }
        }
    }
    assert_eq!(e.account(a).unwrap().open_orders.len(), 200);
    let mut g = c.benchmark_group("placement");
    g.bench_function(
        "place_limit_with_margin_check_and_cancel_200_open_orders",
        |b| {
            b.iter(|| {
                let mut r =
                    OrderRequest::new(a, &first, Side::Sell, 65, OrderType::Limit, Product::Nrml);
                r.price = Some(20_000);
                let (res, _) = e.handle(now, Command::Place(r));
                let Ok(stocksblitz_broker::Reply::Orders(ids)) = res else {
                    panic!("{res:?}")
                };
                let (res, _) = e.handle(
                    now,
                    Command::Cancel {
                        account: a,
                        order_id: ids[0],
                    },
                );
                black_box(res.unwrap());
            });
        },
    );
    g.finish();
}

criterion_group!(benches, matching, margin, placement);
criterion_main!(benches);
