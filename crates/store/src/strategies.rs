//! Strategies over paper accounts and their snapshots (money in paise, times epoch ms).

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// Most strategies one owner may have.
pub const MAX_STRATEGIES_PER_OWNER: i64 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyRow {
    pub strategy_id: i64,
    pub owner: String,
    pub account_id: i64,
    pub name: String,
    pub kind: String,
    pub description: String,
    /// A JSON object.
    pub config: String,
    /// `created`, `active`, `paused` or `stopped`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A strategy's book at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotRow {
    pub strategy_id: i64,
    pub at: i64,
    pub total_pnl: i64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    pub open_positions: i64,
    pub total_quantity: i64,
    pub capital_deployed: i64,
    pub margin_used: i64,
}

fn strategy_row<R: Row>(r: &R) -> Result<StrategyRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StrategyRow {
        strategy_id: r.try_get("strategy_id")?,
        owner: r.try_get("owner")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        description: r.try_get("description")?,
        config: r.try_get("config")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn snapshot_row<R: Row>(r: &R) -> Result<SnapshotRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(SnapshotRow {
        strategy_id: r.try_get("strategy_id")?,
        at: r.try_get("at")?,
        total_pnl: r.try_get("total_pnl")?,
        realized_pnl: r.try_get("realized_pnl")?,
        unrealized_pnl: r.try_get("unrealized_pnl")?,
        open_positions: r.try_get("open_positions")?,
        total_quantity: r.try_get("total_quantity")?,
        capital_deployed: r.try_get("capital_deployed")?,
        margin_used: r.try_get("margin_used")?,
    })
}

fn count_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

const COLUMNS: &str = "strategy_id, owner, account_id, name, kind, description, config, status, created_at, updated_at";

impl Store {
    /// Create a strategy (names are unique per owner).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_strategy(
        &self,
        owner: &str,
        account_id: i64,
        name: &str,
        kind: &str,
        description: &str,
        config: &str,
        now: i64,
    ) -> Result<StrategyRow, StoreError> {
        let n = run!(
            self,
            optional,
            "SELECT COUNT(*) AS n FROM strategies WHERE owner = ?",
            count_col,
            owner
        )?
        .unwrap_or(0);
        if n >= MAX_STRATEGIES_PER_OWNER {
            return Err(StoreError::Limit(format!(
                "at most {MAX_STRATEGIES_PER_OWNER} strategies per owner"
            )));
        }
        let insert = "INSERT INTO strategies (owner, account_id, name, kind, description, config, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?)";
        match run!(
            self,
            execute,
            insert,
            (),
            owner,
            account_id,
            name,
            kind,
            description,
            config,
            now,
            now
        ) {
            Ok(_) => {}
            Err(StoreError::Query(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                return Err(StoreError::Exists(format!("strategy {name:?}")));
            }
            Err(e) => return Err(e),
        }
        self.strategy_named(owner, name)
            .await?
            .ok_or_else(|| StoreError::Corrupt("strategy vanished after insert".into()))
    }

    pub async fn strategy_named(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<Option<StrategyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE owner = ? AND name = ?");
        run!(self, optional, &sql, strategy_row, owner, name)
    }

    pub async fn strategy(&self, strategy_id: i64) -> Result<Option<StrategyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE strategy_id = ?");
        run!(self, optional, &sql, strategy_row, strategy_id)
    }

    /// The owner's strategies, oldest first.
    pub async fn strategies_of(&self, owner: &str) -> Result<Vec<StrategyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE owner = ? ORDER BY strategy_id");
        run!(self, all, &sql, strategy_row, owner)
    }

    /// Every strategy in `status` (the snapshot task reads the active ones).
    pub async fn strategies_in(&self, status: &str) -> Result<Vec<StrategyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE status = ? ORDER BY strategy_id");
        run!(self, all, &sql, strategy_row, status)
    }

    /// Set the status when it is one of `from` (Ok(false): it was not).
    pub async fn set_strategy_status(
        &self,
        strategy_id: i64,
        from: &[&str],
        to: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let Some(s) = self.strategy(strategy_id).await? else {
            return Ok(false);
        };
        if !from.contains(&s.status.as_str()) {
            return Ok(false);
        }
        let n = run!(
            self,
            execute,
            "UPDATE strategies SET status = ?, updated_at = ? WHERE strategy_id = ? AND status = ?",
            (),
            to,
            now,
            strategy_id,
            s.status.as_str()
        )?;
        Ok(n > 0)
    }

    /// Record a snapshot (a second one at the same instant is ignored).
    pub async fn insert_strategy_snapshot(&self, s: &SnapshotRow) -> Result<(), StoreError> {
        run!(
            self,
            execute,
            "INSERT INTO strategy_snapshots (strategy_id, at, total_pnl, realized_pnl, unrealized_pnl, open_positions, total_quantity, capital_deployed, margin_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (),
            s.strategy_id,
            s.at,
            s.total_pnl,
            s.realized_pnl,
            s.unrealized_pnl,
            s.open_positions,
            s.total_quantity,
            s.capital_deployed,
            s.margin_used
        )?;
        Ok(())
    }

    /// Snapshots in `[from, to]`, oldest first, the newest `limit` of them.
    pub async fn strategy_snapshots(
        &self,
        strategy_id: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let mut rows = run!(
            self,
            all,
            "SELECT * FROM strategy_snapshots WHERE strategy_id = ? AND at >= ? AND at <= ? ORDER BY at DESC LIMIT ?",
            snapshot_row,
            strategy_id,
            from,
            to,
            limit.clamp(1, 100_000)
        )?;
        rows.reverse();
        Ok(rows)
    }
}
