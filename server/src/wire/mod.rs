//! Request and response shapes more than one area of routes uses (an area's own shapes live
//! with its routes): route modules import these, never each other.

pub(crate) mod feeds;
pub(crate) mod indicators;
pub(crate) mod quotes;
pub(crate) mod schema;
pub(crate) mod trading;
pub(crate) mod whole;

/// An instant as India's wall clock shows it (`YYYY-MM-DD HH:MM:SS`), as the old API and
/// Kite write times.
pub(crate) fn ist_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms + stocksblitz_market::IST_OFFSET_SECS * 1000)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}
