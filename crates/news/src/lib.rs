//! News for stocksblitz: a lexicon sentiment score for headlines ([`sentiment`]) and the terms
//! trending over a window ([`trending`]). Pure: no I/O, no clock.

pub mod sentiment;
pub mod trending;

pub use sentiment::{Label, Lexicon, Score, score, score_with};
