//! The timeframe table: every accepted spelling, in one place. Unknown spellings are errors
//! that list the accepted ones — nothing is silently mapped to another timeframe.

use std::fmt;

use crate::{IST_OFFSET_SECS, SESSION_OPEN_SECS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    M1,
    M3,
    M5,
    M10,
    M15,
    M30,
    H1,
    D1,
}

/// The times (UTC epoch seconds, either side of 1970) bucket arithmetic works in: about 35
/// million years, far from where a day's or a bucket's offsets could overflow an `i64`.
pub const TS_LIMIT: i64 = 1 << 50;

/// Minutes in one trading session (09:15–15:30 IST).
const SESSION_MINUTES: usize = 375;

/// (timeframe, canonical name, accepted spellings in lower case)
const TABLE: &[(Timeframe, &str, &[&str])] = &[
    (
        Timeframe::M1,
        "1m",
        &["1m", "1min", "1minute", "1", "minute"],
    ),
    (Timeframe::M3, "3m", &["3m", "3min", "3", "3minute"]),
    (Timeframe::M5, "5m", &["5m", "5min", "5minute", "5"]),
    (Timeframe::M10, "10m", &["10m", "10min", "10", "10minute"]),
    (Timeframe::M15, "15m", &["15m", "15min", "15minute", "15"]),
    (Timeframe::M30, "30m", &["30m", "30min", "30", "30minute"]),
    (
        Timeframe::H1,
        "1h",
        &["1h", "60m", "60min", "60", "1hour", "60minute"],
    ),
    (Timeframe::D1, "1d", &["1d", "d", "day", "1day"]),
];

/// An unknown timeframe spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeframe {given:?}; accepted: {accepted}")]
pub struct TimeframeError {
    pub given: String,
    pub accepted: String,
}

impl Timeframe {
    pub const ALL: [Timeframe; 8] = [
        Timeframe::M1,
        Timeframe::M3,
        Timeframe::M5,
        Timeframe::M10,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::D1,
    ];

    /// Parse any accepted spelling (case-insensitive, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self, TimeframeError> {
        let t = s.trim();
        if t.len() <= 16 {
            let lower = t.to_ascii_lowercase();
            for (tf, _, spellings) in TABLE {
                if spellings.contains(&lower.as_str()) {
                    return Ok(*tf);
                }
            }
        }
        Err(TimeframeError {
            given: t.chars().take(32).collect(),
            accepted: Self::accepted(),
        })
    }

    /// Every accepted spelling, grouped by timeframe (for error messages and docs).
    pub fn accepted() -> String {
        TABLE
            .iter()
            .map(|(_, _, s)| s.join("/"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every accepted spelling, in table order (an API schema's enum; [`Timeframe::parse`]
    /// also takes them in any case and with surrounding spaces).
    pub fn spellings() -> impl Iterator<Item = &'static str> {
        TABLE.iter().flat_map(|(_, _, s)| s.iter().copied())
    }

    /// The canonical name (`1m`, `5m`, `1h`, `1d`).
    pub fn as_str(self) -> &'static str {
        TABLE
            .iter()
            .find(|(tf, _, _)| *tf == self)
            .map_or("1m", |(_, n, _)| n)
    }

    /// Length in seconds (a day counts as one trading session for bucketing).
    pub fn seconds(self) -> i64 {
        match self {
            Timeframe::M1 => 60,
            Timeframe::M3 => 180,
            Timeframe::M5 => 300,
            Timeframe::M10 => 600,
            Timeframe::M15 => 900,
            Timeframe::M30 => 1800,
            Timeframe::H1 => 3600,
            Timeframe::D1 => 86_400,
        }
    }

    /// 1-minute bars in one bar of this timeframe at most (a day is one 375-minute session).
    pub fn minutes(self) -> usize {
        match self {
            Timeframe::D1 => SESSION_MINUTES,
            tf => (tf.seconds() / 60) as usize,
        }
    }

    /// Bars of this timeframe in one trading session (the last 1h bar is 15 minutes long).
    pub fn bars_per_session(self) -> usize {
        SESSION_MINUTES.div_ceil(self.minutes())
    }

    /// The TradingView UDF resolution (`1`, `5`, `60`, `1D`).
    pub const fn udf_resolution(self) -> &'static str {
        match self {
            Timeframe::M1 => "1",
            Timeframe::M3 => "3",
            Timeframe::M5 => "5",
            Timeframe::M10 => "10",
            Timeframe::M15 => "15",
            Timeframe::M30 => "30",
            Timeframe::H1 => "60",
            Timeframe::D1 => "1D",
        }
    }

    /// Start (UTC epoch seconds) of the bucket containing `ts`. Intraday buckets are aligned to
    /// the 09:15 IST session open (so 1h bars are 09:15–10:15 …); daily buckets start at 09:15 IST
    /// of their trading day. Times beyond ±[`TS_LIMIT`] are taken at the limit (no arithmetic
    /// here can overflow, whatever a caller passes).
    pub fn bucket_start(self, ts: i64) -> i64 {
        let local = ts.clamp(-TS_LIMIT, TS_LIMIT) + IST_OFFSET_SECS;
        let day_start = local.div_euclid(86_400) * 86_400;
        let open = day_start + SESSION_OPEN_SECS;
        let start_local = match self {
            Timeframe::D1 => open,
            Timeframe::M1 => local.div_euclid(60) * 60,
            tf => {
                let len = tf.seconds();
                open + (local - open).div_euclid(len) * len
            }
        };
        start_local - IST_OFFSET_SECS
    }

    /// End (exclusive) of the bucket starting at `start`: the next bucket start, but intraday
    /// buckets never run past the session close (the last 1h bar is 15:15–15:30). `start` is
    /// taken within ±2·[`TS_LIMIT`] (every start [`Timeframe::bucket_start`] returns is inside).
    pub fn bucket_end(self, start: i64) -> i64 {
        let start = start.clamp(-2 * TS_LIMIT, 2 * TS_LIMIT);
        match self {
            Timeframe::D1 => start + (crate::SESSION_CLOSE_SECS - SESSION_OPEN_SECS),
            tf => {
                let end = start + tf.seconds();
                let local = start + IST_OFFSET_SECS;
                let close =
                    local.div_euclid(86_400) * 86_400 + crate::SESSION_CLOSE_SECS - IST_OFFSET_SECS;
                if start < close && end > close {
                    close
                } else {
                    end
                }
            }
        }
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Timeframe {
    type Err = TimeframeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timeframe::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-11-04 09:15:00 IST as UTC epoch seconds.
    const OPEN: i64 = 1_762_227_900;

    #[test]
    fn every_spelling_and_no_silent_fallback() {
        for (s, tf) in [
            ("1m", Timeframe::M1),
            ("1MIN", Timeframe::M1),
            ("1minute", Timeframe::M1),
            ("1", Timeframe::M1),
            ("3", Timeframe::M3),
            (" 5m ", Timeframe::M5),
            ("5minute", Timeframe::M5),
            ("10min", Timeframe::M10),
            ("15minute", Timeframe::M15),
            ("30", Timeframe::M30),
            ("60", Timeframe::H1),
            ("60minute", Timeframe::H1),
            ("1hour", Timeframe::H1),
            ("1H", Timeframe::H1),
            ("D", Timeframe::D1),
            ("day", Timeframe::D1),
            ("1day", Timeframe::D1),
            ("1D", Timeframe::D1),
        ] {
            assert_eq!(Timeframe::parse(s).unwrap(), tf, "{s}");
        }
        for bad in ["2m", "7", "1w", "1month", "", "5mins", "hour"] {
            let e = Timeframe::parse(bad).unwrap_err().to_string();
            assert!(e.contains("accepted: 1m/1min/1minute/1"), "{e}");
        }
    }

    #[test]
    fn buckets_align_to_the_0915_ist_open() {
        assert_eq!(Timeframe::M5.bucket_start(OPEN + 299), OPEN);
        assert_eq!(Timeframe::M5.bucket_start(OPEN + 300), OPEN + 300);
        assert_eq!(Timeframe::H1.bucket_start(OPEN + 3599), OPEN);
        assert_eq!(Timeframe::H1.bucket_start(OPEN + 3600), OPEN + 3600); // 10:15
        // The last hour bar is 15:15–15:30.
        let last = OPEN + 6 * 3600;
        assert_eq!(Timeframe::H1.bucket_start(last + 600), last);
        assert_eq!(Timeframe::H1.bucket_end(last), OPEN + 6 * 3600 + 900);
        assert_eq!(Timeframe::M15.bucket_start(OPEN + 14 * 60), OPEN);
        assert_eq!(Timeframe::M1.bucket_start(OPEN + 61), OPEN + 60);
        assert_eq!(Timeframe::D1.bucket_start(OPEN + 5 * 3600), OPEN);
        assert_eq!(Timeframe::D1.bucket_end(OPEN), OPEN + 22_500);
        assert_eq!(
            Timeframe::M30.bucket_start(OPEN + 3 * 1800 + 5),
            OPEN + 3 * 1800
        );
    }
}
