-- 0001 core, plain PostgreSQL: the fleet-wide time indexes that create_hypertable makes in
-- TimescaleDB mode (same names). The two high-volume tables are append-mostly in time order, so
-- a BRIN index gives range pruning at almost no write cost.

CREATE INDEX pack_telemetry_time_idx ON pack_telemetry USING brin (time);
CREATE INDEX pack_cells_time_idx ON pack_cells USING brin (time);
CREATE INDEX battery_health_time_idx ON battery_health (time DESC);
CREATE INDEX battery_alerts_time_idx ON battery_alerts (time DESC);
CREATE INDEX dead_letters_time_idx ON dead_letters (time DESC);
