-- Instruments known to the system (from the symbols crate, the simulator or a feed).
CREATE TABLE IF NOT EXISTS instruments (
    tradingsymbol TEXT PRIMARY KEY,
    token         BIGINT,
    kind          TEXT NOT NULL,
    exchange      TEXT NOT NULL,
    underlying    TEXT NOT NULL,
    expiry        DATE,
    strike        DOUBLE PRECISION,
    option_type   TEXT,
    lot_size      INTEGER,
    tick_size     DOUBLE PRECISION,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS instruments_underlying ON instruments (underlying, kind, expiry);

-- OHLCV bars. start_ts: bar start as a UTC instant, epoch seconds (same encoding as SQLite so
-- that one query layer serves both back-ends).
CREATE TABLE IF NOT EXISTS bars (
    instrument TEXT             NOT NULL,
    timeframe  TEXT             NOT NULL,
    start_ts   BIGINT           NOT NULL,
    open       DOUBLE PRECISION NOT NULL,
    high       DOUBLE PRECISION NOT NULL,
    low        DOUBLE PRECISION NOT NULL,
    close      DOUBLE PRECISION NOT NULL,
    volume     BIGINT           NOT NULL DEFAULT 0,
    oi         BIGINT,
    open_oi    BIGINT,
    PRIMARY KEY (instrument, timeframe, start_ts)
);
