-- Exchange times (UTC epoch ms) of the first and last tick in a bar: the merge rule for late
-- ticks takes open from the earliest data and close/OI from the latest.
ALTER TABLE bars ADD COLUMN IF NOT EXISTS first_ts_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bars ADD COLUMN IF NOT EXISTS last_ts_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS bars_timeframe_start ON bars (timeframe, start_ts);
