//! Reminders on the exchange calendar (times epoch ms on the exchange clock).
//!
//! An occurrence is claimed by moving `next_at` on from the value the replica read
//! ([`Store::fire_reminder`]): of several replicas due at the same instant one fires it.

use sqlx::Row;

use crate::alerts::{AlertEventRow, NewAlertEvent};
use crate::{Pool, Store, StoreError, pg_placeholders};

/// Most reminders one owner may have scheduled.
pub const MAX_REMINDERS_PER_OWNER: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    pub reminder_id: i64,
    pub owner: String,
    pub message: String,
    pub frequency: String,
    pub at_ms: Option<i64>,
    pub minute_of_day: Option<i64>,
    pub weekday: Option<i64>,
    pub offset_minutes: i64,
    pub underlying: Option<String>,
    pub weekly_series: bool,
    pub priority: String,
    /// A JSON object.
    pub data: String,
    pub enabled: bool,
    /// `scheduled`, `completed` or `cancelled`.
    pub status: String,
    pub next_at: Option<i64>,
    pub fire_count: i64,
    pub last_fired_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new reminder (the store fills id, status, counters and times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    pub owner: String,
    pub message: String,
    pub frequency: String,
    pub at_ms: Option<i64>,
    pub minute_of_day: Option<i64>,
    pub weekday: Option<i64>,
    pub offset_minutes: i64,
    pub underlying: Option<String>,
    pub weekly_series: bool,
    pub priority: String,
    pub data: String,
    pub next_at: Option<i64>,
}

const COLUMNS: &str = "reminder_id, owner, message, frequency, at_ms, minute_of_day, weekday, offset_minutes, underlying, weekly_series, priority, data, enabled, status, next_at, fire_count, last_fired_at, created_at, updated_at";

fn reminder_row<R: Row>(r: &R) -> Result<ReminderRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ReminderRow {
        reminder_id: r.try_get("reminder_id")?,
        owner: r.try_get("owner")?,
        message: r.try_get("message")?,
        frequency: r.try_get("frequency")?,
        at_ms: r.try_get("at_ms")?,
        minute_of_day: r.try_get("minute_of_day")?,
        weekday: r.try_get("weekday")?,
        offset_minutes: r.try_get("offset_minutes")?,
        underlying: r.try_get("underlying")?,
        weekly_series: r.try_get::<i64, _>("weekly_series")? != 0,
        priority: r.try_get("priority")?,
        data: r.try_get("data")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        status: r.try_get("status")?,
        next_at: r.try_get("next_at")?,
        fire_count: r.try_get("fire_count")?,
        last_fired_at: r.try_get("last_fired_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn count_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

macro_rules! fire_tx {
    ($pool:expr, $pg:expr, $id:expr, $due:expr, $next:expr, $now:expr, $event:expr) => {{
        let fix = |q: &str| if $pg { pg_placeholders(q) } else { q.to_string() };
        let mut tx = $pool.begin().await?;
        let status = if $next.is_some() { "scheduled" } else { "completed" };
        let claimed = sqlx::query(&fix(
            "UPDATE reminders SET next_at = ?, status = ?, fire_count = fire_count + 1, last_fired_at = ?, updated_at = ? \
             WHERE reminder_id = ? AND next_at = ? AND enabled = 1 AND status = 'scheduled'",
        ))
        .bind($next)
        .bind(status)
        .bind($now)
        .bind($now)
        .bind($id)
        .bind($due)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let e = $event;
        let row = sqlx::query(&fix(&format!(
            "INSERT INTO alert_events (owner, alert_id, fire_no, kind, priority, symbol, message, data, at, acknowledged_at) \
             VALUES (?, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL) RETURNING {}",
            crate::alerts::EVENT_COLUMNS
        )))
        .bind(e.owner.as_str())
        .bind(e.kind.as_str())
        .bind(e.priority.as_str())
        .bind(e.symbol.as_str())
        .bind(e.message.as_str())
        .bind(e.data.as_str())
        .bind(e.at)
        .fetch_one(&mut *tx)
        .await?;
        let out = crate::alerts::event_row(&row)?;
        tx.commit().await?;
        Ok(Some(out))
    }};
}

impl Store {
    /// Claim the occurrence at `due` and record its event, in one transaction: the event of
    /// the replica whose claim moved the reminder on (to `next`; None: it is done), None for
    /// the others — a crash between the two cannot lose an occurrence.
    pub async fn fire_reminder(
        &self,
        reminder_id: i64,
        due: i64,
        next: Option<i64>,
        now: i64,
        event: &NewAlertEvent,
    ) -> Result<Option<AlertEventRow>, StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => fire_tx!(p, false, reminder_id, due, next, now, event),
            Pool::Postgres(p) => fire_tx!(p, true, reminder_id, due, next, now, event),
        }
    }

    /// Schedule a reminder (enabled), refused past [`MAX_REMINDERS_PER_OWNER`].
    pub async fn create_reminder(
        &self,
        r: &NewReminder,
        now: i64,
    ) -> Result<ReminderRow, StoreError> {
        let n = run!(
            self,
            optional,
            "SELECT COUNT(*) AS n FROM reminders WHERE owner = ? AND status = 'scheduled'",
            count_col,
            r.owner.as_str()
        )?
        .unwrap_or(0);
        if n >= MAX_REMINDERS_PER_OWNER {
            return Err(StoreError::Limit(format!(
                "at most {MAX_REMINDERS_PER_OWNER} scheduled reminders per user"
            )));
        }
        let sql = format!(
            "INSERT INTO reminders (owner, message, frequency, at_ms, minute_of_day, weekday, offset_minutes, underlying, weekly_series, priority, data, enabled, status, next_at, fire_count, last_fired_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 0, NULL, ?, ?) RETURNING {COLUMNS}"
        );
        let status = if r.next_at.is_some() {
            "scheduled"
        } else {
            "completed"
        };
        run!(
            self,
            optional,
            &sql,
            reminder_row,
            r.owner.as_str(),
            r.message.as_str(),
            r.frequency.as_str(),
            r.at_ms,
            r.minute_of_day,
            r.weekday,
            r.offset_minutes,
            r.underlying.as_deref(),
            i64::from(r.weekly_series),
            r.priority.as_str(),
            r.data.as_str(),
            status,
            r.next_at,
            now,
            now
        )?
        .ok_or_else(|| StoreError::Corrupt("no row returned for a new reminder".into()))
    }

    pub async fn reminder(&self, reminder_id: i64) -> Result<Option<ReminderRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM reminders WHERE reminder_id = ?");
        run!(self, optional, &sql, reminder_row, reminder_id)
    }

    /// An owner's reminders, soonest first (finished ones last).
    pub async fn reminders_of(&self, owner: &str) -> Result<Vec<ReminderRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reminders WHERE owner = ? ORDER BY (next_at IS NULL), next_at, reminder_id"
        );
        run!(self, all, &sql, reminder_row, owner)
    }

    /// Reminders changed since `since` (any status): what a replica reloads.
    pub async fn reminders_changed_since(
        &self,
        since: i64,
    ) -> Result<Vec<ReminderRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM reminders WHERE updated_at >= ? ORDER BY reminder_id");
        run!(self, all, &sql, reminder_row, since)
    }

    /// Every scheduled reminder (an evaluator's start).
    pub async fn scheduled_reminders(&self) -> Result<Vec<ReminderRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reminders WHERE status = 'scheduled' ORDER BY reminder_id"
        );
        run!(self, all, &sql, reminder_row)
    }

    /// Enable or disable the owner's scheduled reminder (a re-enabled one moves to `next_at`);
    /// false when it is not the owner's or not scheduled.
    pub async fn set_reminder_enabled(
        &self,
        owner: &str,
        reminder_id: i64,
        enabled: bool,
        next_at: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = run!(
            self,
            execute,
            "UPDATE reminders SET enabled = ?, next_at = COALESCE(?, next_at), updated_at = ? WHERE owner = ? AND reminder_id = ? AND status = 'scheduled'",
            (),
            i64::from(enabled),
            next_at,
            now,
            owner,
            reminder_id
        )?;
        Ok(n > 0)
    }

    /// Cancel the owner's reminder; false when it is not the owner's or already finished.
    pub async fn cancel_reminder(
        &self,
        owner: &str,
        reminder_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = run!(
            self,
            execute,
            "UPDATE reminders SET status = 'cancelled', updated_at = ? WHERE owner = ? AND reminder_id = ? AND status = 'scheduled'",
            (),
            now,
            owner,
            reminder_id
        )?;
        Ok(n > 0)
    }
}
