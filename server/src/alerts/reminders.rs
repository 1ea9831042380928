//! Reminders fired on the exchange clock (the demo clock under `--demo-clock`) through the
//! alerts' delivery: each occurrence is claimed in the store (one replica of several fires
//! it), recorded as an alert event of type `reminder` and sent to the owner's `/alerts/stream`.
//! An occurrence missed while no replica ran fires once, late, and the reminder moves on to
//! its next occurrence after now.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Weekday;
use serde_json::json;
use stocksblitz_alerts::schedule::{Frequency, Schedule, next_fire};
use stocksblitz_store::alerts::NewAlertEvent;
use stocksblitz_store::reminders::ReminderRow;

use crate::state::AppState;

/// How often due reminders are looked for.
pub(crate) const REMINDER_POLL: Duration = Duration::from_millis(250);
/// How often reminders changed elsewhere (or through the routes) are read.
pub(crate) const REMINDER_SYNC: Duration = Duration::from_secs(1);

pub(crate) const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The schedule a stored reminder describes (None: unreadable, never fired).
pub(crate) fn schedule_of(r: &ReminderRow) -> Option<Schedule> {
    Some(Schedule {
        frequency: Frequency::parse(&r.frequency)?,
        at_ms: r.at_ms,
        minute_of_day: r.minute_of_day.and_then(|m| u32::try_from(m).ok()),
        weekday: r
            .weekday
            .and_then(|w| usize::try_from(w).ok())
            .and_then(|w| WEEKDAYS.get(w).copied()),
        offset_minutes: r.offset_minutes,
        underlying: r.underlying.clone(),
        weekly_series: r.weekly_series,
    })
}

fn keep(map: &mut HashMap<i64, ReminderRow>, r: ReminderRow) {
    if r.status == "scheduled" && r.enabled && r.next_at.is_some() {
        map.insert(r.reminder_id, r);
    } else {
        map.remove(&r.reminder_id);
    }
}

/// The reminder task (supervised).
pub(crate) async fn run(state: Arc<AppState>) -> anyhow::Result<()> {
    let mut live: HashMap<i64, ReminderRow> = HashMap::new();
    for r in state.store.scheduled_reminders().await? {
        keep(&mut live, r);
    }
    let mut synced_at = crate::ingest::now_ms();
    let mut last_sync = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(REMINDER_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if last_sync.elapsed() >= REMINDER_SYNC {
            let wall = crate::ingest::now_ms();
            let window = REMINDER_SYNC.as_millis() as i64 * 2;
            match state
                .store
                .reminders_changed_since(synced_at - window)
                .await
            {
                Ok(rows) => {
                    for r in rows {
                        keep(&mut live, r);
                    }
                    synced_at = wall;
                }
                Err(e) => tracing::warn!(error = %e, "reading changed reminders failed"),
            }
            last_sync = tokio::time::Instant::now();
        }
        let now = state.market_now();
        let due: Vec<ReminderRow> = live
            .values()
            .filter(|r| r.next_at.is_some_and(|t| t <= now))
            .cloned()
            .collect();
        for r in due {
            fire(&state, &mut live, r, now).await;
        }
    }
}

async fn fire(
    state: &Arc<AppState>,
    live: &mut HashMap<i64, ReminderRow>,
    r: ReminderRow,
    now: i64,
) {
    let Some(due) = r.next_at else {
        return;
    };
    let next = schedule_of(&r).and_then(|s| next_fire(&s, now.max(due)));
    let wall = crate::ingest::now_ms();
    let data = json!({
        "reminder_id": r.reminder_id.to_string(),
        "frequency": r.frequency,
        "due_at": due,
        "fired_at": now,
        "next_at": next,
        "data": serde_json::from_str::<serde_json::Value>(&r.data).unwrap_or_else(|_| json!({})),
    });
    let ev = NewAlertEvent {
        owner: r.owner.clone(),
        kind: "reminder".into(),
        priority: r.priority.clone(),
        symbol: r.underlying.clone().unwrap_or_default(),
        message: r.message.clone(),
        data: data.to_string(),
        at: wall,
    };
    match state
        .store
        .fire_reminder(r.reminder_id, due, next, wall, &ev)
        .await
    {
        Ok(Some(e)) => super::deliver::publish(state, &e, None),
        // Another replica fired it (or it changed meanwhile): read it again.
        Ok(None) => {
            if let Ok(Some(row)) = state.store.reminder(r.reminder_id).await {
                keep(live, row);
                return;
            }
        }
        Err(e) => {
            tracing::warn!(reminder = r.reminder_id, error = %e, "reminder claim failed; retried");
            return;
        }
    }
    let mut moved = r;
    moved.next_at = next;
    keep(live, moved);
}
