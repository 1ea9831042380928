//! Bars: 1-minute bars per instrument built from ticks by exchange time (IST-aligned minutes),
//! closed on a clock (a grace after the bar end), late ticks emitted as amendments that merge;
//! roll-ups to every other timeframe.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::session::{Session, ist_date};
use crate::tick::{Tick, TickKind};
use crate::timeframe::Timeframe;

/// One OHLCV bar. `start` is the bucket start, UTC epoch seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub instrument: CompactString,
    pub timeframe: Timeframe,
    pub start: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// Traded volume within the bar (from cumulative-volume increases).
    pub volume: u64,
    /// Last open interest in the bar.
    pub oi: Option<u64>,
    /// First open interest in the bar.
    pub open_oi: Option<u64>,
    /// Exchange time of the first and last tick in the bar (UTC epoch ms).
    pub first_ts_ms: i64,
    pub last_ts_ms: i64,
}

impl Bar {
    fn from_tick(
        instrument: &CompactString,
        tf: Timeframe,
        start: i64,
        t: &Tick,
        volume: u64,
    ) -> Bar {
        Bar {
            instrument: instrument.clone(),
            timeframe: tf,
            start,
            open: t.price,
            high: t.price,
            low: t.price,
            close: t.price,
            volume,
            oi: t.oi,
            open_oi: t.oi,
            first_ts_ms: t.exchange_ts_ms,
            last_ts_ms: t.exchange_ts_ms,
        }
    }

    fn add_tick(&mut self, t: &Tick, volume: u64) {
        let p = t.price;
        if p > self.high {
            self.high = p;
        }
        if p < self.low {
            self.low = p;
        }
        self.volume += volume;
        if t.exchange_ts_ms >= self.last_ts_ms {
            self.close = p;
            self.last_ts_ms = t.exchange_ts_ms;
            if t.oi.is_some() {
                self.oi = t.oi;
            }
        }
        if t.exchange_ts_ms < self.first_ts_ms {
            self.open = p;
            self.first_ts_ms = t.exchange_ts_ms;
            if t.oi.is_some() {
                self.open_oi = t.oi;
            }
        }
    }

    /// Merge another piece of the same bar (an amendment, or a later bucket member in a
    /// roll-up): high/low extended, volume added, open/open OI from the earlier data,
    /// close/OI from the later data. The store's upsert applies the same rule.
    pub fn merge(&mut self, other: &Bar) {
        if other.high > self.high {
            self.high = other.high;
        }
        if other.low < self.low {
            self.low = other.low;
        }
        self.volume += other.volume;
        if other.last_ts_ms >= self.last_ts_ms {
            self.close = other.close;
            self.last_ts_ms = other.last_ts_ms;
            if other.oi.is_some() {
                self.oi = other.oi;
            }
        }
        if other.first_ts_ms < self.first_ts_ms {
            self.open = other.open;
            self.first_ts_ms = other.first_ts_ms;
            if other.open_oi.is_some() {
                self.open_oi = other.open_oi;
            }
        }
    }

    /// Exclusive end of the bar (UTC epoch seconds).
    pub fn end(&self) -> i64 {
        self.timeframe.bucket_end(self.start)
    }
}

/// What the builder emits.
#[derive(Debug, Clone, PartialEq)]
pub enum BarEvent {
    /// A bar that closed (on the clock, or because a later bucket started).
    Closed(Bar),
    /// A late tick for a bar already closed: merge it into the stored bar.
    Amend(Bar),
}

impl BarEvent {
    pub fn bar(&self) -> &Bar {
        match self {
            BarEvent::Closed(b) | BarEvent::Amend(b) => b,
        }
    }
    pub fn into_bar(self) -> Bar {
        match self {
            BarEvent::Closed(b) | BarEvent::Amend(b) => b,
        }
    }
}

#[derive(Debug, Default)]
struct InstState {
    current: Option<Bar>,
    /// Buckets strictly before this start are closed.
    closed_before: i64,
    /// Cumulative-volume baseline and the IST day and exchange time it belongs to.
    baseline: Option<u64>,
    day: Option<chrono::NaiveDate>,
    last_ts_ms: i64,
    /// Exchange time minus receive time of the newest tick: where the feed's clock stands
    /// against the wall clock (about −latency for a live feed; far off for a replay or the
    /// demo clock). Bars close on the feed's clock.
    offset_ms: Option<i64>,
}

/// Builds 1-minute bars for many instruments.
#[derive(Debug)]
pub struct BarBuilder {
    grace_ms: i64,
    session: Session,
    states: HashMap<CompactString, InstState>,
}

impl BarBuilder {
    /// `grace_ms`: how long after a bar's end it closes on the clock (default 2000).
    pub fn new(session: Session, grace_ms: i64) -> Self {
        BarBuilder {
            grace_ms: grace_ms.max(0),
            session,
            states: HashMap::new(),
        }
    }

    pub fn session(&self) -> Session {
        self.session
    }

    /// Number of open (forming) bars.
    pub fn open_bars(&self) -> usize {
        self.states.values().filter(|s| s.current.is_some()).count()
    }

    /// The forming 1-minute bar of an instrument.
    pub fn forming(&self, instrument: &str) -> Option<&Bar> {
        self.states.get(instrument).and_then(|s| s.current.as_ref())
    }

    /// Volume attributable to this tick: the increase of the day's cumulative volume since the
    /// previous tick. A new IST day starts from zero; a decrease within a day is a feed reset
    /// (new baseline, no volume); a late tick (older than the last one) adds none; the first
    /// tick seen mid-day only sets the baseline.
    fn volume_delta(st: &mut InstState, t: &Tick) -> u64 {
        if t.kind == TickKind::Index {
            return 0;
        }
        let Some(cum) = t.volume else { return 0 };
        if t.exchange_ts_ms < st.last_ts_ms {
            return 0;
        }
        st.last_ts_ms = t.exchange_ts_ms;
        let day = ist_date(t.ts());
        let new_day = st.day.is_some() && st.day != day;
        st.day = day;
        let delta = match st.baseline {
            _ if new_day => cum,
            Some(b) if cum >= b => cum - b,
            _ => 0,
        };
        st.baseline = Some(cum);
        delta
    }

    /// Feed one tick; closed bars and amendments are appended to `out`.
    pub fn on_tick(&mut self, t: &Tick, out: &mut Vec<BarEvent>) {
        let st = match self.states.get_mut(&t.tradingsymbol) {
            Some(s) => s,
            None => self.states.entry(t.tradingsymbol.clone()).or_default(),
        };
        if t.exchange_ts_ms >= st.last_ts_ms {
            st.offset_ms = Some(t.exchange_ts_ms - t.recv_ts_ms);
        }
        let volume = Self::volume_delta(st, t);
        let ts = t.ts();
        if !self.session.is_open(ts) {
            return;
        }
        let start = Timeframe::M1.bucket_start(ts);
        match &mut st.current {
            Some(cur) if cur.start == start => cur.add_tick(t, volume),
            Some(cur) if start < cur.start => {
                out.push(BarEvent::Amend(Bar::from_tick(
                    &t.tradingsymbol,
                    Timeframe::M1,
                    start,
                    t,
                    volume,
                )));
            }
            _ if start < st.closed_before => {
                out.push(BarEvent::Amend(Bar::from_tick(
                    &t.tradingsymbol,
                    Timeframe::M1,
                    start,
                    t,
                    volume,
                )));
            }
            slot => {
                if let Some(done) = slot.take() {
                    st.closed_before = done.start + 60;
                    out.push(BarEvent::Closed(done));
                }
                *slot = Some(Bar::from_tick(
                    &t.tradingsymbol,
                    Timeframe::M1,
                    start,
                    t,
                    volume,
                ));
            }
        }
    }

    /// Now on an instrument's feed clock (epoch ms), given the wall clock: the wall clock
    /// moved by the offset of the instrument's newest tick (the wall clock before any tick).
    pub fn feed_now(&self, instrument: &str, wall_ms: i64) -> i64 {
        wall_ms
            + self
                .states
                .get(instrument)
                .and_then(|s| s.offset_ms)
                .unwrap_or(0)
    }

    /// Start an instrument's forming bar from what is already known of its minute (a bar in
    /// progress generated or read from the store at start-up), with `cumulative_volume` as
    /// the day's volume so far and `offset_ms` where the feed's clock stands against the wall
    /// clock (see [`BarBuilder::feed_now`]): the next tick extends this bar instead of opening a
    /// new one with the wrong open and high. A bar of an older minute than one forming is
    /// ignored.
    pub fn seed(&mut self, bar: Bar, cumulative_volume: Option<u64>, offset_ms: Option<i64>) {
        let st = self.states.entry(bar.instrument.clone()).or_default();
        if offset_ms.is_some() {
            st.offset_ms = offset_ms;
        }
        if st.current.as_ref().is_some_and(|c| c.start > bar.start) || bar.start < st.closed_before
        {
            return;
        }
        st.last_ts_ms = st.last_ts_ms.max(bar.last_ts_ms);
        if let Some(v) = cumulative_volume {
            st.baseline = Some(v);
            st.day = ist_date(bar.start);
        }
        st.current = Some(bar);
    }

    /// Close every bar whose end plus the grace is at or before now on its feed's clock
    /// (`wall_ms` moved by the instrument's feed offset, see [`BarBuilder::feed_now`]).
    pub fn on_clock(&mut self, wall_ms: i64, out: &mut Vec<BarEvent>) {
        for st in self.states.values_mut() {
            let now_ms = wall_ms + st.offset_ms.unwrap_or(0);
            if let Some(cur) = &st.current
                && (cur.start + 60) * 1000 + self.grace_ms <= now_ms
                && let Some(done) = st.current.take()
            {
                st.closed_before = done.start + 60;
                out.push(BarEvent::Closed(done));
            }
        }
    }

    /// Close every open bar now (shutdown): nothing in memory is lost.
    pub fn flush_all(&mut self, out: &mut Vec<BarEvent>) {
        for st in self.states.values_mut() {
            if let Some(done) = st.current.take() {
                st.closed_before = done.start + 60;
                out.push(BarEvent::Closed(done));
            }
        }
    }
}

/// Roll 1-minute bars of one instrument (sorted by start) up to `tf`.
pub fn rollup(bars: &[Bar], tf: Timeframe) -> Vec<Bar> {
    let mut out: Vec<Bar> = Vec::new();
    for b in bars {
        let start = tf.bucket_start(b.start);
        match out.last_mut() {
            Some(last) if last.start == start && last.instrument == b.instrument => last.merge(b),
            _ => {
                let mut nb = b.clone();
                nb.timeframe = tf;
                nb.start = start;
                out.push(nb);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;

    /// 2025-11-04 09:15:00 IST.
    const OPEN: i64 = 1_762_227_900;

    fn fut(ts: i64, price: f64, volume: u64, oi: u64) -> Tick {
        let payload = format!(
            r#"{{"tradingsymbol": "NIFTY25NOVFUT", "type": "FUT", "price": {price}, "volume": {volume}, "oi": {oi}, "ts": {ts}}}"#
        );
        Decoder.decode(payload.as_bytes(), ts * 1000).unwrap()
    }

    #[test]
    fn minute_bars_with_volume_from_cumulative_deltas() {
        let mut b = BarBuilder::new(Session::exchange(), 2000);
        let mut out = vec![];
        b.on_tick(&fut(OPEN + 1, 100.0, 1000, 50), &mut out); // baseline
        b.on_tick(&fut(OPEN + 20, 103.0, 1300, 55), &mut out);
        b.on_tick(&fut(OPEN + 40, 99.0, 1350, 54), &mut out);
        b.on_tick(&fut(OPEN + 59, 101.0, 1400, 56), &mut out);
        assert!(out.is_empty());
        b.on_tick(&fut(OPEN + 61, 102.0, 1500, 57), &mut out);
        let [BarEvent::Closed(bar)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(
            (bar.start, bar.open, bar.high, bar.low, bar.close),
            (OPEN, 100.0, 103.0, 99.0, 101.0)
        );
        assert_eq!((bar.volume, bar.oi, bar.open_oi), (400, Some(56), Some(50)));
        // A feed reset (cumulative drops) adds no negative volume.
        out.clear();
        b.on_tick(&fut(OPEN + 70, 102.5, 200, 57), &mut out);
        b.on_tick(&fut(OPEN + 80, 102.0, 260, 57), &mut out);
        assert_eq!(b.forming("NIFTY25NOVFUT").map(|b| b.volume), Some(100 + 60));
    }

    #[test]
    fn bars_close_on_the_clock_and_late_ticks_amend() {
        let mut b = BarBuilder::new(Session::exchange(), 2000);
        let mut out = vec![];
        b.on_tick(&fut(OPEN + 5, 100.0, 10, 1), &mut out);
        b.on_clock((OPEN + 61) * 1000, &mut out);
        assert!(out.is_empty(), "still within the grace");
        b.on_clock((OPEN + 62) * 1000, &mut out);
        assert!(matches!(&out[..], [BarEvent::Closed(bar)] if bar.start == OPEN));
        out.clear();
        // A late tick for the closed minute is an amendment, not a new partial bar.
        b.on_tick(&fut(OPEN + 50, 105.0, 20, 1), &mut out);
        let [BarEvent::Amend(a)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!((a.start, a.high, a.volume), (OPEN, 105.0, 10));
        assert!(b.forming("NIFTY25NOVFUT").is_none());
    }

    /// A feed whose clock is not the wall clock (a replay, the demo clock): bars close on the
    /// feed's own clock, not immediately because the wall clock is hours ahead.
    #[test]
    fn bars_close_on_the_feed_clock() {
        let lag = 3 * 3600 * 1000;
        let late = |ts: i64, price: f64| {
            let mut t = fut(ts, price, 10, 1);
            t.recv_ts_ms += lag;
            t
        };
        let mut b = BarBuilder::new(Session::exchange(), 2000);
        let mut out = vec![];
        b.on_tick(&late(OPEN + 5, 100.0), &mut out);
        assert_eq!(
            b.feed_now("NIFTY25NOVFUT", (OPEN + 6) * 1000 + lag),
            (OPEN + 6) * 1000
        );
        b.on_clock((OPEN + 30) * 1000 + lag, &mut out);
        b.on_tick(&late(OPEN + 40, 101.0), &mut out);
        b.on_clock((OPEN + 61) * 1000 + lag, &mut out);
        assert!(out.is_empty(), "closed by the wall clock: {out:?}");
        b.on_clock((OPEN + 62) * 1000 + lag, &mut out);
        let [BarEvent::Closed(bar)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!((bar.open, bar.close), (100.0, 101.0));
    }

    /// A forming bar seeded with the part of the minute known at start-up keeps its open and
    /// high; the next tick extends it, volume counted from the seeded cumulative volume.
    #[test]
    fn a_seeded_bar_is_extended_not_rebuilt() {
        let mut b = BarBuilder::new(Session::exchange(), 2000);
        let mut out = vec![];
        let mut seeded = Bar::from_tick(
            &"NIFTY25NOVFUT".into(),
            Timeframe::M1,
            OPEN,
            &fut(OPEN + 2, 100.0, 0, 7),
            40,
        );
        seeded.high = 104.0;
        seeded.close = 103.0;
        seeded.last_ts_ms = (OPEN + 20) * 1000;
        b.seed(seeded, Some(1000), Some(0));
        b.on_tick(&fut(OPEN + 30, 102.0, 1025, 8), &mut out);
        b.on_tick(&fut(OPEN + 61, 101.0, 1030, 8), &mut out);
        let [BarEvent::Closed(bar)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close, bar.volume),
            (100.0, 104.0, 100.0, 102.0, 65)
        );
        assert_eq!(
            (bar.first_ts_ms, bar.open_oi, bar.oi),
            ((OPEN + 2) * 1000, Some(7), Some(8))
        );
        // A seed older than what already formed is ignored.
        let old = Bar::from_tick(
            &"NIFTY25NOVFUT".into(),
            Timeframe::M1,
            OPEN,
            &fut(OPEN, 1.0, 0, 1),
            0,
        );
        b.seed(old, None, None);
        assert_eq!(b.forming("NIFTY25NOVFUT").map(|x| x.start), Some(OPEN + 60));
    }

    #[test]
    fn session_filter_and_merge_rule() {
        let mut b = BarBuilder::new(Session::exchange(), 2000);
        let mut out = vec![];
        b.on_tick(&fut(OPEN - 60, 100.0, 10, 1), &mut out); // 09:14, before the open
        assert!(b.forming("NIFTY25NOVFUT").is_none());
        let mut demo = BarBuilder::new(Session::always_open(), 2000);
        demo.on_tick(&fut(OPEN - 60, 100.0, 10, 1), &mut out);
        assert!(demo.forming("NIFTY25NOVFUT").is_some());

        let mut a = Bar::from_tick(
            &"X".into(),
            Timeframe::M1,
            OPEN,
            &fut(OPEN + 30, 10.0, 0, 5),
            7,
        );
        let late = Bar::from_tick(
            &"X".into(),
            Timeframe::M1,
            OPEN,
            &fut(OPEN + 10, 8.0, 0, 4),
            3,
        );
        a.merge(&late);
        assert_eq!(
            (a.open, a.low, a.close, a.volume, a.open_oi, a.oi),
            (8.0, 8.0, 10.0, 10, Some(4), Some(5))
        );
    }

    #[test]
    fn rollups_align_and_sum() {
        let mut b = BarBuilder::new(Session::exchange(), 0);
        let mut out = vec![];
        let mut cum = 1000;
        b.on_tick(&fut(OPEN, 100.0, cum, 1), &mut out);
        for m in 0..75 {
            cum += 10;
            b.on_tick(
                &fut(OPEN + m * 60 + 30, 100.0 + m as f64, cum, m as u64),
                &mut out,
            );
        }
        b.flush_all(&mut out);
        let bars: Vec<Bar> = out.into_iter().map(BarEvent::into_bar).collect();
        assert_eq!(bars.len(), 75);
        let five = rollup(&bars, Timeframe::M5);
        assert_eq!(five.len(), 15);
        assert_eq!(
            (five[0].start, five[0].open, five[0].close, five[0].volume),
            (OPEN, 100.0, 104.0, 50)
        );
        let hour = rollup(&bars, Timeframe::H1);
        assert_eq!(hour.len(), 2);
        assert_eq!(
            (hour[1].start, hour[1].volume, hour[1].oi),
            (OPEN + 3600, 150, Some(74))
        );
        let day = rollup(&bars, Timeframe::D1);
        assert_eq!((day.len(), day[0].high, day[0].low), (1, 174.0, 100.0));
    }
}
