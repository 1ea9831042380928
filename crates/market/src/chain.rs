//! Option-chain analytics: put-call ratios and max pain.

/// One strike of a chain: open interest and volume of the call and the put.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StrikeRow {
    pub strike: f64,
    pub call_oi: f64,
    pub put_oi: f64,
    pub call_volume: f64,
    pub put_volume: f64,
}

/// Put-call ratio by open interest (None when there is no call OI).
pub fn pcr_oi(rows: &[StrikeRow]) -> Option<f64> {
    let calls: f64 = rows.iter().map(|r| r.call_oi).sum();
    let puts: f64 = rows.iter().map(|r| r.put_oi).sum();
    (calls > 0.0).then(|| puts / calls)
}

/// Put-call ratio by volume (None when there is no call volume).
pub fn pcr_volume(rows: &[StrikeRow]) -> Option<f64> {
    let calls: f64 = rows.iter().map(|r| r.call_volume).sum();
    let puts: f64 = rows.iter().map(|r| r.put_volume).sum();
    (calls > 0.0).then(|| puts / calls)
}

/// Max pain by open interest: the listed strike at which option writers pay the least if the
/// underlying settles there. A call struck at K pays (S − K)⁺ per unit of OI, a put (K − S)⁺.
/// (The old system used volume and swapped calls and puts.) Ties go to the lower strike.
pub fn max_pain(rows: &[StrikeRow]) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None;
    for settle in rows.iter().map(|r| r.strike) {
        let payout: f64 = rows
            .iter()
            .map(|r| {
                r.call_oi * (settle - r.strike).max(0.0) + r.put_oi * (r.strike - settle).max(0.0)
            })
            .sum();
        if best.is_none_or(|(p, s)| payout < p || (payout == p && settle < s)) {
            best = Some((payout, settle));
        }
    }
    best.map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_pain_uses_oi_with_the_right_payoffs() {
        let row = |strike, call_oi, put_oi| StrikeRow {
            strike,
            call_oi,
            put_oi,
            ..Default::default()
        };
        // Heavy put OI at 100 and heavy call OI at 120: writers lose least at 110.
        let rows = [
            row(100.0, 0.0, 1000.0),
            row(110.0, 10.0, 10.0),
            row(120.0, 1000.0, 0.0),
        ];
        assert_eq!(max_pain(&rows), Some(110.0));
        // Calls pay above their strike: with only call OI at 100, settling at 100 pays nothing.
        assert_eq!(
            max_pain(&[row(100.0, 500.0, 0.0), row(110.0, 0.0, 0.0)]),
            Some(100.0)
        );
        // Puts pay below their strike: with only put OI at 110, settling at 110 pays nothing.
        assert_eq!(
            max_pain(&[row(100.0, 0.0, 0.0), row(110.0, 0.0, 500.0)]),
            Some(110.0)
        );
        assert_eq!(max_pain(&[]), None);
        assert_eq!(pcr_oi(&rows), Some(1010.0 / 1010.0));
        assert_eq!(pcr_volume(&rows), None);
    }
}
