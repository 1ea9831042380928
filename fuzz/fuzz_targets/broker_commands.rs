//! Sequences of broker commands, quotes and clock ticks decoded from the input bytes: the engine
//! never panics, the ledger sums to the balance, and replaying its events gives the same state.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stocksblitz_broker::{
    AccountId, Command, Config, Engine, OrderChanges, OrderId, OrderRequest, OrderType, Product,
    Quote, Side, Validity, Variety,
};

const SYMS: [&str; 5] = [
    "NIFTY26DECFUT",
    "NIFTY26DEC26000CE",
    "NIFTY26DEC26000PE",
    "NIFTY 50",
    "RELIANCE",
];
// 2026-12-28 10:00 IST.
const START: i64 = 1_798_432_200_000;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::embedded() else { return };
    let mut e = Engine::new(cfg);
    let mut log = e.on_clock(START);
    let mut now = START;
    for a in 0..2u64 {
        let (_, ev) = e.handle(
            now,
            Command::OpenAccount {
                account: AccountId(a),
                opening_balance: 1_000_000_000,
            },
        );
        log.extend(ev);
    }
    for chunk in data.chunks(8).take(400) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        let sym = SYMS[b[1] as usize % SYMS.len()];
        let account = AccountId(u64::from(b[2] & 1));
        let v = i64::from(i16::from_le_bytes([b[3], b[4]]));
        let ev = match b[0] % 8 {
            0 | 1 => {
                let px = 20_000 + v * 5;
                let q = if b[5] & 1 == 0 {
                    Quote::book(now, px, px - 5, px + 5, i64::from(b[6]), i64::from(b[7]))
                } else {
                    Quote::ltp(now, px)
                };
                e.on_quote(sym, q)
            }
            2 | 3 => {
                let order_type = [
                    OrderType::Market,
                    OrderType::Limit,
                    OrderType::Sl,
                    OrderType::SlM,
                ][b[5] as usize % 4];
                let side = if b[6] & 1 == 0 { Side::Buy } else { Side::Sell };
                let product = [Product::Mis, Product::Nrml, Product::Cnc][b[6] as usize / 2 % 3];
                let mut r = OrderRequest::new(
                    account,
                    sym,
                    side,
                    i64::from(b[7]) * 13,
                    order_type,
                    product,
                );
                r.price = Some(20_000 + v * 5);
                r.trigger_price = Some(20_000 + v * 3);
                r.validity = [Validity::Day, Validity::Ioc, Validity::Ttl][b[7] as usize % 3];
                r.validity_ttl = Some(u32::from(b[5]));
                r.variety = if b[5] & 0x80 != 0 {
                    Variety::Amo
                } else {
                    Variety::Regular
                };
                r.autoslice = b[6] & 0x40 != 0;
                e.handle(now, Command::Place(r)).1
            }
            4 => {
                let changes = OrderChanges {
                    quantity: Some(i64::from(b[5]) * 65),
                    price: Some(20_000 + v * 5),
                    trigger_price: (b[6] & 1 == 1).then_some(20_000 + v),
                    ..OrderChanges::default()
                };
                e.handle(
                    now,
                    Command::Modify {
                        account,
                        order_id: OrderId(u64::from(b[7])),
                        changes,
                    },
                )
                .1
            }
            5 => {
                e.handle(
                    now,
                    Command::Cancel {
                        account,
                        order_id: OrderId(u64::from(b[7])),
                    },
                )
                .1
            }
            6 => {
                let (from, to) = if b[5] & 1 == 0 {
                    (Product::Mis, Product::Nrml)
                } else {
                    (Product::Nrml, Product::Mis)
                };
                e.handle(
                    now,
                    Command::Convert {
                        account,
                        tradingsymbol: sym.into(),
                        from,
                        to,
                        quantity: i64::from(b[6]) * 65,
                    },
                )
                .1
            }
            _ => {
                now += i64::from(u16::from_le_bytes([b[5], b[6]])) * 1000;
                e.on_clock(now)
            }
        };
        log.extend(ev);
    }
    for a in 0..2u64 {
        if let Some(acc) = e.account(AccountId(a)) {
            assert_eq!(
                acc.ledger.iter().map(|x| x.amount).sum::<i64>(),
                acc.balance
            );
        }
    }
    let replayed = Engine::replay(e.config().clone(), &log);
    assert_eq!(replayed.state(), e.state());
});
