-- Paper trading (broker issue): accounts, the broker's event log per shard, shard leases
-- (one replica matches a shard at a time), idempotency keys of order placement.
-- Money in paise, times UTC epoch ms.
CREATE TABLE IF NOT EXISTS paper_accounts (
    account_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    owner           TEXT    NOT NULL,          -- the client: user:<id> or key:<id>
    name            TEXT    NOT NULL,
    opening_balance INTEGER NOT NULL,
    shard           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX IF NOT EXISTS paper_accounts_owner ON paper_accounts (owner);

CREATE TABLE IF NOT EXISTS broker_events (
    shard INTEGER NOT NULL,
    seq   INTEGER NOT NULL,                    -- the broker's event seq, from 1 without gaps
    at    INTEGER NOT NULL,
    body  TEXT    NOT NULL,                    -- the event as JSON
    PRIMARY KEY (shard, seq)
);

CREATE TABLE IF NOT EXISTS broker_leases (
    shard      INTEGER PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    response   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);
