//! Exact money: amounts in paise (`i64`), rates as exact fractions, one rounding rule.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in paise (₹1 = 100 paise). Every stored or summed amount is one of these.
pub type Paise = i64;

/// Paise per rupee.
pub const PAISE_PER_RUPEE: i64 = 100;

/// The amount in rupees, for display and wire formats only (never summed).
pub fn rupees(p: Paise) -> f64 {
    p as f64 / PAISE_PER_RUPEE as f64
}

/// `-1234.50` style text, exact.
pub fn format_rupees(p: Paise) -> String {
    let sign = if p < 0 { "-" } else { "" };
    let a = p.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Parse a price in rupees with at most two decimals (`"24500"`, `"152.35"`) into paise.
pub fn parse_rupees(s: &str) -> Option<Paise> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || int.len() > 13 || frac.len() > 2 {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i: i64 = int.parse().ok()?;
    let f: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let v = i.checked_mul(100)?.checked_add(f)?;
    Some(if neg { -v } else { v })
}

/// Paise from a rupee amount given as a float (wire input), when it is on the paisa grid
/// within float noise: an ulp or two of the amount, what parsing `19.99` or summing `0.1 + 0.2`
/// leaves, not an absolute margin (which let `1e-37` pass as zero, `5.0000000001` as ₹5 and
/// `4560061503819.432` as its two-decimal neighbour). None for NaN, infinities, huge values or
/// sub-paisa amounts.
pub fn paise_from_f64(v: f64) -> Option<Paise> {
    if !v.is_finite() || v.abs() > 1e13 {
        return None;
    }
    let scaled = v * 100.0;
    let p = scaled.round();
    if (scaled - p).abs() > p.abs() * f64::EPSILON {
        return None;
    }
    Some(p as i64)
}

/// Paise of a feed's rupee price, rounded to the nearest paisa (None for non-positive,
/// non-finite or huge values). Unlike [`paise_from_f64`] it accepts off-grid floats: feeds
/// carry float noise.
pub fn paise_rounded(v: f64) -> Option<Paise> {
    (v.is_finite() && v > 0.0 && v < 1e13).then(|| (v * 100.0).round() as Paise)
}

/// Denominator of [`Rate`]: rates are exact multiples of 10⁻¹⁰.
pub const RATE_SCALE: i64 = 10_000_000_000;

/// A rate as an exact fraction (parts per 10¹⁰): `0.03503%` is 3,503,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(i64);

impl Rate {
    pub const ZERO: Rate = Rate(0);

    /// From parts per 10¹⁰.
    pub const fn from_scaled(v: i64) -> Rate {
        Rate(v)
    }

    pub const fn scaled(self) -> i64 {
        self.0
    }

    /// Parse a percentage (`"0.00173%"`, `"18%"`) or a plain fraction (`"0.18"`), exactly.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let t = s.trim();
        let (num, scale_pow) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), 8u32),
            None => (t, 10u32),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let digits_ok = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || int.len() > 6 {
            return Err(format!("bad rate {s:?}"));
        }
        if frac.len() > scale_pow as usize {
            return Err(format!("rate {s:?} is finer than 10^-10"));
        }
        let i: i64 = int.parse().map_err(|_| format!("bad rate {s:?}"))?;
        let f: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| format!("bad rate {s:?}"))?
        };
        let f_scaled = f * 10i64.pow(scale_pow - frac.len() as u32);
        Ok(Rate(i * 10i64.pow(scale_pow) + f_scaled))
    }

    /// `value × rate`, rounded to the nearest paisa, halves away from zero.
    pub fn apply(self, value: Paise) -> Paise {
        round_div(
            i128::from(value) * i128::from(self.0),
            i128::from(RATE_SCALE),
        )
    }

    /// The rate as a fraction (for display and float models only).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / RATE_SCALE as f64
    }
}

impl fmt::Display for Rate {
    /// As a percentage with no trailing zeros (`0.03503%`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct_scale = 100_000_000i64; // 10^8 parts = 1 %
        let int = self.0 / pct_scale;
        let frac = self.0 % pct_scale;
        if frac == 0 {
            write!(f, "{int}%")
        } else {
            let s = format!("{frac:08}");
            write!(f, "{int}.{}%", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let s = String::deserialize(d)?;
        Rate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `n / d` rounded to the nearest integer, halves away from zero (d > 0).
pub(crate) fn round_div(n: i128, d: i128) -> i64 {
    let q = n / d;
    let r = n % d;
    let adj = if 2 * r.abs() >= d { n.signum() } else { 0 };
    i64::try_from(q + adj).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_exactly() {
        assert_eq!(Rate::parse("0.03503%"), Ok(Rate(3_503_000)));
        assert_eq!(Rate::parse("0.00173%"), Ok(Rate(173_000)));
        assert_eq!(Rate::parse("18%"), Ok(Rate(1_800_000_000)));
        assert_eq!(Rate::parse("0.0001%"), Ok(Rate(10_000)));
        assert_eq!(Rate::parse("0.18"), Ok(Rate(1_800_000_000)));
        assert_eq!(Rate::parse("0%"), Ok(Rate(0)));
        assert!(Rate::parse("-1%").is_err());
        assert!(Rate::parse("0.000000001%").is_err());
        assert!(Rate::parse("abc").is_err());
        assert_eq!(Rate(3_503_000).to_string(), "0.03503%");
        assert_eq!(Rate(1_800_000_000).to_string(), "18%");
    }

    #[test]
    fn apply_rounds_half_away_from_zero() {
        // 0.03503 % of ₹7,800.00 = ₹2.73234 → ₹2.73
        assert_eq!(Rate::parse("0.03503%").map(|r| r.apply(780_000)), Ok(273));
        // 0.15 % of ₹9,750.00 = ₹14.625 → ₹14.63
        assert_eq!(Rate::parse("0.15%").map(|r| r.apply(975_000)), Ok(1463));
        assert_eq!(Rate::parse("0.15%").map(|r| r.apply(-975_000)), Ok(-1463));
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-5, 10), -1);
    }

    #[test]
    fn rupee_text_round_trips() {
        assert_eq!(parse_rupees("152.35"), Some(15_235));
        assert_eq!(parse_rupees("24500"), Some(2_450_000));
        assert_eq!(parse_rupees("0.5"), Some(50));
        assert_eq!(parse_rupees("1.234"), None);
        assert_eq!(parse_rupees("1e3"), None);
        assert_eq!(parse_rupees(""), None);
        assert_eq!(format_rupees(-123_450), "-1234.50");
        assert_eq!(format_rupees(5), "0.05");
        assert_eq!(paise_from_f64(152.35), Some(15_235));
        assert_eq!(paise_from_f64(0.001), None);
        // Float noise of one or two roundings is on the grid; anything more is not.
        assert_eq!(paise_from_f64(19.99), Some(1_999));
        assert_eq!(paise_from_f64(0.1 + 0.2), Some(30));
        assert_eq!(paise_from_f64(24_499.950_000_000_004), Some(2_449_995));
        assert_eq!(paise_from_f64(0.0), Some(0));
        assert_eq!(paise_from_f64(1.331_834_359_888_653_7e-37), None);
        assert_eq!(paise_from_f64(5.000_000_000_1), None);
        assert_eq!(
            paise_from_f64(4_560_061_503_819.43),
            Some(456_006_150_381_943)
        );
        assert_eq!(paise_from_f64(4_560_061_503_819.432), None);
        assert_eq!(paise_from_f64(f64::NAN), None);
        assert_eq!(paise_rounded(152.350_000_001), Some(15_235));
        assert_eq!(paise_rounded(0.0), None);
        assert_eq!(paise_rounded(f64::INFINITY), None);
    }
}
