//! Snapshot state: the latest quote of every instrument and the per-underlying view (index,
//! futures, option chain keyed by tradingsymbol). Ages are computed when the view is read.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use compact_str::CompactString;
use stocksblitz_symbols::Right;

use crate::chain::StrikeRow;
use crate::greeks::{DEFAULT_RATE, Model, years_to_expiry};
use crate::session::ist_date;
use crate::tick::{Greeks, Tick, TickKind};

/// The latest state of one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub tradingsymbol: CompactString,
    pub token: Option<u64>,
    pub kind: TickKind,
    pub underlying: CompactString,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<Right>,
    pub ltp: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    /// Cumulative day volume.
    pub volume: u64,
    pub oi: Option<u64>,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub greeks: Option<Greeks>,
    /// True when the greeks were computed here (the tick carried none).
    pub greeks_computed: bool,
    pub lot_size: Option<u32>,
    pub tick_size: Option<f64>,
    pub exchange_ts_ms: i64,
    pub recv_ts_ms: i64,
    pub is_mock: bool,
    day: Option<NaiveDate>,
}

impl Quote {
    /// Milliseconds since the quote's exchange time.
    pub fn age_ms(&self, now_ms: i64) -> i64 {
        (now_ms - self.exchange_ts_ms).max(0)
    }
}

#[derive(Debug, Default)]
struct Members {
    index: Option<CompactString>,
    futures: BTreeSet<CompactString>,
    options: BTreeSet<CompactString>,
}

/// Everything known about one underlying.
#[derive(Debug)]
pub struct UnderlyingView<'a> {
    pub index: Option<&'a Quote>,
    pub futures: Vec<&'a Quote>,
    pub options: Vec<&'a Quote>,
}

impl UnderlyingView<'_> {
    /// Chain rows (OI and volume per strike) of one expiry, sorted by strike.
    pub fn chain_rows(&self, expiry: NaiveDate) -> Vec<StrikeRow> {
        let mut rows: Vec<StrikeRow> = Vec::new();
        for q in self.options.iter().filter(|q| q.expiry == Some(expiry)) {
            let Some(strike) = q.strike else { continue };
            let idx = match rows.iter().position(|r| r.strike == strike) {
                Some(i) => i,
                None => {
                    rows.push(StrikeRow {
                        strike,
                        ..StrikeRow::default()
                    });
                    rows.len() - 1
                }
            };
            let oi = q.oi.unwrap_or(0) as f64;
            let vol = q.volume as f64;
            match q.right {
                Some(Right::Call) => {
                    rows[idx].call_oi += oi;
                    rows[idx].call_volume += vol;
                }
                Some(Right::Put) => {
                    rows[idx].put_oi += oi;
                    rows[idx].put_volume += vol;
                }
                None => {}
            }
        }
        rows.sort_by(|a, b| a.strike.total_cmp(&b.strike));
        rows
    }
}

/// Latest quotes and per-underlying membership.
#[derive(Debug)]
pub struct Snapshot {
    quotes: HashMap<CompactString, Quote>,
    members: HashMap<CompactString, Members>,
    rate: f64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Self::new(DEFAULT_RATE)
    }
}

impl Snapshot {
    /// `rate`: the risk-free rate used when greeks are computed here.
    pub fn new(rate: f64) -> Self {
        Snapshot {
            quotes: HashMap::new(),
            members: HashMap::new(),
            rate,
        }
    }

    pub fn len(&self) -> usize {
        self.quotes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.quotes.is_empty()
    }

    pub fn get(&self, tradingsymbol: &str) -> Option<&Quote> {
        self.quotes.get(tradingsymbol)
    }

    /// Names of the underlyings seen.
    pub fn underlyings(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.members.keys().map(CompactString::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Apply a tick. Option ticks without greeks get them computed (Black-76 on the future of
    /// the same expiry when there is one, Black-Scholes on the index otherwise).
    pub fn apply(&mut self, t: &Tick) {
        let day = ist_date(t.ts());
        let greeks_in = t.greeks;
        let q = self
            .quotes
            .entry(t.tradingsymbol.clone())
            .or_insert_with(|| Quote {
                tradingsymbol: t.tradingsymbol.clone(),
                token: t.token,
                kind: t.kind,
                underlying: t.underlying.clone(),
                expiry: t.expiry,
                strike: t.strike,
                right: t.right,
                ltp: t.price,
                open: t.price,
                high: t.price,
                low: t.price,
                volume: 0,
                oi: None,
                bid: None,
                ask: None,
                greeks: None,
                greeks_computed: false,
                lot_size: None,
                tick_size: None,
                exchange_ts_ms: t.exchange_ts_ms,
                recv_ts_ms: t.recv_ts_ms,
                is_mock: t.is_mock,
                day,
            });
        if t.exchange_ts_ms < q.exchange_ts_ms {
            // An older tick than the one shown: the snapshot keeps the latest.
            return;
        }
        if q.day != day {
            q.day = day;
            q.open = t.price;
            q.high = t.price;
            q.low = t.price;
        }
        q.ltp = t.price;
        q.high = q.high.max(t.price);
        q.low = q.low.min(t.price);
        if let Some(o) = t.day_open {
            q.open = o;
        }
        if let Some(h) = t.day_high {
            q.high = h;
        }
        if let Some(l) = t.day_low {
            q.low = l;
        }
        if let Some(v) = t.volume {
            q.volume = v;
        }
        q.oi = t.oi.or(q.oi);
        q.bid = t.bid.or(q.bid);
        q.ask = t.ask.or(q.ask);
        q.token = t.token.or(q.token);
        q.lot_size = t.lot_size.or(q.lot_size);
        q.tick_size = t.tick_size.or(q.tick_size);
        q.exchange_ts_ms = t.exchange_ts_ms;
        q.recv_ts_ms = t.recv_ts_ms;
        q.is_mock = t.is_mock;
        q.greeks = greeks_in;
        q.greeks_computed = false;

        let m = self.members.entry(t.underlying.clone()).or_default();
        match t.kind {
            TickKind::Index => m.index = Some(t.tradingsymbol.clone()),
            TickKind::Future => {
                if !m.futures.contains(&t.tradingsymbol) {
                    m.futures.insert(t.tradingsymbol.clone());
                }
            }
            TickKind::Option => {
                if !m.options.contains(&t.tradingsymbol) {
                    m.options.insert(t.tradingsymbol.clone());
                }
            }
            TickKind::Equity => {}
        }
        if t.kind == TickKind::Option && greeks_in.is_none() {
            let computed =
                self.compute_greeks(&t.tradingsymbol, t.recv_ts_ms.max(t.exchange_ts_ms));
            if let Some(q) = self.quotes.get_mut(&t.tradingsymbol) {
                q.greeks = computed;
                q.greeks_computed = computed.is_some();
            }
        }
    }

    /// Greeks of an option from its last price and the underlying's latest prices.
    pub fn compute_greeks(&self, tradingsymbol: &str, now_ms: i64) -> Option<Greeks> {
        let q = self.quotes.get(tradingsymbol)?;
        let (expiry, strike, right) = (q.expiry?, q.strike?, q.right?);
        let t = years_to_expiry(expiry, now_ms)?;
        let m = self.members.get(&q.underlying)?;
        let future = m
            .futures
            .iter()
            .filter_map(|f| self.quotes.get(f))
            .find(|f| f.expiry == Some(expiry));
        let model = match future {
            Some(f) => Model::Black76 {
                forward: f.ltp,
                rate: self.rate,
            },
            None => {
                let spot = m.index.as_ref().and_then(|i| self.quotes.get(i))?;
                Model::BlackScholes {
                    spot: spot.ltp,
                    rate: self.rate,
                }
            }
        };
        model.solve(q.ltp, strike, t, right)
    }

    /// The view of one underlying (canonical name, e.g. `NIFTY`).
    pub fn underlying(&self, name: &str) -> Option<UnderlyingView<'_>> {
        let m = self.members.get(name)?;
        Some(UnderlyingView {
            index: m.index.as_ref().and_then(|k| self.quotes.get(k)),
            futures: m
                .futures
                .iter()
                .filter_map(|k| self.quotes.get(k))
                .collect(),
            options: m
                .options
                .iter()
                .filter_map(|k| self.quotes.get(k))
                .collect(),
        })
    }

    /// Every quote (unordered).
    pub fn quotes(&self) -> impl Iterator<Item = &Quote> {
        self.quotes.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;

    fn tick(s: &str) -> Tick {
        Decoder.decode(s.as_bytes(), 1_762_246_981_000).unwrap()
    }

    #[test]
    fn keyed_by_tradingsymbol_with_own_prices_and_underlying_from_either_channel() {
        let mut snap = Snapshot::default();
        snap.apply(&tick(r#"{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": 152.35, "volume": 10, "oi": 100, "ts": 1762246980}"#));
        snap.apply(&tick(r#"{"tradingsymbol": "NIFTY25NOVFUT", "type": "FUT", "price": 24650.0, "volume": 5, "ts": 1762246980}"#));
        let v = snap.underlying("NIFTY").unwrap();
        assert!(v.index.is_none());
        assert_eq!(v.options[0].ltp, 152.35); // the option's own price, never the index's
        // The index tick on the options channel sets the underlying …
        snap.apply(&tick(r#"{"symbol": "NIFTY 50", "token": 256265, "segment": "INDICES", "type": "EQ", "price": 24512.3, "ts": 1762246980}"#));
        assert_eq!(
            snap.underlying("NIFTY").unwrap().index.map(|q| q.ltp),
            Some(24512.3)
        );
        // … and so does the underlying channel, on the same key.
        snap.apply(&tick(r#"{"symbol": "NIFTY", "open": 24400.0, "high": 24600.0, "low": 24300.0, "close": 24520.0, "volume": 0, "ts": 1762246981}"#));
        let idx = snap.underlying("NIFTY").unwrap().index.unwrap();
        assert_eq!(
            (idx.ltp, idx.open, idx.high, idx.low),
            (24520.0, 24400.0, 24600.0, 24300.0)
        );
        assert_eq!(
            snap.get("NIFTY 50").unwrap().age_ms(1_762_246_983_000),
            2000
        );
        // BANKNIFTY is its own underlying.
        snap.apply(&tick(r#"{"symbol": "BANKNIFTY", "open": 1, "high": 2, "low": 1, "close": 52000, "ts": 1762246981}"#));
        assert_eq!(
            snap.underlying("BANKNIFTY").unwrap().index.unwrap().ltp,
            52000.0
        );
        assert_eq!(snap.underlyings(), vec!["BANKNIFTY", "NIFTY"]);
    }

    #[test]
    fn greeks_are_filled_when_the_tick_has_none() {
        let mut snap = Snapshot::default();
        snap.apply(&tick(r#"{"symbol": "NIFTY", "open": 1, "high": 1, "low": 1, "close": 24500, "ts": 1762246980}"#));
        snap.apply(&tick(r#"{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": 180.0, "ts": 1762246980}"#));
        let q = snap.get("NIFTY25N1124500CE").unwrap();
        let g = q.greeks.unwrap();
        assert!(q.greeks_computed && g.iv > 0.05 && g.iv < 0.5 && g.delta > 0.4);
        // Below intrinsic: no greeks (null), never NaN.
        snap.apply(&tick(r#"{"tradingsymbol": "NIFTY25N1124000CE", "type": "CE", "price": 100.0, "ts": 1762246980}"#));
        assert!(snap.get("NIFTY25N1124000CE").unwrap().greeks.is_none());
    }
}
