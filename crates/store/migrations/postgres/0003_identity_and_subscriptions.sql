-- Identity (auth issue) and indicator subscriptions (HTTP API issue). Times: UTC epoch ms.
CREATE TABLE IF NOT EXISTS users (
    user_id       BIGSERIAL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,           -- Argon2id PHC string, never the password
    roles         TEXT    NOT NULL DEFAULT 'user',
    status        TEXT    NOT NULL DEFAULT 'active',
    created_at    BIGINT  NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
    key_id             TEXT    PRIMARY KEY,   -- the public 8-hex part of sb_<id>_<secret>
    key_hash           BYTEA    NOT NULL,      -- SHA-256 of the whole key
    user_id            BIGINT  NOT NULL REFERENCES users (user_id),
    name               TEXT    NOT NULL,
    description        TEXT,
    scopes             TEXT    NOT NULL,      -- comma-separated: read,trade,cancel,modify,admin
    rate_limit_per_min BIGINT,
    orders_per_sec     BIGINT,
    ip_allowlist       TEXT,                  -- comma-separated addresses / CIDRs
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    revoked_reason     TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys (user_id);

CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (user_id),
    persistent BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    user_agent TEXT,
    ip         TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

-- Refresh tokens form one family per session; reuse of a used token revokes the session.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash BYTEA    PRIMARY KEY,           -- SHA-256 of the opaque token
    session_id TEXT    NOT NULL REFERENCES sessions (session_id),
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE IF NOT EXISTS signing_keys (
    kid         TEXT    PRIMARY KEY,          -- RFC 7638 thumbprint
    algorithm   TEXT    NOT NULL,             -- EdDSA, ES256 or RS256
    private_key BYTEA    NOT NULL,             -- PKCS#8 DER
    public_jwk  TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,                      -- no longer signs; still published until expires_at
    expires_at BIGINT
);

CREATE TABLE IF NOT EXISTS indicator_subscriptions (
    client_id    TEXT    NOT NULL,
    instrument   TEXT    NOT NULL,
    timeframe    TEXT    NOT NULL,
    indicator_id TEXT    NOT NULL,            -- canonical id, e.g. RSI_14_100
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, instrument, timeframe, indicator_id)
);
CREATE INDEX IF NOT EXISTS indicator_subscriptions_key ON indicator_subscriptions (instrument, timeframe, indicator_id);
