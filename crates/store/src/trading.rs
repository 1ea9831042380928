//! Paper-trading persistence: accounts, the broker's event log, shard leases and idempotency
//! keys. The broker (a pure crate) produces events; the server writes them here before it
//! acknowledges a command, and replays them on start.
//!
//! Accounts are spread over a fixed number of shards; one broker engine matches one shard, and
//! one replica holds a shard's lease at a time. Appending to a shard's log is fenced by the lease
//! (a replica that lost its lease cannot append) and by the `(shard, seq)` key (two writers of
//! the same seq: the second gets [`StoreError::Conflict`] and must reload) — so no event is
//! applied twice.

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// A paper account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperAccount {
    pub account_id: i64,
    /// The client that owns it (`user:<id>`, `key:<id>`).
    pub owner: String,
    pub name: String,
    /// Paise.
    pub opening_balance: i64,
    pub shard: i64,
    pub created_at: i64,
}

/// One stored broker event: its position in the shard's log, time and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: i64,
    pub body: String,
}

/// Who holds a shard's lease, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub expires_at: i64,
}

/// Most accounts one owner may have.
pub const MAX_ACCOUNTS_PER_OWNER: i64 = 50;

fn account_row<R: Row>(r: &R) -> Result<PaperAccount, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(PaperAccount {
        account_id: r.try_get("account_id")?,
        owner: r.try_get("owner")?,
        name: r.try_get("name")?,
        opening_balance: r.try_get("opening_balance")?,
        shard: r.try_get("shard")?,
        created_at: r.try_get("created_at")?,
    })
}

fn event_row<R: Row>(r: &R) -> Result<StoredEvent, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredEvent {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        body: r.try_get("body")?,
    })
}

fn lease_row<R: Row>(r: &R) -> Result<Lease, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Lease {
        holder: r.try_get("holder")?,
        expires_at: r.try_get("expires_at")?,
    })
}

fn text_col<R: Row>(r: &R) -> Result<String, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("response")?)
}

fn count_col<R: Row>(r: &R) -> Result<i64, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(r.try_get("n")?)
}

const ACCOUNT_COLUMNS: &str = "account_id, owner, name, opening_balance, shard, created_at";

/// Whether a database error is a unique-key violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Append events in one transaction, only while `holder` holds the shard's lease at `now`.
/// Each insert carries the lease check itself (no read before the first write: SQLite would
/// refuse to upgrade a read transaction that another writer overtook, without waiting).
macro_rules! append_tx {
    ($pool:expr, $shard:expr, $holder:expr, $now:expr, $events:expr, $pg:expr) => {{
        let mut tx = $pool.begin().await?;
        let insert = "INSERT INTO broker_events (shard, seq, at, body) SELECT ?, ?, ?, ? \
                      WHERE EXISTS (SELECT 1 FROM broker_leases WHERE shard = ? AND holder = ? AND expires_at > ?)";
        let insert = if $pg { pg_placeholders(insert) } else { insert.to_string() };
        for e in $events {
            let r = sqlx::query(&insert)
                .bind($shard)
                .bind(e.seq)
                .bind(e.at)
                .bind(e.body.as_str())
                .bind($shard)
                .bind($holder)
                .bind($now)
                .execute(&mut *tx)
                .await;
            match r {
                Ok(done) if done.rows_affected() == 0 => {
                    return Err(StoreError::LeaseLost { shard: $shard });
                }
                Ok(_) => {}
                Err(err) if is_unique_violation(&err) => {
                    return Err(StoreError::Conflict {
                        shard: $shard,
                        seq: e.seq,
                    });
                }
                Err(err) => return Err(err.into()),
            }
        }
        tx.commit().await?;
        Ok(())
    }};
}

impl Store {
    /// Create an account for `owner` (names are unique per owner). Its shard is its id modulo
    /// `shards`.
    pub async fn create_paper_account(
        &self,
        owner: &str,
        name: &str,
        opening_balance: i64,
        shards: i64,
        now: i64,
    ) -> Result<PaperAccount, StoreError> {
        let shards = shards.max(1);
        let n = run!(
            self,
            optional,
            "SELECT COUNT(*) AS n FROM paper_accounts WHERE owner = ?",
            count_col,
            owner
        )?
        .unwrap_or(0);
        if n >= MAX_ACCOUNTS_PER_OWNER {
            return Err(StoreError::Limit(format!(
                "at most {MAX_ACCOUNTS_PER_OWNER} accounts per owner"
            )));
        }
        let insert = "INSERT INTO paper_accounts (owner, name, opening_balance, shard, created_at) VALUES (?, ?, ?, -1, ?)";
        let r = run!(self, execute, insert, (), owner, name, opening_balance, now);
        match r {
            Ok(_) => {}
            Err(StoreError::Query(e)) if is_unique_violation(&e) => {
                return Err(StoreError::Exists(format!("account {name:?}")));
            }
            Err(e) => return Err(e),
        }
        run!(
            self,
            execute,
            "UPDATE paper_accounts SET shard = account_id % ? WHERE owner = ? AND name = ?",
            (),
            shards,
            owner,
            name
        )?;
        self.paper_account_named(owner, name)
            .await?
            .ok_or_else(|| StoreError::Corrupt("account vanished after insert".into()))
    }

    async fn paper_account_named(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<Option<PaperAccount>, StoreError> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM paper_accounts WHERE owner = ? AND name = ?");
        run!(self, optional, &sql, account_row, owner, name)
    }

    /// One account by id (any owner: callers check ownership).
    pub async fn paper_account(&self, account_id: i64) -> Result<Option<PaperAccount>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM paper_accounts WHERE account_id = ?");
        run!(self, optional, &sql, account_row, account_id)
    }

    /// An owner's accounts, oldest first.
    pub async fn paper_accounts_of(&self, owner: &str) -> Result<Vec<PaperAccount>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM paper_accounts WHERE owner = ? ORDER BY account_id"
        );
        run!(self, all, &sql, account_row, owner)
    }

    /// Every account of a shard (to open them in its engine).
    pub async fn paper_accounts_in_shard(
        &self,
        shard: i64,
    ) -> Result<Vec<PaperAccount>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM paper_accounts WHERE shard = ? ORDER BY account_id"
        );
        run!(self, all, &sql, account_row, shard)
    }

    /// Append `events` to the shard's log in one transaction, fenced by the lease: refused with
    /// [`StoreError::LeaseLost`] unless `holder` holds it at `now`, and with
    /// [`StoreError::Conflict`] (nothing written) when a seq is taken.
    pub async fn append_broker_events(
        &self,
        shard: i64,
        holder: &str,
        now: i64,
        events: &[StoredEvent],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        match &self.pool {
            Pool::Sqlite(p) => append_tx!(p, shard, holder, now, events, false),
            Pool::Postgres(p) => append_tx!(p, shard, holder, now, events, true),
        }
    }

    /// The time of the latest broker event of any shard (where the books' clock stands).
    pub async fn latest_broker_event_at(&self) -> Result<Option<i64>, StoreError> {
        run!(
            self,
            optional,
            "SELECT MAX(at) FROM broker_events",
            |row: &_| -> Result<Option<i64>, StoreError> { Ok(sqlx::Row::try_get(row, 0)?) }
        )
        .map(Option::flatten)
    }

    /// The shard's events after `after_seq`, in order.
    pub async fn broker_events(
        &self,
        shard: i64,
        after_seq: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        run!(
            self,
            all,
            "SELECT seq, at, body FROM broker_events WHERE shard = ? AND seq > ? ORDER BY seq",
            event_row,
            shard,
            after_seq
        )
    }

    /// Take or renew the shard's lease for `ttl_ms`: granted when it is free, expired, or
    /// already `holder`'s. Returns whether `holder` holds it now.
    pub async fn acquire_lease(
        &self,
        shard: i64,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO broker_leases (shard, holder, expires_at) VALUES (?, ?, ?) \
                   ON CONFLICT (shard) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                   WHERE broker_leases.holder = excluded.holder OR broker_leases.expires_at <= ?";
        let n = run!(
            self,
            execute,
            sql,
            (),
            shard,
            holder,
            now.saturating_add(ttl_ms.max(1)),
            now
        )?;
        Ok(n > 0)
    }

    /// Give the lease up (only `holder`'s).
    pub async fn release_lease(&self, shard: i64, holder: &str) -> Result<bool, StoreError> {
        let n = run!(
            self,
            execute,
            "DELETE FROM broker_leases WHERE shard = ? AND holder = ?",
            (),
            shard,
            holder
        )?;
        Ok(n > 0)
    }

    /// The shard's lease as stored (possibly expired).
    pub async fn lease(&self, shard: i64) -> Result<Option<Lease>, StoreError> {
        run!(
            self,
            optional,
            "SELECT holder, expires_at FROM broker_leases WHERE shard = ?",
            lease_row,
            shard
        )
    }

    /// The response first stored under `(owner, key)` at or after `not_before`, if any.
    pub async fn idempotent_response(
        &self,
        owner: &str,
        key: &str,
        not_before: i64,
    ) -> Result<Option<String>, StoreError> {
        run!(
            self,
            optional,
            "SELECT response FROM idempotency_keys WHERE owner = ? AND key = ? AND created_at >= ?",
            text_col,
            owner,
            key,
            not_before
        )
    }

    /// Store `response` under `(owner, key)` unless a response stored at or after `not_before`
    /// is there (an older one is replaced). Returns the response that stands (the first one).
    pub async fn remember_response(
        &self,
        owner: &str,
        key: &str,
        response: &str,
        now: i64,
        not_before: i64,
    ) -> Result<String, StoreError> {
        run!(
            self,
            execute,
            "INSERT INTO idempotency_keys (owner, key, response, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (owner, key) DO UPDATE SET response = excluded.response, created_at = excluded.created_at \
             WHERE idempotency_keys.created_at < ?",
            (),
            owner,
            key,
            response,
            now,
            not_before
        )?;
        self.idempotent_response(owner, key, not_before)
            .await?
            .ok_or_else(|| StoreError::Corrupt("idempotency key vanished".into()))
    }
}
