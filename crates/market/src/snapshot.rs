//! Snapshot state: the latest quote of every instrument and the per-underlying view (index,
//! futures, option chain keyed by tradingsymbol). Ages are computed when the view is read.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::NaiveDate;
use compact_str::CompactString;
use stocksblitz_symbols::Right;

use crate::chain::StrikeRow;
use crate::greeks::{DEFAULT_RATE, Model, years_to_expiry};
use crate::session::ist_date;
use crate::smile::{SmileError, SmileFit, fit_svi};
use crate::tick::{Depth, Greeks, Tick, TickKind};

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
    /// The first open interest seen on the quote's day (the day's opening OI, or the first one
    /// seen since this process started mid-session): `oi - oi_open` is the day's OI change.
    pub oi_open: Option<u64>,
    /// The touch and its sizes from the last tick that carried a book (None: unknown).
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_qty: Option<u64>,
    pub ask_qty: Option<u64>,
    pub depth: Option<Box<Depth>>,
    /// Exchange time of the tick the book came from.
    pub book_ts_ms: i64,
    /// Quantity of the last trade, when the feed says.
    pub last_quantity: Option<u64>,
    pub greeks: Option<Greeks>,
    /// True when the greeks were computed here (the tick carried none).
    pub greeks_computed: bool,
    /// Where the implied volatility came from (options only).
    pub iv_source: Option<IvSource>,
    /// The forward the greeks were computed against.
    pub forward: Option<f64>,
    pub lot_size: Option<u32>,
    pub tick_size: Option<f64>,
    pub exchange_ts_ms: i64,
    pub recv_ts_ms: i64,
    pub is_mock: bool,
    day: Option<NaiveDate>,
}

impl Quote {
    /// The option's own implied volatility: its greeks' IV when finite (none for a contract
    /// without greeks, or whose IV did not solve). The one rule every view of a quote uses.
    pub fn iv(&self) -> Option<f64> {
        self.greeks.and_then(|g| g.iv).filter(|v| v.is_finite())
    }

    /// The day's change in open interest (see [`Quote::oi_open`]).
    pub fn oi_change(&self) -> Option<i64> {
        let (now, open) = (self.oi?, self.oi_open?);
        Some(i64::try_from(now).ok()? - i64::try_from(open).ok()?)
    }

    /// Milliseconds since the quote's exchange time.
    pub fn age_ms(&self, now_ms: i64) -> i64 {
        (now_ms - self.exchange_ts_ms).max(0)
    }

    /// Milliseconds since the quote was received (for feeds whose exchange time is not the
    /// wall clock, such as the simulator on the demo clock).
    pub fn received_age_ms(&self, wall_ms: i64) -> i64 {
        (wall_ms - self.recv_ts_ms).max(0)
    }

    /// The quote's age at `wall_ms` measured as `basis` says.
    pub fn age(&self, basis: AgeBasis, wall_ms: i64) -> i64 {
        match basis {
            AgeBasis::Exchange => self.age_ms(wall_ms),
            AgeBasis::Received => self.received_age_ms(wall_ms),
        }
    }

    /// How much of the book is known: `depth` (levels), `top` (the touch), `unknown`.
    pub fn book_state(&self) -> &'static str {
        if self.depth.is_some() {
            "depth"
        } else if self.bid.is_some() || self.ask.is_some() {
            "top"
        } else {
            "unknown"
        }
    }
}

/// What a quote's age is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBasis {
    /// Its exchange time (a live feed on the wall clock).
    Exchange,
    /// When it was received (a feed whose exchange times are not the wall clock's).
    Received,
}

/// How an option's implied volatility was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvSource {
    /// The feed sent the greeks.
    Feed,
    /// Solved here from the option's price against a forward.
    Market {
        price: PriceBasis,
        forward: ForwardBasis,
    },
    /// The price has no time value: no implied volatility, the limit greeks.
    Intrinsic,
}

/// Which price of the option was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceBasis {
    /// The mid of the book.
    Mid,
    /// The last traded price (no book).
    Ltp,
}

/// Which forward the option was valued against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardBasis {
    /// Put-call parity with the same strike's other option, quoted at about the same time.
    Parity,
    /// The future of the same expiry.
    Future,
    /// The underlying's price as of the option's tick, carried at the rate.
    Spot,
}

impl IvSource {
    /// `feed`, `intrinsic`, or `<price>:<forward>` such as `mid:parity`, `ltp:spot`.
    pub fn as_str(self) -> &'static str {
        match self {
            IvSource::Feed => "feed",
            IvSource::Intrinsic => "intrinsic",
            IvSource::Market { price, forward } => match (price, forward) {
                (PriceBasis::Mid, ForwardBasis::Parity) => "mid:parity",
                (PriceBasis::Mid, ForwardBasis::Future) => "mid:future",
                (PriceBasis::Mid, ForwardBasis::Spot) => "mid:spot",
                (PriceBasis::Ltp, ForwardBasis::Parity) => "ltp:parity",
                (PriceBasis::Ltp, ForwardBasis::Future) => "ltp:future",
                (PriceBasis::Ltp, ForwardBasis::Spot) => "ltp:spot",
            },
        }
    }
}

/// Prices of the underlying kept to value options as of their own tick time.
const SPOT_HISTORY: usize = 512;
/// The index price used for an option is at most this much older than the option's tick (a
/// stale underlying gives no greek).
pub const MAX_INPUT_SKEW_MS: i64 = 10_000;
/// A future or the same strike's other option is combined with an option's price only when
/// quoted within this of it: their prices move with the market, unlike the index's history.
pub const PAIR_SKEW_MS: i64 = 500;
/// Smallest vega (per vol point) of a point the smile is fitted to.
const MIN_FIT_VEGA: f64 = 0.05;
/// Prices within this of intrinsic value have no time value (one tick).
const NO_TIME_VALUE: f64 = 0.05 + 1e-9;

#[derive(Debug, Default)]
struct Members {
    index: Option<CompactString>,
    futures: BTreeSet<CompactString>,
    options: BTreeSet<CompactString>,
    /// (exchange ms, price) of the index, oldest first.
    spot_history: VecDeque<(i64, f64)>,
    /// (expiry, strike in hundredths, right) → tradingsymbol.
    contracts: HashMap<(NaiveDate, i64, Right), CompactString>,
}

impl Members {
    /// The index price as of `at`: the latest at or before it, if no older than the skew.
    fn spot_at(&self, at: i64) -> Option<f64> {
        let i = self.spot_history.partition_point(|(t, _)| *t <= at);
        let (t, p) = *self.spot_history.get(i.checked_sub(1)?)?;
        (at - t <= MAX_INPUT_SKEW_MS).then_some(p)
    }
}

/// Everything known about one underlying.
#[derive(Debug)]
pub struct UnderlyingView<'a> {
    pub index: Option<&'a Quote>,
    pub futures: Vec<&'a Quote>,
    pub options: Vec<&'a Quote>,
}

impl UnderlyingView<'_> {
    /// The nearest option expiry quoted on or after `today`.
    pub fn nearest_expiry(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.options
            .iter()
            .filter_map(|o| o.expiry)
            .filter(|d| *d >= today)
            .min()
    }

    /// Chain rows (OI and volume per strike) of one expiry, sorted by strike.
    pub fn chain_rows(&self, expiry: NaiveDate) -> Vec<StrikeRow> {
        let mut rows: Vec<StrikeRow> = Vec::new();
        for q in self.options.iter().filter(|q| q.expiry == Some(expiry)) {
            let Some(strike) = q.strike else { continue };
            let idx = if let Some(i) = rows.iter().position(|r| r.strike == strike) {
                i
            } else {
                rows.push(StrikeRow {
                    strike,
                    ..StrikeRow::default()
                });
                rows.len() - 1
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

    /// Apply a tick. Option ticks without greeks get them computed (see
    /// [`Snapshot::value_option`]).
    pub fn apply(&mut self, t: &Tick) {
        if self.update(t) == Some(true) {
            self.revalue(&t.tradingsymbol, t.exchange_ts_ms);
        }
    }

    /// Apply ticks that arrived together: every quote updated in order, then each option's
    /// greeks computed once, as of its newest tick in the batch (a batch often holds several
    /// ticks of one option; only the last one's greeks would be seen).
    pub fn apply_batch<'a>(&mut self, ticks: impl IntoIterator<Item = &'a Tick>) {
        let mut due: HashMap<&'a str, i64> = HashMap::new();
        for t in ticks {
            match self.update(t) {
                Some(true) => {
                    due.insert(t.tradingsymbol.as_str(), t.exchange_ts_ms);
                }
                // Greeks from the feed replace any computed ones.
                Some(false) => {
                    due.remove(t.tradingsymbol.as_str());
                }
                // An older tick than the one shown changes nothing.
                None => {}
            }
        }
        for (symbol, at) in due {
            self.revalue(symbol, at);
        }
    }

    fn revalue(&mut self, tradingsymbol: &str, at: i64) {
        let computed = self.value_option(tradingsymbol, at);
        if let Some(q) = self.quotes.get_mut(tradingsymbol) {
            q.greeks = computed.map(|c| c.0);
            q.greeks_computed = computed.is_some();
            q.iv_source = computed.map(|c| c.1);
            q.forward = computed.map(|c| c.2);
        }
    }

    /// Update the instrument's quote and the underlying's membership from a tick: None when the
    /// tick is older than the quote shown (ignored), else whether it is an option tick whose
    /// greeks are to be computed here (it carried none).
    fn update(&mut self, t: &Tick) -> Option<bool> {
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
                oi_open: None,
                bid: None,
                ask: None,
                bid_qty: None,
                ask_qty: None,
                depth: None,
                book_ts_ms: 0,
                last_quantity: None,
                greeks: None,
                greeks_computed: false,
                iv_source: None,
                forward: None,
                lot_size: None,
                tick_size: None,
                exchange_ts_ms: t.exchange_ts_ms,
                recv_ts_ms: t.recv_ts_ms,
                is_mock: t.is_mock,
                day,
            });
        if t.exchange_ts_ms < q.exchange_ts_ms {
            // An older tick than the one shown: the snapshot keeps the latest.
            return None;
        }
        if q.day != day {
            q.day = day;
            q.open = t.price;
            q.high = t.price;
            q.low = t.price;
            q.oi_open = None;
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
        if q.oi_open.is_none() {
            q.oi_open = t.oi;
        }
        // The book is replaced as a whole by a tick that carries one (sides from different
        // ticks could cross); a tick without one leaves it as the last book seen.
        if t.has_book() {
            q.bid = t.bid;
            q.ask = t.ask;
            q.bid_qty = t.bid_qty;
            q.ask_qty = t.ask_qty;
            q.depth.clone_from(&t.depth);
            q.book_ts_ms = t.exchange_ts_ms;
        }
        if t.last_quantity.is_some() {
            q.last_quantity = t.last_quantity;
        }
        q.token = t.token.or(q.token);
        q.lot_size = t.lot_size.or(q.lot_size);
        q.tick_size = t.tick_size.or(q.tick_size);
        q.exchange_ts_ms = t.exchange_ts_ms;
        q.recv_ts_ms = t.recv_ts_ms;
        q.is_mock = t.is_mock;
        q.greeks = greeks_in;
        q.greeks_computed = false;
        q.iv_source = greeks_in.map(|_| IvSource::Feed);
        q.forward = None;

        let m = self.members.entry(t.underlying.clone()).or_default();
        match t.kind {
            TickKind::Index => {
                m.index = Some(t.tradingsymbol.clone());
                let at = t.exchange_ts_ms;
                if m.spot_history.back().is_none_or(|(last, _)| *last <= at) {
                    if m.spot_history.len() == SPOT_HISTORY {
                        m.spot_history.pop_front();
                    }
                    m.spot_history.push_back((at, t.price));
                }
            }
            TickKind::Future => {
                if !m.futures.contains(&t.tradingsymbol) {
                    m.futures.insert(t.tradingsymbol.clone());
                }
            }
            TickKind::Option => {
                if !m.options.contains(&t.tradingsymbol) {
                    m.options.insert(t.tradingsymbol.clone());
                    if let (Some(e), Some(k), Some(r)) = (t.expiry, t.strike, t.right) {
                        m.contracts
                            .insert((e, (k * 100.0).round() as i64, r), t.tradingsymbol.clone());
                    }
                }
            }
            TickKind::Equity => {}
        }
        Some(t.kind == TickKind::Option && greeks_in.is_none())
    }

    /// Greeks of an option from its price (the mid of its book, else its last price) against
    /// a forward as of `at` (the option's tick time): put-call parity with the same strike's
    /// other option quoted within [`PAIR_SKEW_MS`], else the same-expiry future quoted within
    /// it, else the index as of `at` (≤ [`MAX_INPUT_SKEW_MS`] older) carried at the rate. A price within a tick of intrinsic value
    /// gives the limit greeks and no IV. None when no input is fresh enough, or the contract
    /// has expired.
    pub fn value_option(&self, tradingsymbol: &str, at: i64) -> Option<(Greeks, IvSource, f64)> {
        let q = self.quotes.get(tradingsymbol)?;
        let (expiry, strike, right) = (q.expiry?, q.strike?, q.right?);
        let t = years_to_expiry(expiry, at)?;
        let m = self.members.get(&q.underlying)?;
        let fresh = |o: &Quote| (o.exchange_ts_ms - at).abs() <= PAIR_SKEW_MS;
        // None: worth less than a tick or two (a minimum-tick bid): no time value to tell.
        let own = match own_price(q) {
            Ok(p) => Some(p?),
            Err(()) => None,
        };
        let df = (-self.rate * t).exp();
        let other_right = match right {
            Right::Call => Right::Put,
            Right::Put => Right::Call,
        };
        let parity = m
            .contracts
            .get(&(expiry, (strike * 100.0).round() as i64, other_right))
            .and_then(|s| self.quotes.get(s))
            .filter(|o| fresh(o))
            .and_then(|o| {
                let (price, _) = own?;
                let (other, _) = own_price(o).ok()??;
                let (call, put) = match right {
                    Right::Call => (price, other),
                    Right::Put => (other, price),
                };
                let f = strike + (call - put) / df;
                (f.is_finite() && f > 0.0).then_some(f)
            });
        let future = || {
            m.futures
                .iter()
                .filter_map(|f| self.quotes.get(f))
                .find(|f| f.expiry == Some(expiry) && fresh(f))
                .map(|f| f.ltp)
        };
        let spot = || m.spot_at(at).map(|s| s * (self.rate * t).exp());
        let (forward, forward_basis) = match parity {
            Some(f) => (f, ForwardBasis::Parity),
            None => match future() {
                Some(f) => (f, ForwardBasis::Future),
                None => (spot()?, ForwardBasis::Spot),
            },
        };
        let intrinsic = match right {
            Right::Call => (forward - strike).max(0.0),
            Right::Put => (strike - forward).max(0.0),
        };
        let Some((price, price_basis)) = own else {
            return Some((
                Greeks::limit(right, intrinsic > 0.0),
                IvSource::Intrinsic,
                forward,
            ));
        };
        if price <= df * intrinsic + NO_TIME_VALUE {
            return Some((
                Greeks::limit(right, intrinsic > 0.0),
                IvSource::Intrinsic,
                forward,
            ));
        }
        let model = Model::Black76 {
            forward,
            rate: self.rate,
        };
        let g = model.solve(price, strike, t, right)?;
        Some((
            g,
            IvSource::Market {
                price: price_basis,
                forward: forward_basis,
            },
            forward,
        ))
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

/// One strike of an expiry's smile.
#[derive(Debug, Clone, PartialEq)]
pub struct SmilePoint {
    pub strike: f64,
    /// The out-of-the-money option's own IV (the other side's when it has none), else the
    /// fitted smile's.
    pub iv: Option<f64>,
    /// The option's `iv_source`, `smile` when the IV is the fit's, `none` without either.
    pub source: &'static str,
}

/// The smile of one expiry: the quoted IVs by strike and the SVI fit through them.
#[derive(Debug, Clone, PartialEq)]
pub struct SmileView {
    pub expiry: NaiveDate,
    /// The median of the forwards the expiry's options were valued against.
    pub forward: f64,
    pub years: f64,
    pub points: Vec<SmilePoint>,
    pub fit: Result<SmileFit, SmileError>,
}

impl Snapshot {
    /// The smile of `underlying`'s options expiring on `expiry`, as of `now_ms`. None when no
    /// option of that expiry has been valued (no forward) or the expiry has passed.
    pub fn smile(&self, underlying: &str, expiry: NaiveDate, now_ms: i64) -> Option<SmileView> {
        let view = self.underlying(underlying)?;
        let legs: Vec<&Quote> = view
            .options
            .iter()
            .copied()
            .filter(|o| o.expiry == Some(expiry) && o.strike.is_some())
            .collect();
        let mut forwards: Vec<f64> = legs.iter().filter_map(|o| o.forward).collect();
        if forwards.is_empty() {
            return None;
        }
        forwards.sort_by(f64::total_cmp);
        let forward = forwards[forwards.len() / 2];
        let years = years_to_expiry(expiry, now_ms)?;
        let market_iv = |q: &Quote| match q.iv_source {
            Some(IvSource::Market { .. } | IvSource::Feed) => q.greeks.and_then(|g| g.iv),
            _ => None,
        };
        let mut by_strike: Vec<(f64, Option<&Quote>, Option<&Quote>)> = Vec::new();
        for q in &legs {
            let k = q.strike.unwrap_or(0.0);
            let i = if let Some(i) = by_strike.iter().position(|r| r.0 == k) {
                i
            } else {
                by_strike.push((k, None, None));
                by_strike.len() - 1
            };
            match q.right {
                Some(Right::Call) => by_strike[i].1 = Some(q),
                Some(Right::Put) => by_strike[i].2 = Some(q),
                None => {}
            }
        }
        by_strike.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Per strike: (IV, its source, vega) of the option picked.
        let own: Vec<(f64, Pick)> = by_strike
            .iter()
            .map(|(k, call, put)| {
                let (otm, itm) = if *k >= forward {
                    (call, put)
                } else {
                    (put, call)
                };
                let pick = [otm, itm].into_iter().flatten().find_map(|q| {
                    let vega = q.greeks.map_or(0.0, |g| g.vega);
                    market_iv(q).map(|v| (v, q.iv_source.map_or("none", IvSource::as_str), vega))
                });
                (*k, pick)
            })
            .collect();
        // The fit uses the IVs a price can tell: where half a tick moves the IV by at most half
        // a vol point (vega per vol point ≥ 0.05).
        let pts: Vec<(f64, f64)> = own
            .iter()
            .filter(|(_, p)| p.is_some_and(|(_, _, vega)| vega >= MIN_FIT_VEGA))
            .filter_map(|(k, p)| p.map(|(v, _, _)| (*k, v)))
            .collect();
        let fit = fit_svi(forward, years, &pts);
        let points = own
            .into_iter()
            .map(|(strike, p)| match (p, &fit) {
                (Some((iv, source, _)), _) => SmilePoint {
                    strike,
                    iv: Some(iv),
                    source,
                },
                (None, Ok(f)) => SmilePoint {
                    strike,
                    iv: Some(f.iv(strike)).filter(|v| v.is_finite()),
                    source: "smile",
                },
                (None, Err(_)) => SmilePoint {
                    strike,
                    iv: None,
                    source: "none",
                },
            })
            .collect();
        Some(SmileView {
            expiry,
            forward,
            years,
            points,
            fit,
        })
    }
}

/// An option's price for valuation: the mid of a sane book quoted with this tick, else the
/// last price. A book whose bid is at the minimum tick, or that has only an offer, says only
/// that the option is worth less than a tick or two: no price to solve an IV from
/// (`Err(())`).
fn own_price(q: &Quote) -> Result<Option<(f64, PriceBasis)>, ()> {
    let tick = q.tick_size.filter(|t| *t > 0.0).unwrap_or(0.05);
    if q.book_ts_ms == q.exchange_ts_ms && q.ask.is_some() {
        match (q.bid, q.ask) {
            (Some(b), Some(a)) if b > tick + 1e-9 && a >= b && a.is_finite() => {
                return Ok(Some(((b + a) / 2.0, PriceBasis::Mid)));
            }
            (None | Some(_), Some(a))
                if a.is_finite() && q.bid.is_none_or(|b| b <= tick + 1e-9) =>
            {
                return Err(());
            }
            _ => {}
        }
    }
    Ok((q.ltp.is_finite() && q.ltp > 0.0).then_some((q.ltp, PriceBasis::Ltp)))
}

/// Per strike of a smile: (IV, its source, vega) of the option picked, if any.
type Pick = Option<(f64, &'static str, f64)>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;

    fn tick(s: &str) -> Tick {
        Decoder.decode(s.as_bytes(), 1_762_246_981_000).unwrap()
    }

    /// A batch computes each option's greeks once, as of its newest tick, with the other ticks
    /// of the batch in place: the same answer as applying the batch's last tick of the option
    /// after everything else.
    #[test]
    fn a_batch_values_each_option_at_its_newest_tick() {
        let t0 = 1_762_246_980_000i64;
        let opt = |price: f64, ms: i64, right: &str| {
            tick(&format!(
                r#"{{"tradingsymbol": "NIFTY25N1124500{right}", "type": "{right}", "price": {price}, "exchange_ts_ms": {ms}}}"#
            ))
        };
        let spot = tick(&format!(
            r#"{{"tradingsymbol": "NIFTY 50", "type": "EQ", "price": 24600.0, "exchange_ts_ms": {t0}}}"#
        ));
        let batch = [
            spot.clone(),
            opt(150.0, t0 + 100, "CE"),
            opt(60.0, t0 + 150, "PE"),
            opt(152.0, t0 + 200, "CE"),
        ];
        let mut a = Snapshot::default();
        a.apply_batch(&batch);
        // The reference: each option's final tick applied after everything else.
        for (s, order) in [
            ("NIFTY25N1124500CE", [&batch[0], &batch[2], &batch[3]]),
            ("NIFTY25N1124500PE", [&batch[0], &batch[3], &batch[2]]),
        ] {
            let mut b = Snapshot::default();
            for t in order {
                b.apply(t);
            }
            let (qa, qb) = (a.get(s).unwrap(), b.get(s).unwrap());
            assert_eq!(qa.ltp, qb.ltp);
            assert_eq!((qa.greeks, qa.iv_source), (qb.greeks, qb.iv_source), "{s}");
        }
        assert_eq!(a.get("NIFTY25N1124500CE").unwrap().ltp, 152.0);
        // Both legs valued by parity with the other, in the batch.
        assert_eq!(
            a.get("NIFTY25N1124500CE")
                .unwrap()
                .iv_source
                .map(IvSource::as_str),
            Some("ltp:parity")
        );
        // Feed greeks in a later tick replace a computation due earlier in the batch.
        let mut c = Snapshot::default();
        let fed = tick(&format!(
            r#"{{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": 151.0, "iv": 0.2, "delta": 0.5, "exchange_ts_ms": {}}}"#,
            t0 + 300
        ));
        c.apply_batch(&[spot, opt(150.0, t0 + 100, "CE"), fed]);
        let q = c.get("NIFTY25N1124500CE").unwrap();
        assert_eq!(
            (q.iv_source, q.greeks.and_then(|g| g.iv)),
            (Some(IvSource::Feed), Some(0.2))
        );
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
        let iv = g.iv.unwrap();
        assert!(q.greeks_computed && iv > 0.05 && iv < 0.5 && g.delta > 0.4);
        assert_eq!(q.iv_source.map(IvSource::as_str), Some("ltp:spot"));
        // Below intrinsic: no IV, but the limit greeks (never all null, never NaN).
        snap.apply(&tick(r#"{"tradingsymbol": "NIFTY25N1124000CE", "type": "CE", "price": 100.0, "ts": 1762246980}"#));
        let q = snap.get("NIFTY25N1124000CE").unwrap();
        let g = q.greeks.unwrap();
        assert_eq!((g.iv, g.delta, g.gamma, g.vega), (None, 1.0, 0.0, 0.0));
        assert_eq!(q.iv_source, Some(IvSource::Intrinsic));
    }

    /// 2025-11-04 08:23 UTC (13:53 IST), a week before the 2025-11-11 expiry.
    const T0: i64 = 1_762_246_980;

    fn index_at(snap: &mut Snapshot, ts: i64, price: f64) {
        snap.apply(&tick(&format!(
            r#"{{"symbol": "NIFTY", "open": 1, "high": 1, "low": 1, "close": {price}, "ts": {ts}}}"#
        )));
    }

    fn option_price(spot: f64, k: f64, right: Right, ts: i64, vol: f64) -> f64 {
        let exp = NaiveDate::from_ymd_opt(2025, 11, 11).unwrap();
        let t = years_to_expiry(exp, ts * 1000).unwrap();
        let f = spot * (DEFAULT_RATE * t).exp();
        Model::Black76 {
            forward: f,
            rate: DEFAULT_RATE,
        }
        .price(k, t, vol, right)
    }

    #[test]
    fn iv_is_solved_against_the_underlying_as_of_the_option_s_tick() {
        let mut snap = Snapshot::default();
        index_at(&mut snap, T0, 24_500.0);
        // The index moves on before the option's (older) tick is processed.
        index_at(&mut snap, T0 + 2, 24_700.0);
        let p = option_price(24_500.0, 24_500.0, Right::Call, T0, 0.14);
        snap.apply(&tick(&format!(
            r#"{{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": {p}, "ts": {T0}}}"#
        )));
        let g = snap.get("NIFTY25N1124500CE").unwrap().greeks.unwrap();
        assert!((g.iv.unwrap() - 0.14).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn a_stale_underlying_never_produces_a_greek() {
        let mut snap = Snapshot::default();
        index_at(&mut snap, T0, 24_500.0);
        // 60 s later, nothing fresh to value against.
        let p = option_price(24_500.0, 24_500.0, Right::Call, T0, 0.14);
        snap.apply(&tick(&format!(
            r#"{{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": {p}, "ts": {}}}"#,
            T0 + 60
        )));
        let q = snap.get("NIFTY25N1124500CE").unwrap();
        assert_eq!((q.greeks, q.iv_source), (None, None));
    }

    #[test]
    fn parity_gives_the_forward_and_the_book_gives_the_price() {
        let mut snap = Snapshot::default();
        // No index at all: the call and put of one strike imply the forward.
        let c = option_price(24_480.0, 24_500.0, Right::Call, T0, 0.15);
        let p = option_price(24_480.0, 24_500.0, Right::Put, T0, 0.15);
        snap.apply(&tick(&format!(
            r#"{{"tradingsymbol": "NIFTY25N1124500PE", "type": "PE", "price": {p}, "ts": {T0}}}"#
        )));
        assert!(snap.get("NIFTY25N1124500PE").unwrap().greeks.is_none());
        snap.apply(&tick(&format!(
            r#"{{"tradingsymbol": "NIFTY25N1124500CE", "type": "CE", "price": 1.0, "bid": {}, "ask": {}, "exchange_ts_ms": {}}}"#,
            c - 0.5,
            c + 0.5,
            T0 * 1000
        )));
        let q = snap.get("NIFTY25N1124500CE").unwrap();
        assert_eq!(q.iv_source.map(IvSource::as_str), Some("mid:parity"));
        assert!((q.greeks.unwrap().iv.unwrap() - 0.15).abs() < 1e-6);
        let exp = NaiveDate::from_ymd_opt(2025, 11, 11).unwrap();
        let f = 24_480.0 * (DEFAULT_RATE * years_to_expiry(exp, T0 * 1000).unwrap()).exp();
        assert!((q.forward.unwrap() - f).abs() < 1e-6);
    }

    #[test]
    fn itm_calls_on_expiry_day_have_a_delta_near_one() {
        // The reported case: 2026-12-01 13:25 IST, spot 25,996.95, the 25,500 call at 497.35.
        let ts = 1_796_111_700; // 2026-12-01 07:55 UTC
        let mut snap = Snapshot::default();
        index_at(&mut snap, ts, 25_996.95);
        for (k, px) in [
            (25_500, 497.35),
            (25_600, 397.40),
            (25_800, 197.55),
            (25_900, 99.10),
        ] {
            snap.apply(&tick(&format!(
                r#"{{"tradingsymbol": "NIFTY26D01{k}CE", "type": "CE", "price": {px}, "ts": {ts}}}"#
            )));
            let q = snap.get(&format!("NIFTY26D01{k}CE")).unwrap();
            let g = q.greeks.expect("a quoted option always has greeks");
            assert!(g.delta > 0.98 || k >= 25_800, "{k}: {g:?}");
            assert!(g.delta > 0.5, "{k}: {g:?}");
        }
    }
}
