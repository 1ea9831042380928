//! One test per rule, with the right answer worked out by hand in the comments.

mod common;

use common::{A, B, Harness, LAKH10, ist};
use stocksblitz_broker::{
    Command, EntryKind, EventBody, FillBasis, HypoLeg, OrderChanges, OrderRequest, OrderType,
    Product, Quote, Reject, Reply, Side, Status, Validity, Variety,
};

const DAY: &str = "2026-12-02"; // a Wednesday, a trading day
const FUT: &str = "NIFTY26DECFUT"; // expires 2026-12-29, lot 65
const CE: &str = "NIFTY26DEC26000CE";
const PE: &str = "NIFTY26DEC26000PE";
const SPOT: &str = "NIFTY 50";

fn market_open() -> Harness {
    let mut h = Harness::new(ist(DAY, 10, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h
}

#[test]
fn market_buy_fills_at_the_ask_and_sell_at_the_bid() {
    let mut h = market_open();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let buy = h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    let sell = h.market(FUT, Side::Sell, 65, Product::Nrml).unwrap();
    let (b, s) = (h.e.order(buy).unwrap(), h.e.order(sell).unwrap());
    assert_eq!(b.status, Status::Complete);
    assert_eq!(b.filled_value, 65 * 2_610_500, "BUY at the ask 26,105.00");
    assert_eq!(s.filled_value, 65 * 2_610_000, "SELL at the bid 26,100.00");
    // Round trip through the spread: a realised loss of 5.00 × 65 = 325.00.
    let pnl: i64 =
        h.e.account(A)
            .unwrap()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::FuturesPnl)
            .map(|e| e.amount)
            .sum();
    assert_eq!(pnl, -32_500);
    h.assert_replays();
}

#[test]
fn without_a_book_fills_at_the_last_price_and_says_so() {
    let mut h = market_open();
    h.ltp(FUT, 2_610_000);
    let id = h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    let o = h.e.order(id).unwrap();
    assert_eq!(o.filled_value, 65 * 2_610_000);
    assert!(
        o.status_message
            .as_deref()
            .unwrap_or("")
            .contains("last traded price")
    );
    let t = &h.e.account(A).unwrap().trades[0];
    assert_eq!(t.basis, FillBasis::Ltp);
}

/// An option worth less than a tick is offered at 0.05 with no bid: a buy takes the offer, a
/// market sell finds nobody and waits (it is not filled at the last price).
#[test]
fn a_one_sided_book_fills_only_the_side_quoted() {
    let mut h = market_open();
    let mut q = Quote::book(h.now, 5, 0, 5, 0, 6500);
    q.bid = None;
    q.bid_qty = None;
    h.quote(CE, q);
    let buy = h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    let b = h.e.order(buy).unwrap();
    assert_eq!((b.status, b.filled_value), (Status::Complete, 65 * 5));
    assert_eq!(h.e.account(A).unwrap().trades[0].basis, FillBasis::Touch);
    let sell = h.market(CE, Side::Sell, 65, Product::Nrml).unwrap();
    let s = h.e.order(sell).unwrap();
    assert_eq!((s.status, s.filled_quantity), (Status::Open, 0));
    // A bid appears: the waiting sell fills there.
    h.book(CE, 5, 10, 650);
    let s = h.e.order(sell).unwrap();
    assert_eq!((s.status, s.filled_value), (Status::Complete, 65 * 5));
    h.assert_replays();
}

#[test]
fn quantity_not_a_lot_multiple_is_rejected_naming_the_lot() {
    let mut h = market_open();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let r = h.market(FUT, Side::Buy, 50, Product::Nrml).unwrap_err();
    assert_eq!(
        r.reason,
        Reject::NotLotMultiple {
            quantity: 50,
            lot_size: 65
        }
    );
    assert!(r.reason.to_string().contains("65"), "{}", r.reason);
    // Recorded as a REJECTED order with the message, like Kite's order book.
    let o = h.e.order(r.order_id.unwrap()).unwrap();
    assert_eq!(o.status, Status::Rejected);
    assert_eq!(
        o.status_message.as_deref(),
        Some("quantity 50 is not a multiple of the lot size 65")
    );
}

#[test]
fn prices_off_the_tick_grid_are_rejected_with_the_tick() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    let r = h
        .limit(CE, Side::Buy, 65, 20_003, Product::Nrml)
        .unwrap_err();
    assert_eq!(
        r.reason.to_string(),
        "price 200.03 is not a multiple of the tick size 0.05"
    );
}

#[test]
fn limit_orders_fill_at_the_touch_when_marketable_and_at_their_price_when_resting() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    // Marketable: a buy limit at 205.00 with the ask at 201.00 fills at 201.00.
    let a = h.limit(CE, Side::Buy, 65, 20_500, Product::Nrml).unwrap();
    assert_eq!(h.e.order(a).unwrap().filled_value, 65 * 20_100);
    // Resting: a buy limit at 195.00 waits, then fills at 195.00 when the ask drops to 194.00.
    let b = h.limit(CE, Side::Buy, 65, 19_500, Product::Nrml).unwrap();
    assert_eq!(h.e.order(b).unwrap().status, Status::Open);
    h.wait(1);
    h.book(CE, 19_600, 19_700, 1000);
    assert_eq!(h.e.order(b).unwrap().status, Status::Open, "ask 197 > 195");
    h.wait(1);
    h.book(CE, 19_300, 19_400, 1000);
    let o = h.e.order(b).unwrap();
    assert_eq!(o.status, Status::Complete);
    assert_eq!(o.filled_value, 65 * 19_500);
    h.assert_replays();
}

#[test]
fn quantity_beyond_the_quoted_size_fills_partly_and_ioc_cancels_the_rest() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 130);
    // DAY: 130 of 325 fill now, the rest waits for the next quote.
    let day = h.market(CE, Side::Buy, 325, Product::Nrml).unwrap();
    let o = h.e.order(day).unwrap();
    assert_eq!((o.filled_quantity, o.pending_quantity), (130, 195));
    assert_eq!(o.status, Status::Open);
    h.wait(1);
    h.book(CE, 20_000, 20_200, 130);
    let o = h.e.order(day).unwrap();
    assert_eq!((o.filled_quantity, o.pending_quantity), (260, 65));
    assert_eq!(o.filled_value, 130 * 20_100 + 130 * 20_200);
    // IOC: what the touch cannot fill at once is cancelled.
    let mut r = OrderRequest::new(A, CE, Side::Sell, 325, OrderType::Market, Product::Nrml);
    r.validity = Validity::Ioc;
    let ioc = h.place(r).unwrap()[0];
    let o = h.e.order(ioc).unwrap();
    assert_eq!(o.status, Status::Cancelled);
    assert_eq!((o.filled_quantity, o.cancelled_quantity), (130, 195));
    h.assert_replays();
}

#[test]
fn one_quote_s_size_is_shared_by_the_orders_it_fills() {
    let mut h = market_open();
    h.book(CE, 20_000, 21_000, 1000);
    let x = h.limit(CE, Side::Buy, 130, 20_500, Product::Nrml).unwrap();
    let y = h.limit(CE, Side::Buy, 130, 20_400, Product::Nrml).unwrap();
    h.wait(1);
    // 195 units offered at 203.00: the better-priced order fills first and wholly.
    h.book(CE, 20_000, 20_300, 195);
    assert_eq!(h.e.order(x).unwrap().filled_quantity, 130);
    assert_eq!(h.e.order(y).unwrap().filled_quantity, 65);
}

#[test]
fn nothing_fills_on_a_stale_quote() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    h.wait(60); // the quote is now a minute old
    let day = h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    assert_eq!(h.e.order(day).unwrap().status, Status::Open, "DAY waits");
    let mut r = OrderRequest::new(A, CE, Side::Buy, 65, OrderType::Market, Product::Nrml);
    r.validity = Validity::Ioc;
    let ioc = h.place(r).unwrap()[0];
    assert_eq!(
        h.e.order(ioc).unwrap().status,
        Status::Cancelled,
        "IOC cancels"
    );
    assert_eq!(h.e.order(ioc).unwrap().filled_quantity, 0);
    // A fresh quote fills the waiting order at its ask.
    h.book(CE, 20_500, 20_600, 1000);
    let o = h.e.order(day).unwrap();
    assert_eq!(o.status, Status::Complete);
    assert_eq!(o.filled_value, 65 * 20_600);
}

#[test]
fn stop_loss_buy_triggers_only_when_the_ltp_reaches_the_trigger() {
    let mut h = market_open();
    h.quote(
        FUT,
        Quote::book(h.now, 2_600_000, 2_599_900, 2_600_100, 1000, 1000),
    );
    let mut r = OrderRequest::new(A, FUT, Side::Buy, 65, OrderType::SlM, Product::Nrml);
    r.trigger_price = Some(2_610_000);
    let id = h.place(r).unwrap()[0];
    assert_eq!(h.e.order(id).unwrap().status, Status::TriggerPending);
    // The ask reaches the trigger but the LTP does not: no trigger.
    h.wait(1);
    h.quote(
        FUT,
        Quote::book(h.now, 2_609_500, 2_609_900, 2_610_000, 1000, 1000),
    );
    assert_eq!(h.e.order(id).unwrap().status, Status::TriggerPending);
    // LTP 26,100.00 = trigger: triggered, then filled at the ask 26,101.00.
    h.wait(1);
    h.quote(
        FUT,
        Quote::book(h.now, 2_610_000, 2_609_900, 2_610_100, 1000, 1000),
    );
    let o = h.e.order(id).unwrap();
    assert_eq!(o.status, Status::Complete);
    assert!(o.triggered);
    assert_eq!(o.filled_value, 65 * 2_610_100);
    h.assert_replays();
}

#[test]
fn stop_triggers_must_be_on_the_right_side_of_the_market() {
    let mut h = market_open();
    h.ltp(FUT, 2_600_000);
    let mut r = OrderRequest::new(A, FUT, Side::Buy, 65, OrderType::SlM, Product::Nrml);
    r.trigger_price = Some(2_590_000);
    let e = h.place(r.clone()).unwrap_err();
    assert_eq!(
        e.reason.to_string(),
        "trigger price 25900.00 for a stoploss buy order must be above the last traded price 26000.00"
    );
    // SL buy: the limit must be at or above the trigger.
    r.order_type = OrderType::Sl;
    r.trigger_price = Some(2_610_000);
    r.price = Some(2_605_000);
    let e = h.place(r).unwrap_err();
    assert!(matches!(e.reason, Reject::LimitVsTrigger { .. }), "{e}");
}

#[test]
fn freeze_quantity_rejects_or_autoslices() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 100_000);
    // 1,950 units = 30 lots > freeze 1,800.
    let e = h.market(CE, Side::Buy, 1950, Product::Nrml).unwrap_err();
    assert_eq!(
        e.reason,
        Reject::FreezeQuantity {
            quantity: 1950,
            freeze_qty: 1800
        }
    );
    let mut r = OrderRequest::new(A, CE, Side::Buy, 1950, OrderType::Market, Product::Nrml);
    r.autoslice = true;
    let ids = h.place(r).unwrap();
    // Slices of 27 lots (1,755 ≤ 1,800) and the remaining 3 lots (195).
    let qty: Vec<i64> = ids
        .iter()
        .map(|i| h.e.order(*i).unwrap().quantity)
        .collect();
    assert_eq!(qty, vec![1755, 195]);
    assert_eq!(h.e.order(ids[1]).unwrap().parent_order_id, Some(ids[0]));
    assert_eq!(h.position_qty(CE, Product::Nrml), 1950);
}

#[test]
fn modify_and_cancel_while_open_but_not_after() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    let id = h.limit(CE, Side::Buy, 65, 19_000, Product::Nrml).unwrap();
    let r = h.cmd(Command::Modify {
        account: A,
        order_id: id,
        changes: OrderChanges {
            quantity: Some(130),
            price: Some(19_500),
            ..OrderChanges::default()
        },
    });
    assert_eq!(r, Ok(Reply::Orders(vec![id])));
    let o = h.e.order(id).unwrap();
    assert_eq!((o.quantity, o.price, o.status), (130, 19_500, Status::Open));
    // Modified to a marketable price: fills at once at the touch.
    h.cmd(Command::Modify {
        account: A,
        order_id: id,
        changes: OrderChanges {
            price: Some(20_500),
            ..OrderChanges::default()
        },
    })
    .unwrap();
    assert_eq!(h.e.order(id).unwrap().filled_value, 130 * 20_100);
    let e = h
        .cmd(Command::Cancel {
            account: A,
            order_id: id,
        })
        .unwrap_err();
    assert!(matches!(
        e.reason,
        Reject::OrderNotOpen {
            status: Status::Complete,
            ..
        }
    ));
    let id2 = h.limit(CE, Side::Buy, 65, 19_000, Product::Nrml).unwrap();
    h.cmd(Command::Cancel {
        account: A,
        order_id: id2,
    })
    .unwrap();
    let o = h.e.order(id2).unwrap();
    assert_eq!((o.status, o.cancelled_quantity), (Status::Cancelled, 65));
    // Another account's order is not found.
    h.cmd(Command::OpenAccount {
        account: B,
        opening_balance: 0,
    })
    .unwrap();
    let id3 = h.limit(CE, Side::Buy, 65, 19_000, Product::Nrml).unwrap();
    let e = h
        .cmd(Command::Cancel {
            account: B,
            order_id: id3,
        })
        .unwrap_err();
    assert!(matches!(e.reason, Reject::UnknownOrder { .. }));
    h.assert_replays();
}

#[test]
fn insufficient_funds_names_required_and_available() {
    let mut h = Harness::new(ist(DAY, 10, 0, 0), 1_000_000); // ₹10,000
    h.ltp(SPOT, 2_600_000);
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    let e = h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap_err();
    let Reject::InsufficientFunds {
        required,
        available,
    } = e.reason
    else {
        panic!("{e}")
    };
    assert_eq!(available, 1_000_000);
    // A NIFTY future: about 8 % SPAN + 2 % exposure of ₹16.9 lakh notional.
    let notional = 65 * 2_600_100;
    assert!(
        required > notional / 100 * 9 && required < notional / 100 * 11,
        "{required}"
    );
    assert!(
        e.reason
            .to_string()
            .starts_with("Insufficient funds. Required margin is ")
    );
    assert_eq!(
        h.e.order(e.order_id.unwrap()).unwrap().status,
        Status::Rejected
    );
}

#[test]
fn a_long_option_needs_only_its_premium() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    let before = h.e.funds(A).unwrap().net;
    h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    let req = h.e.requirement(A);
    assert_eq!((req.span, req.exposure), (0, 0));
    // Net falls by the premium (65 × 201.00 = 13,065.00) and the charges only.
    let charges: i64 =
        h.e.account(A)
            .unwrap()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Charges)
            .map(|e| -e.amount)
            .sum();
    assert_eq!(before - h.e.funds(A).unwrap().net, 1_306_500 + charges);
}

#[test]
fn option_round_trip_charges_to_the_paisa_before_and_after_2026_04_01() {
    // Buy 65 NIFTY calls @ 120.00, sell @ 150.00. Buy turnover 7,800.00, sell 9,750.00.
    // Buy: brokerage 20.00; exchange 0.03503 % = 2.73234 → 2.73; SEBI 0.0001 % = 0.0078 → 0.01;
    //      stamp 0.003 % = 0.234 → 0.23; GST 18 % × (20 + 2.73 + 0.01) = 4.0932 → 4.09;
    //      total 27.06.
    // Sell before 2026-04-01: STT 0.1 % = 9.75; exchange 3.415425 → 3.42; SEBI 0.00975 → 0.01;
    //      GST 18 % × 23.43 = 4.2174 → 4.22; total 20 + 9.75 + 3.42 + 0.01 + 4.22 = 37.40.
    // Sell from 2026-04-01: STT 0.15 % = 14.625 → 14.63; total 42.28.
    for (day, sym, sell_total, stt) in [
        ("2026-03-11", "NIFTY26MAR24000CE", 3740, 975),
        ("2026-04-08", "NIFTY26APR24000CE", 4228, 1463),
    ] {
        let mut h = Harness::new(ist(day, 10, 0, 0), LAKH10);
        h.ltp(SPOT, 2_400_000);
        h.book(sym, 11_995, 12_000, 1000);
        let buy = h.market(sym, Side::Buy, 65, Product::Nrml).unwrap();
        h.wait(60);
        h.book(sym, 15_000, 15_005, 1000);
        let sell = h.market(sym, Side::Sell, 65, Product::Nrml).unwrap();
        let b = h.e.order(buy).unwrap().charges;
        let s = h.e.order(sell).unwrap().charges;
        assert_eq!(
            (b.brokerage, b.stt, b.exchange, b.sebi, b.stamp, b.gst),
            (2000, 0, 273, 1, 23, 409),
            "{day} buy"
        );
        assert_eq!(b.total(), 2706);
        assert_eq!(s.stt, stt, "{day} sell STT");
        assert_eq!((s.exchange, s.sebi, s.stamp, s.gst), (342, 1, 0, 422));
        assert_eq!(s.total(), sell_total, "{day} sell total");
        // The ledger: opening − premium paid + premium received − both orders' charges.
        assert_eq!(h.balance(), LAKH10 - 780_000 + 975_000 - 2706 - sell_total);
        // And the quote for the same order before placing it agrees.
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        let c =
            h.e.charges_for(sym, Side::Sell, Product::Nrml, 65, 15_000, d)
                .unwrap();
        assert_eq!(c, s);
        h.assert_replays();
    }
}

#[test]
fn partial_fills_are_charged_as_one_order() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 65);
    let id = h.market(CE, Side::Buy, 195, Product::Nrml).unwrap();
    for _ in 0..2 {
        h.wait(1);
        h.book(CE, 20_000, 20_100, 65);
    }
    let o = h.e.order(id).unwrap().clone();
    assert_eq!(o.status, Status::Complete);
    let whole =
        h.e.charges_for(
            CE,
            Side::Buy,
            Product::Nrml,
            195,
            20_100,
            chrono::NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap(),
        )
        .unwrap();
    assert_eq!(o.charges, whole, "three fills, one brokerage");
    let debited: i64 =
        h.e.account(A)
            .unwrap()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Charges)
            .map(|e| -e.amount)
            .sum();
    assert_eq!(debited, whole.total());
}

#[test]
fn short_straddle_needs_less_than_its_two_legs() {
    let mut h = market_open();
    h.book(CE, 25_000, 25_100, 1000);
    h.book(PE, 24_000, 24_100, 1000);
    let ce = h.e.instrument(CE).unwrap();
    let pe = h.e.instrument(PE).unwrap();
    let leg = |id, q| HypoLeg {
        instrument: id,
        quantity: q,
        product: Product::Nrml,
        price: 0,
        pending: false,
    };
    let m = h.e.basket_margin(&[leg(ce, -65), leg(pe, -65)]);
    assert!(m.final_ < m.initial, "{m:?}");
    // The straddle's SPAN is its worse side, not the sum: well under 80 % of the legs.
    assert!(m.final_ * 100 < m.initial * 80, "{m:?}");
    // A naked short call is far more than its premium (the OpenAlgo mistake).
    assert!(m.legs[0] > 65 * 25_000 * 3, "{m:?}");
}

#[test]
fn covered_call_needs_less_than_its_legs_and_less_than_a_naked_itm_call() {
    let mut h = market_open();
    let itm = "NIFTY26DEC25000CE";
    h.book(FUT, 2_610_000, 2_610_100, 1000);
    h.book(itm, 115_000, 115_500, 1000);
    h.book(CE, 25_000, 25_100, 1000);
    let f = h.e.instrument(FUT).unwrap();
    let c_itm = h.e.instrument(itm).unwrap();
    let c_atm = h.e.instrument(CE).unwrap();
    let leg = |id, q| HypoLeg {
        instrument: id,
        quantity: q,
        product: Product::Nrml,
        price: 0,
        pending: false,
    };
    // Long future + short call = a synthetic short put: only the downside is at risk.
    for c in [c_itm, c_atm] {
        let m = h.e.basket_margin(&[leg(f, 65), leg(c, -65)]);
        assert!(m.final_ < m.initial, "{m:?}");
    }
    // For an in-the-money call the synthetic put is out of the money: the covered position
    // needs less than the naked call itself. (For an at- or out-of-the-money call it does not:
    // the synthetic put is at or in the money, and exposure margin is charged on both legs.)
    let covered = h.e.basket_margin(&[leg(f, 65), leg(c_itm, -65)]).final_;
    let naked = h.e.basket_margin(&[leg(c_itm, -65)]).final_;
    assert!(covered < naked, "covered {covered} naked {naked}");
}

#[test]
fn a_hedge_order_is_accepted_where_a_naked_one_is_not() {
    // Margins of one short call and of the straddle, from a scratch engine.
    let quotes = |h: &mut Harness| {
        h.ltp(SPOT, 2_600_000);
        h.book(CE, 25_000, 25_100, 1000);
        h.book(PE, 24_000, 24_100, 1000);
    };
    let mut s = market_open();
    quotes(&mut s);
    let (ce, pe) = (s.e.instrument(CE).unwrap(), s.e.instrument(PE).unwrap());
    let leg = |id, q| HypoLeg {
        instrument: id,
        quantity: q,
        product: Product::Nrml,
        price: 0,
        pending: false,
    };
    let one = s.e.basket_margin(&[leg(ce, -65)]).final_;
    let straddle = s.e.basket_margin(&[leg(ce, -65), leg(pe, -65)]).final_;
    // An account funded with exactly the straddle's margin: after the call, the put (the hedge)
    // fits, a second call (more of the same risk) does not.
    let mut h = Harness::new(ist(DAY, 10, 0, 0), straddle);
    quotes(&mut h);
    h.market(CE, Side::Sell, 65, Product::Nrml).unwrap();
    let e = h.market(CE, Side::Sell, 65, Product::Nrml).unwrap_err();
    assert!(matches!(e.reason, Reject::InsufficientFunds { .. }), "{e}");
    let put = h.market(PE, Side::Sell, 65, Product::Nrml);
    assert!(put.is_ok(), "{put:?}: one leg {one}, straddle {straddle}");
    let req = h.e.requirement(A);
    assert_eq!(req.span + req.exposure, straddle);
}

#[test]
fn funds_are_the_ledger_and_kite_margins_add_up() {
    let mut h = market_open();
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.book(CE, 20_000, 20_100, 1000);
    h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    h.market(CE, Side::Sell, 65, Product::Nrml).unwrap();
    h.wait(1);
    h.book(FUT, 2_590_000, 2_590_100, 1000);
    let f = h.e.funds(A).unwrap();
    let ledger: i64 =
        h.e.account(A)
            .unwrap()
            .ledger
            .iter()
            .map(|e| e.amount)
            .sum();
    assert_eq!(f.ledger_balance, ledger);
    // Open loss on the future: bought at the ask 26,001.00, last price now the mid 25,900.50:
    // (25,900.50 − 26,001.00) × 65 = −6,532.50.
    assert_eq!(f.m2m_unrealised, 653_250);
    assert_eq!(f.net, ledger - f.span - f.exposure - f.m2m_unrealised);
    assert_eq!(
        f.debits,
        f.span
            + f.exposure
            + f.option_premium
            + f.m2m_realised
            + f.m2m_unrealised
            + f.charges
            + f.settlement
    );
    assert_eq!(f.cash + f.intraday_payin - f.debits, f.net);
}

#[test]
fn mis_positions_are_flat_after_the_square_off_and_the_ledger_shows_it() {
    let mut h = Harness::new(ist(DAY, 15, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.book(CE, 20_000, 20_100, 1000);
    h.market(FUT, Side::Buy, 65, Product::Mis).unwrap();
    h.market(CE, Side::Sell, 130, Product::Mis).unwrap();
    let resting = h.limit(CE, Side::Buy, 65, 10_000, Product::Mis).unwrap();
    h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    // 15:20: square-off orders go out, the resting MIS order is cancelled.
    h.clock(ist(DAY, 15, 20, 0));
    assert_eq!(h.e.order(resting).unwrap().status, Status::Cancelled);
    h.book(FUT, 2_601_000, 2_601_100, 1000);
    h.book(CE, 19_000, 19_100, 1000);
    assert_eq!(h.position_qty(FUT, Product::Mis), 0);
    assert_eq!(h.position_qty(CE, Product::Mis), 0);
    assert_eq!(
        h.position_qty(FUT, Product::Nrml),
        65,
        "NRML is not squared off"
    );
    let acc = h.e.account(A).unwrap();
    let sq: Vec<_> = acc
        .orders
        .iter()
        .filter_map(|i| h.e.order(*i))
        .filter(|o| o.system)
        .collect();
    assert_eq!(sq.len(), 2);
    assert!(sq.iter().all(|o| o.tag.as_deref() == Some("SQUAREOFF")));
    // The future closed at the bid 26,010.00: +9.00 × 65 booked; the calls bought back at the ask.
    let pnl: Vec<i64> = acc
        .ledger
        .iter()
        .filter(|e| e.kind == EntryKind::FuturesPnl)
        .map(|e| e.amount)
        .collect();
    assert_eq!(pnl, vec![900 * 65]);
    assert!(
        acc.ledger
            .iter()
            .any(|e| e.kind == EntryKind::Premium && e.amount == -130 * 19_100)
    );
    // New MIS orders are refused after the cut-off.
    let e = h.market(CE, Side::Buy, 65, Product::Mis).unwrap_err();
    assert_eq!(
        e.reason.to_string(),
        "new MIS orders are not accepted after 15:20 IST; use NRML"
    );
    h.assert_replays();
}

#[test]
fn mis_square_off_without_fresh_quotes_closes_at_the_last_price_at_the_close() {
    let mut h = Harness::new(ist(DAY, 15, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.market(FUT, Side::Buy, 65, Product::Mis).unwrap();
    h.clock(ist(DAY, 15, 31, 0));
    assert_eq!(h.position_qty(FUT, Product::Mis), 0);
    let t = h.e.account(A).unwrap().trades.last().unwrap().clone();
    assert_eq!((t.basis, t.price), (FillBasis::Ltp, 2_600_050));
}

#[test]
fn itm_index_call_held_to_expiry_settles_at_intrinsic_and_otm_expires_worthless() {
    let day = "2026-12-29"; // the December monthly expiry (Tuesday)
    let mut h = Harness::new(ist(day, 10, 0, 0), LAKH10);
    let itm = "NIFTY26DEC25800CE";
    let otm = "NIFTY26DEC26500CE";
    h.ltp(SPOT, 2_600_000);
    h.book(itm, 22_000, 22_100, 1000);
    h.book(otm, 500, 505, 1000);
    h.market(itm, Side::Buy, 65, Product::Nrml).unwrap();
    h.market(otm, Side::Buy, 65, Product::Nrml).unwrap();
    h.clock(ist(day, 15, 29, 30));
    h.ltp(SPOT, 2_601_234); // the underlying's close: 26,012.34
    let before = h.balance();
    h.clock(ist(day, 15, 30, 0));
    assert_eq!(h.position_qty(itm, Product::Nrml), 0);
    assert_eq!(h.position_qty(otm, Product::Nrml), 0);
    let acc = h.e.account(A).unwrap();
    let settle: Vec<i64> = acc
        .ledger
        .iter()
        .filter(|e| e.kind == EntryKind::ExpirySettlement)
        .map(|e| e.amount)
        .collect();
    // Intrinsic 26,012.34 − 25,800 = 212.34 × 65 = 13,802.10; the OTM call pays nothing.
    assert_eq!(settle, vec![1_380_210]);
    // Exercise STT 0.15 % of 13,802.10 = 20.70315 → 20.70.
    let stt: Vec<i64> = acc
        .ledger
        .iter()
        .filter(|e| e.kind == EntryKind::Charges && e.narration.contains("exercise"))
        .map(|e| e.amount)
        .collect();
    assert_eq!(stt, vec![-2070]);
    assert_eq!(h.balance() - before, 1_380_210 - 2070);
    assert!(
        h.e.account(A)
            .unwrap()
            .trades
            .iter()
            .any(|t| t.basis == FillBasis::Settlement && t.tradingsymbol == otm && t.price == 0)
    );
    // The contract is expired now.
    h.clock(ist("2026-12-30", 10, 0, 0));
    h.ltp(itm, 100);
    let e = h.market(itm, Side::Buy, 65, Product::Nrml).unwrap_err();
    assert_eq!(
        e.reason.to_string(),
        "NIFTY26DEC25800CE expired on 2026-12-29"
    );
    h.assert_replays();
}

#[test]
fn futures_settle_at_the_final_settlement_price() {
    let day = "2026-12-29";
    let mut h = Harness::new(ist(day, 10, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.market(FUT, Side::Sell, 65, Product::Nrml).unwrap(); // short at 26,000.00
    h.clock(ist(day, 15, 25, 0));
    h.ltp(SPOT, 2_595_000);
    h.clock(ist(day, 15, 30, 0));
    assert_eq!(h.position_qty(FUT, Product::Nrml), 0);
    let pnl: i64 =
        h.e.account(A)
            .unwrap()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::FuturesPnl)
            .map(|e| e.amount)
            .sum();
    assert_eq!(pnl, 65 * 5_000, "short 26,000 settled at 25,950");
}

#[test]
fn regular_orders_need_an_open_market_and_amos_wait_for_the_open() {
    let mut h = Harness::new(ist(DAY, 8, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h.book(CE, 20_000, 20_100, 1000);
    let e = h.market(CE, Side::Buy, 65, Product::Nrml).unwrap_err();
    assert_eq!(e.reason, Reject::MarketClosed);
    let mut r = OrderRequest::new(A, CE, Side::Buy, 65, OrderType::Market, Product::Nrml);
    r.variety = Variety::Amo;
    let id = h.place(r.clone()).unwrap()[0];
    assert_eq!(h.e.order(id).unwrap().status, Status::AmoReqReceived);
    h.clock(ist(DAY, 9, 15, 0));
    assert_eq!(h.e.order(id).unwrap().status, Status::Open);
    h.book(CE, 20_500, 20_600, 1000);
    assert_eq!(h.e.order(id).unwrap().filled_value, 65 * 20_600);
    let e = h.place(r).unwrap_err();
    assert_eq!(e.reason, Reject::AmoDuringSession);
    // A weekend is closed too.
    h.clock(ist("2026-12-05", 11, 0, 0));
    assert_eq!(
        h.market(CE, Side::Buy, 65, Product::Nrml)
            .unwrap_err()
            .reason,
        Reject::MarketClosed
    );
    h.assert_replays();
}

#[test]
fn day_orders_end_at_the_close_and_ttl_orders_after_their_minutes() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    let day = h.limit(CE, Side::Buy, 65, 10_000, Product::Nrml).unwrap();
    let mut r = OrderRequest::new(A, CE, Side::Buy, 65, OrderType::Limit, Product::Nrml);
    r.price = Some(10_000);
    r.validity = Validity::Ttl;
    r.validity_ttl = Some(5);
    let ttl = h.place(r).unwrap()[0];
    h.clock(ist(DAY, 10, 4, 59));
    assert_eq!(h.e.order(ttl).unwrap().status, Status::Open);
    h.clock(ist(DAY, 10, 5, 0));
    assert_eq!(h.e.order(ttl).unwrap().status, Status::Cancelled);
    assert_eq!(h.e.order(day).unwrap().status, Status::Open);
    h.clock(ist(DAY, 15, 30, 0));
    let o = h.e.order(day).unwrap();
    assert_eq!(o.status, Status::Cancelled);
    assert_eq!(
        o.status_message.as_deref(),
        Some("order expired at the close of the session")
    );
    h.assert_replays();
}

#[test]
fn mis_converts_to_nrml_and_escapes_the_square_off() {
    let mut h = market_open();
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.market(FUT, Side::Buy, 130, Product::Mis).unwrap();
    h.cmd(Command::Convert {
        account: A,
        tradingsymbol: FUT.into(),
        from: Product::Mis,
        to: Product::Nrml,
        quantity: 65,
    })
    .unwrap();
    assert_eq!(h.position_qty(FUT, Product::Mis), 65);
    assert_eq!(h.position_qty(FUT, Product::Nrml), 65);
    let p = &h.e.account(A).unwrap().positions[&(FUT.into(), Product::Nrml)];
    assert_eq!(
        p.average_price(),
        2_600_100.0,
        "the cost moves with the quantity"
    );
    let e = h
        .cmd(Command::Convert {
            account: A,
            tradingsymbol: FUT.into(),
            from: Product::Mis,
            to: Product::Nrml,
            quantity: 130,
        })
        .unwrap_err();
    assert!(matches!(
        e.reason,
        Reject::NothingToConvert { have: 65, .. }
    ));
    h.clock(ist(DAY, 15, 20, 0));
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    assert_eq!(h.position_qty(FUT, Product::Mis), 0);
    assert_eq!(h.position_qty(FUT, Product::Nrml), 65);
    h.assert_replays();
}

#[test]
fn positions_carry_over_with_kite_fields() {
    let mut h = market_open();
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    h.wait(60);
    h.ltp(FUT, 2_605_000);
    h.clock(ist("2026-12-03", 9, 15, 0));
    let p = h.e.account(A).unwrap().positions[&(FUT.into(), Product::Nrml)].clone();
    assert_eq!(p.overnight_quantity, 65);
    assert_eq!(p.close_price, Some(2_605_000));
    assert_eq!(p.day_buy_quantity, 0);
    // m2m from yesterday's close, pnl from the average.
    assert_eq!(p.m2m(2_606_000), 65 * 1_000);
    assert_eq!(p.pnl(2_606_000), 65 * 5_900);
    h.assert_replays();
}

#[test]
fn cnc_sells_need_holdings_and_equities_cannot_be_nrml() {
    let mut h = market_open();
    h.book("RELIANCE", 150_000, 150_010, 1000);
    let e = h
        .market("RELIANCE", Side::Sell, 10, Product::Cnc)
        .unwrap_err();
    assert!(matches!(
        e.reason,
        Reject::InsufficientHoldings { held: 0, .. }
    ));
    h.market("RELIANCE", Side::Buy, 10, Product::Cnc).unwrap();
    assert_eq!(
        h.balance(),
        LAKH10
            - 10 * 150_010
            - h.e
                .account(A)
                .unwrap()
                .ledger
                .iter()
                .filter(|e| e.kind == EntryKind::Charges)
                .map(|e| -e.amount)
                .sum::<i64>()
    );
    assert!(h.market("RELIANCE", Side::Sell, 10, Product::Cnc).is_ok());
    let e = h
        .market("RELIANCE", Side::Buy, 10, Product::Nrml)
        .unwrap_err();
    assert!(matches!(e.reason, Reject::ProductNotAllowed { .. }));
}

#[test]
fn bad_symbols_and_untradable_instruments_are_refused_clearly() {
    let mut h = market_open();
    let e = h
        .market("NIFTY25XYZFUT", Side::Buy, 65, Product::Nrml)
        .unwrap_err();
    assert!(e.reason.to_string().contains("unknown month"), "{e}");
    let e = h.market(SPOT, Side::Buy, 65, Product::Nrml).unwrap_err();
    assert!(
        e.reason.to_string().contains("index is not a tradable"),
        "{e}"
    );
    let e = h
        .market("RELIANCE26DECFUT", Side::Buy, 500, Product::Nrml)
        .unwrap_err();
    assert!(
        e.reason.to_string().contains("no contract specification"),
        "{e}"
    );
    let e = h.market(CE, Side::Buy, 65, Product::Nrml).unwrap_err();
    assert_eq!(
        e.reason.to_string(),
        "no market data for NIFTY26DEC26000CE yet: cannot price the order"
    );
    let e = h
        .cmd(Command::Place(OrderRequest::new(
            B,
            CE,
            Side::Buy,
            65,
            OrderType::Market,
            Product::Nrml,
        )))
        .unwrap_err();
    assert!(matches!(e.reason, Reject::UnknownAccount { .. }));
    assert_eq!(e.order_id, None);
}

#[test]
fn replaying_a_log_twice_changes_nothing() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    h.limit(CE, Side::Sell, 65, 30_000, Product::Nrml).unwrap();
    let doubled: Vec<_> = h.log.iter().chain(h.log.iter()).cloned().collect();
    let r = stocksblitz_broker::Engine::replay(h.e.config().clone(), &doubled);
    assert_eq!(r.state(), h.e.state());
    // Events serialise and come back the same (the server stores them as JSON).
    let text = serde_json::to_string(&h.log).unwrap();
    let back: Vec<stocksblitz_broker::Event> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, h.log);
    assert!(
        h.log
            .iter()
            .any(|e| matches!(e.body, EventBody::Trade { .. }))
    );
}

#[test]
fn reset_starts_the_account_again() {
    let mut h = market_open();
    h.book(CE, 20_000, 20_100, 1000);
    h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    h.cmd(Command::ResetAccount {
        account: A,
        opening_balance: 50_000_000,
    })
    .unwrap();
    let acc = h.e.account(A).unwrap();
    assert_eq!(acc.balance, 50_000_000);
    assert!(acc.positions.is_empty() && acc.orders.is_empty() && acc.trades.is_empty());
    assert_eq!(acc.ledger.len(), 1);
    h.assert_replays();
}

#[test]
fn without_a_closing_price_expiry_waits_for_the_settlement_price() {
    // The feed died at 11:00 on expiry day: the 11:00 price is not the final settlement price.
    let day = "2026-12-29";
    let mut h = Harness::new(ist(day, 10, 0, 0), LAKH10);
    h.ltp(SPOT, 2_600_000);
    h.book(FUT, 2_600_000, 2_600_100, 1000);
    h.book(CE, 5_000, 5_010, 1000);
    h.market(FUT, Side::Buy, 65, Product::Nrml).unwrap();
    h.market(CE, Side::Buy, 65, Product::Nrml).unwrap();
    h.clock(ist(day, 11, 0, 0));
    h.ltp(SPOT, 2_620_000);
    h.clock(ist(day, 15, 30, 0));
    assert_eq!(
        h.position_qty(FUT, Product::Nrml),
        65,
        "not settled at a stale price"
    );
    assert_eq!(
        h.e.pending_settlements(),
        vec![(
            "NIFTY".into(),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 29).unwrap()
        )]
    );
    // Too early is refused; after the expiry the server supplies the close from its store.
    let early = h.e.handle(
        ist(day, 15, 29, 0),
        Command::SettleExpiry {
            underlying: "NIFTY".into(),
            expiry: chrono::NaiveDate::from_ymd_opt(2026, 12, 29).unwrap(),
            price: 2_610_000,
        },
    );
    assert!(early.0.is_err());
    h.clock(ist("2026-12-30", 9, 0, 0));
    h.cmd(Command::SettleExpiry {
        underlying: "NIFTY".into(),
        expiry: chrono::NaiveDate::from_ymd_opt(2026, 12, 29).unwrap(),
        price: 2_610_000,
    })
    .unwrap();
    assert_eq!(h.position_qty(FUT, Product::Nrml), 0);
    assert_eq!(h.position_qty(CE, Product::Nrml), 0);
    assert!(h.e.pending_settlements().is_empty());
    let acc = h.e.account(A).unwrap();
    let fut_pnl: i64 = acc
        .ledger
        .iter()
        .filter(|e| e.kind == EntryKind::FuturesPnl)
        .map(|e| e.amount)
        .sum();
    // Bought at 26,001.00, settled at 26,100.00: +99.00 × 65.
    assert_eq!(fut_pnl, 9_900 * 65);
    // The 26,000 call: intrinsic 100.00 × 65 = 6,500.00.
    assert!(
        acc.ledger
            .iter()
            .any(|e| e.kind == EntryKind::ExpirySettlement && e.amount == 650_000)
    );
    h.assert_replays();
}

#[test]
fn a_placement_retried_with_its_idempotency_key_places_nothing_twice() {
    let mut h = market_open();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let keyed = |qty| {
        let mut r = OrderRequest::new(A, FUT, Side::Buy, qty, OrderType::Market, Product::Nrml);
        r.idempotency_key = Some("retry-1".into());
        r
    };
    let first = h.place(keyed(65)).unwrap();
    // The retry (even with a different body, as Stripe-style keys promise) answers the first
    // placement's order and fills nothing more.
    let again = h.place(keyed(130)).unwrap();
    assert_eq!(first, again);
    let acc = h.e.account(A).unwrap();
    assert_eq!(acc.orders.len(), 1);
    assert_eq!(acc.trades.len(), 1);
    assert_eq!(acc.positions.values().map(|p| p.quantity).sum::<i64>(), 65);
    // The key is remembered through a replay (a restart) …
    let mut replayed = stocksblitz_broker::Engine::replay(h.e.config().clone(), &h.log);
    let (r, ev) = replayed.handle(h.now, Command::Place(keyed(65)));
    assert!(
        ev.is_empty(),
        "a replayed engine placed the retry again: {ev:?}"
    );
    assert_eq!(r.unwrap(), Reply::Orders(first.clone()));
    // … is per account (B's same key is a new order) …
    h.cmd(Command::OpenAccount {
        account: B,
        opening_balance: LAKH10,
    })
    .unwrap();
    let mut for_b = keyed(65);
    for_b.account = B;
    assert_ne!(h.place(for_b).unwrap(), first);
    // … and forgotten after 24 hours.
    h.wait(24 * 3600 + 1);
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    assert_ne!(h.place(keyed(65)).unwrap(), first);
    // A key too long is refused before anything is recorded.
    let mut long = keyed(65);
    long.idempotency_key = Some("k".repeat(129).into());
    let n = h.e.account(A).unwrap().orders.len();
    assert!(h.place(long).is_err());
    assert_eq!(h.e.account(A).unwrap().orders.len(), n);
    h.assert_replays();
}

#[test]
fn a_rejected_keyed_placement_is_evaluated_again_on_retry() {
    // A rejection changes nothing but the order book, so a retry with the key is judged anew
    // (the server returns the first answer it stored; this is the engine's part).
    let mut h = market_open();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let mut r = OrderRequest::new(A, FUT, Side::Buy, 50, OrderType::Market, Product::Nrml);
    r.idempotency_key = Some("k".into());
    assert!(h.place(r.clone()).is_err());
    r.quantity = 65;
    assert!(h.place(r).is_ok());
}

#[test]
fn order_history_has_one_row_per_change() {
    let mut h = market_open();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let id = h
        .limit(FUT, Side::Buy, 65, 2_600_000, Product::Nrml)
        .unwrap();
    h.cmd(Command::Modify {
        account: A,
        order_id: id,
        changes: OrderChanges {
            price: Some(2_610_500),
            ..OrderChanges::default()
        },
    })
    .unwrap();
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let hist = h.e.order_history(id);
    let statuses: Vec<Status> = hist.iter().map(|o| o.status).collect();
    assert_eq!(statuses.first(), Some(&Status::Open));
    assert_eq!(statuses.last(), Some(&Status::Complete));
    assert!(hist.iter().any(|o| o.price == 2_600_000));
    assert!(hist.iter().any(|o| o.price == 2_610_500));
    let replayed = stocksblitz_broker::Engine::replay(h.e.config().clone(), &h.log);
    assert_eq!(replayed.order_history(id), hist);
}

#[test]
fn a_clock_that_jumps_days_still_rolls_and_settles_at_expiry() {
    // The demo clock jumps: 2026-12-02 10:00 → 2026-12-08 15:10 (the weekly expiry, a
    // Tuesday) → 15:30:30. The index quote at 15:10 is in the closing half hour.
    const WEEKLY_CE: &str = "NIFTY26D0826000CE";
    let mut h = market_open();
    h.ltp(WEEKLY_CE, 15_000);
    h.market(WEEKLY_CE, Side::Buy, 65, Product::Nrml).unwrap();
    h.clock(ist("2026-12-08", 15, 10, 0));
    h.ltp(SPOT, 2_610_000);
    h.clock(ist("2026-12-08", 15, 30, 30));
    let acc = h.e.account(A).unwrap();
    let p = acc.positions.values().next().unwrap();
    assert_eq!(p.quantity, 0, "settled at expiry");
    let t = acc.trades.last().unwrap();
    assert_eq!(t.basis, FillBasis::Settlement);
    assert_eq!(t.price, 10_000, "intrinsic 26,100 − 26,000 = 100.00");
    h.assert_replays();
}

#[test]
fn the_clock_says_when_it_next_has_work() {
    let mut h = market_open(); // 10:00 on a trading day
    let due = h.e.next_due().unwrap();
    assert_eq!(due, ist(DAY, 15, 20, 0), "the square-off is next");
    // A TTL order expiring earlier comes first.
    h.book(FUT, 2_610_000, 2_610_500, 1000);
    let mut r = OrderRequest::new(A, FUT, Side::Buy, 65, OrderType::Limit, Product::Nrml);
    r.price = Some(2_500_000);
    r.validity = Validity::Ttl;
    r.validity_ttl = Some(5);
    h.place(r).unwrap();
    assert_eq!(h.e.next_due(), Some(ist(DAY, 10, 5, 0)));
}
