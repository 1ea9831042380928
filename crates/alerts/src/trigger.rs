//! When a condition fires.
//!
//! - A comparison (`>`, `>=`, `<`, `<=`) fires when it holds — at the first evaluation after the
//!   alert is created too, if it already holds then. A repeating alert then waits for the
//!   condition to stop holding (it re-arms) and for the cool-down to pass before it fires again:
//!   one alert per excursion, not one per tick.
//! - A crossing fires when the sides change order between two evaluations: `crosses_above`
//!   when the left side was at or below the right and is now above it (`crosses_below` the
//!   mirror, `crosses` either). The first evaluation only records the values. A repeating
//!   crossing fires on every later crossing once the cool-down has passed.
//! - A side that is not a number (an indicator in its warm-up, a quote without a bid) skips the
//!   evaluation; a crossing compares with the last evaluation that had both sides.
//! - A one-shot alert fires once; the evaluator retires it.

use crate::condition::Op;

/// How an alert repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub repeating: bool,
    /// Least time between two firings of a repeating alert (ms).
    pub cooldown_ms: i64,
}

/// The evaluation state of one alert.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trigger {
    /// Both sides at the last evaluation that had both.
    prev: Option<(f64, f64)>,
    /// A comparison that held when it last fired has not stopped holding since.
    disarmed: bool,
    last_fired_ms: Option<i64>,
    fired: u64,
}

impl Trigger {
    /// State for an alert that has fired `fired` times, last at `last_fired_ms` (from the
    /// store): a repeating comparison that has fired starts disarmed, so a restart does not
    /// fire it again for the same excursion.
    pub fn resume(fired: u64, last_fired_ms: Option<i64>) -> Trigger {
        Trigger {
            prev: None,
            disarmed: fired > 0,
            last_fired_ms,
            fired,
        }
    }

    /// Times fired.
    pub fn fired(&self) -> u64 {
        self.fired
    }

    /// Record the two sides without firing: a value from before the alert existed (the bar that
    /// closed before it was created) is what a later crossing is measured from.
    pub fn prime(&mut self, left: f64, right: f64) {
        if left.is_finite() && right.is_finite() {
            self.prev = Some((left, right));
        }
    }

    /// Evaluate at `now_ms` with the two sides' values; true when the alert fires now.
    pub fn step(&mut self, op: Op, repeat: Repeat, left: f64, right: f64, now_ms: i64) -> bool {
        if !left.is_finite() || !right.is_finite() {
            return false;
        }
        if self.fired > 0 && !repeat.repeating {
            return false;
        }
        let prev = self.prev.replace((left, right));
        let cooled = self
            .last_fired_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= repeat.cooldown_ms);
        let fire = if op.is_crossing() {
            let Some((pl, pr)) = prev else {
                return false;
            };
            let up = pl <= pr && left > right;
            let down = pl >= pr && left < right;
            let crossed = match op {
                Op::CrossesAbove => up,
                Op::CrossesBelow => down,
                _ => up || down,
            };
            crossed && cooled
        } else {
            let holds = match op {
                Op::Gt => left > right,
                Op::Ge => left >= right,
                Op::Lt => left < right,
                _ => left <= right,
            };
            if !holds {
                self.disarmed = false;
                return false;
            }
            !self.disarmed && cooled
        };
        if fire {
            self.fired += 1;
            self.last_fired_ms = Some(now_ms);
            self.disarmed = true;
        }
        fire
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONCE: Repeat = Repeat {
        repeating: false,
        cooldown_ms: 0,
    };

    fn fires(
        t: &mut Trigger,
        op: Op,
        repeat: Repeat,
        series: &[(f64, i64)],
        level: f64,
    ) -> Vec<usize> {
        series
            .iter()
            .enumerate()
            .filter(|(_, (v, at))| t.step(op, repeat, *v, level, *at))
            .map(|(i, _)| i)
            .collect()
    }

    fn walk(values: &[f64]) -> Vec<(f64, i64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, i as i64 * 1000))
            .collect()
    }

    #[test]
    fn a_one_shot_comparison_fires_once_when_it_first_holds() {
        let mut t = Trigger::default();
        let s = walk(&[99.0, 100.0, 101.0, 102.0, 99.0, 103.0]);
        assert_eq!(fires(&mut t, Op::Gt, ONCE, &s, 100.0), vec![2]);
        assert_eq!(t.fired(), 1);
    }

    #[test]
    fn a_comparison_that_already_holds_fires_at_once() {
        let mut t = Trigger::default();
        assert_eq!(
            fires(&mut t, Op::Ge, ONCE, &walk(&[100.0, 101.0]), 100.0),
            vec![0]
        );
    }

    #[test]
    fn a_crossing_needs_a_previous_value_and_fires_on_the_crossing_only() {
        let mut t = Trigger::default();
        // Already above at the start: no crossing until it goes back below and up again.
        let s = walk(&[101.0, 102.0, 99.0, 100.0, 100.5, 101.0]);
        assert_eq!(fires(&mut t, Op::CrossesAbove, ONCE, &s, 100.0), vec![4]);
        let mut t = Trigger::default();
        let s = walk(&[101.0, 99.0, 98.0]);
        assert_eq!(fires(&mut t, Op::CrossesBelow, ONCE, &s, 100.0), vec![1]);
        let mut t = Trigger::default();
        let rep = Repeat {
            repeating: true,
            cooldown_ms: 0,
        };
        let s = walk(&[99.0, 101.0, 99.0, 101.0]);
        assert_eq!(fires(&mut t, Op::Crosses, rep, &s, 100.0), vec![1, 2, 3]);
    }

    #[test]
    fn a_repeating_comparison_fires_once_per_excursion_and_respects_the_cooldown() {
        let rep = Repeat {
            repeating: true,
            cooldown_ms: 2500,
        };
        let mut t = Trigger::default();
        // 0 fires; 1 and 2 are the same excursion; 3 re-arms; 4 fires (4 s after 0); 5 re-arms;
        // 6 holds but 2 s after 4 (cool-down); 7 still holds and the cool-down has passed.
        let s = walk(&[101.0, 102.0, 103.0, 99.0, 101.0, 99.0, 101.0, 101.0]);
        assert_eq!(fires(&mut t, Op::Gt, rep, &s, 100.0), vec![0, 4, 7]);
    }

    #[test]
    fn a_primed_crossing_is_measured_from_the_primed_values() {
        let mut t = Trigger::default();
        t.prime(99.0, 100.0);
        assert!(t.step(Op::CrossesAbove, ONCE, 101.0, 100.0, 0));
        let mut t = Trigger::default();
        t.prime(101.0, 100.0);
        assert!(!t.step(Op::CrossesAbove, ONCE, 102.0, 100.0, 0));
        let mut t = Trigger::default();
        t.prime(f64::NAN, 100.0);
        assert!(
            !t.step(Op::CrossesAbove, ONCE, 102.0, 100.0, 0),
            "nothing primed: first look"
        );
    }

    #[test]
    fn missing_values_are_skipped_not_treated_as_zero() {
        let mut t = Trigger::default();
        let s = walk(&[99.0, f64::NAN, 101.0]);
        assert_eq!(fires(&mut t, Op::CrossesAbove, ONCE, &s, 100.0), vec![2]);
        let mut t = Trigger::default();
        assert!(!t.step(Op::Lt, ONCE, f64::NAN, 100.0, 0));
        assert!(!t.step(Op::Lt, ONCE, 1.0, f64::INFINITY, 0));
    }

    #[test]
    fn a_resumed_repeating_comparison_waits_for_a_new_excursion() {
        let rep = Repeat {
            repeating: true,
            cooldown_ms: 0,
        };
        let mut t = Trigger::resume(1, Some(0));
        let s = walk(&[101.0, 99.0, 101.0]);
        assert_eq!(fires(&mut t, Op::Gt, rep, &s, 100.0), vec![2]);
        let mut done = Trigger::resume(1, Some(0));
        assert!(!done.step(Op::Gt, ONCE, 101.0, 100.0, 5));
    }

    proptest::proptest! {
        #[test]
        fn a_one_shot_fires_at_most_once_and_only_when_it_holds(
            values in proptest::collection::vec(-10.0f64..10.0, 0..200),
            op in proptest::sample::select(vec![Op::Gt, Op::Ge, Op::Lt, Op::Le, Op::CrossesAbove, Op::CrossesBelow, Op::Crosses]),
        ) {
            let mut t = Trigger::default();
            let s = walk(&values);
            let hits = fires(&mut t, op, ONCE, &s, 0.5);
            proptest::prop_assert!(hits.len() <= 1);
            for i in hits {
                let v = values[i];
                let ok = match op {
                    Op::Gt | Op::CrossesAbove => v > 0.5,
                    Op::Ge => v >= 0.5,
                    Op::Lt | Op::CrossesBelow => v < 0.5,
                    Op::Le => v <= 0.5,
                    Op::Crosses => v != 0.5,
                };
                proptest::prop_assert!(ok);
                if op.is_crossing() {
                    proptest::prop_assert!(i > 0);
                }
            }
        }

        #[test]
        fn repeating_firings_are_a_cooldown_apart(
            values in proptest::collection::vec(-10.0f64..10.0, 0..200),
            cooldown in 0i64..5000,
        ) {
            let rep = Repeat { repeating: true, cooldown_ms: cooldown };
            let mut t = Trigger::default();
            let s = walk(&values);
            let hits = fires(&mut t, Op::Crosses, rep, &s, 0.0);
            for w in hits.windows(2) {
                proptest::prop_assert!(s[w[1]].1 - s[w[0]].1 >= cooldown);
            }
        }
    }
}
