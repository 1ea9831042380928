//! Indicator subscriptions: one row per (client, instrument, timeframe, canonical indicator id),
//! so subscribing twice is idempotent, each client changes only its own rows, and a count of
//! subscribers is a count of rows. They survive restarts.

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// One subscription key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionKey<'a> {
    pub instrument: &'a str,
    pub timeframe: &'a str,
    /// Canonical id (`RSI_14_100`).
    pub indicator_id: &'a str,
}

/// A stored subscription of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub instrument: String,
    pub timeframe: String,
    pub indicator_id: String,
    pub created_at: i64,
}

fn count_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

fn subscription<R: Row>(r: &R) -> Result<SubscriptionRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(SubscriptionRow {
        instrument: r.try_get("instrument")?,
        timeframe: r.try_get("timeframe")?,
        indicator_id: r.try_get("indicator_id")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Subscribe `client` (idempotent). Returns whether a new row was written.
    pub async fn subscribe(
        &self,
        client: &str,
        key: &SubscriptionKey<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO indicator_subscriptions (client_id, instrument, timeframe, indicator_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
        let n = run!(
            self,
            execute,
            sql,
            (),
            client,
            key.instrument,
            key.timeframe,
            key.indicator_id,
            now
        )?;
        Ok(n > 0)
    }

    /// Remove `client`'s subscription. Returns whether it existed.
    pub async fn unsubscribe(
        &self,
        client: &str,
        key: &SubscriptionKey<'_>,
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM indicator_subscriptions WHERE client_id = ? AND instrument = ? AND timeframe = ? AND indicator_id = ?";
        let n = run!(
            self,
            execute,
            sql,
            (),
            client,
            key.instrument,
            key.timeframe,
            key.indicator_id
        )?;
        Ok(n > 0)
    }

    /// Clients subscribed to `key`.
    pub async fn subscriber_count(&self, key: &SubscriptionKey<'_>) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) AS n FROM indicator_subscriptions WHERE instrument = ? AND timeframe = ? AND indicator_id = ?";
        let n = run!(
            self,
            optional,
            sql,
            count_col,
            key.instrument,
            key.timeframe,
            key.indicator_id
        )?;
        Ok(n.unwrap_or(0))
    }

    /// All subscriptions of `client`, oldest first.
    pub async fn subscriptions_of(&self, client: &str) -> Result<Vec<SubscriptionRow>, StoreError> {
        let sql = "SELECT instrument, timeframe, indicator_id, created_at FROM indicator_subscriptions WHERE client_id = ? ORDER BY created_at, instrument, timeframe, indicator_id";
        run!(self, all, sql, subscription, client)
    }
}
