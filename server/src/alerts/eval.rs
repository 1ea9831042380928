//! Evaluating alerts: price alerts per tick, indicator alerts per bar close.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde_json::{Value, json};
use stocksblitz_alerts::{Field, IndicatorRef, Operand};
use stocksblitz_indicators::IndicatorId;
use stocksblitz_market::{Bar, Timeframe};

use super::{Firing, Live, MAX_NEW_BARS, TickView};
use crate::state::AppState;
use stocksblitz_engine::values::{depth, tail_values};

/// The previous session's close per instrument, read once per trading day.
#[derive(Debug, Default)]
pub(super) struct PrevClose {
    by_symbol: HashMap<CompactString, (NaiveDate, Option<f64>)>,
}

impl PrevClose {
    async fn get(
        &mut self,
        state: &AppState,
        symbol: &CompactString,
        today: NaiveDate,
    ) -> Option<f64> {
        if let Some((day, v)) = self.by_symbol.get(symbol)
            && *day == today
        {
            return *v;
        }
        let v = match state.engine.series(symbol, Timeframe::D1, 3).await {
            Ok(series) => series
                .closed()
                .iter()
                .rev()
                .find(|b| stocksblitz_market::session::ist_date(b.start).is_some_and(|d| d < today))
                .map(|b| b.close),
            Err(e) => {
                tracing::warn!(error = %e, symbol = %symbol, "previous close unavailable for alerts");
                None
            }
        };
        self.by_symbol.insert(symbol.clone(), (today, v));
        v
    }
}

/// What a price alert reads besides the tick.
struct QuoteExtras {
    open: f64,
    high: f64,
    low: f64,
    volume: u64,
    oi_change: Option<i64>,
}

fn price_value(f: Field, t: &TickView, q: Option<&QuoteExtras>, prev: Option<f64>) -> f64 {
    let nan = f64::NAN;
    match f {
        Field::Ltp => t.ltp,
        Field::Bid => t.bid.unwrap_or(nan),
        Field::Ask => t.ask.unwrap_or(nan),
        Field::Open => q.map_or(nan, |q| q.open),
        Field::High => q.map_or(nan, |q| q.high),
        Field::Low => q.map_or(nan, |q| q.low),
        Field::PrevClose => prev.unwrap_or(nan),
        Field::Change => prev.map_or(nan, |p| t.ltp - p),
        Field::ChangePct => prev
            .filter(|p| *p != 0.0)
            .map_or(nan, |p| (t.ltp - p) / p * 100.0),
        Field::Volume => t.volume.or(q.map(|q| q.volume)).map_or(nan, |v| v as f64),
        Field::Oi => t.oi.map_or(nan, |v| v as f64),
        Field::OiChange => q.and_then(|q| q.oi_change).map_or(nan, |v| v as f64),
        // Not a price alert field (refused by the parser).
        Field::Close => nan,
    }
}

fn side(o: &Operand, value: f64) -> Value {
    json!({"name": o.to_string(), "value": finite(value)})
}

fn finite(v: f64) -> Value {
    if v.is_finite() {
        Value::from(v)
    } else {
        Value::Null
    }
}

/// Record where a new price alert's sides stand on the current quote, so that its first tick
/// can already be a crossing (the fields that need the previous close wait for a tick).
pub(super) fn prime_price(live: &mut Live, q: &stocksblitz_market::snapshot::Quote) {
    let t = TickView {
        symbol: q.tradingsymbol.clone(),
        ltp: q.ltp,
        bid: q.bid,
        ask: q.ask,
        volume: Some(q.volume),
        oi: q.oi,
        exchange_ts_ms: q.exchange_ts_ms,
        recv_ts_ms: q.recv_ts_ms,
    };
    let extras = QuoteExtras {
        open: q.open,
        high: q.high,
        low: q.low,
        volume: q.volume,
        oi_change: q.oi_change(),
    };
    let value = |o: &Operand| match o {
        Operand::Number(v) => *v,
        Operand::Field(f) => price_value(*f, &t, Some(&extras), None),
        Operand::Indicator(_) => f64::NAN,
    };
    let (l, r) = (value(&live.cond.left), value(&live.cond.right));
    live.trigger.prime(l, r);
}

/// Evaluate the price alerts of a batch of ticks, in order.
pub(super) async fn price_ticks(state: &Arc<AppState>, prev: &mut PrevClose, batch: &[TickView]) {
    let today = crate::routes::ist_today(state.market_now());
    // The previous closes the batch needs, read before the index is locked.
    let mut closes: HashMap<CompactString, Option<f64>> = HashMap::new();
    let needs: Vec<CompactString> = match state.alerts.index.lock() {
        Ok(ix) => batch
            .iter()
            .filter(|t| {
                ix.price.get(&t.symbol).is_some_and(|ids| {
                    ids.iter()
                        .any(|id| ix.by_id.get(id).is_some_and(|l| l.cond.needs_prev_close()))
                })
            })
            .map(|t| t.symbol.clone())
            .collect(),
        Err(_) => return,
    };
    for s in needs {
        if let std::collections::hash_map::Entry::Vacant(slot) = closes.entry(s.clone()) {
            slot.insert(prev.get(state, &s, today).await);
        }
    }
    let mut extras: HashMap<CompactString, Option<QuoteExtras>> = HashMap::new();
    if let Ok(snap) = state.pipeline.snapshot.read() {
        for t in batch {
            extras.entry(t.symbol.clone()).or_insert_with(|| {
                snap.get(&t.symbol).map(|q| QuoteExtras {
                    open: q.open,
                    high: q.high,
                    low: q.low,
                    volume: q.volume,
                    oi_change: q.oi_change(),
                })
            });
        }
    }
    let Ok(mut ix) = state.alerts.index.lock() else {
        return;
    };
    let mut evaluated = 0u64;
    let mut fired = Vec::new();
    for t in batch {
        let Some(ids) = ix.price.get(&t.symbol).cloned() else {
            continue;
        };
        let q = extras.get(&t.symbol).and_then(Option::as_ref);
        let p = closes.get(&t.symbol).copied().flatten();
        for id in ids {
            let Some(live) = ix.by_id.get_mut(&id) else {
                continue;
            };
            let value = |o: &Operand| match o {
                Operand::Number(v) => *v,
                Operand::Field(f) => price_value(*f, t, q, p),
                Operand::Indicator(_) => f64::NAN,
            };
            let (l, r) = (value(&live.cond.left), value(&live.cond.right));
            evaluated += 1;
            // Cool-downs run on the receive clock (the exchange time of a replay can stand still).
            if live
                .trigger
                .step(live.cond.op, live.repeat, l, r, t.recv_ts_ms)
            {
                let mut data = json!({
                    "condition": live.cond.to_string(),
                    "left": side(&live.cond.left, l),
                    "right": side(&live.cond.right, r),
                    "ltp": t.ltp,
                    "tick_time": t.exchange_ts_ms,
                });
                if let (Some(pc), Some(m)) = (p, data.as_object_mut()) {
                    m.insert("prev_close".into(), pc.into());
                }
                fired.push(firing(live, data, l, Some(t.recv_ts_ms)));
            }
        }
    }
    drop(ix);
    state
        .alerts
        .stats
        .evaluations
        .fetch_add(evaluated, Ordering::Relaxed);
    for f in fired {
        state.alerts.fire(f);
    }
}

fn firing(live: &Live, data: Value, left: f64, tick_recv_ms: Option<i64>) -> Firing {
    let row = live.row.clone();
    let at = match &row.timeframe {
        Some(tf) => format!(" on {tf} close"),
        None => String::new(),
    };
    let summary = format!(
        "{}: {}{at} ({} = {})",
        row.symbol,
        live.cond,
        live.cond.left,
        fmt_value(left)
    );
    Firing {
        fire_no: live.trigger.fired() as i64,
        row,
        data,
        summary,
        tick_recv_ms,
    }
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Where each (instrument, timeframe) stands: the pipeline version seen last and the start of
/// the newest closed bar evaluated.
#[derive(Debug, Default)]
pub(super) struct BarCursor {
    seen: HashMap<(CompactString, Timeframe), (u64, Option<Bar>, i64)>,
}

struct KeyWork {
    key: (CompactString, Timeframe),
    refs: Vec<IndicatorRef>,
    depth: usize,
}

fn bar_value(f: Field, b: &Bar) -> f64 {
    match f {
        Field::Open => b.open,
        Field::High => b.high,
        Field::Low => b.low,
        Field::Close => b.close,
        Field::Volume => b.volume as f64,
        _ => f64::NAN,
    }
}

/// Evaluate indicator alerts on the bars closed since the last look.
pub(super) async fn bar_closes(state: &Arc<AppState>, cursor: &mut BarCursor) {
    let work: Vec<KeyWork> = match state.alerts.index.lock() {
        Ok(ix) => ix
            .indicator
            .iter()
            .map(|(key, ids)| {
                let mut refs: Vec<IndicatorRef> = Vec::new();
                for id in ids {
                    if let Some(l) = ix.by_id.get(id) {
                        for r in l.cond.indicators() {
                            if !refs.iter().any(|x| x.id == r.id) {
                                refs.push(r.clone());
                            }
                        }
                    }
                }
                let depth = refs
                    .iter()
                    .map(|r| depth(&r.id, key.1, MAX_NEW_BARS))
                    .max()
                    .unwrap_or(MAX_NEW_BARS)
                    + 1;
                KeyWork {
                    key: key.clone(),
                    refs,
                    depth,
                }
            })
            .collect(),
        Err(_) => return,
    };
    cursor.seen.retain(|k, _| work.iter().any(|w| &w.key == k));
    for w in work {
        let (symbol, tf) = (&w.key.0, w.key.1);
        let (version, forming) = state.pipeline.bar_stamp(symbol);
        let last = cursor.seen.get(&w.key);
        if last.is_some_and(|(v, f, _)| *v == version && *f == forming) {
            continue;
        }
        let series = match state.engine.series(symbol, tf, w.depth).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, symbol = %symbol, "bars unavailable for indicator alerts");
                continue;
            }
        };
        let closed = series.closed();
        let Some(newest) = closed.last() else {
            cursor
                .seen
                .insert(w.key.clone(), (version, forming, i64::MIN));
            continue;
        };
        let evaluated_to = last.map(|(_, _, s)| *s);
        cursor
            .seen
            .insert(w.key.clone(), (version, forming, newest.start));
        // First look: the newest closed bar only primes crossings (it closed before the alert).
        let (new_bars, prime) = match evaluated_to {
            None | Some(i64::MIN) => (1, true),
            Some(s) => (
                closed
                    .iter()
                    .rev()
                    .take_while(|b| b.start > s)
                    .count()
                    .min(MAX_NEW_BARS),
                false,
            ),
        };
        if new_bars == 0 {
            continue;
        }
        let mut values: Vec<(IndicatorId, Vec<Vec<f64>>)> = Vec::new();
        for r in &w.refs {
            match tail_values(&r.id, tf, closed, new_bars) {
                Ok(series) => values.push((r.id.clone(), series)),
                Err(e) => {
                    tracing::warn!(error = ?e, indicator = %r.id, "indicator for alerts failed");
                }
            }
        }
        let bars = &closed[closed.len() - new_bars..];
        step_bars(state, &w.key, bars, &values, prime);
    }
}

fn step_bars(
    state: &Arc<AppState>,
    key: &(CompactString, Timeframe),
    bars: &[Bar],
    values: &[(IndicatorId, Vec<Vec<f64>>)],
    prime: bool,
) {
    let Ok(mut ix) = state.alerts.index.lock() else {
        return;
    };
    let Some(ids) = ix.indicator.get(key).cloned() else {
        return;
    };
    let now = crate::ingest::now_ms();
    let mut fired = Vec::new();
    let mut evaluated = 0u64;
    for (i, bar) in bars.iter().enumerate() {
        for id in &ids {
            let Some(live) = ix.by_id.get_mut(id) else {
                continue;
            };
            let value = |o: &Operand| match o {
                Operand::Number(v) => *v,
                Operand::Field(f) => bar_value(*f, bar),
                Operand::Indicator(r) => values
                    .iter()
                    .find(|(x, _)| *x == r.id)
                    .and_then(|(_, outs)| outs.get(r.output)?.get(i).copied())
                    .unwrap_or(f64::NAN),
            };
            let (l, r) = (value(&live.cond.left), value(&live.cond.right));
            if prime {
                live.trigger.prime(l, r);
                continue;
            }
            evaluated += 1;
            // Cool-downs run on the wall clock (bars closed in one look share its time).
            if live.trigger.step(live.cond.op, live.repeat, l, r, now) {
                let data = json!({
                    "condition": live.cond.to_string(),
                    "left": side(&live.cond.left, l),
                    "right": side(&live.cond.right, r),
                    "timeframe": key.1.as_str(),
                    "bar_time": bar.start,
                    "close": bar.close,
                });
                fired.push(firing(live, data, l, None));
            }
        }
    }
    drop(ix);
    state
        .alerts
        .stats
        .evaluations
        .fetch_add(evaluated, Ordering::Relaxed);
    for f in fired {
        state.alerts.fire(f);
    }
}
