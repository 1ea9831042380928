use thiserror::Error;

/// Why a symbol could not be parsed. Every message names the input and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolError {
    #[error("empty symbol")]
    Empty,
    #[error("symbol too long: {len} bytes (at most {max})")]
    TooLong { len: usize, max: usize },
    #[error("cannot parse {input:?}: unexpected character {ch:?} at position {pos}")]
    BadChar { input: String, ch: char, pos: usize },
    #[error("cannot parse {input:?}: unknown month {month:?}")]
    UnknownMonth { input: String, month: String },
    #[error("cannot parse {input:?}: unknown weekly month code {code:?} (expected 1-9, O, N or D)")]
    UnknownMonthCode { input: String, code: char },
    #[error("{input:?}: day {day} is not a date")]
    BadDay { input: String, day: u32 },
    #[error("{input:?}: expected CE or PE")]
    ExpectedRight { input: String },
    #[error("{input:?}: missing strike before {right}")]
    MissingStrike { input: String, right: &'static str },
    #[error("{input:?}: bad strike {strike:?} ({why})")]
    BadStrike {
        input: String,
        strike: String,
        why: &'static str,
    },
    #[error("{input:?}: missing underlying before the expiry")]
    MissingUnderlying { input: String },
    #[error("{input:?}: bad underlying {underlying:?} ({why})")]
    BadUnderlying {
        input: String,
        underlying: String,
        why: &'static str,
    },
    #[error("cannot parse {input:?}: {why}")]
    Invalid { input: String, why: &'static str },
}
