-- 0006 created bars_by_time on (timeframe, start_ts), the same columns as 0002's
-- bars_timeframe_start: every bar write paid for the same index twice. Keep one.
DROP INDEX IF EXISTS bars_by_time;
