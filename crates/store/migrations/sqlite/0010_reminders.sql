-- Reminders on the exchange calendar (times UTC epoch ms on the exchange clock). next_at is
-- the claim: a replica that fires a reminder moves it on from the value it read, so of several
-- replicas one fires each occurrence.
CREATE TABLE IF NOT EXISTS reminders (
    reminder_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    owner          TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    frequency      TEXT    NOT NULL,          -- once, daily, weekly, market_open, market_close, before_expiry
    at_ms          INTEGER,                    -- once
    minute_of_day  INTEGER,                    -- daily, weekly (IST)
    weekday        INTEGER,                    -- weekly: 0 Monday … 6 Sunday
    offset_minutes INTEGER  NOT NULL,
    underlying     TEXT,                      -- before_expiry
    weekly_series  INTEGER  NOT NULL,
    priority       TEXT    NOT NULL,
    data           TEXT    NOT NULL,          -- JSON object
    enabled        INTEGER  NOT NULL,
    status         TEXT    NOT NULL,          -- scheduled, completed, cancelled
    next_at        INTEGER,
    fire_count     INTEGER  NOT NULL,
    last_fired_at  INTEGER,
    created_at     INTEGER  NOT NULL,
    updated_at     INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS reminders_owner ON reminders (owner);
CREATE INDEX IF NOT EXISTS reminders_status ON reminders (status);
