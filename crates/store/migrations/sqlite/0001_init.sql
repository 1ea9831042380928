-- Instruments known to the system (from the symbols crate, the simulator or a feed).
CREATE TABLE IF NOT EXISTS instruments (
    tradingsymbol TEXT PRIMARY KEY,
    token         INTEGER,
    kind          TEXT NOT NULL,
    exchange      TEXT NOT NULL,
    underlying    TEXT NOT NULL,
    expiry        TEXT,
    strike        REAL,
    option_type   TEXT,
    lot_size      INTEGER,
    tick_size     REAL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS instruments_underlying ON instruments (underlying, kind, expiry);

-- OHLCV bars. start_ts: bar start as a UTC instant, epoch seconds.
CREATE TABLE IF NOT EXISTS bars (
    instrument TEXT    NOT NULL,
    timeframe  TEXT    NOT NULL,
    start_ts   INTEGER NOT NULL,
    open       REAL    NOT NULL,
    high       REAL    NOT NULL,
    low        REAL    NOT NULL,
    close      REAL    NOT NULL,
    volume     INTEGER NOT NULL DEFAULT 0,
    oi         INTEGER,
    open_oi    INTEGER,
    PRIMARY KEY (instrument, timeframe, start_ts)
) WITHOUT ROWID;
