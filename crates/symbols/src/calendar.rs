//! The expiry calendar: which weekday contracts expire on (per exchange and date), trading
//! holidays (data, loaded from the CSV shipped in `data/`), and expiry queries.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};

use crate::symbol::Exchange;

static EMBEDDED_CSV: &str = include_str!("../data/nse-holidays.csv");

static EMBEDDED: LazyLock<Calendar> = LazyLock::new(|| {
    // The embedded file is checked by a unit test; a bad line there is skipped, never a panic.
    Calendar::from_csv(EMBEDDED_CSV).unwrap_or_else(|_| Calendar::empty())
});

/// Which expiry weekday rules apply: NSE (NIFTY, BANKNIFTY, stocks, …) or BSE (SENSEX, BANKEX).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryRules {
    Nse,
    Bse,
}

impl ExpiryRules {
    /// The rules for a derivative underlying (canonical name).
    pub fn for_underlying(underlying: &str) -> Self {
        match underlying {
            "SENSEX" | "BANKEX" => ExpiryRules::Bse,
            _ => ExpiryRules::Nse,
        }
    }

    /// The rules for a derivatives exchange.
    pub fn for_exchange(ex: Exchange) -> Self {
        match ex {
            Exchange::Bse | Exchange::Bfo => ExpiryRules::Bse,
            Exchange::Nse | Exchange::Nfo => ExpiryRules::Nse,
        }
    }

    /// The scheduled expiry weekday for contracts expiring around `day` (before holiday
    /// adjustment). The rule changes fall on month boundaries, so any day of a month gives the
    /// month's rule.
    ///
    /// - NSE: Thursday up to 2025-08-31, Tuesday from 2025-09-01.
    /// - BSE: Friday before 2025, Tuesday 2025-01-01..=2025-08-31, Thursday from 2025-09-01.
    pub fn weekday_for(self, day: NaiveDate) -> Weekday {
        let sept_2025 = (day.year(), day.month()) >= (2025, 9);
        match self {
            ExpiryRules::Nse if sept_2025 => Weekday::Tue,
            ExpiryRules::Nse => Weekday::Thu,
            ExpiryRules::Bse if sept_2025 => Weekday::Thu,
            ExpiryRules::Bse if day.year() >= 2025 => Weekday::Tue,
            ExpiryRules::Bse => Weekday::Fri,
        }
    }
}

/// Error reading a holiday table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("holiday table line {line}: {why}")]
pub struct CalendarError {
    pub line: usize,
    pub why: String,
}

/// Trading holidays and expiry computations. Weekends are never trading days.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Sorted, unique.
    holidays: Vec<(NaiveDate, String)>,
    /// Monthly expiries of 2000–2099 per rule set (NSE, BSE), computed once: parsing a future or
    /// monthly option is then a table look-up.
    monthly: [Vec<Option<NaiveDate>>; 2],
}

const TABLE_FIRST_YEAR: i32 = 2000;
const TABLE_YEARS: i32 = 100;

/// The instant a contract expiring on `day` expires: 15:30 IST (10:00 UTC).
pub fn expiry_instant_utc(day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_hms_opt(10, 0, 0).unwrap_or_default();
    Utc.from_utc_datetime(&naive)
}

/// The calendar date in India (IST, UTC+05:30) at `instant`.
pub fn ist_date(instant: DateTime<Utc>) -> NaiveDate {
    (instant + chrono::Duration::minutes(330)).date_naive()
}

/// Weekly or monthly series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryKind {
    Weekly,
    Monthly,
}

impl Calendar {
    /// The calendar built from the holiday table shipped with the crate (2025 and 2026).
    pub fn embedded() -> &'static Calendar {
        &EMBEDDED
    }

    /// A calendar with no holidays (weekends only).
    pub fn empty() -> Self {
        Calendar::with_holidays(Vec::new())
    }

    fn with_holidays(holidays: Vec<(NaiveDate, String)>) -> Self {
        let mut cal = Calendar {
            holidays,
            monthly: [Vec::new(), Vec::new()],
        };
        for (slot, rules) in [(0, ExpiryRules::Nse), (1, ExpiryRules::Bse)] {
            cal.monthly[slot] = (0..TABLE_YEARS * 12)
                .map(|i| {
                    cal.compute_monthly_expiry(
                        rules,
                        TABLE_FIRST_YEAR + i / 12,
                        (i % 12) as u32 + 1,
                    )
                })
                .collect();
        }
        cal
    }

    /// Read `date,description` lines; `#` comments and a `date,...` header are skipped.
    pub fn from_csv(text: &str) -> Result<Self, CalendarError> {
        let mut holidays = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("date,") {
                continue;
            }
            let (date, desc) = line.split_once(',').unwrap_or((line, ""));
            let d =
                NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|e| CalendarError {
                    line: i + 1,
                    why: format!("bad date {date:?}: {e}"),
                })?;
            holidays.push((d, desc.trim().to_string()));
        }
        holidays.sort_by_key(|h| h.0);
        holidays.dedup_by_key(|h| h.0);
        Ok(Calendar::with_holidays(holidays))
    }

    /// The years the holiday table covers.
    pub fn years_covered(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.holidays.iter().map(|h| h.0.year()).collect();
        years.dedup();
        years
    }

    /// The holiday's description when `day` is a listed trading holiday.
    pub fn holiday(&self, day: NaiveDate) -> Option<&str> {
        self.holidays
            .binary_search_by_key(&day, |h| h.0)
            .ok()
            .map(|i| self.holidays[i].1.as_str())
    }

    /// A weekday that is not a listed holiday.
    pub fn is_trading_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
            && self.holidays.binary_search_by_key(&day, |h| h.0).is_err()
    }

    /// `day` if it is a trading day, else the closest trading day before it.
    pub fn trading_day_on_or_before(&self, mut day: NaiveDate) -> NaiveDate {
        // At most a couple of weeks of consecutive non-trading days exist; bound the walk.
        for _ in 0..31 {
            if self.is_trading_day(day) {
                return day;
            }
            match day.pred_opt() {
                Some(d) => day = d,
                None => return day,
            }
        }
        day
    }

    /// The next trading day strictly after `day`.
    pub fn next_trading_day(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        for _ in 0..31 {
            match d.succ_opt() {
                Some(n) => d = n,
                None => return d,
            }
            if self.is_trading_day(d) {
                return d;
            }
        }
        d
    }

    /// The monthly expiry of `year`/`month`: the last expiry weekday of the month, moved to the
    /// previous trading day when that is a holiday. None for an impossible month.
    pub fn monthly_expiry(&self, rules: ExpiryRules, year: i32, month: u32) -> Option<NaiveDate> {
        let slot = match rules {
            ExpiryRules::Nse => 0,
            ExpiryRules::Bse => 1,
        };
        if (1..=12).contains(&month)
            && (TABLE_FIRST_YEAR..TABLE_FIRST_YEAR + TABLE_YEARS).contains(&year)
        {
            let i = ((year - TABLE_FIRST_YEAR) * 12) as usize + month as usize - 1;
            if let Some(v) = self.monthly[slot].get(i) {
                return *v;
            }
        }
        self.compute_monthly_expiry(rules, year, month)
    }

    fn compute_monthly_expiry(
        &self,
        rules: ExpiryRules,
        year: i32,
        month: u32,
    ) -> Option<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let last = last_day_of_month(first)?;
        let wd = rules.weekday_for(first);
        let back = (last.weekday().num_days_from_monday() + 7 - wd.num_days_from_monday()) % 7;
        let scheduled = last.checked_sub_days(Days::new(u64::from(back)))?;
        Some(self.trading_day_on_or_before(scheduled))
    }

    /// The weekly expiry of the week (Monday–Sunday) containing `day`.
    pub fn weekly_expiry_of_week(&self, rules: ExpiryRules, day: NaiveDate) -> Option<NaiveDate> {
        let monday =
            day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))?;
        let wd = rules.weekday_for(day);
        let scheduled = monday.checked_add_days(Days::new(u64::from(wd.num_days_from_monday())))?;
        Some(self.trading_day_on_or_before(scheduled))
    }

    /// The next `n` monthly expiries on or after `from`.
    pub fn next_monthly_expiries(
        &self,
        rules: ExpiryRules,
        from: NaiveDate,
        n: usize,
    ) -> Vec<NaiveDate> {
        let mut out = Vec::with_capacity(n);
        let (mut y, mut m) = (from.year(), from.month());
        // Bounded: n months plus one.
        for _ in 0..(n + 2) {
            if out.len() == n {
                break;
            }
            if let Some(e) = self.monthly_expiry(rules, y, m)
                && e >= from
            {
                out.push(e);
            }
            m += 1;
            if m == 13 {
                y += 1;
                m = 1;
            }
        }
        out
    }

    /// The next `n` weekly expiries on or after `from` (every week's expiry, the monthly one
    /// included). Only meaningful for underlyings with weekly series.
    pub fn next_weekly_expiries(
        &self,
        rules: ExpiryRules,
        from: NaiveDate,
        n: usize,
    ) -> Vec<NaiveDate> {
        let mut out: Vec<NaiveDate> = Vec::with_capacity(n);
        let mut day = from;
        for _ in 0..(n + 2) {
            if out.len() == n {
                break;
            }
            if let Some(e) = self.weekly_expiry_of_week(rules, day)
                && e >= from
                && out.last() != Some(&e)
            {
                out.push(e);
            }
            match day.checked_add_days(Days::new(7)) {
                Some(d) => day = d,
                None => break,
            }
        }
        out
    }

    /// The next `n` expiries of `kind` of `underlying` on or after `from`: its own expiry rules,
    /// and no weekly expiries where the index lists no weekly series. The one listing the
    /// server's `/fo/expiries`, resolve and the bindings' `next_expiries` share.
    pub fn expiries_of(
        &self,
        underlying: &str,
        kind: ExpiryKind,
        from: NaiveDate,
        n: usize,
    ) -> Vec<NaiveDate> {
        let rules = ExpiryRules::for_underlying(underlying);
        match kind {
            ExpiryKind::Weekly
                if crate::index::find_index(underlying).is_some_and(|i| i.has_weekly) =>
            {
                self.next_weekly_expiries(rules, from, n)
            }
            ExpiryKind::Weekly => Vec::new(),
            ExpiryKind::Monthly => self.next_monthly_expiries(rules, from, n),
        }
    }

    /// The next `n` expiries of `kind` still trading at `now` (an expiry day's contracts stop at
    /// 15:30 IST).
    pub fn live_expiries(
        &self,
        underlying: &str,
        kind: ExpiryKind,
        now: DateTime<Utc>,
        n: usize,
    ) -> Vec<NaiveDate> {
        // One more than asked: today's may have closed already.
        let mut v = self.expiries_of(underlying, kind, ist_date(now), n + 1);
        v.retain(|d| expiry_instant_utc(*d) > now);
        v.truncate(n);
        v
    }

    /// Whether `date` is the monthly expiry of its month under `rules`.
    pub fn is_monthly_expiry(&self, rules: ExpiryRules, date: NaiveDate) -> bool {
        // A monthly expiry moved back by holidays can land in the previous month only in theory
        // (it would need a week of holidays at a month start); check both months.
        self.monthly_expiry(rules, date.year(), date.month()) == Some(date)
    }

    /// Why `date` cannot be an expiry day, if it cannot: a weekend or a listed holiday.
    pub fn check_expiry_date(&self, date: NaiveDate) -> Result<(), String> {
        if let Some(name) = self.holiday(date) {
            return Err(format!("{date} is a trading holiday ({name})"));
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Err(format!("{date} is a {:?}", date.weekday()));
        }
        Ok(())
    }
}

fn last_day_of_month(first: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn embedded_table_loads_completely() {
        let text_rows = EMBEDDED_CSV
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("date,"))
            .count();
        let cal = Calendar::from_csv(EMBEDDED_CSV).unwrap();
        assert_eq!(cal.holidays.len(), text_rows);
        assert_eq!(cal.years_covered(), vec![2025, 2026]);
        assert_eq!(cal.holiday(d(2026, 3, 31)), Some("Shri Mahavir Jayanti"));
    }

    #[test]
    fn monthly_expiries_follow_the_rules_and_holidays() {
        let c = Calendar::embedded();
        let nse = ExpiryRules::Nse;
        assert_eq!(c.monthly_expiry(nse, 2025, 8), Some(d(2025, 8, 28))); // Thursday era
        assert_eq!(c.monthly_expiry(nse, 2025, 9), Some(d(2025, 9, 30))); // Tuesday era
        assert_eq!(c.monthly_expiry(nse, 2025, 11), Some(d(2025, 11, 25)));
        assert_eq!(c.monthly_expiry(nse, 2026, 3), Some(d(2026, 3, 30))); // 31st is a holiday
        assert_eq!(c.monthly_expiry(nse, 2026, 11), Some(d(2026, 11, 23))); // 24th is a holiday
        let bse = ExpiryRules::Bse;
        assert_eq!(c.monthly_expiry(bse, 2025, 11), Some(d(2025, 11, 27)));
        assert_eq!(c.monthly_expiry(bse, 2025, 6), Some(d(2025, 6, 24)));
        assert_eq!(c.monthly_expiry(nse, 2025, 13), None);
    }

    #[test]
    fn weekly_expiries() {
        let c = Calendar::embedded();
        let w = c.next_weekly_expiries(ExpiryRules::Nse, d(2025, 10, 29), 3);
        assert_eq!(w, vec![d(2025, 11, 4), d(2025, 11, 11), d(2025, 11, 18)]);
        // A weekly on a holiday moves back: 2026-03-03 (Holi) -> 2026-03-02.
        assert_eq!(
            c.weekly_expiry_of_week(ExpiryRules::Nse, d(2026, 3, 4)),
            Some(d(2026, 3, 2))
        );
        let m = c.next_monthly_expiries(ExpiryRules::Nse, d(2025, 11, 26), 2);
        assert_eq!(m, vec![d(2025, 12, 30), d(2026, 1, 27)]);
        // On the expiry day itself the contract is still listed.
        assert_eq!(
            c.next_monthly_expiries(ExpiryRules::Nse, d(2025, 11, 25), 1),
            vec![d(2025, 11, 25)]
        );
    }

    #[test]
    fn expiry_instant_is_1530_ist() {
        assert_eq!(
            expiry_instant_utc(d(2025, 11, 25)).to_rfc3339(),
            "2025-11-25T10:00:00+00:00"
        );
    }

    #[test]
    fn holiday_checks() {
        let c = Calendar::embedded();
        assert!(
            c.check_expiry_date(d(2025, 11, 5))
                .unwrap_err()
                .contains("Guru Nanak")
        );
        assert!(c.check_expiry_date(d(2025, 11, 8)).is_err());
        assert!(c.check_expiry_date(d(2025, 11, 4)).is_ok());
    }
}
