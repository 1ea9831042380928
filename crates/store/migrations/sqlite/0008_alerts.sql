-- Alerts evaluated by the server (price alerts on every quote, indicator alerts on bar closes)
-- and what they raised. Times UTC epoch ms. An event row is the claim on a firing: the
-- (alert_id, fire_no) pair is unique, so of several replicas evaluating the same tick one
-- records it and the others see the conflict.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    owner          TEXT    NOT NULL,
    kind           TEXT    NOT NULL,          -- price, indicator
    symbol         TEXT    NOT NULL,          -- canonical tradingsymbol
    timeframe      TEXT,                      -- indicator alerts
    condition      TEXT    NOT NULL,          -- canonical form
    message        TEXT    NOT NULL,
    priority       TEXT    NOT NULL,          -- low, medium, high, critical
    repeating      INTEGER  NOT NULL,          -- 0 one-shot, 1 repeating
    cooldown_ms    INTEGER  NOT NULL,
    webhook_url    TEXT,
    webhook_secret TEXT,
    status         TEXT    NOT NULL,          -- active, triggered, paused, cancelled, expired
    fired          INTEGER  NOT NULL,
    last_fired_at  INTEGER,
    expires_at     INTEGER,
    created_at     INTEGER  NOT NULL,
    updated_at     INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_owner ON alerts (owner);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts (status);

CREATE TABLE IF NOT EXISTS alert_events (
    event_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    owner           TEXT    NOT NULL,
    alert_id        INTEGER,                   -- NULL: raised by a client (raise_alert)
    fire_no         INTEGER,
    kind            TEXT    NOT NULL,          -- price, indicator, volume, position, order, custom
    priority        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    data            TEXT    NOT NULL,          -- JSON object
    at              INTEGER  NOT NULL,
    acknowledged_at INTEGER,
    UNIQUE (alert_id, fire_no)
);
CREATE INDEX IF NOT EXISTS alert_events_owner ON alert_events (owner, event_id);
