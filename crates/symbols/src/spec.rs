//! `@` instrument specs: `EXCHANGE@UNDERLYING@EXPIRY@RIGHT@STRIKE`, e.g. `NSE@NIFTY@Nw+1@Put@OTM2`.
//!
//! Parsing is offline. Resolution to a tradingsymbol is a pure function of the spot price, the
//! strike step and the listed expiries ([`ResolveContext`]).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use compact_str::CompactString;

use crate::index::find_index;
use crate::strike::Strike;
use crate::symbol::{Exchange, Right, Symbol};

/// Which expiry a spec selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySel {
    /// `Nw` (0) or `Nw+k` (k): the k-th listed weekly expiry after the nearest.
    Weekly(u32),
    /// `Nm` / `Nm+k`.
    Monthly(u32),
    /// An explicit date `2025-11-25`.
    Date(NaiveDate),
}

/// Which strike a spec selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrikeSel {
    Atm,
    /// n steps out of the money (puts below spot, calls above).
    Otm(u32),
    /// n steps in the money.
    Itm(u32),
    Price(Strike),
}

/// A parsed `@` spec. Omitted trailing parts are `None` ("any").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentSpec {
    pub exchange: Exchange,
    /// Canonical derivative underlying (`NIFTY`), or a stock symbol.
    pub underlying: CompactString,
    pub expiry: Option<ExpirySel>,
    pub right: Option<Right>,
    pub strike: Option<StrikeSel>,
}

/// Why a spec could not be parsed or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("bad instrument spec {spec:?}: {why}")]
    Parse { spec: String, why: String },
    #[error("cannot resolve {spec:?}: {why}")]
    Resolve { spec: String, why: String },
}

/// What resolution needs to know: all pure inputs.
#[derive(Debug, Clone, Copy)]
pub struct ResolveContext<'a> {
    /// Spot price of the underlying.
    pub spot: f64,
    /// Strike interval; `None` takes the index table's step.
    pub strike_step: Option<f64>,
    /// Listed weekly expiries, ascending (every listed expiry of a weekly series, the monthly
    /// one included). Empty when the underlying has no weekly series.
    pub weekly: &'a [NaiveDate],
    /// Listed monthly expiries, ascending.
    pub monthly: &'a [NaiveDate],
}

impl InstrumentSpec {
    /// Whether `s` looks like an `@` spec (contains `@`).
    pub fn is_spec(s: &str) -> bool {
        s.contains('@')
    }

    /// A regular expression (ECMA 262, for API schemas) for the specs that resolve whenever
    /// the underlying is quoted: an index with listed derivatives alone, its monthly future
    /// (`NSE@NIFTY@Nm+1`), or an option with its strike (`NSE@NIFTY@Nw@Call@ATM`), weekly
    /// expiries only where the index has them. [`InstrumentSpec::parse`] takes more (dates,
    /// absolute strikes, stocks, other spellings of the right).
    pub fn pattern() -> String {
        let alternatives: Vec<String> = crate::index::INDICES
            .iter()
            .filter(|i| i.strike_step.is_some())
            .map(|i| {
                let exchanges = match i.exchange {
                    Exchange::Bse | Exchange::Bfo => "BSE|BFO",
                    Exchange::Nse | Exchange::Nfo => "NSE|NFO",
                };
                let expiry = if i.has_weekly { "N[wm]" } else { "Nm" };
                format!(
                    "(?:{exchanges})@{}(?:@Nm(?:\\+[12])?|@{expiry}(?:\\+[1-3])?@(?:Call|Put|CE|PE)@(?:ATM|OTM[1-5]|ITM[1-5]))?",
                    i.name
                )
            })
            .collect();
        format!("^(?:{})$", alternatives.join("|"))
    }

    /// Parse a spec; partial specs (`NSE@NIFTY@Nw@Put`) are allowed.
    pub fn parse(spec: &str) -> Result<Self, SpecError> {
        let err = |why: String| SpecError::Parse {
            spec: truncate(spec),
            why,
        };
        if spec.len() > 128 {
            return Err(err("longer than 128 characters".into()));
        }
        let parts: Vec<&str> = spec.trim().split('@').map(str::trim).collect();
        if parts.len() < 2 {
            return Err(err(
                "expected EXCHANGE@UNDERLYING[@EXPIRY[@RIGHT[@STRIKE]]]".into(),
            ));
        }
        if parts.len() > 5 {
            return Err(err(format!("at most 5 parts, got {}", parts.len())));
        }
        let exchange = Exchange::parse(parts[0]).ok_or_else(|| {
            err(format!(
                "unknown exchange {:?} (expected NSE, BSE, NFO or BFO)",
                parts[0]
            ))
        })?;
        if parts[1].is_empty() {
            return Err(err("empty underlying".into()));
        }
        let underlying = if let Some(info) = find_index(parts[1]) {
            CompactString::const_new(info.name)
        } else {
            let up = parts[1].to_ascii_uppercase();
            if !up
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'&' || b == b'-')
                || up.len() > 30
            {
                return Err(err(format!("bad underlying {:?}", parts[1])));
            }
            CompactString::new(up)
        };
        let expiry = parts
            .get(2)
            .map(|p| parse_expiry(p).map_err(&err))
            .transpose()?;
        let right = parts
            .get(3)
            .map(|p| parse_right(p).map_err(&err))
            .transpose()?;
        let strike = parts
            .get(4)
            .map(|p| parse_strike(p).map_err(&err))
            .transpose()?;
        Ok(InstrumentSpec {
            exchange,
            underlying,
            expiry,
            right,
            strike,
        })
    }

    /// Resolve to one instrument: no expiry → the underlying itself; expiry without right → the
    /// future of that (monthly) expiry; expiry + right + strike → the option.
    pub fn resolve(&self, ctx: &ResolveContext<'_>) -> Result<Symbol, SpecError> {
        let err = |why: String| SpecError::Resolve {
            spec: self.to_string(),
            why,
        };
        let Some(expiry_sel) = self.expiry else {
            if let Some(info) = crate::index::derivative_underlying(&self.underlying) {
                return Ok(Symbol::index_of(info));
            }
            return crate::symbol::parse(&self.underlying).map_err(|e| err(e.to_string()));
        };
        let expiry = match expiry_sel {
            ExpirySel::Weekly(k) => {
                if ctx.weekly.is_empty() {
                    return Err(err(format!(
                        "{} has no weekly expiries listed",
                        self.underlying
                    )));
                }
                *ctx.weekly.get(k as usize).ok_or_else(|| {
                    err(format!(
                        "only {} weekly expiries are listed, Nw+{k} asked",
                        ctx.weekly.len()
                    ))
                })?
            }
            ExpirySel::Monthly(k) => *ctx.monthly.get(k as usize).ok_or_else(|| {
                err(format!(
                    "only {} monthly expiries are listed, Nm+{k} asked",
                    ctx.monthly.len()
                ))
            })?,
            ExpirySel::Date(d) => {
                if !ctx.weekly.contains(&d) && !ctx.monthly.contains(&d) {
                    return Err(err(format!("no listed expiry on {d}")));
                }
                d
            }
        };
        let Some(right) = self.right else {
            if !ctx.monthly.contains(&expiry) {
                return Err(err(format!(
                    "{expiry} is not a monthly expiry, so it has no future"
                )));
            }
            return Symbol::future(&self.underlying, expiry.year(), expiry.month())
                .map_err(|e| err(e.to_string()));
        };
        let Some(strike_sel) = self.strike else {
            return Err(err(
                "a strike (ATM, OTMn, ITMn or a price) is needed to pick one option".into(),
            ));
        };
        let strike = match strike_sel {
            StrikeSel::Price(p) => p,
            sel => {
                let step = ctx
                    .strike_step
                    .or_else(|| {
                        crate::index::derivative_underlying(&self.underlying)
                            .and_then(|i| i.strike_step)
                            .map(f64::from)
                    })
                    .ok_or_else(|| err(format!("strike step of {} unknown", self.underlying)))?;
                if !(step.is_finite() && step > 0.0) {
                    return Err(err(format!("bad strike step {step}")));
                }
                if !(ctx.spot.is_finite() && ctx.spot > 0.0) {
                    return Err(err(format!("bad spot price {}", ctx.spot)));
                }
                let atm = (ctx.spot / step).round();
                // OTM: puts below spot, calls above; ITM the reverse.
                let n = match (sel, right) {
                    (StrikeSel::Otm(n), Right::Call) | (StrikeSel::Itm(n), Right::Put) => {
                        f64::from(n)
                    }
                    (StrikeSel::Otm(n), Right::Put) | (StrikeSel::Itm(n), Right::Call) => {
                        -f64::from(n)
                    }
                    _ => 0.0,
                };
                Strike::from_f64((atm + n) * step)
                    .ok_or_else(|| err(format!("strike {} out of range", (atm + n) * step)))?
            }
        };
        Symbol::option(&self.underlying, expiry, strike, right).map_err(|e| err(e.to_string()))
    }
}

impl fmt::Display for InstrumentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.exchange.as_str(), self.underlying)?;
        if let Some(e) = self.expiry {
            match e {
                ExpirySel::Weekly(0) => write!(f, "@Nw")?,
                ExpirySel::Weekly(k) => write!(f, "@Nw+{k}")?,
                ExpirySel::Monthly(0) => write!(f, "@Nm")?,
                ExpirySel::Monthly(k) => write!(f, "@Nm+{k}")?,
                ExpirySel::Date(d) => write!(f, "@{d}")?,
            }
        }
        if let Some(r) = self.right {
            write!(f, "@{}", if r == Right::Call { "Call" } else { "Put" })?;
        }
        if let Some(s) = self.strike {
            match s {
                StrikeSel::Atm => write!(f, "@ATM")?,
                StrikeSel::Otm(n) => write!(f, "@OTM{n}")?,
                StrikeSel::Itm(n) => write!(f, "@ITM{n}")?,
                StrikeSel::Price(p) => write!(f, "@{p}")?,
            }
        }
        Ok(())
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn parse_expiry(p: &str) -> Result<ExpirySel, String> {
    let up = p.to_ascii_uppercase();
    let offset = |rest: &str| -> Result<u32, String> {
        if rest.is_empty() {
            return Ok(0);
        }
        let k = rest
            .strip_prefix('+')
            .ok_or_else(|| format!("bad expiry {p:?}: expected +k after Nw/Nm"))?;
        match k.parse::<u32>() {
            Ok(k) if k <= 52 => Ok(k),
            _ => Err(format!("bad expiry offset {k:?} (0..=52)")),
        }
    };
    if let Some(rest) = up.strip_prefix("NW") {
        return offset(rest).map(ExpirySel::Weekly);
    }
    if let Some(rest) = up.strip_prefix("NM") {
        return offset(rest).map(ExpirySel::Monthly);
    }
    NaiveDate::parse_from_str(p, "%Y-%m-%d")
        .map(ExpirySel::Date)
        .map_err(|_| format!("bad expiry {p:?} (expected Nw, Nw+k, Nm, Nm+k or YYYY-MM-DD)"))
}

fn parse_right(p: &str) -> Result<Right, String> {
    Right::from_ascii(p.as_bytes())
        .ok_or_else(|| format!("bad right {p:?} (expected Call, Put, CE or PE)"))
}

fn parse_strike(p: &str) -> Result<StrikeSel, String> {
    let up = p.to_ascii_uppercase();
    let steps = |rest: &str| match rest.parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!("bad strike {p:?}: steps must be 1..=100")),
    };
    if up == "ATM" {
        Ok(StrikeSel::Atm)
    } else if let Some(rest) = up.strip_prefix("OTM") {
        steps(rest).map(StrikeSel::Otm)
    } else if let Some(rest) = up.strip_prefix("ITM") {
        steps(rest).map(StrikeSel::Itm)
    } else {
        Strike::parse(p.as_bytes())
            .map(StrikeSel::Price)
            .map_err(|why| format!("bad strike {p:?} ({why}; expected ATM, OTMn, ITMn or a price)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_full_and_partial_specs() {
        let s = InstrumentSpec::parse("NSE@NIFTY@Nw+1@Put@OTM2").unwrap();
        assert_eq!(s.exchange, Exchange::Nse);
        assert_eq!(s.underlying, "NIFTY");
        assert_eq!(s.expiry, Some(ExpirySel::Weekly(1)));
        assert_eq!(s.right, Some(Right::Put));
        assert_eq!(s.strike, Some(StrikeSel::Otm(2)));
        assert_eq!(s.to_string(), "NSE@NIFTY@Nw+1@Put@OTM2");
        let p = InstrumentSpec::parse("nse@nifty bank@Nm@ce").unwrap();
        assert_eq!((p.underlying.as_str(), p.strike), ("BANKNIFTY", None));
        let q = InstrumentSpec::parse("NSE@NIFTY@2025-11-25@CE@24500").unwrap();
        assert_eq!(q.expiry, Some(ExpirySel::Date(d(2025, 11, 25))));
        assert!(InstrumentSpec::parse("NIFTY").is_err());
        assert!(
            InstrumentSpec::parse("XX@NIFTY")
                .unwrap_err()
                .to_string()
                .contains("unknown exchange")
        );
        assert!(
            InstrumentSpec::parse("NSE@NIFTY@Nq")
                .unwrap_err()
                .to_string()
                .contains("bad expiry")
        );
        assert!(InstrumentSpec::parse("NSE@NIFTY@Nw@Straddle").is_err());
        assert!(InstrumentSpec::parse("NSE@NIFTY@Nw@Put@OTM0").is_err());
        assert!(InstrumentSpec::parse("NSE@NIFTY@Nw@Put@OTM1@x").is_err());
    }

    #[test]
    fn resolves_purely_from_inputs() {
        let weekly = [
            d(2025, 11, 4),
            d(2025, 11, 11),
            d(2025, 11, 18),
            d(2025, 11, 25),
        ];
        let monthly = [d(2025, 11, 25), d(2025, 12, 30)];
        let ctx = ResolveContext {
            spot: 24_512.0,
            strike_step: None,
            weekly: &weekly,
            monthly: &monthly,
        };
        let r = |s: &str| {
            InstrumentSpec::parse(s)
                .unwrap()
                .resolve(&ctx)
                .map(|x| x.tradingsymbol.to_string())
        };
        assert_eq!(r("NSE@NIFTY@Nw+1@Put@OTM2").unwrap(), "NIFTY25N1124400PE");
        assert_eq!(r("NSE@NIFTY@Nw@Call@OTM2").unwrap(), "NIFTY25N0424600CE");
        assert_eq!(r("NSE@NIFTY@Nw@Call@ITM1").unwrap(), "NIFTY25N0424450CE");
        assert_eq!(r("NSE@NIFTY@Nm@CE@ATM").unwrap(), "NIFTY25NOV24500CE");
        assert_eq!(r("NSE@NIFTY@Nw+3@PE@ATM").unwrap(), "NIFTY25NOV24500PE");
        assert_eq!(r("NSE@NIFTY@Nm+1").unwrap(), "NIFTY25DECFUT");
        assert_eq!(r("NSE@NIFTY").unwrap(), "NIFTY 50");
        assert_eq!(
            r("NSE@NIFTY@2025-11-11@PE@24000").unwrap(),
            "NIFTY25N1124000PE"
        );
        assert!(
            r("NSE@NIFTY@Nw+9@PE@ATM")
                .unwrap_err()
                .to_string()
                .contains("only 4 weekly")
        );
        assert!(
            r("NSE@NIFTY@Nw@PE")
                .unwrap_err()
                .to_string()
                .contains("strike")
        );
        assert!(
            r("NSE@NIFTY@Nw")
                .unwrap_err()
                .to_string()
                .contains("no future")
        );
        let no_weekly = ResolveContext { weekly: &[], ..ctx };
        let e = InstrumentSpec::parse("NSE@BANKNIFTY@Nw@CE@ATM")
            .unwrap()
            .resolve(&no_weekly)
            .unwrap_err();
        assert!(e.to_string().contains("no weekly"));
    }
}
