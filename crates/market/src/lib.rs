//! Market-data logic for stocksblitz, pure (no I/O, no async):
//!
//! - [`tick`]: the tick model;
//! - [`resp`]: the Redis pub/sub framing the legacy feed arrives in, parsed in place;
//! - [`decode`]: the legacy Redis channel payloads (and a native superset) into ticks, with a
//!   typed [`Reject`] reason for every malformed payload;
//! - [`timeframe`]: the one timeframe table;
//! - [`bars`]: 1-minute bars from ticks (IST-aligned, clock-closed, late ticks amend), roll-ups;
//! - [`session`]: the trading session filter;
//! - [`snapshot`]: latest quote per instrument and the per-underlying view;
//! - [`greeks`]: Black-76 / Black-Scholes pricing, implied volatility and greeks;
//! - [`chain`]: option-chain analytics (PCR, max pain);
//! - [`sim`]: the market simulator (live rounds and the bars of a stretch to catch up on).
#![forbid(unsafe_code)]

pub mod bars;
pub mod chain;
pub mod decode;
pub mod greeks;
pub mod resp;
mod scan;
pub mod series;
pub mod session;
pub mod sim;
pub mod smile;
pub mod snapshot;
pub mod tick;
pub mod timeframe;

pub use bars::{Bar, BarBuilder, BarEvent};
pub use decode::{Decoder, Reject};
pub use tick::{Greeks, Tick, TickKind};
pub use timeframe::Timeframe;

/// IST offset from UTC, seconds.
pub const IST_OFFSET_SECS: i64 = 19_800;
/// Session open 09:15 IST, seconds after IST midnight.
pub const SESSION_OPEN_SECS: i64 = 9 * 3600 + 15 * 60;
/// Session close 15:30 IST, seconds after IST midnight.
pub const SESSION_CLOSE_SECS: i64 = 15 * 3600 + 30 * 60;
