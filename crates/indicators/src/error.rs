use thiserror::Error;

/// Errors from id parsing, parameter validation and computation. Messages name the problem.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IndicatorError {
    #[error("empty indicator id")]
    Empty,
    #[error("indicator id too long ({0} characters, at most 64)")]
    TooLong(usize),
    #[error("unknown indicator {name:?}{}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("{indicator} takes at most {max} parameters ({names}), got {got}")]
    TooManyParams {
        indicator: &'static str,
        max: usize,
        names: String,
        got: usize,
    },
    #[error("{indicator} takes no parameters, got {got}")]
    NoParams { indicator: &'static str, got: usize },
    #[error("{param} must be {expected}, got {got:?}")]
    BadParam {
        param: &'static str,
        expected: String,
        got: String,
    },
    #[error("{indicator} has no parameter {param:?} (parameters: {names})")]
    UnknownParam {
        indicator: &'static str,
        param: String,
        names: String,
    },
    #[error("{indicator} needs the {input} input")]
    MissingInput {
        indicator: &'static str,
        input: &'static str,
    },
    #[error(
        "input {input} has {len} values but {expected} were expected (all inputs must have the same length)"
    )]
    LengthMismatch {
        input: &'static str,
        len: usize,
        expected: usize,
    },
}
