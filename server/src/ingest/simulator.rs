//! The built-in market simulator: lists instruments as the exchange would today (futures, the
//! nearest weekly and monthly option chains, tradingsymbols and expiries from the symbols
//! crate), moves seeded geometric random walks, prices options with the greeks model on a
//! volatility smile, and emits the legacy ticker payloads — into the pipeline directly, or to
//! Redis so that several replicas share one feed. Back-fills history into an empty store.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use stocksblitz_market::greeks::{DEFAULT_RATE, Model, years_to_expiry};
use stocksblitz_market::session::{Session, ist_date};
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_store::Store;
use stocksblitz_symbols::{
    Calendar, ContractTable, ExpiryRules, Right, Strike, Symbol, find_index,
};

use super::Pipeline;

/// Underlyings, their starting level and annualised volatility.
const UNDERLYINGS: &[(&str, f64, f64)] = &[
    ("NIFTY", 26_000.0, 0.13),
    ("BANKNIFTY", 59_000.0, 0.15),
    ("FINNIFTY", 27_500.0, 0.14),
    ("SENSEX", 85_000.0, 0.13),
];
/// Strikes each side of ATM.
const STRIKES_EACH_SIDE: i64 = 10;
const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// xorshift64* with Box-Muller normals: seeded, reproducible, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
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

/// One listed instrument.
#[derive(Debug, Clone)]
pub struct Listed {
    pub symbol: Symbol,
    pub token: u64,
    /// Index into the underlyings.
    pub under: usize,
}

/// What is listed on `day` (IST): per underlying the index, the near and next monthly futures,
/// and option chains (ATM ± 10 strikes) for the nearest two weekly expiries where weekly
/// series exist plus the nearest monthly.
pub fn listing(day: NaiveDate, spots: &[f64]) -> Vec<Listed> {
    let cal = Calendar::embedded();
    let mut out = Vec::new();
    let mut token = 10_000_000u64;
    for (u, (name, _, _)) in UNDERLYINGS.iter().enumerate() {
        let Some(info) = find_index(name) else {
            continue;
        };
        out.push(Listed {
            symbol: Symbol::index_of(info),
            token: u64::from(info.token.unwrap_or(0)),
            under: u,
        });
        let rules = ExpiryRules::for_underlying(name);
        let monthly = cal.next_monthly_expiries(rules, day, 2);
        for m in &monthly {
            if let Ok(sym) = Symbol::future(name, m.year(), m.month()) {
                token += 1;
                out.push(Listed {
                    symbol: sym,
                    token,
                    under: u,
                });
            }
        }
        let mut expiries: Vec<NaiveDate> = if info.has_weekly {
            cal.next_weekly_expiries(rules, day, 2)
        } else {
            Vec::new()
        };
        if let Some(m) = monthly.first()
            && !expiries.contains(m)
        {
            expiries.push(*m);
        }
        let step = f64::from(info.strike_step.unwrap_or(50));
        let atm = (spots[u] / step).round() * step;
        for e in expiries {
            for k in -STRIKES_EACH_SIDE..=STRIKES_EACH_SIDE {
                let Some(strike) = Strike::from_f64(atm + k as f64 * step) else {
                    continue;
                };
                for right in [Right::Call, Right::Put] {
                    if let Ok(sym) = Symbol::option(name, e, strike, right) {
                        token += 1;
                        out.push(Listed {
                            symbol: sym,
                            token,
                            under: u,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Implied volatility on the smile: the base level plus curvature in log-moneyness.
pub fn smile_vol(base: f64, forward: f64, strike: f64) -> f64 {
    let m = (strike / forward).ln();
    base + 1.5 * m * m - 0.1 * m
}

/// Futures and option prices at a given spot and instant.
pub fn fair_price(l: &Listed, spot: f64, base_vol: f64, now_ms: i64) -> f64 {
    let Some(expiry) = l.symbol.expiry else {
        return spot;
    };
    let t = years_to_expiry(expiry, now_ms).unwrap_or(1e-6).max(1e-6);
    let forward = spot * (DEFAULT_RATE * t).exp();
    match (l.symbol.strike, l.symbol.right) {
        (Some(k), Some(right)) => {
            let k = k.value();
            let vol = smile_vol(base_vol, forward, k);
            let p = Model::Black76 {
                forward,
                rate: DEFAULT_RATE,
            }
            .price(k, t, vol, right);
            (p.max(0.05) * 20.0).round() / 20.0
        }
        _ => (forward * 20.0).round() / 20.0,
    }
}

/// The simulator's live state.
#[derive(Debug)]
pub struct Simulator {
    pub listed: Vec<Listed>,
    pub spots: Vec<f64>,
    volumes: Vec<u64>,
    ois: Vec<u64>,
    rng: Rng,
    day: Option<NaiveDate>,
}

impl Simulator {
    pub fn new(seed: u64, day: NaiveDate) -> Self {
        let spots: Vec<f64> = UNDERLYINGS.iter().map(|u| u.1).collect();
        let listed = listing(day, &spots);
        let n = listed.len();
        let mut rng = Rng::new(seed);
        let ois = (0..n)
            .map(|_| 50_000 + (rng.uniform() * 2_000_000.0) as u64)
            .collect();
        Simulator {
            listed,
            spots,
            volumes: vec![0; n],
            ois,
            rng,
            day: Some(day),
        }
    }

    /// Move every underlying by `dt_secs` of its random walk.
    pub fn step(&mut self, dt_secs: f64) {
        for (u, spot) in self.spots.iter_mut().enumerate() {
            let vol = UNDERLYINGS[u].2;
            let sd = vol * (dt_secs / SECONDS_PER_YEAR).sqrt();
            *spot *= (sd * self.rng.normal() - 0.5 * sd * sd).exp();
        }
    }

    /// One round of legacy payloads `(channel, json)` for every instrument at `now_ms`.
    pub fn round(&mut self, now_ms: i64) -> Vec<(String, Vec<u8>)> {
        let day = ist_date(now_ms / 1000);
        if day != self.day {
            self.day = day;
            self.volumes.iter_mut().for_each(|v| *v = 0);
        }
        let ts = now_ms / 1000;
        let mut out = Vec::with_capacity(self.listed.len() + UNDERLYINGS.len());
        for (i, l) in self.listed.iter().enumerate() {
            let spot = self.spots[l.under];
            let under_name = UNDERLYINGS[l.under].0;
            let channel = format!("ticker:{}:options", under_name.to_ascii_lowercase());
            let mut s = String::with_capacity(400);
            match l.symbol.kind {
                stocksblitz_symbols::Kind::Index => {
                    let price = (spot * 100.0).round() / 100.0;
                    let _ = write!(
                        s,
                        r#"{{"symbol": "{}", "token": {}, "tradingsymbol": "{}", "segment": "INDICES", "exchange": "{}", "strike": 0.0, "expiry": null, "type": "EQ", "price": {price}, "volume": 0, "oi": 0, "ts": {ts}, "is_mock": true}}"#,
                        l.symbol.tradingsymbol,
                        l.token,
                        l.symbol.tradingsymbol,
                        l.symbol.exchange.as_str()
                    );
                    out.push((channel, s.into_bytes()));
                    let mut u = String::with_capacity(160);
                    let _ = write!(
                        u,
                        r#"{{"symbol": "{under_name}", "open": {price}, "high": {price}, "low": {price}, "close": {price}, "volume": 0, "ts": {ts}, "is_mock": true}}"#
                    );
                    out.push((
                        format!("ticker:{}:underlying", under_name.to_ascii_lowercase()),
                        u.into_bytes(),
                    ));
                    continue;
                }
                _ => {
                    let price = fair_price(l, spot, UNDERLYINGS[l.under].2, now_ms);
                    self.volumes[i] += (self.rng.uniform() * 300.0) as u64 * 25;
                    let drift = (self.rng.normal() * 500.0) as i64;
                    self.ois[i] = (self.ois[i] as i64 + drift).max(0) as u64;
                    let (kind, strike) = match (l.symbol.right, l.symbol.strike) {
                        (Some(r), Some(k)) => (r.as_str(), k.value()),
                        _ => ("FUT", 0.0),
                    };
                    let segment = if kind == "FUT" { "NFO-FUT" } else { "NFO-OPT" };
                    let expiry = l.symbol.expiry.map(|d| d.to_string()).unwrap_or_default();
                    // The contract table's lot and tick; `null` when it has none (never a guess).
                    let spec = ContractTable::embedded().spec(&l.symbol);
                    let lot = spec.map_or("null".to_string(), |c| c.lot_size.to_string());
                    let tick = spec.map_or("null".to_string(), |c| {
                        format!("{:.2}", f64::from(c.tick_paise) / 100.0)
                    });
                    let _ = write!(
                        s,
                        r#"{{"symbol": "{under_name}", "token": {}, "tradingsymbol": "{}", "segment": "{segment}", "exchange": "{}", "strike": {strike:.1}, "expiry": "{expiry}", "type": "{kind}", "lot_size": {lot}, "tick_size": {tick}, "price": {price}, "volume": {}, "oi": {}, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": {ts}, "is_mock": true}}"#,
                        l.token,
                        l.symbol.tradingsymbol,
                        l.symbol.exchange.as_str(),
                        self.volumes[i],
                        self.ois[i]
                    );
                }
            }
            out.push((channel, s.into_bytes()));
        }
        out
    }
}

/// How the simulator delivers its payloads.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Straight into this process's pipeline.
    Pipeline(Arc<Pipeline>),
    /// PUBLISH to Redis in the legacy formats (the Redis source consumes them).
    Redis(String),
}

/// Run the live simulator: a round every `interval`, during the session (always with the demo
/// clock). One seed round is emitted at start so that quotes exist at once.
pub async fn run(
    seed: u64,
    interval: Duration,
    session: Session,
    sink: Sink,
) -> anyhow::Result<()> {
    let now = super::now_ms();
    let day = ist_date(now / 1000).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let mut sim = Simulator::new(seed, day);
    tracing::info!(
        instruments = sim.listed.len(),
        interval_ms = interval.as_millis() as u64,
        "simulator listing ready"
    );
    let mut redis = match &sink {
        Sink::Redis(url) => Some(
            redis::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?,
        ),
        Sink::Pipeline(_) => None,
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first = true;
    loop {
        ticker.tick().await;
        let now = super::now_ms();
        if !first && !session.is_open(now / 1000) {
            continue;
        }
        if !first {
            sim.step(interval.as_secs_f64());
        }
        first = false;
        let payloads = sim.round(now);
        match (&sink, redis.as_mut()) {
            (Sink::Pipeline(p), _) => {
                for (_, bytes) in &payloads {
                    p.ingest(bytes, now);
                }
            }
            (Sink::Redis(_), Some(conn)) => {
                let mut pipe = redis::pipe();
                for (channel, bytes) in &payloads {
                    pipe.cmd("PUBLISH")
                        .arg(channel)
                        .arg(bytes.as_slice())
                        .ignore();
                }
                pipe.query_async::<()>(conn).await?;
            }
            (Sink::Redis(_), None) => anyhow::bail!("no Redis connection"),
        }
    }
}

/// Back-fill 1-minute bars for the last `days` completed trading days before `today`, with a
/// progress line per day. Days that already have bars are skipped, so an interrupted back-fill
/// completes at the next start and a populated store is left alone. Returns bars written.
pub async fn backfill(
    store: &Store,
    seed: u64,
    today: NaiveDate,
    days: usize,
) -> anyhow::Result<u64> {
    if days == 0 {
        return Ok(0);
    }
    let cal = Calendar::embedded();
    let mut sessions = Vec::new();
    let mut d = today;
    while sessions.len() < days {
        d = d
            .pred_opt()
            .ok_or_else(|| anyhow::anyhow!("date out of range"))?;
        if cal.is_trading_day(d) {
            sessions.push(d);
        }
    }
    sessions.reverse();
    let mut rng = Rng::new(seed ^ 0x5eed);
    let listed = listing(today, &UNDERLYINGS.iter().map(|u| u.1).collect::<Vec<_>>());
    let started = std::time::Instant::now();
    tracing::info!(
        days,
        instruments = listed.len(),
        "back-filling 1-minute history into the empty store"
    );
    let mut spots: Vec<f64> = UNDERLYINGS.iter().map(|u| u.1 * 0.98).collect();
    let mut total = 0u64;
    for (n, day) in sessions.iter().enumerate() {
        let open = day
            .and_hms_opt(3, 45, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0);
        if !store
            .bars_range("NIFTY 50", Timeframe::M1, open, open + 22_500, 1)
            .await?
            .is_empty()
        {
            // Keep the walk moving across a day that is already stored.
            for _ in 0..375 {
                for (u, spot) in spots.iter_mut().enumerate() {
                    let sd = UNDERLYINGS[u].2 * (60.0 / SECONDS_PER_YEAR).sqrt();
                    *spot *= (sd * rng.normal()).exp();
                }
            }
            continue;
        }
        let mut bars: Vec<Bar> = Vec::with_capacity(listed.len() * 375);
        for minute in 0..375i64 {
            let start = open + minute * 60;
            // Underlying path within the minute: open, extremes, close.
            let mut path = Vec::with_capacity(UNDERLYINGS.len());
            for (u, spot) in spots.iter_mut().enumerate() {
                let sd = UNDERLYINGS[u].2 * (60.0 / SECONDS_PER_YEAR).sqrt();
                let o = *spot;
                *spot *= (sd * rng.normal()).exp();
                let spread = o.max(*spot) * sd * 0.5 * rng.uniform();
                path.push((o, o.max(*spot) + spread, o.min(*spot) - spread, *spot));
            }
            for l in &listed {
                let (o, h, lo, c) = path[l.under];
                let base = UNDERLYINGS[l.under].2;
                let at = |s: f64| fair_price(l, s, base, (start + 59) * 1000);
                let (po, pc, ph, pl) = (at(o), at(c), at(h), at(lo));
                let volume = if l.symbol.kind == stocksblitz_symbols::Kind::Index {
                    0
                } else {
                    (rng.uniform() * 4000.0) as u64 * 25
                };
                bars.push(Bar {
                    instrument: l.symbol.tradingsymbol.clone(),
                    timeframe: Timeframe::M1,
                    start,
                    open: po,
                    high: po.max(pc).max(ph).max(pl),
                    low: po.min(pc).min(ph).min(pl),
                    close: pc,
                    volume,
                    oi: None,
                    open_oi: None,
                    first_ts_ms: start * 1000,
                    last_ts_ms: start * 1000 + 59_000,
                });
            }
        }
        for chunk in bars.chunks(5000) {
            store.upsert_bars(chunk).await?;
        }
        total += bars.len() as u64;
        tracing::info!(day = %day, progress = format!("{}/{}", n + 1, sessions.len()), bars = bars.len(), elapsed_ms = started.elapsed().as_millis() as u64, "back-fill progress");
    }
    tracing::info!(
        bars = total,
        seconds = started.elapsed().as_secs_f64(),
        "back-fill done"
    );
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_follows_the_calendar() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let spots: Vec<f64> = UNDERLYINGS.iter().map(|u| u.1).collect();
        let l = listing(day, &spots);
        let names: Vec<&str> = l.iter().map(|x| x.symbol.tradingsymbol.as_str()).collect();
        assert!(
            names.contains(&"NIFTY 50")
                && names.contains(&"NIFTY BANK")
                && names.contains(&"SENSEX")
        );
        assert!(names.contains(&"NIFTY25NOVFUT") && names.contains(&"NIFTY25DECFUT"));
        // NIFTY weeklies on Tuesdays (4 and 11 Nov), the monthly on 25 Nov.
        assert!(names.iter().any(|n| n.starts_with("NIFTY25N04")));
        assert!(names.iter().any(|n| n.starts_with("NIFTY25N11")));
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("NIFTY25NOV") && n.ends_with("CE"))
        );
        // BANKNIFTY has monthly options only; SENSEX weeklies expire on Thursdays.
        assert!(
            !l.iter()
                .any(|x| x.symbol.underlying == "BANKNIFTY" && x.symbol.is_weekly)
        );
        assert!(names.iter().any(|n| n.starts_with("BANKNIFTY25NOV")));
        assert!(names.iter().any(|n| n.starts_with("SENSEX25N06")));
        let per_chain = (2 * STRIKES_EACH_SIDE + 1) * 2;
        let nifty_opts = l
            .iter()
            .filter(|x| x.symbol.underlying == "NIFTY" && x.symbol.right.is_some())
            .count() as i64;
        assert_eq!(nifty_opts, 3 * per_chain);
    }

    #[test]
    fn option_prices_respect_put_call_parity() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let now = day
            .and_hms_opt(5, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let mut sim = Simulator::new(7, day);
        sim.step(60.0);
        let spot = sim.spots[0];
        let find = |ts: &str| {
            sim.listed
                .iter()
                .find(|l| l.symbol.tradingsymbol == ts)
                .unwrap()
                .clone()
        };
        let strike = ((spot / 50.0).round() * 50.0) as i64;
        let call = find(&format!("NIFTY25NOV{strike}CE"));
        let put = find(&format!("NIFTY25NOV{strike}PE"));
        let t = years_to_expiry(call.symbol.expiry.unwrap(), now).unwrap();
        let forward = spot * (DEFAULT_RATE * t).exp();
        let c = fair_price(&call, spot, 0.13, now);
        let p = fair_price(&put, spot, 0.13, now);
        let parity = (-DEFAULT_RATE * t).exp() * (forward - strike as f64);
        assert!((c - p - parity).abs() < 0.1, "C−P = {} vs {parity}", c - p);
    }

    #[test]
    fn rounds_decode_cleanly() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let now = day
            .and_hms_opt(5, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let mut sim = Simulator::new(7, day);
        for (_, p) in sim.round(now) {
            let t = stocksblitz_market::decode::Decoder.decode(&p, now).unwrap();
            assert!(t.is_mock || t.kind == stocksblitz_market::TickKind::Index);
            assert!(t.price > 0.0);
        }
    }

    /// The simulator's rounds valued by the snapshot, on an ordinary day and on an expiry day
    /// (2026-12-01 13:25 IST, the case reported in issue 14).
    #[test]
    fn every_option_has_greeks_and_ivs_match_the_simulator_s_smile() {
        use stocksblitz_market::smile::calendar_ok;
        use stocksblitz_market::snapshot::{IvSource, Snapshot};
        for (day, utc_h, utc_m) in [
            (NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), 5, 30),
            (NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), 7, 55),
        ] {
            let now = day
                .and_hms_opt(utc_h, utc_m, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis();
            let mut sim = Simulator::new(42, day);
            sim.step(60.0);
            let mut snap = Snapshot::default();
            for (_, p) in sim.round(now) {
                snap.apply(&stocksblitz_market::decode::Decoder.decode(&p, now).unwrap());
            }
            for (u, (name, _, base)) in UNDERLYINGS.iter().enumerate() {
                let spot = sim.spots[u];
                let view = snap.underlying(name).unwrap();
                let nearest = view.options.iter().filter_map(|o| o.expiry).min().unwrap();
                let mut checked = 0;
                for o in view.options.iter().filter(|o| o.expiry == Some(nearest)) {
                    let g = o
                        .greeks
                        .unwrap_or_else(|| panic!("{} has no greeks", o.tradingsymbol));
                    let (k, right) = (o.strike.unwrap(), o.right.unwrap());
                    let t = years_to_expiry(nearest, now).unwrap();
                    let forward = spot * (DEFAULT_RATE * t).exp();
                    // Deep in the money near expiry: delta within 0.02 of ±1.
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
                    // The IV is the simulator's smile wherever the price can tell it: a tick of
                    // rounding (±0.025) moves the IV by at most 0.5 vol points when vega per
                    // vol point is ≥ 0.05.
                    if let (Some(IvSource::Market { .. }), Some(iv)) = (o.iv_source, g.iv)
                        && g.vega >= 0.05
                    {
                        let truth = smile_vol(*base, forward, k);
                        assert!(
                            (iv - truth).abs() < 0.005,
                            "{}: iv {iv} vs {truth}",
                            o.tradingsymbol
                        );
                        checked += 1;
                    }
                }
                assert!(checked >= 5, "{name} {day}: only {checked} options checked");
                // The fitted smile: close to the simulator's, no butterfly or calendar arbitrage
                // on the listed strikes.
                let mut expiries: Vec<NaiveDate> =
                    view.options.iter().filter_map(|o| o.expiry).collect();
                expiries.sort();
                expiries.dedup();
                let mut fits = Vec::new();
                for e in &expiries {
                    let smile = snap.smile(name, *e, now).unwrap();
                    let fit = smile.fit.clone().unwrap();
                    let strikes: Vec<f64> = smile.points.iter().map(|p| p.strike).collect();
                    assert!(fit.rmse < 0.005, "{name} {e}: rmse {}", fit.rmse);
                    assert!(fit.butterfly_ok(&strikes), "{name} {e}: {fit:?}");
                    assert!(smile.points.iter().all(|p| p.iv.is_some()));
                    fits.push(fit);
                }
                let f0 = fits[0].forward;
                let ks: Vec<f64> = (-10..=10)
                    .map(|i| (1.0 + f64::from(i) * 0.002f64).ln())
                    .collect();
                let _ = f0;
                assert!(calendar_ok(&fits, &ks), "{name}: calendar arbitrage");
            }
        }
    }

    #[test]
    fn lot_sizes_come_from_the_contract_table() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let now = day
            .and_hms_opt(5, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let mut sim = Simulator::new(7, day);
        let mut seen = std::collections::BTreeMap::new();
        for (_, p) in sim.round(now) {
            let t = stocksblitz_market::decode::Decoder.decode(&p, now).unwrap();
            if t.kind != stocksblitz_market::TickKind::Index {
                seen.insert(t.underlying.to_string(), (t.lot_size, t.tick_size));
            }
        }
        assert_eq!(seen["NIFTY"], (Some(65), Some(0.05)));
        assert_eq!(seen["BANKNIFTY"], (Some(30), Some(0.05)));
        assert_eq!(seen["FINNIFTY"], (Some(60), Some(0.05)));
        assert_eq!(seen["SENSEX"], (Some(20), Some(0.05)));
    }
}
