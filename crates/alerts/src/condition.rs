//! The condition grammar.
//!
//! ```text
//! condition := operand op operand
//! op        := ">" | ">=" | "<" | "<=" | "crosses_above" | "crosses_below" | "crosses"
//! operand   := number | field | indicator
//! number    := ["+" | "-"] digits ["." digits] [("e" | "E") ["+" | "-"] digits]
//! field     := a quote field (price alerts) or a bar field (indicator alerts), see [`Field`]
//! indicator := NAME ["_" param]* ["." output]     (indicator alerts: RSI_14, MACD_12_26_9.histogram)
//! ```
//!
//! Words are case-insensitive; at least one side is not a number. A price alert compares the
//! quote's fields (`ltp > 26000`, `change_pct >= 1.5`, `bid crosses_above ask`); an indicator
//! alert compares indicator values and the closed bar's fields (`RSI_14 > 70`,
//! `close crosses_above EMA_20`, `MACD_12_26_9.histogram crosses_above 0`). Every error names the
//! offending token and its column.

use std::fmt;

use stocksblitz_indicators::IndicatorId;

/// Longest condition accepted (characters).
pub const MAX_CONDITION_LEN: usize = 200;

/// What a condition is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Every quote of the instrument (per tick).
    Price,
    /// Every bar close of the instrument at a timeframe.
    Indicator,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Price => "price",
            Kind::Indicator => "indicator",
        }
    }

    /// The fields an operand of this kind may name.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Price => &[
                Field::Ltp,
                Field::Bid,
                Field::Ask,
                Field::Open,
                Field::High,
                Field::Low,
                Field::PrevClose,
                Field::Change,
                Field::ChangePct,
                Field::Volume,
                Field::Oi,
                Field::OiChange,
            ],
            Kind::Indicator => &[
                Field::Open,
                Field::High,
                Field::Low,
                Field::Close,
                Field::Volume,
            ],
        }
    }
}

/// A named value of a quote or a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Last traded price (also `last_price`, `price`).
    Ltp,
    Bid,
    Ask,
    Open,
    High,
    Low,
    /// The closed bar's close (indicator alerts).
    Close,
    /// The previous session's close (price alerts).
    PrevClose,
    /// `ltp - prev_close`.
    Change,
    /// `(ltp - prev_close) / prev_close × 100`.
    ChangePct,
    Volume,
    Oi,
    /// Open interest now minus at the day's open.
    OiChange,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Ltp => "ltp",
            Field::Bid => "bid",
            Field::Ask => "ask",
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::PrevClose => "prev_close",
            Field::Change => "change",
            Field::ChangePct => "change_pct",
            Field::Volume => "volume",
            Field::Oi => "oi",
            Field::OiChange => "oi_change",
        }
    }

    fn from_word(w: &str) -> Option<Field> {
        Some(match w {
            "ltp" | "last_price" | "price" => Field::Ltp,
            "bid" => Field::Bid,
            "ask" => Field::Ask,
            "open" => Field::Open,
            "high" => Field::High,
            "low" => Field::Low,
            "close" => Field::Close,
            "prev_close" => Field::PrevClose,
            "change" => Field::Change,
            "change_pct" | "pct_change" | "change_percent" => Field::ChangePct,
            "volume" => Field::Volume,
            "oi" => Field::Oi,
            "oi_change" => Field::OiChange,
            _ => return None,
        })
    }
}

/// An indicator output.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRef {
    pub id: IndicatorId,
    /// Index into the indicator's outputs.
    pub output: usize,
}

impl IndicatorRef {
    /// `RSI_14`, `MACD_12_26_9.histogram` (the output named only for multi-output indicators).
    pub fn canonical(&self) -> String {
        let def = self.id.def();
        if def.is_multi_output() {
            format!("{}.{}", self.id, def.outputs[self.output])
        } else {
            self.id.to_string()
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Field(Field),
    Indicator(IndicatorRef),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Plain digits for the numbers people write, exponent notation for extreme ones
            // (plain digits of 1e300 would be 300 characters); both read back exactly.
            Operand::Number(v) if *v == 0.0 || (1e-6..1e15).contains(&v.abs()) => write!(f, "{v}"),
            Operand::Number(v) => write!(f, "{v:?}"),
            Operand::Field(x) => f.write_str(x.as_str()),
            Operand::Indicator(r) => f.write_str(&r.canonical()),
        }
    }
}

/// How the two sides are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    /// The left side was at or below the right and is now above it.
    CrossesAbove,
    /// The left side was at or above the right and is now below it.
    CrossesBelow,
    /// Either crossing.
    Crosses,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::CrossesAbove => "crosses_above",
            Op::CrossesBelow => "crosses_below",
            Op::Crosses => "crosses",
        }
    }

    /// A crossing needs the previous value of both sides; a comparison only the current one.
    pub fn is_crossing(self) -> bool {
        matches!(self, Op::CrossesAbove | Op::CrossesBelow | Op::Crosses)
    }

    const WORDS: &'static str = ">, >=, <, <=, crosses_above, crosses_below, crosses";
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: Kind,
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.left, self.op.as_str(), self.right)
    }
}

impl Condition {
    /// The operands that are indicator outputs (what an evaluator must compute).
    pub fn indicators(&self) -> impl Iterator<Item = &IndicatorRef> {
        [&self.left, &self.right]
            .into_iter()
            .filter_map(|o| match o {
                Operand::Indicator(r) => Some(r),
                _ => None,
            })
    }

    /// The fields the condition reads.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        [&self.left, &self.right]
            .into_iter()
            .filter_map(|o| match o {
                Operand::Field(x) => Some(*x),
                _ => None,
            })
    }

    /// Whether the condition needs the previous session's close (`change`, `change_pct`,
    /// `prev_close`).
    pub fn needs_prev_close(&self) -> bool {
        self.fields()
            .any(|f| matches!(f, Field::PrevClose | Field::Change | Field::ChangePct))
    }
}

/// A condition that does not parse: what is wrong, at which token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}{}", if token.is_empty() { String::new() } else { format!(" ({token:?})") })]
pub struct ConditionError {
    pub message: String,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// The offending token ("" at the end of the text).
    pub token: String,
}

impl ConditionError {
    /// The condition with a caret under the offending token, for people.
    pub fn pointer(&self, text: &str) -> String {
        let width = self.token.chars().count().max(1);
        format!(
            "{text}\n{}{}",
            " ".repeat(self.column.saturating_sub(1)),
            "^".repeat(width)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Number(f64),
    Word(&'a str),
    Symbol(&'a str),
}

#[derive(Debug, Clone)]
struct Token<'a> {
    tok: Tok<'a>,
    text: &'a str,
    /// 1-based character column.
    column: usize,
}

fn err(message: impl Into<String>, column: usize, token: &str) -> ConditionError {
    ConditionError {
        message: message.into(),
        column,
        token: token.chars().take(40).collect(),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn lex(text: &str) -> Result<Vec<Token<'_>>, ConditionError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let signed_number = (c == '-' || c == '+')
            && chars
                .get(i + 1)
                .is_some_and(|&(_, n)| n.is_ascii_digit() || n == '.');
        if c.is_ascii_digit()
            || signed_number
            || (c == '.' && chars.get(i + 1).is_some_and(|&(_, n)| n.is_ascii_digit()))
        {
            let mut j = i + 1;
            while j < chars.len() {
                let ch = chars[j].1;
                let exp_sign = (ch == '-' || ch == '+') && matches!(chars[j - 1].1, 'e' | 'E');
                if ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || exp_sign {
                    j += 1;
                } else {
                    break;
                }
            }
            let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
            let raw = &text[start..end];
            let value: f64 = raw.parse().map_err(|_| err("not a number", column, raw))?;
            if !value.is_finite() {
                return Err(err("not a finite number", column, raw));
            }
            out.push(Token {
                tok: Tok::Number(value),
                text: raw,
                column,
            });
            i = j;
        } else if is_word_char(c) {
            let mut j = i + 1;
            while j < chars.len() && is_word_char(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
            let raw = &text[start..end];
            out.push(Token {
                tok: Tok::Word(raw),
                text: raw,
                column,
            });
            i = j;
        } else if matches!(c, '>' | '<' | '=' | '!') {
            let two = chars.get(i + 1).is_some_and(|&(_, n)| n == '=');
            let end = if two { chars[i + 1].0 + 1 } else { start + 1 };
            let raw = &text[start..end];
            out.push(Token {
                tok: Tok::Symbol(raw),
                text: raw,
                column,
            });
            i += if two { 2 } else { 1 };
        } else {
            let end = start + c.len_utf8();
            return Err(err("unexpected character", column, &text[start..end]));
        }
    }
    Ok(out)
}

fn op_of(t: &Token<'_>) -> Result<Op, ConditionError> {
    let word = match &t.tok {
        Tok::Symbol(s) => *s,
        Tok::Word(w) => w,
        Tok::Number(_) => {
            return Err(err(
                format!("expected an operator ({})", Op::WORDS),
                t.column,
                t.text,
            ));
        }
    };
    Ok(match word.to_ascii_lowercase().as_str() {
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        "crosses_above" | "cross_above" | "crosses_up" => Op::CrossesAbove,
        "crosses_below" | "cross_below" | "crosses_down" => Op::CrossesBelow,
        "crosses" | "cross" => Op::Crosses,
        "=" | "==" | "!=" => {
            return Err(err(
                format!(
                    "equality is not an alert condition (prices rarely equal a level exactly); use crosses, or one of {}",
                    Op::WORDS
                ),
                t.column,
                t.text,
            ));
        }
        _ => {
            return Err(err(
                format!("unknown operator; expected one of {}", Op::WORDS),
                t.column,
                t.text,
            ));
        }
    })
}

fn field_names(kind: Kind) -> String {
    kind.fields()
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn operand_of(t: &Token<'_>, kind: Kind) -> Result<Operand, ConditionError> {
    let word = match &t.tok {
        Tok::Number(v) => return Ok(Operand::Number(*v)),
        Tok::Symbol(_) => {
            return Err(err(
                "expected a value (a number, a field or an indicator)",
                t.column,
                t.text,
            ));
        }
        Tok::Word(w) => *w,
    };
    let lower = word.to_ascii_lowercase();
    if let Some(f) = Field::from_word(&lower) {
        if kind.fields().contains(&f) {
            return Ok(Operand::Field(f));
        }
        let hint = match (kind, f) {
            (Kind::Indicator, Field::Ltp | Field::Bid | Field::Ask) => {
                " (indicator alerts are evaluated on bar closes: use close, or a price alert)"
            }
            (Kind::Price, Field::Close) => " (use ltp, or prev_close for the previous session)",
            _ => "",
        };
        return Err(err(
            format!(
                "{lower} is not a field of a {} alert{hint}; fields: {}",
                kind.as_str(),
                field_names(kind)
            ),
            t.column,
            t.text,
        ));
    }
    if kind == Kind::Price {
        return Err(err(
            format!(
                "unknown field; a price alert reads the quote: {} (indicators need an indicator alert)",
                field_names(kind)
            ),
            t.column,
            t.text,
        ));
    }
    // The output follows the last '.', when it is a name: a parameter may be a decimal
    // (`T3_5_0.7`, `BBANDS_20_2.5.upper`).
    let (base, output) = match word.rsplit_once('.') {
        Some((b, o)) if o.starts_with(|c: char| c.is_ascii_alphabetic()) => (b, Some(o)),
        _ => (word, None),
    };
    let id = IndicatorId::parse(base).map_err(|e| {
        err(
            format!("{e}; fields: {}", field_names(kind)),
            t.column,
            t.text,
        )
    })?;
    let outputs = id.def().outputs;
    let output = match output {
        None if outputs.len() > 1 => {
            return Err(err(
                format!(
                    "{} has several outputs; name one: {}",
                    id.name(),
                    outputs
                        .iter()
                        .map(|o| format!("{base}.{o}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                t.column,
                t.text,
            ));
        }
        None => 0,
        Some(o) => outputs
            .iter()
            .position(|x| x.eq_ignore_ascii_case(o))
            .ok_or_else(|| {
                err(
                    format!(
                        "{} has no output {o:?}; outputs: {}",
                        id.name(),
                        outputs.join(", ")
                    ),
                    t.column,
                    t.text,
                )
            })?,
    };
    Ok(Operand::Indicator(IndicatorRef { id, output }))
}

/// Parse a condition for alerts of `kind`.
pub fn parse(text: &str, kind: Kind) -> Result<Condition, ConditionError> {
    let n = text.chars().count();
    if n > MAX_CONDITION_LEN {
        return Err(err(
            format!("a condition has at most {MAX_CONDITION_LEN} characters, this one {n}"),
            MAX_CONDITION_LEN + 1,
            "",
        ));
    }
    let toks = lex(text)?;
    let end = n + 1;
    let Some(first) = toks.first() else {
        return Err(err(
            "empty condition; write it as `<value> <operator> <value>`, e.g. ltp > 26000",
            1,
            "",
        ));
    };
    let left = operand_of(first, kind)?;
    let Some(op_tok) = toks.get(1) else {
        return Err(err(
            format!("expected an operator ({}) after {}", Op::WORDS, first.text),
            end,
            "",
        ));
    };
    let op = op_of(op_tok)?;
    let Some(right_tok) = toks.get(2) else {
        return Err(err(
            format!("expected a value after {}", op_tok.text),
            end,
            "",
        ));
    };
    let right = operand_of(right_tok, kind)?;
    if let Some(extra) = toks.get(3) {
        return Err(err(
            "unexpected token after the condition (one comparison per alert)",
            extra.column,
            extra.text,
        ));
    }
    if matches!(left, Operand::Number(_)) && matches!(right, Operand::Number(_)) {
        return Err(err(
            "both sides are numbers: the condition never changes",
            first.column,
            first.text,
        ));
    }
    Ok(Condition {
        kind,
        left,
        op,
        right,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, kind: Kind) -> Condition {
        match parse(text, kind) {
            Ok(c) => c,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn bad(text: &str, kind: Kind) -> ConditionError {
        match parse(text, kind) {
            Ok(c) => panic!("{text:?} parsed as {c}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_issue_examples_parse() {
        let c = ok("ltp > 26000", Kind::Price);
        assert_eq!(
            (c.left, c.op, c.right),
            (Operand::Field(Field::Ltp), Op::Gt, Operand::Number(26000.0))
        );
        let c = ok("ltp crosses_below 25500", Kind::Price);
        assert_eq!(c.op, Op::CrossesBelow);
        let c = ok("change_pct >= 1.5", Kind::Price);
        assert_eq!(c.left, Operand::Field(Field::ChangePct));
        assert!(c.needs_prev_close());
        let c = ok("RSI_14 > 70", Kind::Indicator);
        assert_eq!(c.to_string(), "RSI_14_100 > 70", "canonical ids");
        let c = ok("MACD_12_26_9.histogram crosses_above 0", Kind::Indicator);
        assert_eq!(c.to_string(), "MACD_12_26_9.histogram crosses_above 0");
        let r = c.indicators().next().cloned();
        assert_eq!(r.map(|r| r.output), Some(2));
    }

    #[test]
    fn decimal_parameters_are_not_outputs() {
        // Found by the fuzzer: T3's canonical id has a decimal parameter.
        let c = ok("T3<T3", Kind::Indicator);
        assert_eq!(c.to_string(), "T3_5_0.7 < T3_5_0.7");
        assert_eq!(parse(&c.to_string(), Kind::Indicator).ok(), Some(c));
        let c = ok("BBANDS_20_2.5.upper > close", Kind::Indicator);
        assert_eq!(c.to_string(), "BBANDS_20_2.5.upper > close");
    }

    #[test]
    fn words_are_case_insensitive_and_spacing_free() {
        let c = ok("LTP>=-1.5e2", Kind::Price);
        assert_eq!(
            (c.left, c.op, c.right),
            (Operand::Field(Field::Ltp), Op::Ge, Operand::Number(-150.0))
        );
        let c = ok("close CROSSES_ABOVE ema_20", Kind::Indicator);
        assert_eq!(c.to_string(), "close crosses_above EMA_20");
        let c = ok("rsi < 30", Kind::Indicator);
        assert_eq!(c.to_string(), "RSI_14_100 < 30");
    }

    #[test]
    fn errors_point_at_the_bad_token() {
        let e = bad("ltpp > 26000", Kind::Price);
        assert_eq!((e.column, e.token.as_str()), (1, "ltpp"));
        let e = bad("ltp >> 26000", Kind::Price);
        assert_eq!((e.column, e.token.as_str()), (6, ">"));
        let e = bad("ltp > 26,000", Kind::Price);
        assert_eq!((e.column, e.token.as_str()), (9, ","));
        let e = bad("ltp above 26000", Kind::Price);
        assert_eq!((e.column, e.token.as_str()), (5, "above"));
        assert!(e.message.contains("crosses_above"), "{e}");
        let e = bad("ltp == 26000", Kind::Price);
        assert!(e.message.contains("equality"), "{e}");
        let e = bad("RSI_14 > 70 and", Kind::Indicator);
        assert_eq!((e.column, e.token.as_str()), (13, "and"));
        let e = bad("RSX_14 > 70", Kind::Indicator);
        assert_eq!(e.column, 1);
        assert!(e.message.contains("RSI"), "a suggestion: {e}");
        let e = bad("MACD > 0", Kind::Indicator);
        assert!(e.message.contains("MACD.histogram"), "{e}");
        let e = bad("MACD.hist > 0", Kind::Indicator);
        assert!(e.message.contains("histogram"), "{e}");
        let e = bad("ltp >", Kind::Price);
        assert_eq!((e.column, e.token.as_str()), (6, ""));
        let e = bad("", Kind::Price);
        assert_eq!(e.column, 1);
        let e = bad("RSI_14 > 70", Kind::Price);
        assert!(e.message.contains("indicator alert"), "{e}");
        let e = bad("ltp > 70", Kind::Indicator);
        assert!(e.message.contains("close"), "{e}");
        let e = bad("1 > 2", Kind::Price);
        assert!(e.message.contains("never changes"), "{e}");
        let c = ok("ltp > 1e300", Kind::Price);
        assert_eq!(c.to_string(), "ltp > 1e300");
        assert_eq!(ok("ltp < 1.5e-7", Kind::Price).to_string(), "ltp < 1.5e-7");
        let e = bad("ltp > 1e999", Kind::Price);
        assert_eq!(e.token, "1e999");
        assert_eq!(
            bad("ltp > 2600O", Kind::Price).token,
            "2600O",
            "a mistyped number is one token"
        );
    }

    #[test]
    fn the_pointer_shows_the_token() {
        let e = bad("ltp >> 26000", Kind::Price);
        assert_eq!(e.pointer("ltp >> 26000"), "ltp >> 26000\n     ^");
        assert_eq!(
            e.to_string(),
            "expected a value (a number, a field or an indicator) at column 6 (\">\")"
        );
    }

    #[test]
    fn long_and_non_ascii_input_is_refused_not_a_panic() {
        let long = format!("ltp > {}", "9".repeat(300));
        assert!(parse(&long, Kind::Price).is_err());
        let e = bad("ltp > २६०००", Kind::Price);
        assert_eq!(e.column, 7);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errors_in_bounds(text in "\\PC{0,80}") {
            if let Err(e) = parse(&text, Kind::Price) {
                proptest::prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1);
            }
            let _ = parse(&text, Kind::Indicator);
        }

        #[test]
        fn a_printed_condition_parses_back_to_itself(
            level in proptest::prop_oneof![-1e6f64..1e6, proptest::num::f64::NORMAL],
            op in proptest::sample::select(vec![">", ">=", "<", "<=", "crosses_above", "crosses_below", "crosses"]),
            field in proptest::sample::select(vec!["ltp", "bid", "change_pct", "oi", "volume"]),
        ) {
            let c = parse(&format!("{field} {op} {level:?}"), Kind::Price);
            proptest::prop_assert!(c.is_ok());
            if let Ok(c) = c {
                let again = parse(&c.to_string(), Kind::Price);
                proptest::prop_assert_eq!(again.ok(), Some(c));
            }
        }
    }
}
