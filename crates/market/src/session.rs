//! The trading-session filter: 09:15–15:30 IST on trading days (the symbols crate's calendar),
//! or always open (the simulator's demo clock).

use chrono::{DateTime, NaiveDate};
use stocksblitz_symbols::Calendar;

use crate::{IST_OFFSET_SECS, SESSION_CLOSE_SECS, SESSION_OPEN_SECS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMode {
    /// Exchange hours on trading days.
    Exchange,
    /// Every instant is in session (demo clock, extended hours).
    AlwaysOpen,
}

/// The IST calendar date of an epoch-seconds instant.
pub fn ist_date(ts: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(ts + IST_OFFSET_SECS, 0).map(|d| d.date_naive())
}

/// Seconds since IST midnight.
pub fn ist_seconds_of_day(ts: i64) -> i64 {
    (ts + IST_OFFSET_SECS).rem_euclid(86_400)
}

/// UTC epoch milliseconds of IST midnight starting `day`.
pub fn ist_midnight_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
        - IST_OFFSET_SECS * 1000
}

/// The exchange session of an IST date, `[open, close)` in UTC epoch milliseconds; None when the
/// date is not a trading day.
pub fn session_window_ms(day: NaiveDate) -> Option<(i64, i64)> {
    Calendar::embedded().is_trading_day(day).then(|| {
        let m = ist_midnight_ms(day);
        (m + SESSION_OPEN_SECS * 1000, m + SESSION_CLOSE_SECS * 1000)
    })
}

/// The first instant at or after `at_ms` that is in an exchange session (`at_ms` itself when it
/// is), looking at most 30 days ahead.
pub fn next_session_instant(at_ms: i64) -> Option<i64> {
    let mut day = ist_date(at_ms.div_euclid(1000))?;
    for _ in 0..30 {
        if let Some((open, close)) = session_window_ms(day)
            && at_ms < close
        {
            return Some(at_ms.max(open));
        }
        day = day.succ_opt()?;
    }
    None
}

#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub mode: SessionMode,
}

impl Session {
    pub fn exchange() -> Self {
        Session {
            mode: SessionMode::Exchange,
        }
    }
    pub fn always_open() -> Self {
        Session {
            mode: SessionMode::AlwaysOpen,
        }
    }

    /// Whether a tick at `ts` (UTC epoch seconds) falls in the session.
    pub fn is_open(&self, ts: i64) -> bool {
        match self.mode {
            SessionMode::AlwaysOpen => true,
            SessionMode::Exchange => {
                let sod = ist_seconds_of_day(ts);
                (SESSION_OPEN_SECS..SESSION_CLOSE_SECS).contains(&sod)
                    && ist_date(ts).is_some_and(|d| Calendar::embedded().is_trading_day(d))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_hours_on_trading_days_only() {
        let s = Session::exchange();
        let open = 1_762_227_900; // Tue 2025-11-04 09:15 IST
        assert!(s.is_open(open));
        assert!(!s.is_open(open - 1));
        assert!(s.is_open(open + 22_499));
        assert!(!s.is_open(open + 22_500)); // 15:30
        assert!(!s.is_open(open + 86_400)); // Wed 2025-11-05 is a holiday
        assert!(!s.is_open(open + 4 * 86_400)); // Saturday
        assert!(Session::always_open().is_open(open + 4 * 86_400));
        assert_eq!(ist_date(open), NaiveDate::from_ymd_opt(2025, 11, 4));
    }

    #[test]
    fn session_windows_and_the_next_session_instant() {
        let open_ms = 1_762_227_900_000; // Tue 2025-11-04 09:15 IST
        let day = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        assert_eq!(
            session_window_ms(day),
            Some((open_ms, open_ms + 22_500_000))
        );
        // 5 Nov is a holiday: no session.
        assert_eq!(session_window_ms(day.succ_opt().unwrap()), None);
        assert_eq!(next_session_instant(open_ms + 5), Some(open_ms + 5));
        assert_eq!(next_session_instant(open_ms - 3_600_000), Some(open_ms));
        // After the close: Thursday's open (Wednesday is a holiday).
        assert_eq!(
            next_session_instant(open_ms + 22_500_000),
            Some(open_ms + 2 * 86_400_000)
        );
    }
}
