//! Session rules: market hours, the MIS cut-off and square-off, and the boundaries a clock
//! crossing fires, computed from the symbols crate's trading calendar (no wall clock).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use stocksblitz_market::session::{ist_date, ist_seconds_of_day};
use stocksblitz_market::{IST_OFFSET_SECS, SESSION_CLOSE_SECS, SESSION_OPEN_SECS};
use stocksblitz_symbols::Calendar;

use crate::types::Millis;

/// When the market is open and when intraday positions are closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRules {
    /// Every day is a trading day and every minute is in session (the demo clock): no
    /// market-closed rejections, no cut-off and no square-off; DAY orders end at IST midnight;
    /// contracts still expire at 15:30 IST of their expiry day.
    pub always_open: bool,
    /// Seconds after IST midnight.
    pub open: i64,
    pub close: i64,
    /// MIS positions are squared off at this time (None: never).
    pub squareoff: Option<i64>,
    /// New MIS orders are refused from this time (None: never).
    pub mis_cutoff: Option<i64>,
}

impl Default for SessionRules {
    fn default() -> Self {
        SessionRules {
            always_open: false,
            open: SESSION_OPEN_SECS,
            close: SESSION_CLOSE_SECS,
            squareoff: Some(15 * 3600 + 20 * 60),
            mis_cutoff: Some(15 * 3600 + 20 * 60),
        }
    }
}

/// What happens at a boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Boundary {
    /// The session opens: positions roll over, AMOs go to the market.
    Open,
    /// MIS orders cancelled, MIS positions closed at market.
    SquareOff,
    /// DAY orders end; leftover square-offs fill at the last price.
    Close,
    /// Contracts expiring today settle.
    Expiry,
}

/// IST midnight of `date`, epoch ms.
pub fn ist_midnight(date: NaiveDate) -> Millis {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |d| (d.and_utc().timestamp() - IST_OFFSET_SECS) * 1000)
}

/// The IST date of an instant (epoch ms).
pub fn date_of(at: Millis) -> Option<NaiveDate> {
    ist_date(at.div_euclid(1000))
}

/// `hh:mm` of seconds after midnight.
pub fn hhmm(secs: i64) -> String {
    format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

impl SessionRules {
    fn is_trading_day(&self, date: NaiveDate) -> bool {
        self.always_open || Calendar::embedded().is_trading_day(date)
    }

    /// Whether regular orders are accepted at `at`.
    pub fn is_open(&self, at: Millis) -> bool {
        if self.always_open {
            return true;
        }
        let sod = ist_seconds_of_day(at.div_euclid(1000));
        (self.open..self.close).contains(&sod)
            && date_of(at).is_some_and(|d| self.is_trading_day(d))
    }

    /// Whether new MIS orders are refused at `at`.
    pub fn past_mis_cutoff(&self, at: Millis) -> bool {
        match self.mis_cutoff {
            Some(c) if !self.always_open => {
                let sod = ist_seconds_of_day(at.div_euclid(1000));
                sod >= c && sod < self.close
            }
            _ => false,
        }
    }

    /// The boundaries of `date`, in time order, as (instant, what).
    pub fn boundaries(&self, date: NaiveDate) -> Vec<(Millis, Boundary)> {
        let mid = ist_midnight(date);
        let expiry = mid + SESSION_CLOSE_SECS * 1000;
        if self.always_open {
            // The day's "close" is the next midnight; its open this midnight.
            return vec![
                (mid, Boundary::Open),
                (expiry, Boundary::Expiry),
                (mid + 86_400_000 - 1, Boundary::Close),
            ];
        }
        if !self.is_trading_day(date) {
            return Vec::new();
        }
        let mut v = vec![(mid + self.open * 1000, Boundary::Open)];
        if let Some(s) = self.squareoff {
            v.push((mid + s * 1000, Boundary::SquareOff));
        }
        v.push((mid + self.close * 1000, Boundary::Close));
        v.push((expiry.max(mid + self.close * 1000), Boundary::Expiry));
        v.sort();
        v
    }

    /// Every boundary in (after, until], in time order. Walks at most `max_days` days.
    pub fn boundaries_between(
        &self,
        after: Millis,
        until: Millis,
        max_days: i64,
    ) -> Vec<(Millis, Boundary)> {
        let (Some(first), Some(last)) = (date_of(after), date_of(until)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut d = first;
        let mut n = 0;
        while d <= last && n <= max_days {
            for b in self.boundaries(d) {
                if b.0 > after && b.0 <= until {
                    out.push(b);
                }
            }
            d += Duration::days(1);
            n += 1;
        }
        out
    }
}
