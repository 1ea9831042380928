//! Strike prices as exact fixed-point values (hundredths of a rupee), so that `7.5`, `1822.5`
//! and `24500` format back exactly as written.

use std::fmt;

/// A strike price in hundredths of a rupee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Strike(u64);

/// Largest strike accepted: ten integer digits.
const MAX_HUNDREDTHS: u64 = 9_999_999_999 * 100 + 99;

impl Strike {
    /// From hundredths of a rupee.
    pub const fn from_hundredths(h: u64) -> Self {
        Strike(h)
    }

    /// The value in hundredths of a rupee.
    pub const fn hundredths(self) -> u64 {
        self.0
    }

    /// The value in rupees.
    pub fn value(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Nearest representable strike to a price in rupees (None for NaN, negative or huge).
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v <= 0.0 {
            return None;
        }
        let h = (v * 100.0).round();
        if h < 1.0 || h > MAX_HUNDREDTHS as f64 {
            return None;
        }
        Some(Strike(h as u64))
    }

    /// Parse `24500`, `7.5`, `1822.50` (at most two decimals, no sign, not zero).
    pub fn parse(s: &[u8]) -> Result<Self, &'static str> {
        if s.is_empty() {
            return Err("empty");
        }
        let mut int: u64 = 0;
        let mut int_digits = 0;
        let mut frac: u64 = 0;
        let mut frac_digits = 0;
        let mut seen_dot = false;
        for &b in s {
            match b {
                b'0'..=b'9' if !seen_dot => {
                    int_digits += 1;
                    if int_digits > 10 {
                        return Err("too many digits");
                    }
                    int = int * 10 + u64::from(b - b'0');
                }
                b'0'..=b'9' => {
                    frac_digits += 1;
                    if frac_digits > 2 {
                        return Err("at most two decimals");
                    }
                    frac = frac * 10 + u64::from(b - b'0');
                }
                b'.' if !seen_dot => seen_dot = true,
                b'.' => return Err("two decimal points"),
                _ => return Err("not a number"),
            }
        }
        if int_digits == 0 {
            return Err("no integer part");
        }
        if seen_dot && frac_digits == 0 {
            return Err("nothing after the decimal point");
        }
        if frac_digits == 1 {
            frac *= 10;
        }
        let h = int * 100 + frac;
        if h == 0 {
            return Err("zero");
        }
        Ok(Strike(h))
    }
}

impl fmt::Display for Strike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            write!(f, "{int}")
        } else if frac.is_multiple_of(10) {
            write!(f, "{int}.{}", frac / 10)
        } else {
            write!(f, "{int}.{frac:02}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        for (s, h, out) in [
            ("24500", 2_450_000, "24500"),
            ("7.5", 750, "7.5"),
            ("1822.50", 182_250, "1822.5"),
            ("0.05", 5, "0.05"),
            ("007", 700, "7"),
        ] {
            let k = Strike::parse(s.as_bytes()).unwrap();
            assert_eq!(k.hundredths(), h, "{s}");
            assert_eq!(k.to_string(), out);
        }
        for bad in [
            "",
            ".5",
            "5.",
            "1.2.3",
            "1.234",
            "0",
            "0.00",
            "12345678901",
            "1e3",
        ] {
            assert!(Strike::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
