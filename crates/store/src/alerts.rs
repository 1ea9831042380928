//! Alerts and the events they raised (times epoch ms).
//!
//! A firing is claimed by inserting its event: `(alert_id, fire_no)` is unique, so when several
//! replicas evaluate the same tick exactly one records the firing ([`Store::record_firings`]).

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// Most alerts one owner may have that are not cancelled or finished.
pub const MAX_LIVE_ALERTS_PER_OWNER: i64 = 1000;
/// Most events a listing returns.
pub const MAX_EVENTS_LISTED: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub alert_id: i64,
    pub owner: String,
    /// `price` or `indicator`.
    pub kind: String,
    pub symbol: String,
    pub timeframe: Option<String>,
    pub condition: String,
    pub message: String,
    pub priority: String,
    pub repeating: bool,
    pub cooldown_ms: i64,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// `active`, `triggered`, `paused`, `cancelled` or `expired`.
    pub status: String,
    pub fired: i64,
    pub last_fired_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a new alert is made of (the store fills id, status, counters and times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub owner: String,
    pub kind: String,
    pub symbol: String,
    pub timeframe: Option<String>,
    pub condition: String,
    pub message: String,
    pub priority: String,
    pub repeating: bool,
    pub cooldown_ms: i64,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEventRow {
    pub event_id: i64,
    pub owner: String,
    pub alert_id: Option<i64>,
    pub fire_no: Option<i64>,
    pub kind: String,
    pub priority: String,
    pub symbol: String,
    pub message: String,
    /// A JSON object.
    pub data: String,
    pub at: i64,
    pub acknowledged_at: Option<i64>,
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertEvent {
    pub owner: String,
    pub kind: String,
    pub priority: String,
    pub symbol: String,
    pub message: String,
    pub data: String,
    pub at: i64,
}

/// Which events to list (all conditions together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events after this id (a stream's gap fill).
    pub after_id: Option<i64>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub symbol: Option<String>,
    pub alert_id: Option<i64>,
    pub acknowledged: Option<bool>,
    /// Newest first when false (a listing), oldest first when true (a gap fill).
    pub oldest_first: bool,
    pub limit: i64,
}

const ALERT_COLUMNS: &str = "alert_id, owner, kind, symbol, timeframe, condition, message, priority, repeating, cooldown_ms, webhook_url, webhook_secret, status, fired, last_fired_at, expires_at, created_at, updated_at";
pub(crate) const EVENT_COLUMNS: &str = "event_id, owner, alert_id, fire_no, kind, priority, symbol, message, data, at, acknowledged_at";

fn alert_row<R: Row>(r: &R) -> Result<AlertRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AlertRow {
        alert_id: r.try_get("alert_id")?,
        owner: r.try_get("owner")?,
        kind: r.try_get("kind")?,
        symbol: r.try_get("symbol")?,
        timeframe: r.try_get("timeframe")?,
        condition: r.try_get("condition")?,
        message: r.try_get("message")?,
        priority: r.try_get("priority")?,
        repeating: r.try_get::<i64, _>("repeating")? != 0,
        cooldown_ms: r.try_get("cooldown_ms")?,
        webhook_url: r.try_get("webhook_url")?,
        webhook_secret: r.try_get("webhook_secret")?,
        status: r.try_get("status")?,
        fired: r.try_get("fired")?,
        last_fired_at: r.try_get("last_fired_at")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) fn event_row<R: Row>(r: &R) -> Result<AlertEventRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AlertEventRow {
        event_id: r.try_get("event_id")?,
        owner: r.try_get("owner")?,
        alert_id: r.try_get("alert_id")?,
        fire_no: r.try_get("fire_no")?,
        kind: r.try_get("kind")?,
        priority: r.try_get("priority")?,
        symbol: r.try_get("symbol")?,
        message: r.try_get("message")?,
        data: r.try_get("data")?,
        at: r.try_get("at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
    })
}

fn count_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

fn id_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("id")?)
}

/// One firing to record: the alert, its firing number, its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub alert: AlertRow,
    pub fire_no: i64,
    pub event: NewAlertEvent,
}

macro_rules! firings_tx {
    ($pool:expr, $firings:expr, $pg:expr) => {{
        let mut tx = $pool.begin().await?;
        let fix = |q: &str| if $pg { pg_placeholders(q) } else { q.to_string() };
        let insert = fix(&format!(
            "INSERT INTO alert_events (owner, alert_id, fire_no, kind, priority, symbol, message, data, at, acknowledged_at) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL WHERE EXISTS (SELECT 1 FROM alerts WHERE alert_id = ? AND status = 'active') \
             ON CONFLICT (alert_id, fire_no) DO NOTHING RETURNING {EVENT_COLUMNS}"
        ));
        let update = fix(
            "UPDATE alerts SET fired = ?, last_fired_at = ?, status = CASE WHEN status = 'active' THEN ? ELSE status END, updated_at = ? WHERE alert_id = ? AND fired < ?",
        );
        let mut out = Vec::with_capacity($firings.len());
        for f in $firings {
            let e = &f.event;
            let row = sqlx::query(&insert)
                .bind(e.owner.as_str())
                .bind(f.alert.alert_id)
                .bind(f.fire_no)
                .bind(e.kind.as_str())
                .bind(e.priority.as_str())
                .bind(e.symbol.as_str())
                .bind(e.message.as_str())
                .bind(e.data.as_str())
                .bind(e.at)
                .bind(f.alert.alert_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                out.push(None);
                continue;
            };
            let status = if f.alert.repeating { "active" } else { "triggered" };
            sqlx::query(&update)
                .bind(f.fire_no)
                .bind(e.at)
                .bind(status)
                .bind(e.at)
                .bind(f.alert.alert_id)
                .bind(f.fire_no)
                .execute(&mut *tx)
                .await?;
            out.push(Some(event_row(&row)?));
        }
        tx.commit().await?;
        Ok(out)
    }};
}

impl Store {
    /// Record several firings in one transaction (what a busy evaluator does): for each, its
    /// event (`None` when another replica recorded that firing first or the alert is no
    /// longer active), then the alert's counters.
    pub async fn record_firings(
        &self,
        firings: &[Firing],
    ) -> Result<Vec<Option<AlertEventRow>>, StoreError> {
        if firings.is_empty() {
            return Ok(Vec::new());
        }
        match &self.pool {
            Pool::Sqlite(p) => firings_tx!(p, firings, false),
            Pool::Postgres(p) => firings_tx!(p, firings, true),
        }
    }

    /// Create an alert (`active`, never fired), refused past [`MAX_LIVE_ALERTS_PER_OWNER`].
    pub async fn create_alert(&self, a: &NewAlert, now: i64) -> Result<AlertRow, StoreError> {
        let n = run!(
            self,
            optional,
            "SELECT COUNT(*) AS n FROM alerts WHERE owner = ? AND status IN ('active', 'paused')",
            count_col,
            a.owner.as_str()
        )?
        .unwrap_or(0);
        if n >= MAX_LIVE_ALERTS_PER_OWNER {
            return Err(StoreError::Limit(format!(
                "at most {MAX_LIVE_ALERTS_PER_OWNER} active or paused alerts per user"
            )));
        }
        let sql = "INSERT INTO alerts (owner, kind, symbol, timeframe, condition, message, priority, repeating, cooldown_ms, webhook_url, webhook_secret, status, fired, last_fired_at, expires_at, created_at, updated_at) \
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 0, NULL, ?, ?, ?) RETURNING alert_id AS id";
        let id = run!(
            self,
            optional,
            sql,
            id_col,
            a.owner.as_str(),
            a.kind.as_str(),
            a.symbol.as_str(),
            a.timeframe.as_deref(),
            a.condition.as_str(),
            a.message.as_str(),
            a.priority.as_str(),
            i64::from(a.repeating),
            a.cooldown_ms,
            a.webhook_url.as_deref(),
            a.webhook_secret.as_deref(),
            a.expires_at,
            now,
            now
        )?
        .ok_or_else(|| StoreError::Corrupt("no id returned for a new alert".into()))?;
        self.alert(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("alert vanished after insert".into()))
    }

    pub async fn alert(&self, alert_id: i64) -> Result<Option<AlertRow>, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?");
        run!(self, optional, &sql, alert_row, alert_id)
    }

    /// An owner's alerts, newest first.
    pub async fn alerts_of(&self, owner: &str) -> Result<Vec<AlertRow>, StoreError> {
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE owner = ? ORDER BY alert_id DESC");
        run!(self, all, &sql, alert_row, owner)
    }

    /// Every alert in `status` (what an evaluator loads), oldest first.
    pub async fn alerts_in(&self, status: &str) -> Result<Vec<AlertRow>, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE status = ? ORDER BY alert_id");
        run!(self, all, &sql, alert_row, status)
    }

    /// Alerts changed since `since` (ms), any status: how a replica learns of others' changes.
    pub async fn alerts_changed_since(&self, since: i64) -> Result<Vec<AlertRow>, StoreError> {
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE updated_at >= ? ORDER BY alert_id");
        run!(self, all, &sql, alert_row, since)
    }

    /// Move the owner's alert from one of `from` to `to`; false when it is not the owner's or
    /// not in one of `from`.
    pub async fn set_alert_status(
        &self,
        owner: &str,
        alert_id: i64,
        from: &[&str],
        to: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // At most three source states; unused slots repeat the first.
        let f = |i: usize| from.get(i).or(from.first()).copied().unwrap_or("");
        let n = run!(
            self,
            execute,
            "UPDATE alerts SET status = ?, updated_at = ? WHERE owner = ? AND alert_id = ? AND status IN (?, ?, ?)",
            (),
            to,
            now,
            owner,
            alert_id,
            f(0),
            f(1),
            f(2)
        )?;
        Ok(n > 0)
    }

    /// Expire active alerts whose time is up; returns how many.
    pub async fn expire_alerts(&self, now: i64) -> Result<u64, StoreError> {
        run!(
            self,
            execute,
            "UPDATE alerts SET status = 'expired', updated_at = ? WHERE status IN ('active', 'paused') AND expires_at IS NOT NULL AND expires_at <= ?",
            (),
            now,
            now
        )
    }

    /// Record an event no alert raised (a client's `raise_alert`).
    pub async fn insert_alert_event(&self, e: &NewAlertEvent) -> Result<AlertEventRow, StoreError> {
        let sql = format!(
            "INSERT INTO alert_events (owner, alert_id, fire_no, kind, priority, symbol, message, data, at, acknowledged_at) \
             VALUES (?, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL) RETURNING {EVENT_COLUMNS}"
        );
        run!(
            self,
            optional,
            &sql,
            event_row,
            e.owner.as_str(),
            e.kind.as_str(),
            e.priority.as_str(),
            e.symbol.as_str(),
            e.message.as_str(),
            e.data.as_str(),
            e.at
        )?
        .ok_or_else(|| StoreError::Corrupt("no row returned for a new alert event".into()))
    }

    pub async fn alert_event(&self, event_id: i64) -> Result<Option<AlertEventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM alert_events WHERE event_id = ?");
        run!(self, optional, &sql, event_row, event_id)
    }

    /// An owner's events matching `f` (at most [`MAX_EVENTS_LISTED`]).
    pub async fn alert_events_of(
        &self,
        owner: &str,
        f: &EventFilter,
    ) -> Result<Vec<AlertEventRow>, StoreError> {
        let order = if f.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM alert_events WHERE owner = ? \
             AND event_id > ? \
             AND (? = '' OR kind = ?) AND (? = '' OR priority = ?) AND (? = '' OR symbol = ?) \
             AND (? = 0 OR alert_id = ?) \
             AND (? = 0 OR (? = 1 AND acknowledged_at IS NOT NULL) OR (? = 2 AND acknowledged_at IS NULL)) \
             ORDER BY event_id {order} LIMIT ?"
        );
        let kind = f.kind.as_deref().unwrap_or("");
        let priority = f.priority.as_deref().unwrap_or("");
        let symbol = f.symbol.as_deref().unwrap_or("");
        let alert_id = f.alert_id.unwrap_or(0);
        let ack: i64 = match f.acknowledged {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        run!(
            self,
            all,
            &sql,
            event_row,
            owner,
            f.after_id.unwrap_or(0),
            kind,
            kind,
            priority,
            priority,
            symbol,
            symbol,
            alert_id,
            alert_id,
            ack,
            ack,
            ack,
            f.limit.clamp(1, MAX_EVENTS_LISTED)
        )
    }

    /// Mark the owner's event acknowledged; false when it is not the owner's.
    pub async fn acknowledge_alert_event(
        &self,
        owner: &str,
        event_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = run!(
            self,
            execute,
            "UPDATE alert_events SET acknowledged_at = COALESCE(acknowledged_at, ?) WHERE owner = ? AND event_id = ?",
            (),
            now,
            owner,
            event_id
        )?;
        Ok(n > 0)
    }

    /// Delete the owner's events (all, or only acknowledged ones); returns how many.
    pub async fn clear_alert_events(
        &self,
        owner: &str,
        acknowledged_only: bool,
    ) -> Result<u64, StoreError> {
        run!(
            self,
            execute,
            "DELETE FROM alert_events WHERE owner = ? AND (? = 0 OR acknowledged_at IS NOT NULL)",
            (),
            owner,
            i64::from(acknowledged_only)
        )
    }
}
