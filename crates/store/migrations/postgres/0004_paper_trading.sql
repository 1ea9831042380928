-- Paper trading (broker issue): accounts, the broker's event log per shard, shard leases
-- (one replica matches a shard at a time), idempotency keys of order placement.
-- Money in paise, times UTC epoch ms.
CREATE TABLE IF NOT EXISTS paper_accounts (
    account_id      BIGSERIAL PRIMARY KEY,
    owner           TEXT    NOT NULL,          -- the client: user:<id> or key:<id>
    name            TEXT    NOT NULL,
    opening_balance BIGINT  NOT NULL,
    shard           BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX IF NOT EXISTS paper_accounts_owner ON paper_accounts (owner);

CREATE TABLE IF NOT EXISTS broker_events (
    shard BIGINT  NOT NULL,
    seq   BIGINT  NOT NULL,                    -- the broker's event seq, from 1 without gaps
    at    BIGINT  NOT NULL,
    body  TEXT    NOT NULL,                    -- the event as JSON
    PRIMARY KEY (shard, seq)
);

CREATE TABLE IF NOT EXISTS broker_leases (
    shard      BIGINT  PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    response   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (owner, key)
);
