//! Decoders for the legacy ticker payloads (exactly as the old ticker sent them) and the native
//! superset. Every malformed payload becomes a [`Reject`] with a stable reason code; nothing
//! panics on any input.

use std::borrow::Cow;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::Deserialize;
use stocksblitz_symbols::{Kind, Right, find_index, parse};

use crate::tick::{Depth, Greeks, Level, Tick, TickKind};

/// Payloads larger than this are rejected unread.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Accepted exchange times: 2000-01-01 ..= 2100-01-01 (UTC epoch seconds).
pub const TS_MIN: i64 = 946_684_800;
pub const TS_MAX: i64 = 4_102_444_800;

/// Why a payload was rejected. [`Reject::code`] is the stable label used in metrics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Reject {
    #[error("payload of {0} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit")]
    Oversize(usize),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("missing field {0:?}")]
    MissingField(&'static str),
    #[error("bad value: {0}")]
    BadValue(String),
    #[error("non-finite number (NaN or Infinity)")]
    NonFinite,
    #[error("negative or zero {0}: {1}")]
    BadPrice(&'static str, f64),
    #[error("timestamp {0} out of range")]
    TimestampOutOfRange(i64),
    #[error("unknown type {0:?} (expected CE, PE, FUT or EQ)")]
    UnknownType(String),
    #[error("unparsable tradingsymbol: {0}")]
    BadSymbol(String),
    #[error("type {kind:?} does not match tradingsymbol {symbol:?}")]
    TypeMismatch { kind: String, symbol: String },
    #[error("bad expiry {0:?} (expected YYYY-MM-DD or DD-Mon-YYYY)")]
    BadExpiry(String),
}

impl Reject {
    /// Stable reason code (`not_json`, `missing_field`, …) for counters.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::Oversize(_) => "oversize",
            Reject::NotJson(_) => "not_json",
            Reject::NotObject => "not_object",
            Reject::MissingField(_) => "missing_field",
            Reject::BadValue(_) => "bad_value",
            Reject::NonFinite => "non_finite",
            Reject::BadPrice(..) => "bad_price",
            Reject::TimestampOutOfRange(_) => "timestamp_out_of_range",
            Reject::UnknownType(_) => "unknown_type",
            Reject::BadSymbol(_) => "bad_symbol",
            Reject::TypeMismatch { .. } => "type_mismatch",
            Reject::BadExpiry(_) => "bad_expiry",
        }
    }

    /// Every reason code (for pre-registering metrics).
    pub const CODES: &'static [&'static str] = &[
        "oversize",
        "not_json",
        "not_object",
        "missing_field",
        "bad_value",
        "non_finite",
        "bad_price",
        "timestamp_out_of_range",
        "unknown_type",
        "bad_symbol",
        "type_mismatch",
        "bad_expiry",
    ];
}

/// Both legacy shapes and the native superset, all fields optional; classification follows.
#[derive(Debug, Default, Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    symbol: Option<Cow<'a, str>>,
    token: Option<f64>,
    #[serde(borrow)]
    tradingsymbol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    segment: Option<Cow<'a, str>>,
    #[serde(borrow)]
    expiry: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    lot_size: Option<f64>,
    tick_size: Option<f64>,
    price: Option<f64>,
    volume: Option<f64>,
    oi: Option<f64>,
    iv: Option<f64>,
    delta: Option<f64>,
    gamma: Option<f64>,
    theta: Option<f64>,
    vega: Option<f64>,
    rho: Option<f64>,
    ts: Option<f64>,
    exchange_ts_ms: Option<f64>,
    is_mock: Option<bool>,
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
    bid: Option<f64>,
    ask: Option<f64>,
    #[serde(alias = "bid_quantity")]
    bid_qty: Option<f64>,
    #[serde(alias = "ask_quantity")]
    ask_qty: Option<f64>,
    #[serde(alias = "last_traded_quantity")]
    last_quantity: Option<f64>,
    /// Kite-style depth: `{"buy": [{"price", "quantity", "orders"}, …], "sell": […]}`.
    depth: Option<RawDepth>,
}

#[derive(Debug, Default, Deserialize)]
struct RawDepth {
    #[serde(default)]
    buy: Vec<RawLevel>,
    #[serde(default)]
    sell: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
struct RawLevel {
    price: f64,
    #[serde(default)]
    quantity: f64,
    #[serde(default)]
    orders: f64,
}

/// Fill [`Raw`] with the flat-object scanner; None when the payload needs the full parser
/// (including any value of the wrong type, so that serde reports it).
fn scan_raw(payload: &[u8]) -> Option<Raw<'_>> {
    use crate::scan::{Scalar, cow, scan_flat, set_once};
    let mut r = Raw::default();
    scan_flat(payload, |key, value| {
        let num = |v: Scalar<'_>| match v {
            Scalar::Num(x) => Some(Some(x)),
            Scalar::Null => Some(None),
            _ => None,
        };
        macro_rules! number {
            ($field:ident) => {{
                if let Some(x) = num(value)? {
                    set_once(&mut r.$field, x)?;
                }
                Some(())
            }};
        }
        macro_rules! text {
            ($field:ident) => {{
                match value {
                    Scalar::Str(s) => set_once(&mut r.$field, cow(s)),
                    Scalar::Null => Some(()),
                    _ => None,
                }
            }};
        }
        match key {
            "symbol" => text!(symbol),
            "tradingsymbol" => text!(tradingsymbol),
            "segment" => text!(segment),
            "expiry" => text!(expiry),
            "type" => text!(kind),
            "token" => number!(token),
            "lot_size" => number!(lot_size),
            "tick_size" => number!(tick_size),
            "price" => number!(price),
            "volume" => number!(volume),
            "oi" => number!(oi),
            "iv" => number!(iv),
            "delta" => number!(delta),
            "gamma" => number!(gamma),
            "theta" => number!(theta),
            "vega" => number!(vega),
            "rho" => number!(rho),
            "ts" => number!(ts),
            "exchange_ts_ms" => number!(exchange_ts_ms),
            "open" => number!(open),
            "high" => number!(high),
            "low" => number!(low),
            "close" => number!(close),
            "bid" => number!(bid),
            "ask" => number!(ask),
            "bid_qty" | "bid_quantity" => number!(bid_qty),
            "ask_qty" | "ask_quantity" => number!(ask_qty),
            "last_quantity" | "last_traded_quantity" => number!(last_quantity),
            // Depth is nested: the full parser reads it.
            "depth" => None,
            "is_mock" => match value {
                Scalar::Bool(b) => set_once(&mut r.is_mock, b),
                Scalar::Null => Some(()),
                _ => None,
            },
            // Other members (exchange, strike, recv_ts_ms, …) are not used.
            _ => Some(()),
        }
    })?;
    Some(r)
}

/// Stateless decoder (a struct so that options can be added without breaking callers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoder;

fn count(name: &'static str, v: Option<f64>) -> Result<Option<u64>, Reject> {
    match v {
        None => Ok(None),
        Some(x) if (0.0..1e18).contains(&x) => Ok(Some(x as u64)),
        Some(x) => Err(Reject::BadValue(format!(
            "{name} must be a non-negative count, got {x}"
        ))),
    }
}

fn parse_expiry(s: &str) -> Result<NaiveDate, Reject> {
    // The common ISO form without chrono's format interpreter.
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
            && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
        {
            return Ok(date);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%b-%Y"))
        .map_err(|_| Reject::BadExpiry(s.chars().take(40).collect()))
}

impl Decoder {
    /// Decode one payload received at `recv_ts_ms` (UTC epoch ms).
    pub fn decode(&self, payload: &[u8], recv_ts_ms: i64) -> Result<Tick, Reject> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(Reject::Oversize(payload.len()));
        }
        // Fast path for flat objects; serde_json for everything else (and to classify errors).
        let raw: Raw<'_> = match scan_raw(payload) {
            Some(r) => r,
            None => match serde_json::from_slice::<Raw<'_>>(payload) {
                Ok(r) => r,
                Err(e) => return Err(classify_json_error(payload, &e)),
            },
        };
        Self::classify(&raw, recv_ts_ms)
    }

    fn classify(raw: &Raw<'_>, recv_ts_ms: i64) -> Result<Tick, Reject> {
        let exchange_ts_ms = match (raw.exchange_ts_ms, raw.ts) {
            (Some(ms), _) if ms.is_finite() => ms as i64,
            (_, Some(s)) if s.is_finite() => (s * 1000.0) as i64,
            (None, None) => return Err(Reject::MissingField("ts")),
            _ => return Err(Reject::BadValue("ts must be a number".into())),
        };
        let ts = exchange_ts_ms.div_euclid(1000);
        if !(TS_MIN..=TS_MAX).contains(&ts) {
            return Err(Reject::TimestampOutOfRange(ts));
        }
        let greeks = {
            let g = Greeks {
                iv: raw.iv.filter(|v| *v != 0.0),
                delta: raw.delta.unwrap_or(0.0),
                gamma: raw.gamma.unwrap_or(0.0),
                theta: raw.theta.unwrap_or(0.0),
                vega: raw.vega.unwrap_or(0.0),
                rho: raw.rho.unwrap_or(0.0),
            };
            let all = [
                g.iv.unwrap_or(0.0),
                g.delta,
                g.gamma,
                g.theta,
                g.vega,
                g.rho,
            ];
            if all.iter().any(|v| !v.is_finite()) {
                return Err(Reject::NonFinite);
            }
            if all.iter().all(|v| *v == 0.0) {
                None
            } else {
                Some(g)
            }
        };
        let positive = |name: &'static str, v: Option<f64>| -> Result<Option<f64>, Reject> {
            match v {
                Some(x) if !x.is_finite() => Err(Reject::NonFinite),
                Some(x) if x < 0.0 => Err(Reject::BadPrice(name, x)),
                other => Ok(other),
            }
        };
        let book = book(raw)?;
        let last_quantity = count("last_quantity", raw.last_quantity)?;
        let volume = count("volume", raw.volume)?;
        let oi = count("oi", raw.oi)?;
        let lot_size = count("lot_size", raw.lot_size)?.and_then(|v| u32::try_from(v).ok());
        let tick_size = positive("tick_size", raw.tick_size)?;
        let token = count("token", raw.token)?;
        let is_mock = raw.is_mock.unwrap_or(false);

        // The underlying channel: no `type`, a `close` price.
        if raw.kind.is_none() && raw.price.is_none() {
            let close = positive("close", raw.close)?.ok_or(Reject::MissingField("close"))?;
            if close == 0.0 {
                return Err(Reject::BadPrice("close", close));
            }
            let name = raw
                .symbol
                .as_deref()
                .ok_or(Reject::MissingField("symbol"))?;
            let info = find_index(name)
                .ok_or_else(|| Reject::BadSymbol(format!("{name:?} is not a known index")))?;
            return Ok(Tick {
                tradingsymbol: CompactString::const_new(info.display),
                token: token.or(info.token.map(u64::from)),
                kind: TickKind::Index,
                underlying: CompactString::const_new(info.name),
                expiry: None,
                strike: None,
                right: None,
                price: close,
                volume: Some(0),
                oi: None,
                // An index does not trade: no book.
                bid: None,
                ask: None,
                bid_qty: None,
                ask_qty: None,
                last_quantity: None,
                depth: None,
                day_open: positive("open", raw.open)?,
                day_high: positive("high", raw.high)?,
                day_low: positive("low", raw.low)?,
                greeks: None,
                lot_size,
                tick_size,
                exchange_ts_ms,
                recv_ts_ms,
                is_mock,
            });
        }

        let price = positive("price", raw.price)?.ok_or(Reject::MissingField("price"))?;
        let kind_str = raw.kind.as_deref().ok_or(Reject::MissingField("type"))?;
        let expected = match kind_str {
            "CE" | "PE" => Kind::Option,
            "FUT" => Kind::Future,
            "EQ" => Kind::Equity,
            other => return Err(Reject::UnknownType(other.chars().take(20).collect())),
        };
        let name = raw
            .tradingsymbol
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(raw.symbol.as_deref())
            .ok_or(Reject::MissingField("tradingsymbol"))?;
        let sym = parse(name).map_err(|e| Reject::BadSymbol(e.to_string()))?;
        let kind = match (expected, sym.kind) {
            (Kind::Option, Kind::Option) => TickKind::Option,
            (Kind::Future, Kind::Future) => TickKind::Future,
            (Kind::Equity, Kind::Index) => TickKind::Index,
            (Kind::Equity, Kind::Equity) => {
                if raw.segment.as_deref() == Some("INDICES") {
                    return Err(Reject::BadSymbol(format!("{name:?} is not a known index")));
                }
                TickKind::Equity
            }
            _ => {
                return Err(Reject::TypeMismatch {
                    kind: kind_str.into(),
                    symbol: name.chars().take(40).collect(),
                });
            }
        };
        if kind == TickKind::Option && sym.right.map(Right::as_str) != Some(kind_str) {
            return Err(Reject::TypeMismatch {
                kind: kind_str.into(),
                symbol: name.chars().take(40).collect(),
            });
        }
        if matches!(kind, TickKind::Index | TickKind::Future) && price == 0.0 {
            return Err(Reject::BadPrice("price", price));
        }
        // The payload's expiry must at least be a date; the symbol's expiry is authoritative.
        if let Some(e) = raw.expiry.as_deref()
            && !e.is_empty()
        {
            parse_expiry(e)?;
        }
        Ok(Tick {
            tradingsymbol: sym.tradingsymbol,
            token,
            kind,
            underlying: sym.underlying,
            expiry: sym.expiry,
            strike: sym.strike.map(stocksblitz_symbols::Strike::value),
            right: sym.right,
            price,
            volume: if kind == TickKind::Index {
                Some(0)
            } else {
                volume
            },
            oi,
            bid: book.bid,
            ask: book.ask,
            bid_qty: book.bid_qty,
            ask_qty: book.ask_qty,
            last_quantity: if kind == TickKind::Index {
                None
            } else {
                last_quantity
            },
            depth: book.depth,
            day_open: None,
            day_high: None,
            day_low: None,
            greeks,
            lot_size,
            tick_size,
            exchange_ts_ms,
            recv_ts_ms,
            is_mock,
        })
    }
}

/// The book a payload carries, checked: prices and quantities non-negative, a price of 0 is
/// an empty side (Kite's depth pads with zero levels), the touch taken from the depth when the
/// payload has no `bid`/`ask` of its own. A crossed touch (bid above ask) cannot be a book: it
/// is dropped (the quote then says the book is unknown) rather than the tick refused.
#[derive(Debug, Default)]
struct Book {
    bid: Option<f64>,
    ask: Option<f64>,
    bid_qty: Option<u64>,
    ask_qty: Option<u64>,
    depth: Option<Box<Depth>>,
}

fn book(raw: &Raw<'_>) -> Result<Book, Reject> {
    let price = |name: &'static str, v: Option<f64>| -> Result<Option<f64>, Reject> {
        match v {
            Some(x) if !x.is_finite() => Err(Reject::NonFinite),
            Some(x) if x < 0.0 => Err(Reject::BadPrice(name, x)),
            Some(0.0) => Ok(None),
            other => Ok(other),
        }
    };
    let mut bid = price("bid", raw.bid)?;
    let mut ask = price("ask", raw.ask)?;
    let mut bid_qty = count("bid_qty", raw.bid_qty)?;
    let mut ask_qty = count("ask_qty", raw.ask_qty)?;
    let depth = match &raw.depth {
        None => None,
        Some(d) => {
            let side = |levels: &[RawLevel]| -> Result<Vec<Level>, Reject> {
                let mut out = Vec::new();
                for l in levels {
                    let (Some(p), q, o) = (
                        price("depth", Some(l.price))?,
                        count("depth quantity", Some(l.quantity))?.unwrap_or(0),
                        count("depth orders", Some(l.orders))?.unwrap_or(0),
                    ) else {
                        continue;
                    };
                    if q > 0 && out.len() < Depth::MAX_LEVELS {
                        out.push(Level {
                            price: p,
                            quantity: q,
                            orders: o,
                        });
                    }
                }
                Ok(out)
            };
            let depth = Depth {
                buy: side(&d.buy)?,
                sell: side(&d.sell)?,
            };
            if bid.is_none()
                && let Some(l) = depth.buy.first()
            {
                bid = Some(l.price);
                bid_qty = bid_qty.or(Some(l.quantity));
            }
            if ask.is_none()
                && let Some(l) = depth.sell.first()
            {
                ask = Some(l.price);
                ask_qty = ask_qty.or(Some(l.quantity));
            }
            (!depth.buy.is_empty() || !depth.sell.is_empty()).then(|| Box::new(depth))
        }
    };
    if let (Some(b), Some(a)) = (bid, ask)
        && b > a
    {
        return Ok(Book::default());
    }
    // A size without its price means nothing.
    if bid.is_none() {
        bid_qty = None;
    }
    if ask.is_none() {
        ask_qty = None;
    }
    Ok(Book {
        bid,
        ask,
        bid_qty,
        ask_qty,
        depth,
    })
}

fn classify_json_error(payload: &[u8], e: &serde_json::Error) -> Reject {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            if payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                Reject::BadValue(e.to_string())
            } else {
                Reject::NotObject
            }
        }
        Category::Syntax | Category::Eof | Category::Io => {
            // Python's json.dumps writes NaN/Infinity literals, which are not JSON.
            let text = String::from_utf8_lossy(payload);
            if text.contains("NaN") || text.contains("Infinity") {
                Reject::NonFinite
            } else {
                Reject::NotJson(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The same decode with the full parser only (the reference for the fast path).
    fn decode_serde(payload: &[u8]) -> Result<Tick, Reject> {
        let raw: Raw<'_> =
            serde_json::from_slice(payload).map_err(|e| classify_json_error(payload, &e))?;
        Decoder::classify(&raw, 1_762_246_981_000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Wherever the flat scanner takes a payload, the result equals serde_json's.
        #[test]
        fn fast_path_equals_full_parser(pos in 0usize..OPT.len(), len in 0usize..8, insert in "[-0-9a-zA-Z\":,.{} eE+]{0,10}") {
            let mut p = OPT.as_bytes().to_vec();
            let end = (pos + len).min(p.len());
            p.splice(pos..end, insert.bytes());
            if scan_raw(&p).is_some() {
                let fast = Decoder.decode(&p, 1_762_246_981_000);
                let full = decode_serde(&p);
                match (&fast, &full) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(a), Err(b)) => prop_assert_eq!(a.code(), b.code()),
                    _ => prop_assert!(false, "fast {:?} vs full {:?} for {}", fast, full, String::from_utf8_lossy(&p)),
                }
            }
        }
    }

    const OPT: &str = r#"{"symbol": "NIFTY", "token": 12345678, "tradingsymbol": "NIFTY25N1124500CE", "segment": "NFO-OPT", "exchange": "NFO", "strike": 24500.0, "expiry": "2025-11-11", "type": "CE", "lot_size": 75, "tick_size": 0.05, "price": 152.35, "volume": 0, "oi": 1234500, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": 1762246980, "is_mock": false}"#;

    fn dec(s: &str) -> Result<Tick, Reject> {
        Decoder.decode(s.as_bytes(), 1_762_246_981_000)
    }

    #[test]
    fn legacy_option_future_index_and_underlying() {
        let t = dec(OPT).unwrap();
        assert_eq!(
            (t.kind, t.tradingsymbol.as_str(), t.underlying.as_str()),
            (TickKind::Option, "NIFTY25N1124500CE", "NIFTY")
        );
        assert_eq!(
            (t.price, t.volume, t.oi, t.token),
            (152.35, Some(0), Some(1_234_500), Some(12_345_678))
        );
        assert_eq!(t.strike, Some(24500.0));
        assert_eq!(t.expiry, NaiveDate::from_ymd_opt(2025, 11, 11));
        assert_eq!(t.exchange_ts_ms, 1_762_246_980_000);
        assert!(t.greeks.is_none() && !t.is_mock);

        let fut = dec(r#"{"symbol": "NIFTY", "token": 1, "tradingsymbol": "NIFTY25NOVFUT", "segment": "NFO-FUT", "exchange": "NFO", "strike": 0.0, "expiry": "25-Nov-2025", "type": "FUT", "lot_size": 75, "tick_size": 0.1, "price": 24650.5, "volume": 1200, "oi": 5000, "ts": 1762246980, "is_mock": true}"#).unwrap();
        assert_eq!(
            (fut.kind, fut.volume, fut.is_mock),
            (TickKind::Future, Some(1200), true)
        );

        let idx = dec(r#"{"symbol": "NIFTY 50", "token": 256265, "tradingsymbol": "NIFTY 50", "segment": "INDICES", "exchange": "NSE", "strike": 0.0, "expiry": null, "type": "EQ", "price": 24512.3, "volume": 0, "oi": 0, "ts": 1762246980, "is_mock": false}"#).unwrap();
        assert_eq!(
            (
                idx.kind,
                idx.tradingsymbol.as_str(),
                idx.underlying.as_str()
            ),
            (TickKind::Index, "NIFTY 50", "NIFTY")
        );
        let idx2 = dec(r#"{"symbol": "NIFTY 50", "token": 256265, "segment": "INDICES", "type": "EQ", "price": 24512.3, "ts": 1762246980}"#).unwrap();
        assert_eq!(idx2.tradingsymbol, "NIFTY 50");

        let und = dec(r#"{"symbol": "NIFTY", "open": 25510.2, "high": 25601.0, "low": 25455.4, "close": 25560.35, "volume": 0, "ts": 1762246981}"#).unwrap();
        assert_eq!(
            (und.kind, und.tradingsymbol.as_str(), und.price),
            (TickKind::Index, "NIFTY 50", 25560.35)
        );
        assert_eq!(
            (und.day_open, und.day_high, und.day_low),
            (Some(25510.2), Some(25601.0), Some(25455.4))
        );
        let bank = dec(r#"{"symbol": "BANKNIFTY", "open": 1, "high": 2, "low": 1, "close": 52000, "volume": 0, "ts": 1762246981}"#).unwrap();
        assert_eq!(bank.underlying, "BANKNIFTY");

        let native = dec(r#"{"tradingsymbol": "NIFTY25NOVFUT", "type": "FUT", "price": 24650.5, "exchange_ts_ms": 1762246980123, "bid": 24650.0, "ask": 24651.0, "depth": {"buy": []}}"#).unwrap();
        assert_eq!(
            (native.exchange_ts_ms, native.bid, native.ask),
            (1_762_246_980_123, Some(24650.0), Some(24651.0))
        );
        let with_greeks = dec(&OPT.replace(r#""iv": 0.0"#, r#""iv": 0.14"#)).unwrap();
        assert_eq!(with_greeks.greeks.and_then(|g| g.iv), Some(0.14));
    }

    #[test]
    fn the_book_when_the_feed_sends_one_and_unknown_when_not() {
        // The legacy payload has no book: every part of it is unknown.
        let t = dec(OPT).unwrap();
        assert!(!t.has_book());
        assert_eq!((t.bid_qty, t.ask_qty, t.last_quantity), (None, None, None));
        // The flat native superset: touch, sizes, last trade size (also Kite's spellings).
        let flat = OPT.replace(
            r#""price": 152.35"#,
            r#""price": 152.35, "bid": 152.3, "ask": 152.4, "bid_qty": 650, "ask_qty": 1300, "last_quantity": 65"#,
        );
        let t = dec(&flat).unwrap();
        assert_eq!(
            (t.bid, t.ask, t.bid_qty, t.ask_qty, t.last_quantity),
            (Some(152.3), Some(152.4), Some(650), Some(1300), Some(65))
        );
        assert!(t.depth.is_none());
        let kite = flat
            .replace("bid_qty", "bid_quantity")
            .replace("\"last_quantity", "\"last_traded_quantity");
        assert_eq!(dec(&kite).unwrap(), t);
        // Kite's depth: zero levels are padding; the touch comes from the first level.
        let depth = OPT.replace(
            r#""price": 152.35"#,
            r#""price": 152.35, "depth": {"buy": [{"price": 152.3, "quantity": 650, "orders": 3}, {"price": 152.25, "quantity": 130, "orders": 1}, {"price": 0, "quantity": 0, "orders": 0}], "sell": [{"price": 152.4, "quantity": 65, "orders": 1}]}"#,
        );
        let t = dec(&depth).unwrap();
        assert_eq!(
            (t.bid, t.ask, t.bid_qty, t.ask_qty),
            (Some(152.3), Some(152.4), Some(650), Some(65))
        );
        let d = t.depth.unwrap();
        assert_eq!((d.buy.len(), d.sell.len()), (2, 1));
        assert_eq!(
            d.buy[1],
            Level {
                price: 152.25,
                quantity: 130,
                orders: 1
            }
        );
        // A crossed touch is no book (dropped, the tick kept); a size alone means nothing.
        let crossed = OPT.replace(
            r#""price": 152.35"#,
            r#""price": 152.35, "bid": 153.0, "ask": 152.0, "bid_qty": 65"#,
        );
        let t = dec(&crossed).unwrap();
        assert!(!t.has_book() && t.bid_qty.is_none());
        let size_only = OPT.replace(r#""price": 152.35"#, r#""price": 152.35, "ask_qty": 65"#);
        assert_eq!(dec(&size_only).unwrap().ask_qty, None);
        // An index never has a book, even if a feed sends one.
        let und =
            dec(r#"{"symbol": "NIFTY", "close": 25560.35, "bid": 1.0, "ts": 1762246981}"#).unwrap();
        assert!(!und.has_book());
        // Bad parts of a book refuse the tick with a reason.
        for (payload, code) in [
            (
                OPT.replace(r#""price": 152.35"#, r#""price": 152.35, "bid": -1"#),
                "bad_price",
            ),
            (
                OPT.replace(r#""price": 152.35"#, r#""price": 152.35, "bid_qty": -65"#),
                "bad_value",
            ),
            (
                OPT.replace(
                    r#""price": 152.35"#,
                    r#""price": 152.35, "depth": {"buy": [{"price": -2, "quantity": 1}]}"#,
                ),
                "bad_price",
            ),
            (
                OPT.replace(
                    r#""price": 152.35"#,
                    r#""price": 152.35, "depth": {"buy": [{"price": 2, "quantity": 1.5e30}]}"#,
                ),
                "bad_value",
            ),
            (
                OPT.replace(
                    r#""price": 152.35"#,
                    r#""price": 152.35, "depth": {"buy": "x"}"#,
                ),
                "bad_value",
            ),
        ] {
            assert_eq!(dec(&payload).unwrap_err().code(), code, "{payload}");
        }
    }

    #[test]
    fn every_malformed_payload_has_a_reason() {
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "not_json"),
            ("[1, 2]".into(), "not_object"),
            ("{".into(), "not_json"),
            (OPT.replace(r#""price": 152.35, "#, ""), "missing_field"),
            (OPT.replace("152.35", r#""abc""#), "bad_value"),
            (OPT.replace("152.35", "NaN"), "non_finite"),
            (OPT.replace("152.35", "-1.5"), "bad_price"),
            (OPT.replace("1762246980", "99"), "timestamp_out_of_range"),
            (
                OPT.replace(r#""type": "CE""#, r#""type": "XX""#),
                "unknown_type",
            ),
            (
                OPT.replace("NIFTY25N1124500CE", "NIFTY25XYZFUT"),
                "bad_symbol",
            ),
            (
                OPT.replace(r#""type": "CE""#, r#""type": "PE""#),
                "type_mismatch",
            ),
            (OPT.replace("2025-11-11", "11/11/2025"), "bad_expiry"),
            (OPT.replace(r#""oi": 1234500"#, r#""oi": -5"#), "bad_value"),
            (OPT.replace(r#", "ts": 1762246980"#, ""), "missing_field"),
            (
                format!(r#"{{"pad": "{}"}}"#, "x".repeat(MAX_PAYLOAD_BYTES)),
                "oversize",
            ),
        ];
        for (payload, code) in cases {
            let e = dec(&payload).unwrap_err();
            assert_eq!(e.code(), code, "{payload:.80}: {e}");
            assert!(Reject::CODES.contains(&e.code()));
        }
    }
}
