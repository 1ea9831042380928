//! Bar persistence: batched multi-row upserts that merge (the same rule as
//! `stocksblitz_market::Bar::merge`), and reads that return the newest data oldest first.

use std::collections::HashMap;

use compact_str::CompactString;
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};
use stocksblitz_market::{Bar, Timeframe};

use crate::{Pool, Store, StoreError};

/// Rows per INSERT statement (12 binds each: well under both back-ends' limits).
const ROWS_PER_STATEMENT: usize = 1000;

const COLUMNS: &str = "instrument, timeframe, start_ts, open, high, low, close, volume, oi, open_oi, first_ts_ms, last_ts_ms";

/// The upsert's merge rule, mirrored from `Bar::merge`: high/low extended, volume added,
/// open/open OI from the earlier data, close/OI from the later data.
const MERGE: &str = " ON CONFLICT (instrument, timeframe, start_ts) DO UPDATE SET \
    high = CASE WHEN excluded.high > bars.high THEN excluded.high ELSE bars.high END, \
    low = CASE WHEN excluded.low < bars.low THEN excluded.low ELSE bars.low END, \
    volume = bars.volume + excluded.volume, \
    open = CASE WHEN excluded.first_ts_ms < bars.first_ts_ms THEN excluded.open ELSE bars.open END, \
    open_oi = CASE WHEN excluded.first_ts_ms < bars.first_ts_ms THEN COALESCE(excluded.open_oi, bars.open_oi) ELSE bars.open_oi END, \
    first_ts_ms = CASE WHEN excluded.first_ts_ms < bars.first_ts_ms THEN excluded.first_ts_ms ELSE bars.first_ts_ms END, \
    close = CASE WHEN excluded.last_ts_ms >= bars.last_ts_ms THEN excluded.close ELSE bars.close END, \
    oi = CASE WHEN excluded.last_ts_ms >= bars.last_ts_ms THEN COALESCE(excluded.oi, bars.oi) ELSE bars.oi END, \
    last_ts_ms = CASE WHEN excluded.last_ts_ms >= bars.last_ts_ms THEN excluded.last_ts_ms ELSE bars.last_ts_ms END";

const SELECT: &str = "SELECT instrument, timeframe, start_ts, open, high, low, close, volume, oi, open_oi, first_ts_ms, last_ts_ms FROM bars";

fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.and_then(|x| i64::try_from(x).ok())
}

/// Merge bars with the same key (a Closed and an Amend in one flush): an upsert may touch a
/// row only once per statement.
pub fn coalesce(bars: &[Bar]) -> Vec<Bar> {
    let mut index: HashMap<(&str, Timeframe, i64), usize> = HashMap::with_capacity(bars.len());
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len());
    for b in bars {
        if let Some(&i) = index.get(&(b.instrument.as_str(), b.timeframe, b.start)) {
            out[i].merge(b);
        } else {
            index.insert((b.instrument.as_str(), b.timeframe, b.start), out.len());
            out.push(b.clone());
        }
    }
    out
}

macro_rules! upsert_chunk {
    ($db:ty, $pool:expr, $rows:expr) => {{
        let mut tx = $pool.begin().await?;
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            let mut qb: QueryBuilder<'_, $db> =
                QueryBuilder::new(format!("INSERT INTO bars ({COLUMNS}) "));
            qb.push_values(chunk, |mut r, b| {
                r.push_bind(b.instrument.as_str())
                    .push_bind(b.timeframe.as_str())
                    .push_bind(b.start)
                    .push_bind(b.open)
                    .push_bind(b.high)
                    .push_bind(b.low)
                    .push_bind(b.close)
                    .push_bind(i64::try_from(b.volume).unwrap_or(i64::MAX))
                    .push_bind(opt_i64(b.oi))
                    .push_bind(opt_i64(b.open_oi))
                    .push_bind(b.first_ts_ms)
                    .push_bind(b.last_ts_ms);
            });
            qb.push(MERGE);
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }};
}

fn row_to_bar<R: Row>(row: &R) -> Result<Bar, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let tf: String = row.try_get("timeframe")?;
    let timeframe = Timeframe::parse(&tf).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let instrument: String = row.try_get("instrument")?;
    let count = |v: Option<i64>| v.and_then(|x| u64::try_from(x).ok());
    Ok(Bar {
        instrument: CompactString::from(instrument),
        timeframe,
        start: row.try_get("start_ts")?,
        open: row.try_get("open")?,
        high: row.try_get("high")?,
        low: row.try_get("low")?,
        close: row.try_get("close")?,
        volume: count(row.try_get("volume")?).unwrap_or(0),
        oi: count(row.try_get("oi")?),
        open_oi: count(row.try_get("open_oi")?),
        first_ts_ms: row.try_get("first_ts_ms")?,
        last_ts_ms: row.try_get("last_ts_ms")?,
    })
}

/// A row of [`Store::last_bars`]'s numeric columns, by position, for a known key.
fn keyed_row<R: Row>(
    row: &R,
    instrument: &CompactString,
    timeframe: Timeframe,
) -> Result<Bar, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let count = |v: Option<i64>| v.and_then(|x| u64::try_from(x).ok());
    Ok(Bar {
        instrument: instrument.clone(),
        timeframe,
        start: row.try_get(0)?,
        open: row.try_get(1)?,
        high: row.try_get(2)?,
        low: row.try_get(3)?,
        close: row.try_get(4)?,
        volume: count(row.try_get(5)?).unwrap_or(0),
        oi: count(row.try_get(6)?),
        open_oi: count(row.try_get(7)?),
        first_ts_ms: row.try_get(8)?,
        last_ts_ms: row.try_get(9)?,
    })
}

macro_rules! fetch_bars {
    ($store:expr, $sql:expr, $($bind:expr),*) => {{
        match &$store.pool {
            Pool::Sqlite(p) => {
                let q = sqlx::query($sql)$(.bind($bind))*;
                q.fetch_all(p).await?.iter().map(row_to_bar).collect::<Result<Vec<_>, _>>()
            }
            Pool::Postgres(p) => {
                let sql = crate::pg_placeholders($sql);
                let q = sqlx::query(&sql)$(.bind($bind))*;
                q.fetch_all(p).await?.iter().map(row_to_bar).collect::<Result<Vec<_>, _>>()
            }
        }
    }};
}

impl Store {
    /// Write bars in one transaction (multi-row upserts), merging with stored bars.
    pub async fn upsert_bars(&self, bars: &[Bar]) -> Result<(), StoreError> {
        if bars.is_empty() {
            return Ok(());
        }
        let rows = coalesce(bars);
        match &self.pool {
            Pool::Sqlite(p) => upsert_chunk!(Sqlite, p, rows),
            Pool::Postgres(p) => upsert_chunk!(Postgres, p, rows),
        }
        Ok(())
    }

    /// The newest `limit` bars of an instrument (optionally ending at or before `to`), oldest
    /// first.
    pub async fn last_bars(
        &self,
        instrument: &str,
        tf: Timeframe,
        limit: u32,
        to: Option<i64>,
    ) -> Result<Vec<Bar>, StoreError> {
        // The hot read of every series: numeric columns only, read by position (the key is
        // known; a text column and a name lookup per value cost more than the row itself).
        const SQL: &str = "SELECT start_ts, open, high, low, close, volume, oi, open_oi, first_ts_ms, last_ts_ms FROM bars WHERE instrument = ? AND timeframe = ? AND start_ts <= ? ORDER BY start_ts DESC LIMIT ?";
        let to = to.unwrap_or(i64::MAX);
        let name = CompactString::from(instrument);
        let mut bars = match &self.pool {
            Pool::Sqlite(p) => sqlx::query(SQL)
                .bind(instrument)
                .bind(tf.as_str())
                .bind(to)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| keyed_row(r, &name, tf))
                .collect::<Result<Vec<_>, _>>()?,
            Pool::Postgres(p) => sqlx::query(&crate::pg_placeholders(SQL))
                .bind(instrument)
                .bind(tf.as_str())
                .bind(to)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| keyed_row(r, &name, tf))
                .collect::<Result<Vec<_>, _>>()?,
        };
        bars.reverse();
        Ok(bars)
    }

    /// Bars with `from <= start < to`, oldest first (at most `limit`).
    pub async fn bars_range(
        &self,
        instrument: &str,
        tf: Timeframe,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<Bar>, StoreError> {
        let sql = format!(
            "{SELECT} WHERE instrument = ? AND timeframe = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts ASC LIMIT ?"
        );
        fetch_bars!(
            self,
            &sql,
            instrument,
            tf.as_str(),
            from,
            to,
            i64::from(limit)
        )
    }

    /// The latest bar of every instrument for a timeframe.
    pub async fn latest_bars(&self, tf: Timeframe) -> Result<Vec<Bar>, StoreError> {
        let sql = format!(
            "{SELECT} b WHERE timeframe = ? AND start_ts = (SELECT MAX(start_ts) FROM bars m WHERE m.instrument = b.instrument AND m.timeframe = b.timeframe) ORDER BY instrument"
        );
        fetch_bars!(self, &sql, tf.as_str())
    }

    /// Every instrument's bar of `tf` starting at `start` (UTC epoch seconds).
    pub async fn bars_at(&self, tf: Timeframe, start: i64) -> Result<Vec<Bar>, StoreError> {
        let sql = format!("{SELECT} WHERE timeframe = ? AND start_ts = ? ORDER BY instrument");
        fetch_bars!(self, &sql, tf.as_str(), start)
    }

    /// The (instrument, start) of every stored 1-minute bar with `from <= start <= to`.
    pub async fn minute_keys_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT instrument, start_ts FROM bars WHERE timeframe = '1m' AND start_ts >= ? AND start_ts <= ?";
        Ok(match &self.pool {
            Pool::Sqlite(p) => sqlx::query_as(SQL).bind(from).bind(to).fetch_all(p).await?,
            Pool::Postgres(p) => {
                sqlx::query_as(&crate::pg_placeholders(SQL))
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// Each instrument's 1-minute volume summed from `from` (UTC epoch seconds) on: the day's
    /// volume so far when `from` is the session open.
    pub async fn volume_since(&self, from: i64) -> Result<Vec<(String, u64)>, StoreError> {
        const SQL: &str = "SELECT instrument, SUM(volume) FROM bars WHERE timeframe = '1m' AND start_ts >= ? GROUP BY instrument";
        let rows: Vec<(String, Option<i64>)> = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_as(SQL).bind(from).fetch_all(p).await?,
            Pool::Postgres(p) => {
                // SUM over BIGINT is NUMERIC in PostgreSQL: cast back.
                let sql = crate::pg_placeholders(
                    "SELECT instrument, SUM(volume)::BIGINT FROM bars WHERE timeframe = '1m' AND start_ts >= ? GROUP BY instrument",
                );
                sqlx::query_as(&sql).bind(from).fetch_all(p).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(i, v)| (i, v.and_then(|x| u64::try_from(x).ok()).unwrap_or(0)))
            .collect())
    }

    /// Number of bars stored (all instruments and timeframes).
    pub async fn count_bars(&self) -> Result<i64, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bars")
                    .fetch_one(p)
                    .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bars")
                    .fetch_one(p)
                    .await?
            }
        })
    }
}
