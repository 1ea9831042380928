use std::collections::HashMap;

use chrono::NaiveDate;
use stocksblitz_symbols::Right;

use super::*;
use crate::decode::Decoder;
use crate::greeks::{DEFAULT_RATE, years_to_expiry};
use crate::session::ist_midnight_ms;
use crate::tick::TickKind;

fn at(y: i32, m: u32, d: u32, hh: i64, mm: i64, ss: i64) -> i64 {
    ist_midnight_ms(NaiveDate::from_ymd_opt(y, m, d).unwrap()) + ((hh * 60 + mm) * 60 + ss) * 1000
}

fn index_price(payloads: &[(String, Vec<u8>)], name: &str, now: i64) -> f64 {
    payloads
        .iter()
        .map(|(_, p)| Decoder.decode(p, now).unwrap())
        .find(|t| t.kind == TickKind::Index && t.tradingsymbol == name)
        .unwrap()
        .price
}

fn all_bars(fill: &Fill) -> Vec<Bar> {
    fill.chunks(50)
        .into_iter()
        .flat_map(|c| fill.bars(c))
        .collect()
}

fn index_closes(fill: &Fill, name: &str) -> Vec<(i64, f64)> {
    let mut v: Vec<(i64, f64)> = all_bars(fill)
        .into_iter()
        .filter(|b| b.instrument == name)
        .map(|b| (b.start, b.close))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

/// Started mid-session (Wed 2026-12-02 12:35:30 IST) with two days of history: every session
/// minute from two sessions back to 12:34 is a complete bar, 12:35 is the forming bar, and the
/// first live price continues the last bar.
#[test]
fn history_covers_every_session_minute_and_ends_where_live_begins() {
    let now = at(2026, 12, 2, 12, 35, 30);
    let anchor = at(2026, 11, 30, 9, 15, 0);
    let mut sim = Simulator::new(42, anchor);
    let fill = sim.fill_to(now);
    assert_eq!(
        fill.days(),
        [
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        ]
    );
    let today_minutes = (12 * 60 + 35) - (9 * 60 + 15);
    assert_eq!(fill.minutes(), 2 * 375 + today_minutes as usize);
    let closes = index_closes(&fill, "NIFTY 50");
    assert_eq!(closes.len(), fill.minutes());
    // No session minute missing: consecutive within a day, 09:15 … 15:29.
    for w in closes.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(gap == 60 || gap > 15 * 3600, "gap of {gap} s at {}", w[0].0);
    }
    // The forming minute: 12:35 from 12:35:00, a bar for every listed instrument.
    let forming: Vec<&Bar> = fill.forming.iter().map(|(b, _)| b).collect();
    assert_eq!(forming.len(), sim.listed().len());
    assert!(
        forming
            .iter()
            .all(|b| b.start * 1000 == at(2026, 12, 2, 12, 35, 0))
    );
    let nifty = forming.iter().find(|b| b.instrument == "NIFTY 50").unwrap();
    let last_close = closes.last().unwrap().1;
    assert_eq!(
        nifty.open, last_close,
        "the forming bar opens at the last close"
    );
    // Live continues: the first round's price is the forming bar's close moved by ≤ 1 s.
    let live = index_price(&sim.round(now + 1000), "NIFTY 50", now + 1000);
    let sd = minute_sd(0.13);
    assert!(
        (live / nifty.close).ln().abs() < 6.0 * sd,
        "live {live} vs {}",
        nifty.close
    );
}

/// The walk moves only in session time: closes across the night and across days never jump
/// more than a normal bar's move (6 standard deviations of a 1-minute log move).
#[test]
fn closes_never_jump_more_than_a_normal_bar() {
    let mut sim = Simulator::new(7, at(2026, 11, 23, 9, 15, 0));
    let fill = sim.fill_to(at(2026, 12, 2, 15, 30, 0));
    for u in UNDERLYINGS {
        let name = stocksblitz_symbols::find_index(u.name).unwrap().display;
        let closes = index_closes(&fill, name);
        assert!(closes.len() > 6 * 375);
        let bound = 6.0 * minute_sd(u.vol);
        let worst = closes
            .windows(2)
            .map(|w| (w[1].1 / w[0].1).ln().abs())
            .fold(0.0, f64::max);
        assert!(
            worst < bound,
            "{name}: worst 1-minute move {worst} vs {bound}"
        );
        assert!(
            worst > 0.5 * minute_sd(u.vol),
            "{name}: the walk does not move"
        );
    }
}

/// A restart continues from the stored prices: resuming from the last bars of a fill gives
/// live prices next to them, and a second fill from there has no gap.
#[test]
fn resume_continues_from_the_stored_prices() {
    let mut sim = Simulator::new(9, at(2026, 12, 1, 9, 15, 0));
    let fill = sim.fill_to(at(2026, 12, 1, 13, 0, 0));
    let last = index_closes(&fill, "NIFTY BANK");
    let (end_start, end_close) = *last.last().unwrap();
    let mut r = Resume {
        at_ms: (end_start + 60) * 1000,
        ..Resume::default()
    };
    r.spots.insert("BANKNIFTY".into(), end_close);
    // 26 seconds of downtime, then the missed minute is filled and live resumes.
    let mut again = Simulator::resume(5, &r);
    let now = at(2026, 12, 1, 13, 1, 26);
    let refill = again.fill_to(now);
    let closes = index_closes(&refill, "NIFTY BANK");
    assert_eq!(closes.len(), 1, "the minute the restart missed");
    assert_eq!(closes[0].0, end_start + 60);
    let bound = 6.0 * minute_sd(0.15);
    assert!((closes[0].1 / end_close).ln().abs() < bound);
    let live = index_price(&again.round(now + 500), "NIFTY BANK", now + 500);
    assert!((live / closes[0].1).ln().abs() < 2.0 * bound);
    // Underlyings the history does not have start at their levels.
    assert!((again.spots()[0] / UNDERLYINGS[0].level).ln().abs() < 0.01);
}

/// Every quote has a book on the grid that the last trade is at, sizes in lots, volume that
/// grows by the trade sizes, and the index none.
#[test]
fn rounds_carry_a_book_and_trades() {
    let now = at(2026, 12, 1, 10, 30, 0);
    let mut sim = Simulator::new(3, now - 60_000);
    let first = sim.round(now);
    let second = sim.round(now + 1000);
    let decode = |ps: &[(String, Vec<u8>)], t: i64| -> HashMap<String, crate::Tick> {
        ps.iter()
            .map(|(_, p)| Decoder.decode(p, t).unwrap())
            .map(|t| (t.tradingsymbol.to_string(), t))
            .collect()
    };
    let (a, b) = (decode(&first, now), decode(&second, now + 1000));
    let mut options = 0;
    for (ts, t) in &b {
        if t.kind == TickKind::Index {
            assert!(!t.has_book() && t.last_quantity.is_none());
            continue;
        }
        let ask = t.ask.unwrap();
        let Some(bid) = t.bid else {
            // Worth less than a tick: only the minimum offer, traded there.
            assert!(
                ask == 0.05 && t.price == ask && t.kind == TickKind::Option,
                "{ts}"
            );
            continue;
        };
        assert!(bid < ask && bid >= 0.05, "{ts}: {bid} {ask}");
        assert!(
            t.price == bid || t.price == ask,
            "{ts}: last trade off the touch"
        );
        if let (Some(k), Some(r)) = (t.strike, t.right) {
            let spot = sim.spots()[UNDERLYINGS
                .iter()
                .position(|u| u.name == t.underlying)
                .unwrap()];
            let intr = match r {
                Right::Call => spot - k,
                Right::Put => k - spot,
            };
            // Never below the forward's discounted intrinsic value (≤ the spot's for a call).
            if r == Right::Call {
                assert!(
                    t.price >= intr - 1e-9,
                    "{ts}: {} below intrinsic {intr}",
                    t.price
                );
            }
        }
        let lot = u64::from(t.lot_size.unwrap());
        let q = t.last_quantity.unwrap();
        assert!(q > 0 && q % lot == 0);
        assert!(t.bid_qty.unwrap() % lot == 0 && t.ask_qty.unwrap() % lot == 0);
        assert_eq!(t.volume.unwrap(), a[ts].volume.unwrap() + q, "{ts}");
        options += usize::from(t.kind == TickKind::Option);
        assert!(t.oi.unwrap() >= lot);
    }
    assert!(options > 250, "{options} two-sided option books");
}

/// Same seed, same instants: the same payloads.
#[test]
fn reproducible() {
    let t0 = at(2026, 12, 1, 9, 15, 0);
    let run = || {
        let mut s = Simulator::new(11, t0);
        let f = s.fill_to(t0 + 3_600_000);
        (index_closes(&f, "SENSEX"), s.round(t0 + 3_601_000))
    };
    assert_eq!(run(), run());
}

#[test]
fn option_prices_respect_put_call_parity() {
    let now = at(2025, 11, 3, 10, 30, 0);
    let mut sim = Simulator::new(7, now - 60_000);
    let ticks: HashMap<String, crate::Tick> = sim
        .round(now)
        .iter()
        .map(|(_, p)| Decoder.decode(p, now).unwrap())
        .map(|t| (t.tradingsymbol.to_string(), t))
        .collect();
    let spot = sim.spots()[0];
    let strike = ((spot / 50.0).round() * 50.0) as i64;
    let mid = |ts: &str| {
        let t = &ticks[ts];
        (t.bid.unwrap() + t.ask.unwrap()) / 2.0
    };
    let call = format!("NIFTY25NOV{strike}CE");
    let put = format!("NIFTY25NOV{strike}PE");
    let t = years_to_expiry(ticks[&call].expiry.unwrap(), now).unwrap();
    let forward = spot * (DEFAULT_RATE * t).exp();
    let parity = (-DEFAULT_RATE * t).exp() * (forward - strike as f64);
    let gap = mid(&call) - mid(&put) - parity;
    assert!(gap.abs() < 0.1, "C−P mids off parity by {gap}");
}

#[test]
fn lot_sizes_come_from_the_contract_table() {
    let now = at(2026, 12, 1, 10, 30, 0);
    let mut sim = Simulator::new(7, now);
    let mut seen = std::collections::BTreeMap::new();
    for (_, p) in sim.round(now) {
        let t = Decoder.decode(&p, now).unwrap();
        if t.kind != TickKind::Index {
            seen.insert(t.underlying.to_string(), (t.lot_size, t.tick_size));
        }
    }
    assert_eq!(seen["NIFTY"], (Some(65), Some(0.05)));
    assert_eq!(seen["BANKNIFTY"], (Some(30), Some(0.05)));
    assert_eq!(seen["FINNIFTY"], (Some(60), Some(0.05)));
    assert_eq!(seen["SENSEX"], (Some(20), Some(0.05)));
}

/// Options expiring today are listed until their expiry and then left out of rounds and bars;
/// a new day lists the next series.
#[test]
fn expired_contracts_leave_and_the_next_series_is_listed() {
    // Tuesday 2026-12-01 is a NIFTY weekly expiry.
    let mut sim = Simulator::new(1, at(2026, 12, 1, 15, 0, 0));
    let expiring = |ps: &[(String, Vec<u8>)], t: i64| {
        ps.iter()
            .map(|(_, p)| Decoder.decode(p, t).unwrap())
            .filter(|t| t.tradingsymbol.starts_with("NIFTY26D01"))
            .count()
    };
    let t1 = at(2026, 12, 1, 15, 29, 0);
    assert!(expiring(&sim.round(t1), t1) > 0);
    let fill = sim.fill_to(at(2026, 12, 2, 9, 20, 0));
    let chunks = fill.chunks(1000);
    assert_eq!(
        fill.day_of(*chunks.last().unwrap()),
        NaiveDate::from_ymd_opt(2026, 12, 2)
    );
    let last_day: Vec<Bar> = fill.bars(*chunks.last().unwrap());
    assert!(
        last_day
            .iter()
            .all(|b| !b.instrument.starts_with("NIFTY26D01"))
    );
    assert!(
        last_day
            .iter()
            .any(|b| b.instrument.starts_with("NIFTY26D15"))
    );
    let t2 = at(2026, 12, 2, 9, 21, 0);
    assert_eq!(expiring(&sim.round(t2), t2), 0);
}

/// The simulator's rounds valued by the snapshot, on an ordinary day and on an expiry day
/// (2026-12-01 13:25 IST, the case reported in issue 14): every option has greeks, and the
/// IVs from the mids are the simulator's smile.
#[test]
fn every_option_has_greeks_and_ivs_match_the_simulator_s_smile() {
    use crate::smile::calendar_ok;
    use crate::snapshot::{IvSource, Snapshot};
    for now in [at(2026, 11, 26, 11, 0, 0), at(2026, 12, 1, 13, 25, 0)] {
        let mut sim = Simulator::new(42, now - 60_000);
        let mut snap = Snapshot::default();
        for (_, p) in sim.round(now) {
            snap.apply(&Decoder.decode(&p, now).unwrap());
        }
        for (u, und) in UNDERLYINGS.iter().enumerate() {
            let spot = sim.spots()[u];
            let view = snap.underlying(und.name).unwrap();
            let nearest = view.options.iter().filter_map(|o| o.expiry).min().unwrap();
            let mut checked = 0;
            for o in view.options.iter().filter(|o| o.expiry == Some(nearest)) {
                let g = o
                    .greeks
                    .unwrap_or_else(|| panic!("{} has no greeks", o.tradingsymbol));
                let (k, right) = (o.strike.unwrap(), o.right.unwrap());
                let t = years_to_expiry(nearest, now).unwrap();
                let forward = spot * (DEFAULT_RATE * t).exp();
                let itm = match right {
                    Right::Call => forward - k,
                    Right::Put => k - forward,
                };
                if t < 1.0 / 365.0 && itm > 0.01 * forward {
                    assert!(
                        (g.delta.abs() - 1.0).abs() < 0.02,
                        "{}: {g:?}",
                        o.tradingsymbol
                    );
                }
                // Quoted on both sides above the minimum tick, the mid is within half a tick
                // of the model's price: where vega per vol point is ≥ 0.05 that moves the IV by
                // at most half a vol point. (A minimum-tick bid says only that the option is
                // worth less than a tick or two — of itself, or of the other option of the
                // strike when the forward came from parity.)
                let two_sided = |q: &crate::snapshot::Quote| q.bid.is_some_and(|b| b > 0.05 + 1e-9);
                let partner = view
                    .options
                    .iter()
                    .find(|p| p.strike == o.strike && p.expiry == o.expiry && p.right != o.right);
                let parity = matches!(
                    o.iv_source,
                    Some(IvSource::Market {
                        forward: crate::snapshot::ForwardBasis::Parity,
                        ..
                    })
                );
                if let (Some(IvSource::Market { .. }), Some(iv)) = (o.iv_source, g.iv)
                    && g.vega >= 0.05
                    && two_sided(o)
                    && (!parity || partner.is_some_and(|p| two_sided(p)))
                {
                    let truth = smile_vol(und.vol, forward, k);
                    assert!(
                        (iv - truth).abs() < 0.005,
                        "{}: iv {iv} vs {truth}",
                        o.tradingsymbol
                    );
                    checked += 1;
                }
            }
            assert!(checked >= 5, "{}: only {checked} options checked", und.name);
            let mut expiries: Vec<NaiveDate> =
                view.options.iter().filter_map(|o| o.expiry).collect();
            expiries.sort();
            expiries.dedup();
            let mut fits = Vec::new();
            for e in &expiries {
                let smile = snap.smile(und.name, *e, now).unwrap();
                let fit = smile.fit.clone().unwrap();
                let strikes: Vec<f64> = smile.points.iter().map(|p| p.strike).collect();
                assert!(fit.rmse < 0.005, "{} {e}: rmse {}", und.name, fit.rmse);
                assert!(fit.butterfly_ok(&strikes), "{} {e}: {fit:?}", und.name);
                assert!(smile.points.iter().all(|p| p.iv.is_some()));
                fits.push(fit);
            }
            let ks: Vec<f64> = (-10..=10)
                .map(|i| (1.0 + f64::from(i) * 0.002f64).ln())
                .collect();
            assert!(calendar_ok(&fits, &ks), "{}: calendar arbitrage", und.name);
        }
    }
}

/// A hole between two stored stretches is bridged: the filled minutes start at the price
/// before the hole and end at the price after it, without a jump at either seam.
#[test]
fn holes_are_bridged_to_the_prices_on_both_sides() {
    let mut sim = Simulator::new(21, at(2026, 11, 30, 9, 15, 0));
    let before = sim.fill_to(at(2026, 11, 30, 11, 0, 0));
    let (last_start, last_close) = *index_closes(&before, "NIFTY 50").last().unwrap();
    // The stored history resumes at 14:00 the next day at some other price.
    let after_open = last_close * 1.004;
    let mut start = Resume {
        at_ms: (last_start + 60) * 1000,
        ..Resume::default()
    };
    start.spots.insert("NIFTY".into(), last_close);
    let to = at(2026, 12, 1, 14, 0, 0);
    let mut end = HashMap::new();
    end.insert("NIFTY".to_string(), after_open);
    let fill = bridge(3, &start, to, &end);
    assert!(fill.forming.is_empty());
    let minutes = (15 * 60 + 30 - (11 * 60)) + (14 * 60 - (9 * 60 + 15));
    assert_eq!(fill.minutes(), minutes as usize);
    let bars: Vec<Bar> = all_bars(&fill)
        .into_iter()
        .filter(|b| b.instrument == "NIFTY 50")
        .collect();
    let bound = 6.0 * minute_sd(0.13);
    let first = &bars[0];
    assert!(
        (first.open / last_close).ln().abs() < 1e-9,
        "starts at the stored close"
    );
    let last = bars.last().unwrap();
    assert_eq!(last.start + 60, to / 1000);
    assert!(
        (after_open / last.close).ln().abs() < bound,
        "{} vs {after_open}",
        last.close
    );
    for w in bars.windows(2) {
        assert!((w[1].close / w[0].close).ln().abs() < bound);
        assert!(w[1].high >= w[1].open.max(w[1].close) && w[1].low <= w[1].open.min(w[1].close));
    }
}
