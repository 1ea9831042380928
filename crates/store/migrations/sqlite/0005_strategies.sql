-- Strategies over paper accounts: a named record whose orders carry its tag (its book is the
-- account's fills with that tag), and the snapshots recorded while it is active.
-- Money in paise, times UTC epoch ms.
CREATE TABLE IF NOT EXISTS strategies (
    strategy_id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT    NOT NULL,
    account_id  INTEGER  NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    config      TEXT    NOT NULL,          -- JSON object
    status      TEXT    NOT NULL,          -- created, active, paused, stopped
    created_at  INTEGER  NOT NULL,
    updated_at  INTEGER  NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX IF NOT EXISTS strategies_status ON strategies (status);

CREATE TABLE IF NOT EXISTS strategy_snapshots (
    strategy_id      INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    total_pnl        INTEGER NOT NULL,
    realized_pnl     INTEGER NOT NULL,
    unrealized_pnl   INTEGER NOT NULL,
    open_positions   INTEGER NOT NULL,
    total_quantity   INTEGER NOT NULL,
    capital_deployed INTEGER NOT NULL,
    margin_used      INTEGER NOT NULL,
    PRIMARY KEY (strategy_id, at)
);
