-- 0002 summaries, TimescaleDB: continuous aggregates (names and columns as in
-- 0002_summaries.sql) with refresh policies.
--
-- Variables (substituted by the runner as quoted literals, from DatabaseSettings):
--   :'cagg_refresh_interval'  how often the refresh policies run (VOLTSTREAM_DB_CAGG_REFRESH_INTERVAL)
-- materialized_only = false: queries add the not-yet-materialized recent rows (real-time
-- aggregation), so the summaries are as fresh as the plain-mode views. WITH NO DATA lets this
-- run inside the migration's transaction; the policies materialise the last days, and late
-- rows inside the refresh window are picked up by the next refresh.

CREATE MATERIALIZED VIEW IF NOT EXISTS pack_telemetry_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
    time_bucket(INTERVAL '1 hour', time) AS bucket,
    vehicle_id,
    count(*) AS readings,
    count(*) FILTER (WHERE kind = 'snapshot') AS snapshots,
    count(*) FILTER (WHERE kind = 'sample') AS samples,
    count(*) FILTER (WHERE late) AS late_readings,
    min(soc_percent) AS soc_percent_min,
    max(soc_percent) AS soc_percent_max,
    avg(soc_percent) AS soc_percent_avg,
    min(pack_voltage_v) AS pack_voltage_v_min,
    max(pack_voltage_v) AS pack_voltage_v_max,
    avg(pack_voltage_v) AS pack_voltage_v_avg,
    min(pack_current_a) AS pack_current_a_min,
    max(pack_current_a) AS pack_current_a_max,
    avg(pack_current_a) AS pack_current_a_avg,
    min(coalesce(temp_c, t_min)) AS temp_c_min,
    max(coalesce(temp_c, t_max)) AS temp_c_max,
    avg(coalesce(temp_c, t_mean)) AS temp_c_avg,
    min(v_min) AS v_min_min,
    max(v_max) AS v_max_max,
    max(v_spread) AS v_spread_max,
    avg(v_spread) AS v_spread_avg,
    min(t_min) AS t_min_min,
    max(t_max) AS t_max_max,
    avg(t_mean) AS t_mean_avg,
    max(odometer_km) AS odometer_km_max,
    max(cycle_count) AS cycle_count_max,
    min(current_capacity_kwh) AS current_capacity_kwh_min
FROM pack_telemetry
GROUP BY time_bucket(INTERVAL '1 hour', time), vehicle_id
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS pack_telemetry_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
    time_bucket(INTERVAL '1 day', time) AS bucket,
    vehicle_id,
    count(*) AS readings,
    count(*) FILTER (WHERE kind = 'snapshot') AS snapshots,
    count(*) FILTER (WHERE kind = 'sample') AS samples,
    count(*) FILTER (WHERE late) AS late_readings,
    min(soc_percent) AS soc_percent_min,
    max(soc_percent) AS soc_percent_max,
    avg(soc_percent) AS soc_percent_avg,
    min(pack_voltage_v) AS pack_voltage_v_min,
    max(pack_voltage_v) AS pack_voltage_v_max,
    avg(pack_voltage_v) AS pack_voltage_v_avg,
    min(pack_current_a) AS pack_current_a_min,
    max(pack_current_a) AS pack_current_a_max,
    avg(pack_current_a) AS pack_current_a_avg,
    min(coalesce(temp_c, t_min)) AS temp_c_min,
    max(coalesce(temp_c, t_max)) AS temp_c_max,
    avg(coalesce(temp_c, t_mean)) AS temp_c_avg,
    min(v_min) AS v_min_min,
    max(v_max) AS v_max_max,
    max(v_spread) AS v_spread_max,
    avg(v_spread) AS v_spread_avg,
    min(t_min) AS t_min_min,
    max(t_max) AS t_max_max,
    avg(t_mean) AS t_mean_avg,
    max(odometer_km) AS odometer_km_max,
    max(cycle_count) AS cycle_count_max,
    min(current_capacity_kwh) AS current_capacity_kwh_min
FROM pack_telemetry
GROUP BY time_bucket(INTERVAL '1 day', time), vehicle_id
WITH NO DATA;

SELECT add_continuous_aggregate_policy('pack_telemetry_hourly',
    start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => :'cagg_refresh_interval'::interval,
    if_not_exists => true);

SELECT add_continuous_aggregate_policy('pack_telemetry_daily',
    start_offset => INTERVAL '7 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => :'cagg_refresh_interval'::interval,
    if_not_exists => true);
