//! Indicator ids: `NAME` or `NAME_p1_p2_…`, case-insensitive, aliases, defaults for missing
//! trailing parameters, one canonical form (`RSI_14_100`).

use std::fmt;

use crate::error::IndicatorError;
use crate::registry::{ALIASES, IndicatorDef, Memory, ParamDef, ParamKind, REGISTRY, find};

/// A parsed, validated indicator id: the registry entry plus a full parameter list.
#[derive(Debug, Clone)]
pub struct IndicatorId {
    def: &'static IndicatorDef,
    params: Vec<f64>,
}

impl PartialEq for IndicatorId {
    fn eq(&self, other: &Self) -> bool {
        self.def.name == other.def.name && self.params == other.params
    }
}

const MAX_ID_LEN: usize = 64;

/// Most warm-up bars a recursive indicator asks for (see [`IndicatorId::warmup`]).
pub const MAX_RECURSIVE_WARMUP: usize = 2000;
/// Bars a cumulative indicator (OBV, AD) accumulates over before a reported value.
pub const CUMULATIVE_WINDOW: usize = 500;

impl IndicatorId {
    /// Parse `RSI_14`, `rsi`, `BBANDS_20_2.0`, `bb_20`, …
    pub fn parse(id: &str) -> Result<Self, IndicatorError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(IndicatorError::Empty);
        }
        if id.len() > MAX_ID_LEN {
            return Err(IndicatorError::TooLong(id.len()));
        }
        let mut parts = id.split('_');
        let name = parts.next().unwrap_or_default();
        let def = lookup(name)?;
        let values: Vec<&str> = parts.collect();
        if values.len() > def.params.len() {
            return Err(too_many(def, values.len()));
        }
        let mut params = def.defaults();
        for (i, raw) in values.iter().enumerate() {
            params[i] = parse_value(&def.params[i], raw)?;
        }
        Ok(IndicatorId { def, params })
    }

    /// Build from a name and named parameters (`{"length": 14}`); others take their defaults.
    pub fn with_named<'k>(
        name: &str,
        named: impl IntoIterator<Item = (&'k str, f64)>,
    ) -> Result<Self, IndicatorError> {
        let def = lookup(name.trim())?;
        let mut params = def.defaults();
        for (key, value) in named {
            let Some((i, p)) = def.param(key) else {
                return Err(IndicatorError::UnknownParam {
                    indicator: def.name,
                    param: key.chars().take(40).collect(),
                    names: param_names(def),
                });
            };
            params[i] = check_value(p, value, &value.to_string())?;
        }
        Ok(IndicatorId { def, params })
    }

    /// Build from a name and positional parameter values (missing trailing ones take defaults).
    pub fn with_values(name: &str, values: &[f64]) -> Result<Self, IndicatorError> {
        let def = lookup(name.trim())?;
        if values.len() > def.params.len() {
            return Err(too_many(def, values.len()));
        }
        let mut params = def.defaults();
        for (i, v) in values.iter().enumerate() {
            params[i] = check_value(&def.params[i], *v, &v.to_string())?;
        }
        Ok(IndicatorId { def, params })
    }

    pub fn def(&self) -> &'static IndicatorDef {
        self.def
    }
    pub fn name(&self) -> &'static str {
        self.def.name
    }
    /// All parameter values, in registry order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }
    /// The canonical id, e.g. `RSI_14_100`, `BBANDS_20_2`, `OBV`.
    pub fn canonical(&self) -> String {
        self.to_string()
    }
    /// Bars before the first defined value.
    pub fn lookback(&self) -> usize {
        (self.def.lookback)(&self.params)
    }

    /// Bars to compute over before a wanted value so that it is exact — what a server fetches
    /// in addition to the bars it reports on. Window indicators need their lookback; recursive
    /// filters (EMA, Wilder, …) run 25 periods more so the seed's weight falls far below 1e-9
    /// (KAMA's slowest constant decays slower: it gets the maximum); session-anchored ones
    /// (VWAP, CPR) reach back two sessions; cumulative ones (OBV, AD) accumulate over a fixed
    /// window of [`CUMULATIVE_WINDOW`] bars before the value.
    pub fn warmup(&self, bars_per_session: usize) -> usize {
        let lookback = self.lookback();
        match self.def.memory {
            Memory::Window => lookback,
            Memory::Recursive if self.def.name == "KAMA" => lookback + MAX_RECURSIVE_WARMUP,
            Memory::Recursive => {
                let period = self
                    .def
                    .params
                    .iter()
                    .zip(&self.params)
                    .filter(|(p, _)| p.kind == ParamKind::Int)
                    .map(|(_, v)| *v as usize)
                    .max()
                    .unwrap_or(20);
                lookback + period.saturating_mul(25).clamp(100, MAX_RECURSIVE_WARMUP)
            }
            Memory::Cumulative => lookback + CUMULATIVE_WINDOW,
            Memory::Session => lookback + 2 * bars_per_session.max(1),
        }
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.def.name)?;
        for (p, v) in self.def.params.iter().zip(&self.params) {
            match p.kind {
                ParamKind::Int => write!(f, "_{}", *v as i64)?,
                ParamKind::Float => write!(f, "_{v}")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for IndicatorId {
    type Err = IndicatorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndicatorId::parse(s)
    }
}

fn lookup(name: &str) -> Result<&'static IndicatorDef, IndicatorError> {
    find(name).ok_or_else(|| IndicatorError::Unknown {
        name: name.chars().take(40).collect(),
        suggestion: suggest(name),
    })
}

fn param_names(def: &IndicatorDef) -> String {
    def.params
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn too_many(def: &'static IndicatorDef, got: usize) -> IndicatorError {
    if def.params.is_empty() {
        IndicatorError::NoParams {
            indicator: def.name,
            got,
        }
    } else {
        IndicatorError::TooManyParams {
            indicator: def.name,
            max: def.params.len(),
            names: param_names(def),
            got,
        }
    }
}

fn expected(p: &ParamDef) -> String {
    let fmt = |v: f64| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            v.to_string()
        }
    };
    match p.kind {
        ParamKind::Int => format!("an integer in {}..={}", fmt(p.min), fmt(p.max)),
        ParamKind::Float => format!("a number in {}..={}", fmt(p.min), fmt(p.max)),
    }
}

fn parse_value(p: &'static ParamDef, raw: &str) -> Result<f64, IndicatorError> {
    let v: f64 = raw.trim().parse().map_err(|_| IndicatorError::BadParam {
        param: p.name,
        expected: expected(p),
        got: raw.chars().take(20).collect(),
    })?;
    check_value(p, v, raw)
}

fn check_value(p: &'static ParamDef, v: f64, raw: &str) -> Result<f64, IndicatorError> {
    let bad = || IndicatorError::BadParam {
        param: p.name,
        expected: expected(p),
        got: raw.chars().take(20).collect(),
    };
    if !v.is_finite() || v < p.min || v > p.max {
        return Err(bad());
    }
    if p.kind == ParamKind::Int && v.fract() != 0.0 {
        return Err(bad());
    }
    Ok(v)
}

/// The nearest registry name or alias to `name` (edit distance ≤ 2), if any.
fn suggest(name: &str) -> Option<&'static str> {
    let up = name.to_ascii_uppercase();
    let candidates = REGISTRY
        .iter()
        .map(|d| (d.name, d.name))
        .chain(ALIASES.iter().map(|(a, n)| (*a, *n)));
    candidates
        .map(|(spelling, target)| (levenshtein(&up, spelling), target))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, t)| t)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().take(64).enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        IndicatorId::parse(s).unwrap().canonical()
    }

    #[test]
    fn equivalent_spellings_share_one_canonical_form() {
        assert_eq!(canon("RSI_14"), "RSI_14_100");
        assert_eq!(canon("RSI_14_100"), "RSI_14_100");
        assert_eq!(canon("rsi"), "RSI_14_100");
        assert_eq!(canon("rsi_14_100"), "RSI_14_100");
        assert_eq!(canon("BBANDS_20_2"), "BBANDS_20_2");
        assert_eq!(canon("BBANDS_20_2.0"), "BBANDS_20_2");
        assert_eq!(canon("bb"), "BBANDS_20_2");
        assert_eq!(canon("STOCHASTIC"), "STOCH_14_3_3");
        assert_eq!(canon("SAR"), "PSAR_0.02_0.2");
        assert_eq!(canon("ZLMA_10"), "ZLEMA_10");
        assert_eq!(canon("WilliamsR"), "WILLR_14");
        assert_eq!(canon("MACD_12_26_9"), "MACD_12_26_9");
        assert_eq!(canon("OBV"), "OBV");
        assert_eq!(canon("RSI_14.0"), "RSI_14_100");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |s: &str| IndicatorId::parse(s).unwrap_err().to_string();
        assert_eq!(e("RSX"), r#"unknown indicator "RSX" (did you mean RSI?)"#);
        assert_eq!(
            e("RSI_14_100_3"),
            "RSI takes at most 2 parameters (length, scalar), got 3"
        );
        assert_eq!(
            e("RSI_x"),
            r#"length must be an integer in 1..=100000, got "x""#
        );
        assert_eq!(
            e("RSI_14.5"),
            r#"length must be an integer in 1..=100000, got "14.5""#
        );
        assert_eq!(
            e("RSI_0"),
            r#"length must be an integer in 1..=100000, got "0""#
        );
        assert_eq!(
            e("SMA_1e9"),
            r#"length must be an integer in 1..=100000, got "1e9""#
        );
        assert_eq!(e("OBV_3"), "OBV takes no parameters, got 1");
        assert_eq!(
            e("RSI_nan"),
            r#"length must be an integer in 1..=100000, got "nan""#
        );
        assert_eq!(e(""), "empty indicator id");
        assert!(e("FOOBARBAZ").ends_with(r#""FOOBARBAZ""#));
        let named = IndicatorId::with_named("rsi", [("len", 3.0)])
            .unwrap_err()
            .to_string();
        assert_eq!(
            named,
            r#"RSI has no parameter "len" (parameters: length, scalar)"#
        );
    }

    #[test]
    fn named_and_positional_construction() {
        let a = IndicatorId::with_named("MACD", [("signal", 5.0)]).unwrap();
        assert_eq!(a.canonical(), "MACD_12_26_5");
        let b = IndicatorId::with_values("bbands", &[10.0]).unwrap();
        assert_eq!(b.canonical(), "BBANDS_10_2");
        assert_eq!(IndicatorId::parse("MACD").unwrap().lookback(), 33);
        assert_eq!(IndicatorId::parse("RSI").unwrap().lookback(), 14);
    }

    #[test]
    fn warmup_makes_a_value_over_a_short_window_equal_the_full_history() {
        use crate::frame::{Frame, compute};
        // A long random walk; every non-cumulative indicator's last value computed over only
        // its warm-up window must equal the value over the whole history.
        let n = 6000;
        let mut x = 1000.0f64;
        let mut seed = 7u64;
        let (mut o, mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            let open = x;
            x *= 1.0 + r * 0.01;
            o.push(open);
            h.push(open.max(x) * 1.001);
            l.push(open.min(x) * 0.999);
            c.push(x);
            v.push(1000.0 + (seed % 500) as f64);
        }
        for def in crate::REGISTRY {
            if matches!(def.memory, Memory::Cumulative | Memory::Session) || def.name == "KAMA" {
                continue;
            }
            let id = IndicatorId::parse(def.name).unwrap();
            let w = id.warmup(75) + 1;
            let frame = |a: usize| Frame {
                open: Some(&o[a..]),
                high: Some(&h[a..]),
                low: Some(&l[a..]),
                close: Some(&c[a..]),
                volume: Some(&v[a..]),
                time: None,
            };
            let full = compute(&id, &frame(0)).unwrap();
            let short = compute(&id, &frame(n - w)).unwrap();
            for (k, (f, s)) in full.series.iter().zip(&short.series).enumerate() {
                let (f, s) = (f[n - 1], s[w - 1]);
                let close = (f - s).abs() <= 1e-9 * f.abs().max(1.0);
                assert!(
                    close,
                    "{} output {k}: full {f} vs warm-up window {s}",
                    def.name
                );
            }
        }
        assert_eq!(IndicatorId::parse("SMA_20").unwrap().warmup(75), 19);
        assert_eq!(IndicatorId::parse("RSI_14").unwrap().warmup(75), 14 + 350);
        assert_eq!(IndicatorId::parse("VWAP").unwrap().warmup(75), 150);
    }
}
