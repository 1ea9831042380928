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
}
