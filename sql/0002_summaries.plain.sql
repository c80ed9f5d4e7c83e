-- 0002 summaries, plain PostgreSQL: views with the names and columns of the continuous
-- aggregates (see 0002_summaries.sql). Buckets are UTC hours/days, like time_bucket's.
-- They aggregate on read; the (vehicle_id, time, kind) primary key and the BRIN time index keep
-- a per-vehicle or per-range dashboard query cheap.

CREATE VIEW pack_telemetry_hourly AS
SELECT
    date_trunc('hour', time, 'UTC') AS bucket,
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
GROUP BY 1, vehicle_id;

CREATE VIEW pack_telemetry_daily AS
SELECT
    date_trunc('day', time, 'UTC') AS bucket,
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
GROUP BY 1, vehicle_id;
