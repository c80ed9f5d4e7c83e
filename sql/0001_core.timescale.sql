-- 0001 core, TimescaleDB: hypertables, compression and retention for the time-series tables.
--
-- Variables (substituted by the runner as quoted literals, from DatabaseSettings):
--   :'chunk_interval'  chunk time interval of every hypertable      (VOLTSTREAM_DB_CHUNK_INTERVAL)
--   :'compress_after'  age after which chunks are compressed        (VOLTSTREAM_DB_COMPRESS_AFTER)
--   :'retention'       age after which chunks are dropped           (VOLTSTREAM_DB_RETENTION)
-- The tables are empty when this runs; create_hypertable also makes the (time DESC) index
-- "<table>_time_idx". vehicles and cycle_series are not time-series and stay plain tables.

SELECT create_hypertable('pack_telemetry', by_range('time', :'chunk_interval'::interval),
                         if_not_exists => true);
SELECT create_hypertable('pack_cells', by_range('time', :'chunk_interval'::interval),
                         if_not_exists => true);
SELECT create_hypertable('battery_health', by_range('time', :'chunk_interval'::interval),
                         if_not_exists => true);
SELECT create_hypertable('battery_alerts', by_range('time', :'chunk_interval'::interval),
                         if_not_exists => true);
SELECT create_hypertable('dead_letters', by_range('time', :'chunk_interval'::interval),
                         if_not_exists => true);

-- Compression: one segment per vehicle, newest first. Every column of a unique key is either
-- the segmentby column or an orderby column, so ON CONFLICT still works on compressed chunks.
ALTER TABLE pack_telemetry SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id',
    timescaledb.compress_orderby = 'time DESC, kind'
);
ALTER TABLE pack_cells SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id',
    timescaledb.compress_orderby = 'time DESC'
);
ALTER TABLE battery_health SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id',
    timescaledb.compress_orderby = 'time DESC'
);
ALTER TABLE battery_alerts SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id',
    timescaledb.compress_orderby = 'time DESC, alert_id, state'
);

SELECT add_compression_policy('pack_telemetry', compress_after => :'compress_after'::interval,
                              if_not_exists => true);
SELECT add_compression_policy('pack_cells', compress_after => :'compress_after'::interval,
                              if_not_exists => true);
SELECT add_compression_policy('battery_health', compress_after => :'compress_after'::interval,
                              if_not_exists => true);
SELECT add_compression_policy('battery_alerts', compress_after => :'compress_after'::interval,
                              if_not_exists => true);

-- Retention: whole chunks older than the retention period are dropped.
SELECT add_retention_policy('pack_telemetry', drop_after => :'retention'::interval,
                            if_not_exists => true);
SELECT add_retention_policy('pack_cells', drop_after => :'retention'::interval,
                            if_not_exists => true);
SELECT add_retention_policy('battery_health', drop_after => :'retention'::interval,
                            if_not_exists => true);
SELECT add_retention_policy('battery_alerts', drop_after => :'retention'::interval,
                            if_not_exists => true);
SELECT add_retention_policy('dead_letters', drop_after => :'retention'::interval,
                            if_not_exists => true);
