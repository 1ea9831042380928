//! Reminders on the exchange calendar: when a reminder next fires.
//!
//! Times are UTC epoch milliseconds on the exchange clock (the wall clock, or the demo clock);
//! wall times of day are IST. Sessions, holidays and expiries come from the symbols crate's
//! calendar (through the market crate's session helpers), so a reminder "at market open"
//! skips weekends and exchange holidays, and "before expiry" follows the expiry rules of the
//! underlying (its weekly series when it has one, else the monthly).

use chrono::{Datelike, NaiveDate, Weekday};
use stocksblitz_market::session::{ist_date, ist_midnight_ms, session_window_ms};
use stocksblitz_symbols::{Calendar, ExpiryRules};

/// How often a reminder fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Once, at a given instant.
    Once,
    /// Every day at an IST time of day.
    Daily,
    /// Every week on a weekday at an IST time of day.
    Weekly,
    /// At every session open (09:15 IST on trading days), shifted by the offset.
    MarketOpen,
    /// At every session close (15:30 IST on trading days), shifted by the offset.
    MarketClose,
    /// On every expiry day of an underlying at the close, shifted by the offset.
    BeforeExpiry,
}

impl Frequency {
    pub const ALL: [Frequency; 6] = [
        Frequency::Once,
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::MarketOpen,
        Frequency::MarketClose,
        Frequency::BeforeExpiry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Once => "once",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::MarketOpen => "market_open",
            Frequency::MarketClose => "market_close",
            Frequency::BeforeExpiry => "before_expiry",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        let s = s.trim().to_ascii_lowercase();
        Frequency::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// When a reminder fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub frequency: Frequency,
    /// `Once`: the instant (ms).
    pub at_ms: Option<i64>,
    /// `Daily`, `Weekly`: minutes after IST midnight (0–1439).
    pub minute_of_day: Option<u32>,
    /// `Weekly`: the weekday.
    pub weekday: Option<Weekday>,
    /// `MarketOpen`, `MarketClose`, `BeforeExpiry`: fire this many minutes before the event
    /// (negative: after it).
    pub offset_minutes: i64,
    /// `BeforeExpiry`: the underlying (`NIFTY`, `BANKNIFTY`, …).
    pub underlying: Option<String>,
    /// Whether the underlying has weekly expiries (`BeforeExpiry`).
    pub weekly_series: bool,
}

/// How far ahead a recurring reminder looks for its next instant (days).
const HORIZON_DAYS: u64 = 400;

fn day_at(day: NaiveDate, minute: i64) -> i64 {
    ist_midnight_ms(day) + minute * 60_000
}

/// The first instant strictly after `after_ms` at which the reminder fires; None when it never
/// fires again (a past one-off) or the schedule is incomplete.
pub fn next_fire(s: &Schedule, after_ms: i64) -> Option<i64> {
    let cal = Calendar::embedded();
    let offset = s.offset_minutes * 60_000;
    // Start a day early so an event shifted across midnight is not skipped.
    let mut day = ist_date(after_ms.div_euclid(1000))?.pred_opt()?;
    if s.frequency == Frequency::Once {
        return s.at_ms.filter(|t| *t > after_ms);
    }
    let expiries: Vec<NaiveDate> = if s.frequency == Frequency::BeforeExpiry {
        let rules = ExpiryRules::for_underlying(s.underlying.as_deref()?);
        if s.weekly_series {
            cal.next_weekly_expiries(rules, day, 60)
        } else {
            cal.next_monthly_expiries(rules, day, 14)
        }
    } else {
        Vec::new()
    };
    for _ in 0..HORIZON_DAYS {
        let candidate = match s.frequency {
            Frequency::Once => None,
            Frequency::Daily => Some(day_at(day, i64::from(s.minute_of_day?))),
            Frequency::Weekly => (day.weekday() == s.weekday?)
                .then(|| day_at(day, i64::from(s.minute_of_day.unwrap_or(0)))),
            Frequency::MarketOpen => session_window_ms(day).map(|(open, _)| open - offset),
            Frequency::MarketClose => session_window_ms(day).map(|(_, close)| close - offset),
            Frequency::BeforeExpiry => expiries
                .contains(&day)
                .then(|| session_window_ms(day).map(|(_, close)| close - offset))
                .flatten(),
        };
        if let Some(t) = candidate
            && t > after_ms
        {
            return Some(t);
        }
        day = day.succ_opt()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ist(y: i32, m: u32, d: u32, hh: i64, mm: i64) -> i64 {
        let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        day_at(day, hh * 60 + mm)
    }

    fn sched(frequency: Frequency) -> Schedule {
        Schedule {
            frequency,
            at_ms: None,
            minute_of_day: None,
            weekday: None,
            offset_minutes: 0,
            underlying: None,
            weekly_series: false,
        }
    }

    #[test]
    fn market_open_skips_weekends_and_holidays() {
        let s = sched(Frequency::MarketOpen);
        // Friday 2026-12-04 10:00 IST → Monday 2026-12-07 09:15.
        assert_eq!(
            next_fire(&s, ist(2026, 12, 4, 10, 0)),
            Some(ist(2026, 12, 7, 9, 15))
        );
        // Before the open on a trading day: that day's open.
        assert_eq!(
            next_fire(&s, ist(2026, 12, 7, 8, 0)),
            Some(ist(2026, 12, 7, 9, 15))
        );
        // 2026-12-25 (Christmas, an NSE holiday, a Friday): from the 24th's close to Monday 28th.
        assert_eq!(
            next_fire(&s, ist(2026, 12, 24, 16, 0)),
            Some(ist(2026, 12, 28, 9, 15))
        );
        let mut before = sched(Frequency::MarketClose);
        before.offset_minutes = 10;
        assert_eq!(
            next_fire(&before, ist(2026, 12, 7, 15, 20)),
            Some(ist(2026, 12, 8, 15, 20))
        );
        assert_eq!(
            next_fire(&before, ist(2026, 12, 7, 15, 19)),
            Some(ist(2026, 12, 7, 15, 20))
        );
    }

    #[test]
    fn daily_weekly_and_once() {
        let mut d = sched(Frequency::Daily);
        d.minute_of_day = Some(9 * 60);
        assert_eq!(
            next_fire(&d, ist(2026, 12, 5, 9, 0)),
            Some(ist(2026, 12, 6, 9, 0))
        );
        assert_eq!(
            next_fire(&d, ist(2026, 12, 5, 8, 59)),
            Some(ist(2026, 12, 5, 9, 0))
        );
        let mut w = sched(Frequency::Weekly);
        w.minute_of_day = Some(18 * 60 + 30);
        w.weekday = Some(Weekday::Wed);
        assert_eq!(
            next_fire(&w, ist(2026, 12, 4, 0, 0)),
            Some(ist(2026, 12, 9, 18, 30))
        );
        let mut o = sched(Frequency::Once);
        o.at_ms = Some(1000);
        assert_eq!(next_fire(&o, 999), Some(1000));
        assert_eq!(next_fire(&o, 1000), None);
        assert_eq!(
            next_fire(&sched(Frequency::Daily), 0),
            None,
            "no time of day"
        );
    }

    #[test]
    fn before_expiry_follows_the_underlying_rules() {
        let mut s = sched(Frequency::BeforeExpiry);
        s.underlying = Some("NIFTY".into());
        s.weekly_series = true;
        s.offset_minutes = 30;
        let cal = Calendar::embedded();
        let rules = ExpiryRules::for_underlying("NIFTY");
        let from = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default();
        let next = cal.next_weekly_expiries(rules, from, 1)[0];
        assert_eq!(
            next_fire(&s, ist(2026, 12, 4, 16, 0)),
            Some(day_at(next, 15 * 60)),
            "30 minutes before the close of {next}"
        );
        s.weekly_series = false;
        let monthly = cal.next_monthly_expiries(rules, from, 1)[0];
        assert_eq!(
            next_fire(&s, ist(2026, 12, 4, 16, 0)),
            Some(day_at(monthly, 15 * 60))
        );
    }

    proptest::proptest! {
        #[test]
        fn the_next_fire_is_after_and_stable(after in 1_700_000_000_000i64..1_900_000_000_000, f in 1usize..6) {
            let mut s = sched(Frequency::ALL[f]);
            s.minute_of_day = Some(600);
            s.weekday = Some(Weekday::Tue);
            s.underlying = Some("BANKNIFTY".into());
            if let Some(t) = next_fire(&s, after) {
                proptest::prop_assert!(t > after);
                // Nothing fires in between: asking from just before it gives it again.
                proptest::prop_assert_eq!(next_fire(&s, t - 1), Some(t));
            }
        }
    }
}
