//! What a poll of `/indicators/stream` reports: bars closed since the last poll with the
//! values of every subscribed indicator at each, or the forming bar in tick mode.

use super::*;

use super::indicators::{Mode, Sub};

pub(super) async fn series(state: &AppState, sub: &Sub) -> Result<Arc<Series>, ApiError> {
    Ok(state
        .engine
        .series(&sub.symbol, sub.tf, sub.depth())
        .await?)
}

/// Most bar closes a subscription reports in one poll (a jump of the demo clock closes many):
/// older ones are left to the client's gap fill from `/candles` and `/indicators/history`.
pub(super) const MAX_CATCH_UP_BARS: usize = 500;

/// The series' closed bars that are stored (see `Pipeline::unstored_from`): a bar close is
/// reported only once durable, so what a stream saw is what `/candles` returns after a crash.
pub(super) fn stored_closed<'a>(
    state: &AppState,
    sub: &Sub,
    series: &'a Series,
) -> &'a [stocksblitz_market::Bar] {
    let closed = series.closed();
    match state
        .pipeline
        .unstored_from(&sub.symbol, crate::ingest::now_ms())
    {
        Some(from) => {
            let span = sub.tf.seconds();
            &closed[..closed.partition_point(|b| b.start + span <= from)]
        }
        None => closed,
    }
}

pub(super) fn bar_msg(state: &AppState, sub: &Sub, b: &stocksblitz_market::Bar) -> Value {
    bar_json(state, sub, b, true)
}

/// A bar message; `complete: false` is the forming bar (tick mode), which later messages of the
/// same `time` replace.
pub(super) fn bar_json(
    state: &AppState,
    sub: &Sub,
    b: &stocksblitz_market::Bar,
    complete: bool,
) -> Value {
    // A bar of a longer timeframe closes with its last minute.
    let last_minute = b.start + (sub.tf.seconds() - 60).max(0);
    json!({
        "type": "bar",
        "symbol": sub.symbol,
        "timeframe": sub.tf.as_str(),
        "time": b.start,
        "open": b.open,
        "high": b.high,
        "low": b.low,
        "close": b.close,
        "volume": b.volume,
        "oi": b.oi,
        "complete": complete,
        // When the server closed the bar (epoch ms; null when it closed before this process
        // started or long ago, or while it forms): the feed's latency is the time of arrival
        // minus this.
        "closed_at": if complete { state.pipeline.closed_at(&sub.symbol, last_minute) } else { None },
    })
}

/// Updates due on this poll: per subscription in bar mode, every bar that closed since the last
/// poll, oldest first — its bar (when asked for) and then each indicator's value at it; in tick
/// mode, the current values when the series changed.
pub(super) async fn updates(state: &AppState, subs: &mut [Sub]) -> Vec<Value> {
    let mut out = Vec::new();
    for sub in subs.iter_mut() {
        let Ok(mut series) = series(state, sub).await else {
            continue;
        };
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match sub.mode {
            Mode::Bar => {
                let closed = stored_closed(state, sub, &series);
                let Some(last) = closed.last() else { continue };
                if sub.last_closed.is_some_and(|t| t >= last.start) {
                    continue;
                }
                let from = sub.last_closed.map_or(closed.len() - 1, |t| {
                    closed.partition_point(|b| b.start <= t)
                });
                let k = (closed.len() - from).min(MAX_CATCH_UP_BARS);
                let last_start = last.start;
                sub.last_closed = Some(last_start);
                if k > 1 && !sub.ids.is_empty() {
                    // Several bars at once: read deep enough for every value to be exact.
                    let need = sub
                        .ids
                        .iter()
                        .map(|(_, id)| depth(id, sub.tf, k + 1))
                        .max()
                        .unwrap_or(k + 1);
                    match state.engine.series(&sub.symbol, sub.tf, need).await {
                        Ok(s) => series = s,
                        Err(_) => continue,
                    }
                }
                let closed = stored_closed(state, sub, &series);
                // A bar stored since the first read waits for the next poll.
                let closed = &closed[..closed.partition_point(|b| b.start <= last_start)];
                let k = k.min(closed.len());
                let new = &closed[closed.len() - k..];
                let tails: Vec<_> = sub
                    .ids
                    .iter()
                    .filter_map(|(sent, id)| {
                        tail_values(id, sub.tf, closed, k)
                            .ok()
                            .map(|t| (sent, id, t))
                    })
                    .collect();
                for (j, bar) in new.iter().enumerate() {
                    if sub.bars {
                        out.push(bar_msg(state, sub, bar));
                    }
                    for (sent, id, tail) in &tails {
                        // A tail shorter than k (little history) covers the newest bars.
                        let Some(i) = (j + tail.first().map_or(0, Vec::len)).checked_sub(k) else {
                            continue;
                        };
                        out.push(json!({
                            "type": "indicator_update",
                            "symbol": sub.symbol,
                            "timeframe": sub.tf.as_str(),
                            "indicator_id": sent,
                            "value": render(id, &column(tail, i)),
                            "candle_time": bar.start,
                            "complete": true,
                            "timestamp": timestamp,
                        }));
                    }
                }
            }
            Mode::Tick => {
                if sub.bars {
                    // Bars closed (and stored) since the last poll, then the forming bar.
                    let closed = stored_closed(state, sub, &series);
                    let from = sub
                        .last_closed
                        .map_or(0, |t| closed.partition_point(|b| b.start <= t));
                    let new = &closed[from.max(closed.len().saturating_sub(MAX_CATCH_UP_BARS))..];
                    for bar in new {
                        out.push(bar_json(state, sub, bar, true));
                    }
                    if let Some(last) = new.last() {
                        sub.last_closed = Some(last.start);
                    }
                }
                if sub
                    .last_series
                    .as_ref()
                    .is_some_and(|s| Arc::ptr_eq(s, &series))
                {
                    continue;
                }
                let Some(last) = series.bars.last() else {
                    continue;
                };
                if sub.bars && series.last_forming && sub.last_closed.is_none_or(|t| last.start > t)
                {
                    out.push(bar_json(state, sub, last, false));
                }
                let candle_time = last.start;
                for (sent, id) in &sub.ids {
                    let Ok(tail) = tail_values(id, sub.tf, &series.bars, 1) else {
                        continue;
                    };
                    out.push(json!({
                        "type": "indicator_update",
                        "symbol": sub.symbol,
                        "timeframe": sub.tf.as_str(),
                        "indicator_id": sent,
                        "value": render(id, &column(&tail, 0)),
                        "candle_time": candle_time,
                        "complete": !series.last_forming,
                        "timestamp": timestamp,
                    }));
                }
                sub.last_series = Some(series);
            }
        }
    }
    out
}
