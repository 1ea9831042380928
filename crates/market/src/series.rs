//! A timeframe's bar series as readers see it: the stored 1-minute bars, the bars the pipeline
//! closed recently (which the asynchronous writer may not have stored yet), and the forming bar,
//! rolled up to the timeframe. Pure: the caller fetches, this merges.

use crate::bars::{Bar, rollup};
use crate::timeframe::Timeframe;

/// Bars of `tf`, oldest first. `stored` and `recent` are 1-minute bars of one instrument sorted
/// by start; a recent bar replaces a stored bar of the same minute (it is the pipeline's newer
/// copy, amendments included). The forming bar, if any, is the newest minute.
pub fn assemble(
    mut stored: Vec<Bar>,
    recent: &[Bar],
    forming: Option<&Bar>,
    tf: Timeframe,
) -> Vec<Bar> {
    for bar in recent.iter().chain(forming) {
        match stored.binary_search_by_key(&bar.start, |b| b.start) {
            Ok(i) => stored[i] = bar.clone(),
            Err(i) => stored.insert(i, bar.clone()),
        }
    }
    if tf == Timeframe::M1 {
        return stored;
    }
    rollup(&stored, tf)
}

/// Whether the last bar of a series built by [`assemble`] is still forming at `now` (epoch s):
/// its bucket has not ended, or the forming minute belongs to it.
pub fn last_is_forming(series: &[Bar], forming: Option<&Bar>, tf: Timeframe, now: i64) -> bool {
    let Some(last) = series.last() else {
        return false;
    };
    last.end() > now || forming.is_some_and(|f| tf.bucket_start(f.start) == last.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-11-04 09:15:00 IST.
    const OPEN: i64 = 1_762_227_900;

    fn minute(i: i64, close: f64) -> Bar {
        Bar {
            instrument: "NIFTY 50".into(),
            timeframe: Timeframe::M1,
            start: OPEN + 60 * i,
            open: close - 1.0,
            high: close + 2.0,
            low: close - 2.0,
            close,
            volume: 10,
            oi: None,
            open_oi: None,
            first_ts_ms: (OPEN + 60 * i) * 1000,
            last_ts_ms: (OPEN + 60 * i + 59) * 1000,
        }
    }

    #[test]
    fn recent_bars_replace_stored_copies_and_fill_the_gap_before_forming() {
        let stored: Vec<Bar> = (0..8).map(|i| minute(i, 100.0 + i as f64)).collect();
        // Minute 7 was amended after it was stored; minutes 8 and 9 are not stored yet.
        let recent = [minute(7, 200.0), minute(8, 108.0), minute(9, 109.0)];
        let forming = minute(10, 110.0);
        let m1 = assemble(stored.clone(), &recent, Some(&forming), Timeframe::M1);
        let closes: Vec<f64> = m1.iter().map(|b| b.close).collect();
        assert_eq!(
            closes,
            [
                100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 200.0, 108.0, 109.0, 110.0
            ]
        );
        let m5 = assemble(stored, &recent, Some(&forming), Timeframe::M5);
        assert_eq!(m5.len(), 3);
        assert_eq!((m5[1].open, m5[1].close, m5[1].high), (104.0, 109.0, 202.0));
        assert_eq!(
            (m5[2].start, m5[2].close, m5[2].volume),
            (OPEN + 600, 110.0, 10)
        );
        assert!(last_is_forming(
            &m5,
            Some(&forming),
            Timeframe::M5,
            OPEN + 3600
        ));
        assert!(!last_is_forming(&m5[..2], None, Timeframe::M5, OPEN + 3600));
        assert!(last_is_forming(&m5[..2], None, Timeframe::M5, OPEN + 599));
    }

    #[test]
    fn empty_inputs_give_an_empty_series() {
        assert!(assemble(vec![], &[], None, Timeframe::H1).is_empty());
        assert!(!last_is_forming(&[], None, Timeframe::H1, OPEN));
    }
}
