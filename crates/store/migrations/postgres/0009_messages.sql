-- Messages between one user's own clients and strategies (topics and direct messages to a
-- named recipient). Times UTC epoch ms; content and metadata are JSON text.
CREATE TABLE IF NOT EXISTS messages (
    message_id   BIGSERIAL PRIMARY KEY,
    owner        TEXT    NOT NULL,
    topic        TEXT,                      -- NULL: a direct message
    sender       TEXT    NOT NULL,
    recipient    TEXT,                      -- NULL: to the topic's subscribers
    message_type TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    metadata     TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    read_at      BIGINT
);
CREATE INDEX IF NOT EXISTS messages_owner ON messages (owner, message_id);
