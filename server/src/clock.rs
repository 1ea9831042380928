//! The exchange clock paper trading runs on.
//!
//! On the live feed it is the wall clock. Under `--demo-clock` it is a virtual exchange clock,
//! so the trading day's events happen at any hour: it starts at 09:15 IST of today's trading
//! day (or later: it resumes where the stored books left off), runs through the session
//! (09:15–15:30) at `--demo-speed` times real time, and at 15:30 moves on to 09:15 of the next
//! trading day — the 15:20 square-off, the close and expiries happen on it like on the
//! exchange. `POST /admin/clock` moves it forward (tests reach the square-off or an expiry in
//! seconds). Bars and the simulator's ticks keep real time; only trading reads this clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDate};
use stocksblitz_market::session::{ist_date, ist_seconds_of_day};
use stocksblitz_market::{SESSION_CLOSE_SECS, SESSION_OPEN_SECS};
use stocksblitz_symbols::Calendar;

use crate::ingest::now_ms;

/// Milliseconds of one session.
const SESSION_MS: i64 = (SESSION_CLOSE_SECS - SESSION_OPEN_SECS) * 1000;
/// The furthest the demo clock may be moved in one call (a year of sessions).
pub(crate) const MAX_ADVANCE_MS: i64 = 366 * SESSION_MS;

#[derive(Debug)]
struct Demo {
    real_start: i64,
    first_day: NaiveDate,
    /// Session milliseconds elapsed at `real_start` (since `first_day` 09:15).
    elapsed_start: i64,
    speed: f64,
    /// Session milliseconds added by [`TradingClock::advance`].
    advanced: AtomicI64,
    /// (day index, its date): the last day mapped, so the calendar walk is incremental.
    day_cache: Mutex<(i64, NaiveDate)>,
}

/// The trading clock (wall or demo).
#[derive(Debug)]
pub struct TradingClock {
    demo: Option<Demo>,
}

fn next_trading_day(d: NaiveDate) -> NaiveDate {
    let cal = Calendar::embedded();
    let mut x = d + Duration::days(1);
    for _ in 0..30 {
        if cal.is_trading_day(x) {
            return x;
        }
        x += Duration::days(1);
    }
    x
}

fn trading_day_on_or_after(d: NaiveDate) -> NaiveDate {
    if Calendar::embedded().is_trading_day(d) {
        d
    } else {
        next_trading_day(d)
    }
}

impl TradingClock {
    /// The exchange's real clock.
    pub fn wall() -> TradingClock {
        TradingClock { demo: None }
    }

    /// A demo clock at `speed` × real time, starting at 09:15 of today's trading day, or just
    /// after `resume_from` (the latest time the stored books reached) when that is later.
    pub fn demo(speed: f64, resume_from: Option<i64>) -> TradingClock {
        let real = now_ms();
        let today = ist_date(real / 1000).unwrap_or_default();
        let mut first_day = trading_day_on_or_after(today);
        let mut elapsed_start = 0;
        if let Some(v) = resume_from
            && let Some(d) = ist_date(v.div_euclid(1000))
            && d >= first_day
        {
            let in_session = ist_seconds_of_day(v.div_euclid(1000)) * 1000
                - SESSION_OPEN_SECS * 1000
                + v.rem_euclid(1000)
                + 1;
            if in_session >= SESSION_MS || !Calendar::embedded().is_trading_day(d) {
                first_day = next_trading_day(d);
            } else {
                first_day = d;
                elapsed_start = in_session.max(0);
            }
        }
        TradingClock {
            demo: Some(Demo {
                real_start: real,
                first_day,
                elapsed_start,
                speed: if speed.is_finite() && speed > 0.0 {
                    speed
                } else {
                    1.0
                },
                advanced: AtomicI64::new(0),
                day_cache: Mutex::new((0, first_day)),
            }),
        }
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// Exchange seconds per real second (1 on the wall clock).
    pub fn speed(&self) -> f64 {
        self.demo.as_ref().map_or(1.0, |d| d.speed)
    }

    /// Now on this clock (epoch ms).
    pub fn now(&self) -> i64 {
        let Some(d) = &self.demo else {
            return now_ms();
        };
        let real = now_ms() - d.real_start;
        let elapsed =
            d.elapsed_start + (real as f64 * d.speed) as i64 + d.advanced.load(Ordering::SeqCst);
        let (idx, rem) = (
            elapsed.div_euclid(SESSION_MS),
            elapsed.rem_euclid(SESSION_MS),
        );
        let date = {
            let mut c = d
                .day_cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idx < c.0 {
                *c = (0, d.first_day);
            }
            while c.0 < idx {
                c.1 = next_trading_day(c.1);
                c.0 += 1;
            }
            c.1
        };
        stocksblitz_broker::session::ist_midnight(date) + SESSION_OPEN_SECS * 1000 + rem
    }

    /// Move the demo clock forward by `ms` of session time (Err on the wall clock or a bad
    /// amount). Returns the new time.
    pub fn advance(&self, ms: i64) -> Result<i64, String> {
        let Some(d) = &self.demo else {
            return Err("the exchange clock is the wall clock (start with --demo-clock)".into());
        };
        if !(1..=MAX_ADVANCE_MS).contains(&ms) {
            return Err(format!(
                "can move forward by 1 ms to {} sessions at a time",
                MAX_ADVANCE_MS / SESSION_MS
            ));
        }
        d.advanced.fetch_add(ms, Ordering::SeqCst);
        Ok(self.now())
    }

    /// Move the demo clock forward to `target` (epoch ms): to its time in the session when it
    /// is in one, else to the next session's open. Returns the new time.
    pub fn advance_to(&self, target: i64) -> Result<i64, String> {
        let now = self.now();
        if target <= now {
            return Err("the clock only moves forward".into());
        }
        // Walk in session time: whole days, then the rest of the day.
        let mut ms = 0i64;
        let mut at = now;
        while ist_date(at.div_euclid(1000)) < ist_date(target.div_euclid(1000)) {
            let sod = ist_seconds_of_day(at.div_euclid(1000)) * 1000 + at.rem_euclid(1000);
            ms += (SESSION_CLOSE_SECS * 1000 - sod).max(0);
            let day = ist_date(at.div_euclid(1000)).unwrap_or_default();
            let next = next_trading_day(day);
            at = stocksblitz_broker::session::ist_midnight(next) + SESSION_OPEN_SECS * 1000;
            if ms > MAX_ADVANCE_MS {
                return Err("that is too far ahead".into());
            }
        }
        let sod_at = ist_seconds_of_day(at.div_euclid(1000)) * 1000 + at.rem_euclid(1000);
        let sod_t = ist_seconds_of_day(target.div_euclid(1000)) * 1000 + target.rem_euclid(1000);
        let close = SESSION_CLOSE_SECS * 1000;
        ms += sod_t.clamp(SESSION_OPEN_SECS * 1000, close) - sod_at.min(close);
        self.advance(ms.max(1))
    }
}
