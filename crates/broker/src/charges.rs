//! Charges as on a contract note, from a dated rate table (`data/charges.json`).
//!
//! Per executed order: brokerage (the broker's, configurable), STT/CTT, the exchange transaction
//! charge, the SEBI turnover fee, stamp duty (buy side) and GST on brokerage + exchange + SEBI.
//! Each component is computed on the order's whole executed turnover (premium turnover for
//! options) and rounded to the paisa, halves away from zero; GST is 18 % of the sum of the
//! rounded components it applies to. An order filled in parts is charged the same as if it had
//! filled at once: each fill is debited the difference between the order's charges after and
//! before it. (Real contract notes round STT to the rupee per note; that is not modelled.)

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Paise, Rate};
use crate::types::Side;

/// Which row of the rate table applies to a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    NfoFut,
    NfoOpt,
    BfoFut,
    BfoOpt,
    EqDelivery,
    EqIntraday,
}

/// The rates of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRates {
    pub stt_buy: Rate,
    pub stt_sell: Rate,
    pub exchange: Rate,
    pub stamp_buy: Rate,
}

/// One dated set of rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSet {
    pub effective_from: NaiveDate,
    pub sebi: Rate,
    pub gst: Rate,
    /// STT on the intrinsic value of an exercised (in-the-money at expiry) long option.
    pub stt_exercise: Rate,
    pub segments: BTreeMap<Segment, SegmentRates>,
}

/// The dated rate table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    #[serde(default)]
    pub about: String,
    #[serde(default)]
    pub sources: Vec<String>,
    /// Sorted by `effective_from`.
    pub sets: Vec<RateSet>,
}

/// Why a rate table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateTableError {
    #[error("rate table: {0}")]
    Parse(String),
    #[error("rate table: set from {from} has no rates for segment {segment:?}")]
    MissingSegment { from: NaiveDate, segment: Segment },
    #[error("rate table has no sets")]
    Empty,
}

const ALL_SEGMENTS: [Segment; 6] = [
    Segment::NfoFut,
    Segment::NfoOpt,
    Segment::BfoFut,
    Segment::BfoOpt,
    Segment::EqDelivery,
    Segment::EqIntraday,
];

static EMBEDDED: LazyLock<Result<RateTable, RateTableError>> =
    LazyLock::new(|| RateTable::from_json(include_str!("../data/charges.json")));

impl RateTable {
    /// The table shipped with the crate (checked by a unit test).
    pub fn embedded() -> Result<&'static RateTable, RateTableError> {
        EMBEDDED.as_ref().map_err(Clone::clone)
    }

    pub fn from_json(text: &str) -> Result<RateTable, RateTableError> {
        let mut t: RateTable =
            serde_json::from_str(text).map_err(|e| RateTableError::Parse(e.to_string()))?;
        if t.sets.is_empty() {
            return Err(RateTableError::Empty);
        }
        t.sets.sort_by_key(|s| s.effective_from);
        for set in &t.sets {
            for seg in ALL_SEGMENTS {
                if !set.segments.contains_key(&seg) {
                    return Err(RateTableError::MissingSegment {
                        from: set.effective_from,
                        segment: seg,
                    });
                }
            }
        }
        Ok(t)
    }

    /// The set in force on `date` (the earliest set for dates before the table).
    pub fn on(&self, date: NaiveDate) -> &RateSet {
        let i = self.sets.partition_point(|s| s.effective_from <= date);
        &self.sets[i.saturating_sub(1)]
    }
}

/// The broker's own fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brokerage {
    /// Flat fee per executed order, paise (default ₹20).
    pub per_order: Paise,
    /// When set, the fee is the lower of `per_order` and this rate of turnover.
    pub max_rate: Option<Rate>,
    /// Fee per executed equity delivery (CNC) order (default nil).
    pub delivery_per_order: Paise,
}

impl Default for Brokerage {
    fn default() -> Self {
        Brokerage {
            per_order: 2000,
            max_rate: None,
            delivery_per_order: 0,
        }
    }
}

impl Brokerage {
    fn fee(&self, segment: Segment, turnover: Paise) -> Paise {
        if turnover <= 0 {
            return 0;
        }
        let flat = if segment == Segment::EqDelivery {
            self.delivery_per_order
        } else {
            self.per_order
        };
        match self.max_rate {
            Some(r) => flat.min(r.apply(turnover)),
            None => flat,
        }
    }
}

/// The charges of one order (or one exercise), in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Charges {
    pub brokerage: Paise,
    /// Securities transaction tax.
    pub stt: Paise,
    pub exchange: Paise,
    pub sebi: Paise,
    pub stamp: Paise,
    pub gst: Paise,
}

impl Charges {
    pub fn total(&self) -> Paise {
        self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst
    }

    /// Component-wise `self − before` (what a fill adds).
    #[must_use]
    pub fn minus(&self, before: &Charges) -> Charges {
        Charges {
            brokerage: self.brokerage - before.brokerage,
            stt: self.stt - before.stt,
            exchange: self.exchange - before.exchange,
            sebi: self.sebi - before.sebi,
            stamp: self.stamp - before.stamp,
            gst: self.gst - before.gst,
        }
    }

    #[must_use]
    pub fn plus(&self, o: &Charges) -> Charges {
        Charges {
            brokerage: self.brokerage + o.brokerage,
            stt: self.stt + o.stt,
            exchange: self.exchange + o.exchange,
            sebi: self.sebi + o.sebi,
            stamp: self.stamp + o.stamp,
            gst: self.gst + o.gst,
        }
    }
}

/// The charges of an order that executed `turnover` paise (premium turnover for options) on
/// `side` in `segment`, with the rates in force on `date`.
pub fn order_charges(
    table: &RateTable,
    brokerage: &Brokerage,
    segment: Segment,
    side: Side,
    turnover: Paise,
    date: NaiveDate,
) -> Charges {
    if turnover <= 0 {
        return Charges::default();
    }
    let set = table.on(date);
    let Some(r) = set.segments.get(&segment) else {
        return Charges::default();
    };
    let brokerage = brokerage.fee(segment, turnover);
    let stt = match side {
        Side::Buy => r.stt_buy.apply(turnover),
        Side::Sell => r.stt_sell.apply(turnover),
    };
    let exchange = r.exchange.apply(turnover);
    let sebi = set.sebi.apply(turnover);
    let stamp = match side {
        Side::Buy => r.stamp_buy.apply(turnover),
        Side::Sell => 0,
    };
    let gst = set.gst.apply(brokerage + exchange + sebi);
    Charges {
        brokerage,
        stt,
        exchange,
        sebi,
        stamp,
        gst,
    }
}

/// STT on an exercised long option: the exercise rate on its intrinsic value.
pub fn exercise_charges(table: &RateTable, intrinsic_value: Paise, date: NaiveDate) -> Charges {
    Charges {
        stt: table.on(date).stt_exercise.apply(intrinsic_value.max(0)),
        ..Charges::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn shipped_table_reads() {
        let t = RateTable::embedded();
        assert!(t.is_ok(), "{t:?}");
        let t = t.unwrap();
        assert_eq!(t.on(d("2025-06-02")).effective_from, d("2024-10-01"));
        assert_eq!(t.on(d("2026-04-01")).effective_from, d("2026-04-01"));
        assert_eq!(t.on(d("2026-03-31")).effective_from, d("2024-10-01"));
    }

    #[test]
    fn brokerage_can_be_capped_by_a_rate() {
        let b = Brokerage {
            max_rate: Rate::parse("0.03%").ok(),
            ..Brokerage::default()
        };
        // 0.03 % of ₹10,000 = ₹3 < ₹20
        assert_eq!(b.fee(Segment::NfoFut, 1_000_000), 300);
        assert_eq!(b.fee(Segment::NfoFut, 100_000_000), 2000);
        assert_eq!(Brokerage::default().fee(Segment::EqDelivery, 1_000_000), 0);
    }

    #[test]
    fn a_table_missing_a_segment_is_refused() {
        let text = r#"{"sets":[{"effective_from":"2024-10-01","sebi":"0.0001%","gst":"18%","stt_exercise":"0.125%","segments":{}}]}"#;
        assert!(matches!(
            RateTable::from_json(text),
            Err(RateTableError::MissingSegment { .. })
        ));
        assert!(matches!(
            RateTable::from_json(r#"{"sets":[]}"#),
            Err(RateTableError::Empty)
        ));
        assert!(RateTable::from_json("{").is_err());
    }
}
