//! A fast path for the common shape of feed payloads: one flat JSON object whose values are
//! numbers, plain strings (no escapes), `null`, `true` or `false`. Anything else — nesting,
//! escapes, duplicate keys, non-JSON tokens such as Python's `NaN` — returns None and the
//! caller falls back to a full JSON parser, which also classifies errors. The scanner validates
//! the JSON number grammar itself, so it never accepts what a JSON parser would reject.

use std::borrow::Cow;

/// A scalar JSON value borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar<'a> {
    Num(f64),
    Str(&'a str),
    Null,
    Bool(bool),
}

/// Calls `field(key, value)` for every member of a flat object; None when the payload is not
/// in the simple shape (the caller then uses the full parser).
pub(crate) fn scan_flat<'a>(
    input: &'a [u8],
    mut field: impl FnMut(&'a str, Scalar<'a>) -> Option<()>,
) -> Option<()> {
    // Validate UTF-8 once; pieces are then sliced from the str without further checks.
    let text = std::str::from_utf8(input).ok()?;
    let mut p = Parser {
        s: text,
        b: input,
        i: 0,
    };
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
        p.ws();
        return (p.i == input.len()).then_some(());
    }
    loop {
        p.ws();
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        let value = p.scalar()?;
        field(key, value)?;
        p.ws();
        match p.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    p.ws();
    (p.i == input.len()).then_some(())
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    #[inline]
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    #[inline]
    fn ws(&mut self) {
        let rest = self.b.get(self.i..).unwrap_or_default();
        self.i += rest
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
            .count();
    }
    #[inline]
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let rest = self.b.get(self.i..)?;
        let end = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[end] != b'"' {
            return None;
        }
        let out = self.s.get(self.i..self.i + end)?;
        self.i += end + 1;
        Some(out)
    }
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'n' => self.literal(b"null").map(|()| Scalar::Null),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'-' | b'0'..=b'9' => self.number().map(Scalar::Num),
            _ => None,
        }
    }
    /// JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        let text = self.s.get(start..self.i)?;
        let v = fast_decimal(text.as_bytes()).or_else(|| text.parse().ok())?;
        // serde_json rejects numbers out of f64 range; so does the fast path.
        v.is_finite().then_some(v)
    }
    #[inline]
    fn digits(&mut self) {
        let rest = self.b.get(self.i..).unwrap_or_default();
        self.i += rest.iter().take_while(|c| c.is_ascii_digit()).count();
    }
}

/// Exact fast path for plain decimals (`-?digits(.digits)?`, at most 15 significant digits and
/// 22 fraction digits): the mantissa and the power of ten are exact doubles, so one division
/// gives the correctly rounded value — the same as a full parse (Clinger's fast path).
#[inline]
fn fast_decimal(t: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (neg, digits) = match t.first()? {
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    let mut mantissa: u64 = 0;
    let mut sig = 0usize;
    let mut frac: Option<usize> = None;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                if mantissa != 0 || c != b'0' {
                    sig += 1;
                }
                mantissa = mantissa * 10 + u64::from(c - b'0');
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
                if sig > 15 {
                    return None;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    let scale = *POW10.get(frac.unwrap_or(0))?;
    let v = mantissa as f64 / scale;
    Some(if neg { -v } else { v })
}

/// Set an optional field once; a second occurrence (duplicate key) fails the fast path.
#[inline]
pub(crate) fn set_once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v);
    Some(())
}

#[inline]
pub(crate) fn cow(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &str) -> Option<Vec<(String, Scalar<'_>)>> {
        let mut v = Vec::new();
        scan_flat(s.as_bytes(), |k, x| {
            v.push((k.to_string(), x));
            Some(())
        })?;
        Some(v)
    }

    #[test]
    fn flat_objects_and_fallbacks() {
        let v = collect(
            r#" {"a": 1, "b": -2.5e3, "c": "x y", "d": null, "e": true, "f": false, "g": 0} "#,
        )
        .unwrap();
        assert_eq!(v.len(), 7);
        assert_eq!(v[1].1, Scalar::Num(-2500.0));
        assert_eq!(v[2].1, Scalar::Str("x y"));
        assert_eq!(collect("{}").unwrap().len(), 0);
        for t in [
            "0",
            "0.0",
            "152.35",
            "-2.5",
            "1762246980",
            "24500.0",
            "0.05",
            "100000000000000.5",
            "1.7976931348623157",
            "123456789012345678",
        ] {
            let fast = fast_decimal(t.as_bytes()).unwrap_or_else(|| t.parse().unwrap());
            assert_eq!(fast.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
        }
        for bad in [
            r#"{"a": NaN}"#,
            r#"{"a": 01}"#,
            r#"{"a": +1}"#,
            r#"{"a": .5}"#,
            r#"{"a": 1.}"#,
            r#"{"a": "x\"y"}"#,
            r#"{"a": [1]}"#,
            r#"{"a": {"b": 1}}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1e999}"#,
            r"[1]",
            "",
            r#"{"a" 1}"#,
        ] {
            assert!(collect(bad).is_none(), "{bad}");
        }
    }
}
