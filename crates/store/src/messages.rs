//! Messages between one user's own clients (times epoch ms; content and metadata JSON text).

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// Messages kept per owner: past it the oldest are deleted as new ones arrive.
pub const MAX_MESSAGES_PER_OWNER: i64 = 10_000;
/// Most messages one listing returns.
pub const MAX_MESSAGES_LISTED: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub message_id: i64,
    pub owner: String,
    pub topic: Option<String>,
    pub sender: String,
    pub recipient: Option<String>,
    pub message_type: String,
    pub content: String,
    pub metadata: String,
    pub at: i64,
    pub read_at: Option<i64>,
}

/// A message to store (the store fills id and read time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub owner: String,
    pub topic: Option<String>,
    pub sender: String,
    pub recipient: Option<String>,
    pub message_type: String,
    pub content: String,
    pub metadata: String,
    pub at: i64,
}

/// Which messages to list (all conditions together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    pub after_id: Option<i64>,
    pub topic: Option<String>,
    pub recipient: Option<String>,
    pub unread_only: bool,
    /// Oldest first (a catch-up, a mailbox) instead of newest first.
    pub oldest_first: bool,
    pub limit: i64,
}

const COLUMNS: &str =
    "message_id, owner, topic, sender, recipient, message_type, content, metadata, at, read_at";

fn message_row<R: Row>(r: &R) -> Result<MessageRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(MessageRow {
        message_id: r.try_get("message_id")?,
        owner: r.try_get("owner")?,
        topic: r.try_get("topic")?,
        sender: r.try_get("sender")?,
        recipient: r.try_get("recipient")?,
        message_type: r.try_get("message_type")?,
        content: r.try_get("content")?,
        metadata: r.try_get("metadata")?,
        at: r.try_get("at")?,
        read_at: r.try_get("read_at")?,
    })
}

impl Store {
    /// Store a message (and forget the owner's oldest past [`MAX_MESSAGES_PER_OWNER`]).
    pub async fn insert_message(&self, m: &NewMessage) -> Result<MessageRow, StoreError> {
        let sql = format!(
            "INSERT INTO messages (owner, topic, sender, recipient, message_type, content, metadata, at, read_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) RETURNING {COLUMNS}"
        );
        let row = run!(
            self,
            optional,
            &sql,
            message_row,
            m.owner.as_str(),
            m.topic.as_deref(),
            m.sender.as_str(),
            m.recipient.as_deref(),
            m.message_type.as_str(),
            m.content.as_str(),
            m.metadata.as_str(),
            m.at
        )?
        .ok_or_else(|| StoreError::Corrupt("no row returned for a new message".into()))?;
        // Every 100th message of an owner trims the oldest beyond the bound.
        if row.message_id % 100 == 0 {
            run!(
                self,
                execute,
                "DELETE FROM messages WHERE owner = ? AND message_id <= ( \
                 SELECT message_id FROM messages WHERE owner = ? ORDER BY message_id DESC LIMIT 1 OFFSET ?)",
                (),
                m.owner.as_str(),
                m.owner.as_str(),
                MAX_MESSAGES_PER_OWNER
            )?;
        }
        Ok(row)
    }

    /// The owner's messages matching `f`.
    pub async fn messages_of(
        &self,
        owner: &str,
        f: &MessageFilter,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let order = if f.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE owner = ? AND message_id > ? \
             AND (? = '' OR topic = ?) AND (? = '' OR recipient = ?) \
             AND (? = 0 OR read_at IS NULL) ORDER BY message_id {order} LIMIT ?"
        );
        let topic = f.topic.as_deref().unwrap_or("");
        let recipient = f.recipient.as_deref().unwrap_or("");
        run!(
            self,
            all,
            &sql,
            message_row,
            owner,
            f.after_id.unwrap_or(0),
            topic,
            topic,
            recipient,
            recipient,
            i64::from(f.unread_only),
            f.limit.clamp(1, MAX_MESSAGES_LISTED)
        )
    }

    /// Mark the owner's messages `ids` addressed to `recipient` read; returns how many.
    pub async fn mark_messages_read(
        &self,
        owner: &str,
        recipient: &str,
        ids: &[i64],
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        for id in ids {
            n += run!(
                self,
                execute,
                "UPDATE messages SET read_at = ? WHERE owner = ? AND recipient = ? AND message_id = ? AND read_at IS NULL",
                (),
                now,
                owner,
                recipient,
                *id
            )?;
        }
        Ok(n)
    }

    /// Delete the owner's messages (of one topic, or all); returns how many.
    pub async fn clear_messages(
        &self,
        owner: &str,
        topic: Option<&str>,
    ) -> Result<u64, StoreError> {
        let t = topic.unwrap_or("");
        run!(
            self,
            execute,
            "DELETE FROM messages WHERE owner = ? AND (? = '' OR topic = ?)",
            (),
            owner,
            t,
            t
        )
    }
}
