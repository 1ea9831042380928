-- Strategies over paper accounts: a named record whose orders carry its tag (its book is the
-- account's fills with that tag), and the snapshots recorded while it is active.
-- Money in paise, times UTC epoch ms.
CREATE TABLE IF NOT EXISTS strategies (
    strategy_id BIGSERIAL PRIMARY KEY,
    owner       TEXT    NOT NULL,
    account_id  BIGINT  NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    config      TEXT    NOT NULL,          -- JSON object
    status      TEXT    NOT NULL,          -- created, active, paused, stopped
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX IF NOT EXISTS strategies_status ON strategies (status);

CREATE TABLE IF NOT EXISTS strategy_snapshots (
    strategy_id      BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    total_pnl        BIGINT NOT NULL,
    realized_pnl     BIGINT NOT NULL,
    unrealized_pnl   BIGINT NOT NULL,
    open_positions   BIGINT NOT NULL,
    total_quantity   BIGINT NOT NULL,
    capital_deployed BIGINT NOT NULL,
    margin_used      BIGINT NOT NULL,
    PRIMARY KEY (strategy_id, at)
);
