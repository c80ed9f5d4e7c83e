-- 0004 summary refresh, TimescaleDB: replace the refresh policies of 0002 (start_offset 3 days
-- for pack_telemetry_hourly, 7 days for pack_telemetry_daily) with open-ended ones.
--
-- Found on a real TimescaleDB (2.28.3): a real-time continuous aggregate adds raw rows only
-- above its watermark, the end of what has been materialised. Once a policy with a 3-day window
-- had run, rows older than the window that were never materialised (a backfill, a replay after
-- a long outage, readings a vehicle uploads days late) were missing from the summary until
-- someone refreshed that range by hand, while the plain-mode views included them.
-- With start_offset => NULL the window starts at the beginning of the hypertable; a refresh
-- only recomputes the buckets whose raw rows changed since the last refresh (the invalidation
-- log), so a routine run still costs only the recent buckets, and the first run catches up on
-- everything once. As in the plain views, buckets whose raw chunks the retention policy
-- dropped are emptied when such a range is refreshed.
--
-- Variables (substituted by the runner as quoted literals, from DatabaseSettings):
--   :'cagg_refresh_interval'  how often the refresh policies run (VOLTSTREAM_DB_CAGG_REFRESH_INTERVAL)

SELECT remove_continuous_aggregate_policy('pack_telemetry_hourly', if_exists => true);
SELECT add_continuous_aggregate_policy('pack_telemetry_hourly',
    start_offset => NULL,
    end_offset => INTERVAL '1 hour',
    schedule_interval => :'cagg_refresh_interval'::interval,
    if_not_exists => true);

SELECT remove_continuous_aggregate_policy('pack_telemetry_daily', if_exists => true);
SELECT add_continuous_aggregate_policy('pack_telemetry_daily',
    start_offset => NULL,
    end_offset => INTERVAL '1 hour',
    schedule_interval => :'cagg_refresh_interval'::interval,
    if_not_exists => true);
