//! The symbol grammar: parsing and formatting of tradingsymbols.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use compact_str::{CompactString, format_compact};

use crate::MAX_SYMBOL_LEN;
use crate::calendar::{Calendar, ExpiryRules};
use crate::error::SymbolError;
use crate::index::{IndexInfo, derivative_underlying, find_index};
use crate::strike::Strike;

/// Three-letter month names, January first.
pub const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Weekly option month codes, January first (`1`–`9`, `O`, `N`, `D`).
pub const WEEKLY_MONTH_CODES: [u8; 12] = *b"123456789OND";

/// What an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Index,
    Equity,
    Future,
    Option,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Equity => "equity",
            Kind::Future => "future",
            Kind::Option => "option",
        }
    }
}

/// Exchange segment: cash (NSE/BSE) or derivatives (NFO/BFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    Nse,
    Bse,
    Nfo,
    Bfo,
}

impl Exchange {
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Nse => "NSE",
            Exchange::Bse => "BSE",
            Exchange::Nfo => "NFO",
            Exchange::Bfo => "BFO",
        }
    }

    /// The derivatives segment of a cash exchange (and itself for a derivatives one).
    #[must_use]
    pub fn derivatives(self) -> Exchange {
        match self {
            Exchange::Nse | Exchange::Nfo => Exchange::Nfo,
            Exchange::Bse | Exchange::Bfo => Exchange::Bfo,
        }
    }

    /// The cash segment of an exchange.
    #[must_use]
    pub fn cash(self) -> Exchange {
        match self {
            Exchange::Nse | Exchange::Nfo => Exchange::Nse,
            Exchange::Bse | Exchange::Bfo => Exchange::Bse,
        }
    }

    pub fn parse(s: &str) -> Option<Exchange> {
        match s.to_ascii_uppercase().as_str() {
            "NSE" => Some(Exchange::Nse),
            "BSE" => Some(Exchange::Bse),
            "NFO" => Some(Exchange::Nfo),
            "BFO" => Some(Exchange::Bfo),
            _ => None,
        }
    }
}

/// Option right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Right {
    Call,
    Put,
}

impl Right {
    /// `CE` or `PE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Call => "CE",
            Right::Put => "PE",
        }
    }

    /// A right as written anywhere — `CE`, `C`, `CALL` or `PE`, `P`, `PUT`, in any case —
    /// from its bytes, without allocating (the one spelling table: specs, routes, bindings).
    pub fn from_ascii(b: &[u8]) -> Option<Right> {
        let mut up = [0u8; 4];
        if b.len() > up.len() {
            return None;
        }
        for (u, c) in up.iter_mut().zip(b) {
            *u = c.to_ascii_uppercase();
        }
        match &up[..b.len()] {
            b"CE" | b"C" | b"CALL" => Some(Right::Call),
            b"PE" | b"P" | b"PUT" => Some(Right::Put),
            _ => None,
        }
    }
}

/// A right that is none of the accepted spellings (the text, cut to 16 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected CE, PE, call or put, got {0:?}")]
pub struct RightError(pub String);

impl std::str::FromStr for Right {
    type Err = RightError;

    fn from_str(s: &str) -> Result<Right, RightError> {
        Right::from_ascii(s.trim().as_bytes())
            .ok_or_else(|| RightError(s.chars().take(16).collect()))
    }
}

/// A parsed instrument symbol. `Display` gives the canonical tradingsymbol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Symbol {
    pub kind: Kind,
    pub exchange: Exchange,
    /// Canonical underlying: the index's derivative name (`NIFTY`), or the stock symbol.
    pub underlying: CompactString,
    /// Expiry date (derivatives).
    pub expiry: Option<NaiveDate>,
    /// True for the weekly option form (`NIFTY25N0424500PE`).
    pub is_weekly: bool,
    pub strike: Option<Strike>,
    pub right: Option<Right>,
    /// The canonical tradingsymbol (`NIFTY 50` for the index, `NIFTY25NOVFUT`, …).
    pub tradingsymbol: CompactString,
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tradingsymbol)
    }
}

impl std::str::FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl Symbol {
    /// The index this symbol is, or whose derivative it is.
    pub fn index(&self) -> Option<&'static IndexInfo> {
        derivative_underlying(&self.underlying)
    }

    /// Build an index symbol.
    pub fn index_of(info: &'static IndexInfo) -> Symbol {
        Symbol {
            kind: Kind::Index,
            exchange: info.exchange,
            underlying: CompactString::const_new(info.name),
            expiry: None,
            is_weekly: false,
            strike: None,
            right: None,
            tradingsymbol: CompactString::const_new(info.display),
        }
    }

    /// Build a future on `underlying` expiring in `year`/`month`, with the calendar's expiry.
    pub fn future(underlying: &str, year: i32, month: u32) -> Result<Symbol, SymbolError> {
        let mon = month_name(month).ok_or_else(|| SymbolError::Invalid {
            input: format!("{underlying} {year}-{month}"),
            why: "month out of range",
        })?;
        parse(&format!("{underlying}{:02}{mon}FUT", year.rem_euclid(100)))
    }

    /// Build an option with the canonical form for `expiry`: the monthly form when `expiry` is
    /// its month's monthly expiry, the weekly form otherwise.
    pub fn option(
        underlying: &str,
        expiry: NaiveDate,
        strike: Strike,
        right: Right,
    ) -> Result<Symbol, SymbolError> {
        let rules = ExpiryRules::for_underlying(underlying);
        let yy = expiry.year().rem_euclid(100);
        let text = if Calendar::embedded().is_monthly_expiry(rules, expiry) {
            let mon = month_name(expiry.month()).unwrap_or("JAN");
            format!("{underlying}{yy:02}{mon}{strike}{}", right.as_str())
        } else {
            let code = WEEKLY_MONTH_CODES[(expiry.month0() % 12) as usize] as char;
            format!(
                "{underlying}{yy:02}{code}{:02}{strike}{}",
                expiry.day(),
                right.as_str()
            )
        };
        parse(&text)
    }

    /// Whether the contract has expired at `now` (expiry day 15:30 IST). Never for non-derivatives.
    pub fn is_expired_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.expiry
            .is_some_and(|e| now >= crate::calendar::expiry_instant_utc(e))
    }
}

fn month_name(month: u32) -> Option<&'static str> {
    MONTHS.get((month as usize).checked_sub(1)?).copied()
}

fn month_from(b: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes() == b)
        .map(|i| i as u32 + 1)
}

/// Upper-cased symbol byte (A–Z, 0–9, `&`, `-`, `.`) for every input byte, 0 for the rest.
static SYMBOL_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let u = (i as u8).to_ascii_uppercase();
        if u.is_ascii_uppercase() || u.is_ascii_digit() || u == b'&' || u == b'-' || u == b'.' {
            t[i] = u;
        }
        i += 1;
    }
    t
};

fn is_symbol_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'&' || b == b'-'
}

/// Parse any supported spelling into a [`Symbol`]. Never panics.
pub fn parse(input: &str) -> Result<Symbol, SymbolError> {
    if input.len() > MAX_SYMBOL_LEN * 2 {
        return Err(SymbolError::TooLong {
            len: input.len(),
            max: MAX_SYMBOL_LEN,
        });
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(SymbolError::Empty);
    }
    if trimmed.len() > MAX_SYMBOL_LEN {
        return Err(SymbolError::TooLong {
            len: trimmed.len(),
            max: MAX_SYMBOL_LEN,
        });
    }
    // One pass: upper-casing through a table, noting non-ASCII bytes and anything that is not
    // a symbol byte (then only an index name with spaces can still match).
    let mut buf = [0u8; MAX_SYMBOL_LEN];
    let raw = trimmed.as_bytes();
    let mut plain = true;
    let mut high_bit = 0u8;
    for (&b, slot) in raw.iter().zip(buf.iter_mut()) {
        let u = SYMBOL_BYTE[b as usize];
        high_bit |= b & 0x80;
        plain &= u != 0;
        *slot = if u != 0 { u } else { b.to_ascii_uppercase() };
    }
    if high_bit != 0 {
        let pos = raw.iter().position(|b| !b.is_ascii()).unwrap_or(0);
        let ch = trimmed[pos..].chars().next().unwrap_or('?');
        return Err(SymbolError::BadChar {
            input: trimmed.to_string(),
            ch,
            pos,
        });
    }
    let mut s = &buf[..raw.len()];

    // Optional exchange prefix.
    let mut prefix: Option<Exchange> = None;
    if s.len() > 4 && s[3] == b':' {
        prefix = std::str::from_utf8(&s[..3]).ok().and_then(Exchange::parse);
        if prefix.is_some() {
            s = &s[4..];
            plain = s.iter().all(|&b| is_symbol_byte(b) || b == b'.');
        }
    }

    // Index names (with or without spaces); upper-cased symbol bytes need no normalisation.
    let index = if plain {
        crate::index::find_index_upper(s)
    } else {
        std::str::from_utf8(s).ok().and_then(find_index)
    };
    if let Some(info) = index {
        return Ok(Symbol::index_of(info));
    }

    let err_input = || trimmed.to_string();
    if let Some(pos) = s.iter().position(|&b| !(is_symbol_byte(b) || b == b'.')) {
        return Err(SymbolError::BadChar {
            input: err_input(),
            ch: s[pos] as char,
            pos,
        });
    }
    let is_bse_prefix = matches!(prefix, Some(Exchange::Bse | Exchange::Bfo));

    // Futures: U YY MON FUT
    if let Some(body) = s.strip_suffix(b"FUT")
        && body.len() >= 5
        && body[body.len() - 5..body.len() - 3]
            .iter()
            .all(u8::is_ascii_digit)
    {
        let n = body.len();
        let mon = &body[n - 3..];
        let month = month_from(mon).ok_or_else(|| SymbolError::UnknownMonth {
            input: err_input(),
            month: String::from_utf8_lossy(mon).into_owned(),
        })?;
        let year = 2000 + two_digits(&body[n - 5..n - 3]);
        let under = underlying(&body[..n - 5], &err_input)?;
        let rules = ExpiryRules::for_underlying(under);
        let expiry = Calendar::embedded()
            .monthly_expiry(rules, year as i32, month)
            .ok_or_else(|| SymbolError::Invalid {
                input: err_input(),
                why: "no expiry for that month",
            })?;
        return Ok(Symbol {
            kind: Kind::Future,
            exchange: deriv_exchange(under, is_bse_prefix),
            underlying: CompactString::new(under),
            expiry: Some(expiry),
            is_weekly: false,
            strike: None,
            right: None,
            tradingsymbol: join(&[body, b"FUT"]),
        });
    }

    // Options: ... STRIKE (CE|PE)
    let right = if s.ends_with(b"CE") {
        Some(Right::Call)
    } else if s.ends_with(b"PE") {
        Some(Right::Put)
    } else {
        None
    };
    if let Some(right) = right
        && let Some(opt) = parse_option(&s[..s.len() - 2], right, is_bse_prefix, &err_input)?
    {
        return Ok(opt);
    }

    // Something shaped like a derivative (…YYMON…) that did not parse above is an error, not an
    // equity: `NIFTY25NOV24500XE`.
    if let Some(err) = derivative_shape_error(s, &err_input) {
        return Err(err);
    }

    // Equity with optional series suffix.
    let (base, series_be, series_eq) = if let Some(b) = s.strip_suffix(b"-EQ") {
        (b, false, true)
    } else if let Some(b) = s.strip_suffix(b"-BE") {
        (b, true, false)
    } else {
        (s, false, false)
    };
    let base = underlying(base, &err_input)?;
    // `-EQ` is the default series and is dropped — unless the bare name would read as
    // something else (an index, a derivative, an error), in which case the suffix stays so
    // that the tradingsymbol parses back to this equity.
    let keep_eq = series_eq
        && parse(base).map_or(true, |bare| {
            bare.kind != Kind::Equity || bare.underlying != base
        });
    let exchange = if is_bse_prefix {
        Exchange::Bse
    } else {
        Exchange::Nse
    };
    Ok(Symbol {
        kind: Kind::Equity,
        exchange,
        underlying: CompactString::new(base),
        expiry: None,
        is_weekly: false,
        strike: None,
        right: None,
        tradingsymbol: if series_be {
            format_compact!("{base}-BE")
        } else if keep_eq {
            format_compact!("{base}-EQ")
        } else {
            CompactString::new(base)
        },
    })
}

/// Concatenate ASCII pieces (all validated symbol bytes) into a tradingsymbol: copied into one
/// stack buffer and validated once, without going through `fmt`.
fn join(parts: &[&[u8]]) -> CompactString {
    let mut buf = [0u8; 2 * MAX_SYMBOL_LEN];
    let mut n = 0;
    for p in parts {
        let end = (n + p.len()).min(buf.len());
        buf[n..end].copy_from_slice(&p[..end - n]);
        n = end;
    }
    CompactString::from_utf8(&buf[..n]).unwrap_or_default()
}

/// The strike as written when that is already its canonical form (`24500`, `7.5`), else the
/// canonical form (`24500.0` → `24500`, `007` → `7`).
fn strike_text(text: &[u8], strike: Strike) -> std::borrow::Cow<'_, [u8]> {
    let leading_zero = text.len() > 1 && text[0] == b'0' && text[1] != b'.';
    let trailing_zero = text.contains(&b'.') && text.last() == Some(&b'0');
    if leading_zero || trailing_zero {
        std::borrow::Cow::Owned(strike.to_string().into_bytes())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn two_digits(b: &[u8]) -> u32 {
    u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0')
}

fn deriv_exchange(under: &str, bse_prefix: bool) -> Exchange {
    if bse_prefix || ExpiryRules::for_underlying(under) == ExpiryRules::Bse {
        Exchange::Bfo
    } else {
        Exchange::Nfo
    }
}

/// Validate an underlying / equity name: 1–30 of `A-Z 0-9 & -`, starting with a letter or digit.
fn underlying<'a>(b: &'a [u8], input: &dyn Fn() -> String) -> Result<&'a str, SymbolError> {
    if b.is_empty() {
        return Err(SymbolError::MissingUnderlying { input: input() });
    }
    let name = std::str::from_utf8(b).unwrap_or_default();
    let bad = |why| SymbolError::BadUnderlying {
        input: input(),
        underlying: name.to_string(),
        why,
    };
    if !b[0].is_ascii_alphanumeric() {
        return Err(bad("must start with a letter or digit"));
    }
    if b.len() > 30 {
        return Err(bad("longer than 30 characters"));
    }
    if b.iter().all(u8::is_ascii_digit) {
        return Err(bad("all digits"));
    }
    if !b.iter().all(|&c| is_symbol_byte(c)) {
        return Err(bad("only A-Z, 0-9, & and - are allowed"));
    }
    // Index display names are not derivative underlyings: NIFTY50 must be written NIFTY.
    Ok(name)
}

/// Parse `body` (the symbol without its CE/PE suffix) as a monthly or weekly option.
/// Ok(None) when the body has no option shape at all (then the caller tries an equity).
fn parse_option(
    body: &[u8],
    right: Right,
    bse_prefix: bool,
    input: &dyn Fn() -> String,
) -> Result<Option<Symbol>, SymbolError> {
    // Trailing strike characters (digits and '.').
    let strike_start = body
        .iter()
        .rposition(|b| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(0, |p| p + 1);
    let tail = &body[strike_start..];
    let head = &body[..strike_start];
    let n = head.len();

    // Monthly: U YY MON STRIKE
    if n >= 5
        && head[n - 3..].iter().all(u8::is_ascii_uppercase)
        && head[n - 5..n - 3].iter().all(u8::is_ascii_digit)
    {
        let mon = &head[n - 3..];
        let Some(month) = month_from(mon) else {
            return Err(SymbolError::UnknownMonth {
                input: input(),
                month: String::from_utf8_lossy(mon).into_owned(),
            });
        };
        if tail.is_empty() {
            return Err(SymbolError::MissingStrike {
                input: input(),
                right: right.as_str(),
            });
        }
        let strike = parse_strike(tail, input)?;
        let year = 2000 + two_digits(&head[n - 5..n - 3]);
        let under = underlying(&head[..n - 5], input)?;
        let rules = ExpiryRules::for_underlying(under);
        let expiry = Calendar::embedded()
            .monthly_expiry(rules, year as i32, month)
            .ok_or_else(|| SymbolError::Invalid {
                input: input(),
                why: "no expiry for that month",
            })?;
        return Ok(Some(Symbol {
            kind: Kind::Option,
            exchange: deriv_exchange(under, bse_prefix),
            underlying: CompactString::new(under),
            expiry: Some(expiry),
            is_weekly: false,
            strike: Some(strike),
            right: Some(right),
            tradingsymbol: join(&[head, &strike_text(tail, strike), right.as_str().as_bytes()]),
        }));
    }

    // Weekly with a letter month code: U YY (O|N|D) DD STRIKE — the code sits right before the
    // digit run, the year right before the code.
    if n >= 3
        && head[n - 1].is_ascii_uppercase()
        && head[n - 3..n - 1].iter().all(u8::is_ascii_digit)
    {
        let code = head[n - 1];
        let Some(month) = WEEKLY_MONTH_CODES
            .iter()
            .position(|&c| c == code)
            .map(|i| i as u32 + 1)
        else {
            return Err(SymbolError::UnknownMonthCode {
                input: input(),
                code: code as char,
            });
        };
        let year = 2000 + two_digits(&head[n - 3..n - 1]);
        let under = underlying(&head[..n - 3], input)?;
        return weekly(head, under, year, month, tail, right, bse_prefix, input).map(Some);
    }

    // Weekly with a digit month code: the digit run is YY M DD STRIKE, preceded by the
    // underlying. Underlyings that end in digits (NIFTYNXT50) are recognised by name.
    let (under_bytes, run) = split_digit_underlying(body);
    if !under_bytes.is_empty() && run.len() >= 6 && run[..5].iter().all(u8::is_ascii_digit) {
        let year = 2000 + two_digits(&run[..2]);
        let code = run[2];
        if code == b'0' {
            return Err(SymbolError::UnknownMonthCode {
                input: input(),
                code: '0',
            });
        }
        let month = u32::from(code - b'0');
        let under = underlying(under_bytes, input)?;
        let prefix = &body[..under_bytes.len() + 3];
        return weekly(
            prefix,
            under,
            year,
            month,
            &run[3..],
            right,
            bse_prefix,
            input,
        )
        .map(Some);
    }
    Ok(None)
}

/// Split `body` into (underlying, digit run) where the digit run starts the expiry part.
fn split_digit_underlying(body: &[u8]) -> (&[u8], &[u8]) {
    for info in crate::index::INDICES {
        let name = info.name.as_bytes();
        if name.last().is_some_and(u8::is_ascii_digit)
            && body.len() > name.len()
            && body.starts_with(name)
            && body[name.len()].is_ascii_digit()
        {
            return body.split_at(name.len());
        }
    }
    let start = body
        .iter()
        .rposition(|b| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(0, |p| p + 1);
    body.split_at(start)
}

fn parse_strike(tail: &[u8], input: &dyn Fn() -> String) -> Result<Strike, SymbolError> {
    Strike::parse(tail).map_err(|why| SymbolError::BadStrike {
        input: input(),
        strike: String::from_utf8_lossy(tail).into_owned(),
        why,
    })
}

/// Finish a weekly option from `DD STRIKE` digits.
#[allow(clippy::too_many_arguments)]
fn weekly(
    prefix: &[u8],
    under: &str,
    year: u32,
    month: u32,
    dd_strike: &[u8],
    right: Right,
    bse_prefix: bool,
    input: &dyn Fn() -> String,
) -> Result<Symbol, SymbolError> {
    if dd_strike.len() < 2 || !dd_strike[..2].iter().all(u8::is_ascii_digit) {
        return Err(SymbolError::Invalid {
            input: input(),
            why: "weekly expiry needs a two-digit day",
        });
    }
    let day = two_digits(&dd_strike[..2]);
    let strike_part = &dd_strike[2..];
    if strike_part.is_empty() {
        return Err(SymbolError::MissingStrike {
            input: input(),
            right: right.as_str(),
        });
    }
    let strike = parse_strike(strike_part, input)?;
    let expiry =
        NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| SymbolError::BadDay {
            input: input(),
            day,
        })?;
    Ok(Symbol {
        kind: Kind::Option,
        exchange: deriv_exchange(under, bse_prefix),
        underlying: CompactString::new(under),
        expiry: Some(expiry),
        is_weekly: true,
        strike: Some(strike),
        right: Some(right),
        tradingsymbol: join(&[
            prefix,
            &dd_strike[..2],
            &strike_text(strike_part, strike),
            right.as_str().as_bytes(),
        ]),
    })
}

/// An error for inputs shaped like a derivative (`U YY MON …`) that are neither a future nor an
/// option: they must not silently become an equity.
fn derivative_shape_error(s: &[u8], input: &dyn Fn() -> String) -> Option<SymbolError> {
    if let Some(e) = index_derivative_shape_error(s, input) {
        return Some(e);
    }
    if s.len() < 6 {
        return None;
    }
    for i in 1..s.len().saturating_sub(4) {
        if s[i].is_ascii_digit()
            && s[i + 1].is_ascii_digit()
            && !s[i - 1].is_ascii_digit()
            && month_from(&s[i + 2..i + 5]).is_some()
        {
            let rest = &s[i + 5..];
            if rest.is_empty() {
                return Some(SymbolError::Invalid {
                    input: input(),
                    why: "expected FUT or a strike with CE/PE after the month",
                });
            }
            if rest.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
                return Some(SymbolError::ExpectedRight { input: input() });
            }
            let letters = rest
                .iter()
                .rposition(|b| !b.is_ascii_uppercase())
                .map_or(0, |p| p + 1);
            if letters > 0
                && rest[..letters]
                    .iter()
                    .all(|b| b.is_ascii_digit() || *b == b'.')
            {
                return Some(SymbolError::ExpectedRight { input: input() });
            }
            return Some(SymbolError::Invalid {
                input: input(),
                why: "expected FUT or a strike with CE/PE after the month",
            });
        }
    }
    None
}

/// A known index's derivative name followed by a digit is meant as one of its derivatives
/// (`NIFTY26D0124500` is a weekly option without CE/PE, not an equity "NIFTY26D0124500"): when
/// it did not parse as one, say what is missing.
fn index_derivative_shape_error(s: &[u8], input: &dyn Fn() -> String) -> Option<SymbolError> {
    let name = crate::index::INDICES
        .iter()
        .filter(|i| i.strike_step.is_some())
        .map(|i| i.name.as_bytes())
        .filter(|n| s.len() > n.len() && s.starts_with(n) && s[n.len()].is_ascii_digit())
        .max_by_key(|n| n.len())?;
    let rest = &s[name.len()..];
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    // Weekly: YY, a month code (1-9, O, N, D), DD, then the strike and the right.
    let weekly = rest.len() >= 5
        && digits(&rest[..2])
        && matches!(rest[2], b'1'..=b'9' | b'O' | b'N' | b'D')
        && digits(&rest[3..5]);
    if weekly {
        let tail = &rest[5..];
        return Some(
            if !tail.is_empty() && tail.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
                SymbolError::ExpectedRight { input: input() }
            } else {
                SymbolError::Invalid {
                    input: input(),
                    why: "a weekly option is YY, month code, DD, strike, then CE or PE",
                }
            },
        );
    }
    // Monthly forms (YYMON…) are checked by the general shape rule; anything else after the
    // name is not a derivative of it.
    let monthly = rest.len() >= 5 && digits(&rest[..2]) && month_from(&rest[2..5]).is_some();
    (!monthly).then(|| SymbolError::Invalid {
        input: input(),
        why: "after an index name expected YYMONFUT, YYMON<strike>CE|PE or YYMDD<strike>CE|PE",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_index_derivatives_are_errors_not_equities() {
        for (s, want) in [
            ("NIFTY26D0124500", "CE or PE"),
            ("BANKNIFTY26D0159000", "CE or PE"),
            ("NIFTY26D01", "weekly option"),
            ("NIFTY26D0124500XX", "weekly option"),
            ("NIFTY123", "after an index name"),
            ("SENSEX9", "after an index name"),
            ("NIFTY26DEC24500", "CE or PE"),
        ] {
            let e = parse(s).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(want) || text.contains("CE/PE"), "{s}: {text}");
        }
        // Equities that merely start with an index name stay equities.
        for s in ["NIFTYBEES", "BANKNIFTY1!"] {
            if let Ok(sym) = parse(s) {
                assert_eq!(sym.kind, Kind::Equity, "{s}");
            }
        }
        assert_eq!(parse("NIFTYBEES").unwrap().kind, Kind::Equity);
        // Real derivatives still parse.
        for s in ["NIFTY26D0124500CE", "NIFTY26DECFUT", "NIFTY26DEC24500PE"] {
            assert!(parse(s).is_ok(), "{s}");
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn indices_and_aliases() {
        for (s, under, ts, ex) in [
            ("NIFTY 50", "NIFTY", "NIFTY 50", Exchange::Nse),
            ("nifty50", "NIFTY", "NIFTY 50", Exchange::Nse),
            ("NSE:NIFTY", "NIFTY", "NIFTY 50", Exchange::Nse),
            ("NIFTY BANK", "BANKNIFTY", "NIFTY BANK", Exchange::Nse),
            ("BANKNIFTY", "BANKNIFTY", "NIFTY BANK", Exchange::Nse),
            ("FINNIFTY", "FINNIFTY", "NIFTY FIN SERVICE", Exchange::Nse),
            (
                "NIFTY MID SELECT",
                "MIDCPNIFTY",
                "NIFTY MID SELECT",
                Exchange::Nse,
            ),
            ("NIFTYNXT50", "NIFTYNXT50", "NIFTY NEXT 50", Exchange::Nse),
            ("SENSEX", "SENSEX", "SENSEX", Exchange::Bse),
            ("BANKEX", "BANKEX", "BANKEX", Exchange::Bse),
            ("INDIA VIX", "INDIAVIX", "INDIA VIX", Exchange::Nse),
        ] {
            let sym = parse(s).unwrap();
            assert_eq!(sym.kind, Kind::Index, "{s}");
            assert_eq!(sym.underlying, under, "{s}");
            assert_eq!(sym.tradingsymbol, ts, "{s}");
            assert_eq!(sym.exchange, ex, "{s}");
        }
    }

    #[test]
    fn equities() {
        for (s, ts, under) in [
            ("RELIANCE", "RELIANCE", "RELIANCE"),
            ("M&M", "M&M", "M&M"),
            ("bajaj-auto", "BAJAJ-AUTO", "BAJAJ-AUTO"),
            ("INFY-EQ", "INFY", "INFY"),
            ("N02CP41ECE-EQ", "N02CP41ECE-EQ", "N02CP41ECE"), // found by cargo fuzz
            ("C88C-EQC-EQ-EQ", "C88C-EQC-EQ-EQ", "C88C-EQC-EQ"), // found by cargo fuzz
            ("XYZ-BE", "XYZ-BE", "XYZ"),
            ("3MINDIA", "3MINDIA", "3MINDIA"),
        ] {
            let sym = parse(s).unwrap();
            assert_eq!(sym.kind, Kind::Equity, "{s}");
            assert_eq!(sym.tradingsymbol, ts);
            assert_eq!(sym.underlying, under);
            assert_eq!(sym.exchange, Exchange::Nse);
        }
        assert_eq!(parse("BSE:RELIANCE").unwrap().exchange, Exchange::Bse);
    }

    #[test]
    fn futures_and_their_expiries() {
        for (s, exp) in [
            ("NIFTY25AUGFUT", d(2025, 8, 28)),
            ("NIFTY25NOVFUT", d(2025, 11, 25)),
            ("NIFTY26MARFUT", d(2026, 3, 30)),
            ("NIFTY26NOVFUT", d(2026, 11, 23)),
            ("BANKNIFTY26JANFUT", d(2026, 1, 27)),
            ("RELIANCE26DECFUT", d(2026, 12, 29)),
            ("BAJAJ-AUTO25DECFUT", d(2025, 12, 30)),
        ] {
            let sym = parse(s).unwrap();
            assert_eq!(sym.kind, Kind::Future, "{s}");
            assert_eq!(sym.expiry, Some(exp), "{s}");
            assert_eq!(sym.tradingsymbol, s);
            assert!(!sym.is_weekly);
            assert_eq!(sym.exchange, Exchange::Nfo);
        }
        let b = parse("BANKNIFTY26JANFUT").unwrap();
        assert_eq!(b.underlying, "BANKNIFTY");
        let s = parse("SENSEX25NOVFUT").unwrap();
        assert_eq!(s.exchange, Exchange::Bfo);
        assert_eq!(s.expiry, Some(d(2025, 11, 27)));
    }

    #[test]
    fn monthly_options() {
        let o = parse("NIFTY25NOV24500CE").unwrap();
        assert_eq!(
            (o.kind, o.strike.unwrap().value(), o.right),
            (Kind::Option, 24500.0, Some(Right::Call))
        );
        assert_eq!(o.expiry, Some(d(2025, 11, 25)));
        assert!(!o.is_weekly);
        let i = parse("IDEA26JAN7.5CE").unwrap();
        assert_eq!(i.strike.unwrap().value(), 7.5);
        assert_eq!(i.underlying, "IDEA");
        assert_eq!(i.tradingsymbol, "IDEA26JAN7.5CE");
        let m = parse("M&M25DEC3200PE").unwrap();
        assert_eq!((m.underlying.as_str(), m.right), ("M&M", Some(Right::Put)));
    }

    #[test]
    fn weekly_options() {
        let o = parse("NIFTY25N0424500PE").unwrap();
        assert_eq!(o.strike.unwrap().value(), 24500.0); // the old filter read 424500
        assert_eq!(o.expiry, Some(d(2025, 11, 4)));
        assert!(o.is_weekly);
        assert_eq!(o.right, Some(Right::Put));
        let j = parse("NIFTY2610624000CE").unwrap();
        assert_eq!(j.expiry, Some(d(2026, 1, 6)));
        assert_eq!(j.strike.unwrap().value(), 24000.0);
        assert_eq!(j.underlying, "NIFTY");
        let s = parse("SENSEX25D1185000CE").unwrap();
        assert_eq!(
            (s.expiry, s.exchange),
            (Some(d(2025, 12, 11)), Exchange::Bfo)
        );
        let x = parse("NIFTYNXT5025N0468000CE").unwrap();
        assert_eq!(x.underlying, "NIFTYNXT50");
        let y = parse("NIFTYNXT502590268000CE").unwrap();
        assert_eq!(
            (y.underlying.as_str(), y.expiry),
            ("NIFTYNXT50", Some(d(2025, 9, 2)))
        );
        assert_eq!(y.strike.unwrap().value(), 68000.0);
        for m in 1..=9 {
            let s = format!("NIFTY25{m}0924000CE");
            let p = parse(&s).unwrap();
            assert_eq!(p.expiry.unwrap().month(), m, "{s}");
            assert_eq!(p.tradingsymbol, s);
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(parse("").unwrap_err(), SymbolError::Empty);
        assert_eq!(parse("   ").unwrap_err(), SymbolError::Empty);
        assert_eq!(
            parse("NIFTY25XYZFUT").unwrap_err().to_string(),
            r#"cannot parse "NIFTY25XYZFUT": unknown month "XYZ""#
        );
        assert_eq!(
            parse("NIFTY25N3224500CE").unwrap_err().to_string(),
            r#""NIFTY25N3224500CE": day 32 is not a date"#
        );
        assert_eq!(
            parse("NIFTY25NOV24500XE").unwrap_err().to_string(),
            r#""NIFTY25NOV24500XE": expected CE or PE"#
        );
        assert!(matches!(
            parse("NIFTY25NOVCE").unwrap_err(),
            SymbolError::MissingStrike { .. }
        ));
        assert!(matches!(
            parse("NIFTY25NOV").unwrap_err(),
            SymbolError::Invalid { .. }
        ));
        assert!(matches!(
            parse("NIFTY 25NOVFUT").unwrap_err(),
            SymbolError::BadChar { pos: 5, .. }
        ));
        assert!(matches!(
            parse("25NOVFUT").unwrap_err(),
            SymbolError::MissingUnderlying { .. }
        ));
        assert!(matches!(
            parse("NIFTY2522924000CE").unwrap_err(),
            SymbolError::BadDay { day: 29, .. }
        ));
        assert!(matches!(
            parse("NIFTY25Z0424500CE").unwrap_err(),
            SymbolError::UnknownMonthCode { .. }
        ));
        assert!(matches!(
            parse("NIFTY25NOV1.234CE").unwrap_err(),
            SymbolError::BadStrike { .. }
        ));
        assert!(matches!(
            parse(&"A".repeat(65)).unwrap_err(),
            SymbolError::TooLong { .. }
        ));
        assert!(matches!(
            parse("NIFTYé").unwrap_err(),
            SymbolError::BadChar { .. }
        ));
    }

    #[test]
    fn builders_choose_the_canonical_form() {
        let w = Symbol::option(
            "NIFTY",
            d(2025, 11, 4),
            Strike::from_hundredths(2_450_000),
            Right::Put,
        )
        .unwrap();
        assert_eq!(w.tradingsymbol, "NIFTY25N0424500PE");
        let m = Symbol::option(
            "NIFTY",
            d(2025, 11, 25),
            Strike::from_hundredths(2_450_000),
            Right::Call,
        )
        .unwrap();
        assert_eq!(m.tradingsymbol, "NIFTY25NOV24500CE");
        assert_eq!(
            Symbol::future("NIFTY", 2025, 11).unwrap().tradingsymbol,
            "NIFTY25NOVFUT"
        );
    }

    #[test]
    fn expiry_instant() {
        let f = parse("NIFTY25NOVFUT").unwrap();
        let before = chrono::DateTime::parse_from_rfc3339("2025-11-25T15:29:59+05:30")
            .unwrap()
            .to_utc();
        let after = chrono::DateTime::parse_from_rfc3339("2025-11-25T15:30:00+05:30")
            .unwrap()
            .to_utc();
        assert!(!f.is_expired_at(before));
        assert!(f.is_expired_at(after));
        assert!(!parse("NIFTY").unwrap().is_expired_at(after));
    }
}

#[cfg(test)]
mod right_tests {
    use super::Right;

    #[test]
    fn rights_parse_in_every_spelling_and_nothing_else() {
        for (text, want) in [
            ("CE", Right::Call),
            ("ce", Right::Call),
            ("C", Right::Call),
            ("call", Right::Call),
            ("Call", Right::Call),
            (" CALL ", Right::Call),
            ("PE", Right::Put),
            ("p", Right::Put),
            ("put", Right::Put),
            ("PUT", Right::Put),
        ] {
            assert_eq!(text.parse::<Right>(), Ok(want), "{text:?}");
        }
        for bad in ["", "X", "XE", "CALLS", "puts", "CEPE", "é", "CE\0"] {
            let e = bad.parse::<Right>().expect_err(bad);
            assert!(
                e.to_string().starts_with("expected CE, PE, call or put"),
                "{e}"
            );
        }
        assert_eq!(Right::from_ascii(b"cAlL"), Some(Right::Call));
        assert_eq!(Right::from_ascii(b"PUTS"), None);
    }
}
