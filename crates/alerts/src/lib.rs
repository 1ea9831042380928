//! Alert conditions for stocksblitz: a small grammar parsed with errors that point at the bad
//! token ([`condition`]), and when a condition fires ([`trigger`]). Pure: no I/O, no clock —
//! the server feeds quotes and bar closes in and stores what fires.

pub mod condition;
pub mod schedule;
pub mod trigger;

pub use condition::{
    Condition, ConditionError, Field, IndicatorRef, Kind, MAX_CONDITION_LEN, Op, Operand, parse,
};
pub use trigger::{Repeat, Trigger};

/// Priorities (the old SDK's `AlertPriority` values).
pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
