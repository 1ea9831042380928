//! The market simulator (pure: time is an argument, nothing is read or written).
//!
//! One state — the underlyings' seeded geometric random walks in exchange-session time, and per
//! instrument the day's volume and the open interest — gives both the live ticks ([`Simulator::round`]:
//! legacy ticker payloads with a book, trades, volume and OI) and the 1-minute bars of a
//! stretch of time to catch up on ([`Simulator::fill_to`]: history at first start, the
//! minutes a restart or a clock jump skipped). The walk only moves in session time, so the
//! close of one session is the open of the next, the history ends where the live ticks begin,
//! and a restart continues from the last stored prices ([`Simulator::resume`]).

mod book;
mod listing;

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use compact_str::CompactString;

pub use book::{Touch, intrinsic, moneyness, on_grid, smile_vol, touch, trade_price, value};
pub use listing::{Listed, STRIKES_EACH_SIDE, UNDERLYINGS, Underlying, listing, token_of};

use crate::bars::Bar;
use crate::session::{ist_date, next_session_instant, session_window_ms};
use crate::timeframe::Timeframe;

/// Session seconds in a trading year (252 sessions of 6¼ hours): the walk's volatility is per
/// unit of session time, so a day's move is the annual volatility over √252.
pub const SESSION_SECONDS_PER_YEAR: f64 = 252.0 * 22_500.0;

/// The standard deviation of one minute's log move of an underlying (for bounds in tests and
/// checks: a 1-minute close-to-close move beyond 6 of these is not a normal bar).
pub fn minute_sd(vol: f64) -> f64 {
    vol * (60.0 / SESSION_SECONDS_PER_YEAR).sqrt()
}

/// xorshift64* with Box-Muller normals: seeded, reproducible, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread small seeds over the state (xorshift dislikes few set bits).
        let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
        s = (s ^ (s >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        s = (s ^ (s >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((s ^ (s >> 31)).max(1))
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Session milliseconds in `(a, b]` (0 when `b <= a`), walking at most 400 days.
pub fn session_ms_between(a: i64, b: i64) -> i64 {
    let mut total = 0;
    let mut t = a;
    for _ in 0..400 {
        let Some(s) = next_session_instant(t) else {
            break;
        };
        if s >= b {
            break;
        }
        let Some((_, close)) = ist_date(s.div_euclid(1000)).and_then(session_window_ms) else {
            break;
        };
        let end = close.min(b);
        total += end - s;
        t = end;
    }
    total
}

#[derive(Debug, Clone, Copy, Default)]
struct InstState {
    /// Units traded today.
    volume: u64,
    oi: u64,
}

/// Where a stored history ends, to continue from it ([`Simulator::resume`]).
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// The instant the stored history reaches (the end of the last stored minute).
    pub at_ms: i64,
    /// Last price of each underlying's index, by underlying name (`NIFTY`).
    pub spots: HashMap<String, f64>,
    /// Each index's open, high and low of the day so far, by underlying name.
    pub day_ohl: HashMap<String, [f64; 3]>,
    /// Last open interest of instruments, by tradingsymbol.
    pub oi: HashMap<String, u64>,
    /// Units traded so far on the day, by tradingsymbol.
    pub volume: HashMap<String, u64>,
}

/// The simulator's state.
#[derive(Debug)]
pub struct Simulator {
    rng: Rng,
    day: NaiveDate,
    listed: Vec<Listed>,
    spots: Vec<f64>,
    day_ohl: Vec<[f64; 3]>,
    state: Vec<InstState>,
    /// The instant the state stands at (epoch ms).
    at_ms: i64,
}

impl Simulator {
    /// A fresh market at `at_ms`: the underlyings at their starting levels.
    pub fn new(seed: u64, at_ms: i64) -> Self {
        Self::resume(
            seed,
            &Resume {
                at_ms,
                ..Resume::default()
            },
        )
    }

    /// Continue where a stored history ends: the underlyings at their last prices (their
    /// starting levels where the history has none), open interest and the day's volume as
    /// stored.
    pub fn resume(seed: u64, r: &Resume) -> Self {
        let day = ist_date(r.at_ms.div_euclid(1000)).unwrap_or_default();
        let spots: Vec<f64> = UNDERLYINGS
            .iter()
            .map(|u| {
                r.spots
                    .get(u.name)
                    .copied()
                    .filter(|p| p.is_finite() && *p > 0.0)
                    .unwrap_or(u.level)
            })
            .collect();
        let day_ohl = UNDERLYINGS
            .iter()
            .zip(&spots)
            .map(|(u, s)| r.day_ohl.get(u.name).copied().unwrap_or([*s, *s, *s]))
            .collect();
        // The seed and the resumption point pick the random stream: a restart at another
        // instant walks on differently, the same restart twice the same way.
        let mut rng = Rng::new(seed ^ (r.at_ms as u64).rotate_left(17));
        let listed = listing(day, &spots);
        let state = listed
            .iter()
            .map(|l| {
                let ts = l.symbol.tradingsymbol.as_str();
                InstState {
                    volume: r.volume.get(ts).copied().unwrap_or(0),
                    oi: r
                        .oi
                        .get(ts)
                        .copied()
                        .unwrap_or_else(|| initial_oi(l, &mut rng)),
                }
            })
            .collect();
        Simulator {
            rng,
            day,
            listed,
            spots,
            day_ohl,
            state,
            at_ms: r.at_ms,
        }
    }

    /// The instant the state stands at.
    pub fn at_ms(&self) -> i64 {
        self.at_ms
    }

    /// What is listed now.
    pub fn listed(&self) -> &[Listed] {
        &self.listed
    }

    /// The underlyings' levels, in [`UNDERLYINGS`] order.
    pub fn spots(&self) -> &[f64] {
        &self.spots
    }

    /// Session seconds from the state to `now_ms`.
    pub fn lag_secs(&self, now_ms: i64) -> f64 {
        session_ms_between(self.at_ms, now_ms) as f64 / 1000.0
    }

    /// A new trading day: list what the exchange lists today (around today's prices), the
    /// day's volume from zero, open interest carried for what stays listed.
    fn roll_day(&mut self, day: NaiveDate) {
        let carried: HashMap<CompactString, u64> = self
            .listed
            .iter()
            .zip(&self.state)
            .map(|(l, s)| (l.symbol.tradingsymbol.clone(), s.oi))
            .collect();
        self.day = day;
        self.listed = listing(day, &self.spots);
        let rng = &mut self.rng;
        self.state = self
            .listed
            .iter()
            .map(|l| InstState {
                volume: 0,
                oi: carried
                    .get(&l.symbol.tradingsymbol)
                    .copied()
                    .unwrap_or_else(|| initial_oi(l, rng)),
            })
            .collect();
        self.day_ohl = self.spots.iter().map(|s| [*s, *s, *s]).collect();
    }

    fn step(&mut self, dt_secs: f64) {
        if dt_secs <= 0.0 {
            return;
        }
        for (u, spot) in self.spots.iter_mut().enumerate() {
            let sd = UNDERLYINGS[u].vol * (dt_secs / SESSION_SECONDS_PER_YEAR).sqrt();
            *spot *= (sd * self.rng.normal() - 0.5 * sd * sd).exp();
        }
    }

    fn mark_day_range(&mut self) {
        for (ohl, s) in self.day_ohl.iter_mut().zip(&self.spots) {
            ohl[1] = ohl[1].max(*s);
            ohl[2] = ohl[2].min(*s);
        }
    }

    /// Move to `now_ms` (by the session time in between, in one step) and emit one round of
    /// legacy payloads `(channel, json)` for every listed instrument: the index on the options
    /// channel and its day's range on the underlying channel; futures and options with a book
    /// (bid/ask on the tick grid, sizes in lots), the last trade at the touch and its size,
    /// the day's volume and the open interest. Expired contracts are left out.
    pub fn round(&mut self, now_ms: i64) -> Vec<(String, Vec<u8>)> {
        if let Some(day) = ist_date(now_ms.div_euclid(1000))
            && day != self.day
        {
            self.roll_day(day);
        }
        let dt = self.lag_secs(now_ms);
        self.step(dt);
        self.at_ms = self.at_ms.max(now_ms);
        self.mark_day_range();
        let ts = now_ms.div_euclid(1000);
        let mut out = Vec::with_capacity(self.listed.len() + UNDERLYINGS.len());
        for i in 0..self.listed.len() {
            let l = &self.listed[i];
            let u = l.under;
            let und = UNDERLYINGS[u];
            let spot = self.spots[u];
            let channel = format!("ticker:{}:options", und.name.to_ascii_lowercase());
            let mut s = String::with_capacity(420);
            if l.is_index() {
                let price = book::round2(spot);
                let _ = write!(
                    s,
                    r#"{{"symbol": "{ts_}", "token": {}, "tradingsymbol": "{ts_}", "segment": "INDICES", "exchange": "{}", "strike": 0.0, "expiry": null, "type": "EQ", "price": {price:.2}, "volume": 0, "oi": 0, "ts": {ts}, "is_mock": true}}"#,
                    l.token,
                    l.symbol.exchange.as_str(),
                    ts_ = l.symbol.tradingsymbol,
                );
                out.push((channel, s.into_bytes()));
                let [o, h, lo] = self.day_ohl[u].map(book::round2);
                let mut p = String::with_capacity(160);
                let _ = write!(
                    p,
                    r#"{{"symbol": "{}", "open": {o:.2}, "high": {h:.2}, "low": {lo:.2}, "close": {price:.2}, "volume": 0, "ts": {ts}, "is_mock": true}}"#,
                    und.name
                );
                out.push((
                    format!("ticker:{}:underlying", und.name.to_ascii_lowercase()),
                    p.into_bytes(),
                ));
                continue;
            }
            let Some((fair, m)) = value(l, spot, und.vol, now_ms) else {
                continue;
            };
            let floor = intrinsic(l, spot, now_ms);
            let t = touch(l, fair, m, &mut self.rng);
            let lot = u64::from(l.lot.unwrap_or(1));
            let price = book::trade_price(&t, self.rng.uniform() < 0.5, floor);
            let qty = lot * (1 + (self.rng.uniform().powi(2) * book::trade_lots(l, m)) as u64);
            let st = &mut self.state[i];
            st.volume += qty;
            if self.rng.uniform() < 0.2 {
                st.oi = oi_step(st.oi, lot, self.rng.normal() * 2.0);
            }
            let (kind, strike) = match (l.symbol.right, l.symbol.strike) {
                (Some(r), Some(k)) => (r.as_str(), k.value()),
                _ => ("FUT", 0.0),
            };
            let segment = match (kind, l.symbol.exchange.as_str()) {
                ("FUT", "BFO") => "BFO-FUT",
                ("FUT", _) => "NFO-FUT",
                (_, "BFO") => "BFO-OPT",
                _ => "NFO-OPT",
            };
            let expiry = l.symbol.expiry.map(|d| d.to_string()).unwrap_or_default();
            let lot_json = l.lot.map_or("null".to_string(), |v| v.to_string());
            let _ = write!(
                s,
                r#"{{"symbol": "{}", "token": {}, "tradingsymbol": "{}", "segment": "{segment}", "exchange": "{}", "strike": {strike:.1}, "expiry": "{expiry}", "type": "{kind}", "lot_size": {lot_json}, "tick_size": {:.2}, "price": {price:.2}, "last_quantity": {qty}, "bid": {}, "ask": {:.2}, "bid_qty": {}, "ask_qty": {}, "volume": {}, "oi": {}, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": {ts}, "is_mock": true}}"#,
                und.name,
                l.token,
                l.symbol.tradingsymbol,
                l.symbol.exchange.as_str(),
                l.tick,
                t.bid.map_or("null".to_string(), |b| format!("{b:.2}")),
                t.ask,
                t.bid.map_or(0, |_| t.bid_qty),
                t.ask_qty,
                st.volume,
                st.oi,
            );
            out.push((channel, s.into_bytes()));
        }
        out
    }

    /// Walk from the state to `to_ms` through the session minutes in between, in one-second
    /// steps, and return them as 1-minute bars ([`Fill`]): complete minutes to store, and the
    /// minute in progress at `to_ms` to start the forming bars with. The state ends at
    /// `to_ms`, so live rounds continue the same path.
    pub fn fill_to(&mut self, to_ms: i64) -> Fill {
        let mut fill = Fill::default();
        let mut t = self.at_ms;
        while let Some(s) = next_session_instant(t) {
            if s >= to_ms {
                break;
            }
            t = s;
            let Some(day) = ist_date(t.div_euclid(1000)) else {
                break;
            };
            if day != self.day {
                self.roll_day(day);
            }
            if fill.days.last().is_none_or(|d| d.day != day) {
                fill.days.push(FillDay {
                    day,
                    listed: self.listed.clone(),
                    minutes: Vec::new(),
                });
            }
            let Some((_, close)) = session_window_ms(day) else {
                break;
            };
            let minute_start = t.div_euclid(60_000) * 60_000;
            let minute_end = (minute_start + 60_000).min(close);
            let end = minute_end.min(to_ms);
            let mut path: Vec<[f64; 4]> = self.spots.iter().map(|s| [*s; 4]).collect();
            let mut x = t;
            while x < end {
                let dt = (end - x).min(1000);
                self.step(dt as f64 / 1000.0);
                for (p, s) in path.iter_mut().zip(&self.spots) {
                    p[1] = p[1].max(*s);
                    p[2] = p[2].min(*s);
                    p[3] = *s;
                }
                x += dt;
            }
            self.mark_day_range();
            let secs = (end - t) as f64 / 1000.0;
            let mut flows = Vec::with_capacity(self.listed.len());
            for (l, st) in self.listed.iter().zip(self.state.iter_mut()) {
                if l.is_index() {
                    flows.push((0, 0));
                    continue;
                }
                let m = book::moneyness(l, self.spots[l.under], end);
                let lot = u64::from(l.lot.unwrap_or(1));
                let mean_lots = 0.5 + book::trade_lots(l, m) / 3.0;
                let v = lot * (secs * mean_lots * (0.6 + 0.8 * self.rng.uniform())).round() as u64;
                st.volume += v;
                st.oi = oi_step(st.oi, lot, self.rng.normal() * 2.0 * (secs * 0.2).sqrt());
                flows.push((v, st.oi));
            }
            let minute = FillMinute {
                start: minute_start.div_euclid(1000),
                first_ms: t,
                last_ms: (end - 1000).max(t),
                path,
                flows,
            };
            t = end;
            let Some(d) = fill.days.last_mut() else {
                break;
            };
            if end == minute_end {
                d.minutes.push(minute);
            } else {
                // The minute in progress: bars to start the forming bars with.
                let listed = d.listed.clone();
                let bars = bars_of(&listed, &minute);
                fill.forming = bars
                    .into_iter()
                    .map(|b| {
                        let v = listed
                            .iter()
                            .position(|l| l.symbol.tradingsymbol == b.instrument)
                            .map_or(0, |i| self.state[i].volume);
                        (b, v)
                    })
                    .collect();
                break;
            }
        }
        self.at_ms = self.at_ms.max(to_ms);
        fill
    }
}

fn initial_oi(l: &Listed, rng: &mut Rng) -> u64 {
    if l.is_index() {
        return 0;
    }
    let lot = u64::from(l.lot.unwrap_or(1));
    lot * (1_000 + (rng.uniform() * 30_000.0) as u64)
}

/// Open interest moved by `lots` (rounded) lots, never below one lot.
fn oi_step(oi: u64, lot: u64, lots: f64) -> u64 {
    let delta = lots.round() as i64 * lot as i64;
    (oi as i64 + delta).max(lot as i64) as u64
}

/// One session minute (or the part of it walked) of a fill.
#[derive(Debug, Clone)]
struct FillMinute {
    /// Bucket start, UTC epoch seconds.
    start: i64,
    first_ms: i64,
    last_ms: i64,
    /// Per underlying: open, high, low, close of the spot.
    path: Vec<[f64; 4]>,
    /// Per listed instrument: units traded in the minute, open interest at its end.
    flows: Vec<(u64, u64)>,
}

#[derive(Debug, Clone)]
struct FillDay {
    day: NaiveDate,
    listed: Vec<Listed>,
    minutes: Vec<FillMinute>,
}

/// The minutes a [`Simulator::fill_to`] walked through, as bars on demand ([`Fill::chunks`],
/// [`Fill::bars`]).
#[derive(Debug, Clone, Default)]
pub struct Fill {
    days: Vec<FillDay>,
    /// The bars of the minute in progress at the end, with each instrument's day volume so far
    /// (to start the forming bars with; not to be stored as complete).
    pub forming: Vec<(Bar, u64)>,
}

/// A part of a [`Fill`]: whole minutes of one day ([`Fill::chunks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    day: usize,
    minutes: (usize, usize),
}

impl Chunk {
    /// Minutes in the chunk.
    pub fn minutes(&self) -> usize {
        self.minutes.1 - self.minutes.0
    }
}

impl Fill {
    /// Complete minutes in the fill.
    pub fn minutes(&self) -> usize {
        self.days.iter().map(|d| d.minutes.len()).sum()
    }

    /// The trading days it has complete minutes of, oldest first.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.days
            .iter()
            .filter(|d| !d.minutes.is_empty())
            .map(|d| d.day)
            .collect()
    }

    /// Start (UTC epoch seconds) of its first and last complete minute.
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = self.days.iter().find_map(|d| d.minutes.first())?.start;
        let last = self.days.iter().rev().find_map(|d| d.minutes.last())?.start;
        Some((first, last))
    }

    /// Its complete minutes in chunks of at most `minutes_per_chunk` minutes of one day,
    /// oldest first (so an interrupted write leaves a stored history without holes).
    pub fn chunks(&self, minutes_per_chunk: usize) -> Vec<Chunk> {
        let per = minutes_per_chunk.max(1);
        let mut out = Vec::new();
        for (day, d) in self.days.iter().enumerate() {
            let mut lo = 0;
            while lo < d.minutes.len() {
                let hi = (lo + per).min(d.minutes.len());
                out.push(Chunk {
                    day,
                    minutes: (lo, hi),
                });
                lo = hi;
            }
        }
        out
    }

    /// The day a chunk belongs to.
    pub fn day_of(&self, c: Chunk) -> Option<NaiveDate> {
        self.days.get(c.day).map(|d| d.day)
    }

    /// The bars of a chunk's minutes.
    pub fn bars(&self, c: Chunk) -> Vec<Bar> {
        let Some(d) = self.days.get(c.day) else {
            return Vec::new();
        };
        d.minutes
            .get(c.minutes.0..c.minutes.1)
            .unwrap_or_default()
            .iter()
            .flat_map(|m| bars_of(&d.listed, m))
            .collect()
    }

    /// Bend the underlyings' paths so each ends at `end[u]` (where given) at the fill's last
    /// minute, keeping its start: a Brownian bridge (the free walk minus the linear share, in
    /// session time, of its miss at the end). Used to fill a hole between two stored stretches.
    fn bridge_to(&mut self, from_ms: i64, end: &[Option<f64>], free_end: &[f64]) {
        let Some(to_ms) = self
            .days
            .iter()
            .rev()
            .find_map(|d| d.minutes.last())
            .map(|m| m.start * 1000 + 60_000)
        else {
            return;
        };
        let total = session_ms_between(from_ms, to_ms).max(1) as f64;
        let miss: Vec<f64> = end
            .iter()
            .zip(free_end)
            .map(|(e, f)| e.filter(|x| *x > 0.0).map_or(0.0, |e| (e / f).ln()))
            .collect();
        let mut elapsed = 0i64;
        for d in &mut self.days {
            for m in &mut d.minutes {
                let a = elapsed as f64 / total;
                elapsed += m.last_ms + 1000 - m.first_ms;
                let b = (elapsed as f64 / total).min(1.0);
                for (p, miss) in m.path.iter_mut().zip(&miss) {
                    let (ka, kb) = ((a * miss).exp(), (b * miss).exp());
                    let (o, c) = (p[0] * ka, p[3] * kb);
                    let k = ka.max(kb);
                    let kl = ka.min(kb);
                    *p = [o, (p[1] * k).max(o).max(c), (p[2] * kl).min(o).min(c), c];
                }
            }
        }
    }
}

/// The bars filling a hole in a stored history: a walk from `start` (where the history before
/// the hole ends: its instant, the underlyings' last prices) that ends at `end` (the
/// underlyings' first prices after the hole, by name) at `to_ms`, the first instant after the
/// hole.
pub fn bridge<S: std::hash::BuildHasher>(
    seed: u64,
    start: &Resume,
    to_ms: i64,
    end: &HashMap<String, f64, S>,
) -> Fill {
    let mut sim = Simulator::resume(seed, start);
    let mut fill = sim.fill_to(to_ms);
    let targets: Vec<Option<f64>> = UNDERLYINGS
        .iter()
        .map(|u| end.get(u.name).copied())
        .collect();
    fill.bridge_to(start.at_ms, &targets, sim.spots());
    fill.forming.clear();
    fill
}

/// The bars of one fill minute: the index from the spot's path; a derivative priced at the
/// spot's open, high, low and close (its value is monotonic in the spot, so its extremes are
/// among the four), on its grid; contracts not live that minute left out.
fn bars_of(listed: &[Listed], m: &FillMinute) -> Vec<Bar> {
    let mut out = Vec::with_capacity(listed.len());
    for (l, (volume, oi)) in listed.iter().zip(&m.flows) {
        let [o, h, lo, c] = m.path[l.under];
        let prices = if l.is_index() {
            [o, h, lo, c].map(book::round2)
        } else {
            let vol = UNDERLYINGS[l.under].vol;
            let at = m.last_ms;
            let mut p = [0.0; 4];
            let mut live = true;
            for (dst, s) in p.iter_mut().zip([o, h, lo, c]) {
                match value(l, s, vol, at) {
                    Some((fair, _)) => *dst = on_grid(l, fair, intrinsic(l, s, at)),
                    None => live = false,
                }
            }
            if !live {
                continue;
            }
            let (hi, low) = (
                p.iter().copied().fold(f64::MIN, f64::max),
                p.iter().copied().fold(f64::MAX, f64::min),
            );
            [p[0], hi, low, p[3]].map(book::round2)
        };
        let oi = (!l.is_index()).then_some(*oi);
        out.push(Bar {
            instrument: l.symbol.tradingsymbol.clone(),
            timeframe: Timeframe::M1,
            start: m.start,
            open: prices[0],
            high: prices[1],
            low: prices[2],
            close: prices[3],
            volume: *volume,
            oi,
            open_oi: oi,
            first_ts_ms: m.first_ms,
            last_ts_ms: m.last_ms,
        });
    }
    out
}

#[cfg(test)]
mod tests;
