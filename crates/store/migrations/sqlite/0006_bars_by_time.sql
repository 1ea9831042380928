-- Reads by time across instruments (the simulator's start-up: the bars of one minute, the
-- day's volume so far, which minutes a stretch already has).
CREATE INDEX IF NOT EXISTS bars_by_time ON bars (timeframe, start_ts);
