-- 0001 core: the pipeline's tables, identical in plain PostgreSQL and TimescaleDB mode.
--
-- Every time-series table has a unique key that contains `time` (a TimescaleDB requirement for
-- unique indexes on hypertables) and that identifies a message, so the sink can replay a batch
-- with INSERT ... ON CONFLICT DO NOTHING and store nothing twice. There are no foreign keys: the
-- sink writes several tables in one transaction in any order, and retention drops old chunks
-- table by table.
-- The TimescaleDB companion (0001_core.timescale.sql) turns these tables into hypertables; the
-- plain companion (0001_core.plain.sql) adds the time indexes that TimescaleDB creates itself.

-- One row per pack snapshot or per pack sample (seed 003's metrics message).
CREATE TABLE pack_telemetry (
    time                 timestamptz      NOT NULL,
    vehicle_id           text             NOT NULL,
    kind                 text             NOT NULL,  -- 'snapshot' | 'sample'
    pack_voltage_v       double precision,
    pack_current_a       double precision,           -- > 0 charging, < 0 discharging
    soc_percent          double precision,
    temp_c               double precision,           -- pack temperature of a sample
    odometer_km          double precision,
    cell_count           integer,                    -- snapshot statistics (NULL for samples)
    v_min                double precision,
    v_max                double precision,
    v_mean               double precision,
    v_spread             double precision,
    t_min                double precision,
    t_max                double precision,
    t_mean               double precision,
    nominal_capacity_kwh double precision,
    current_capacity_kwh double precision,
    cycle_count          integer,
    late                 boolean          NOT NULL DEFAULT false,  -- beyond the allowed lateness
    ingested_at          timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT pack_telemetry_kind_check CHECK (kind IN ('snapshot', 'sample')),
    CONSTRAINT pack_telemetry_pkey PRIMARY KEY (vehicle_id, time, kind)
);

-- The cells of one snapshot as parallel arrays (one row per snapshot, not per cell: ~7x the
-- insert rate). Element i of every array belongs to the same cell.
CREATE TABLE pack_cells (
    time         timestamptz NOT NULL,
    vehicle_id   text        NOT NULL,
    cell_ids     integer[],            -- NULL means the ids are 0 .. n-1
    voltages     real[]      NOT NULL,
    temperatures real[]      NOT NULL,
    resistances  real[],               -- internal resistance, mOhm; NULL when none was reported
    CONSTRAINT pack_cells_pkey PRIMARY KEY (vehicle_id, time)
);

-- One row per cell reading, for queries and dashboards that think in cells.
CREATE VIEW cell_readings AS
SELECT
    c.time,
    c.vehicle_id,
    coalesce(c.cell_ids[u.ordinality::integer], u.ordinality::integer - 1) AS cell_id,
    u.voltage,
    u.temperature,
    u.internal_resistance_mohm
FROM pack_cells AS c
CROSS JOIN LATERAL unnest(c.voltages, c.temperatures, c.resistances)
    WITH ORDINALITY AS u (voltage, temperature, internal_resistance_mohm, ordinality);

-- State-of-health estimates, one row per estimate.
CREATE TABLE battery_health (
    time                   timestamptz      NOT NULL,
    vehicle_id             text             NOT NULL,
    soh_percent            double precision,
    soh_method             text             NOT NULL,
    soh_confidence         text             NOT NULL,
    soh_std_percent        double precision,
    capacity_kwh           double precision,
    sessions               integer          NOT NULL DEFAULT 0,
    equivalent_full_cycles double precision,
    deep_discharge_cycles  integer,
    predicted_soh          double precision,
    predicted_rul_cycles   double precision,
    CONSTRAINT battery_health_pkey PRIMARY KEY (vehicle_id, time)
);

-- Every alert event (firing and resolved), keyed so that a replay inserts nothing twice.
CREATE TABLE battery_alerts (
    time       timestamptz      NOT NULL,  -- the event time of the transition
    alert_id   text             NOT NULL,
    vehicle_id text             NOT NULL,
    type       text             NOT NULL,
    severity   text             NOT NULL,
    state      text             NOT NULL,  -- 'firing' | 'resolved'
    value      double precision,
    threshold  double precision,
    unit       text             NOT NULL DEFAULT '',
    cells      integer[]        NOT NULL DEFAULT '{}',
    first_seen timestamptz      NOT NULL,
    last_seen  timestamptz      NOT NULL,
    message    text             NOT NULL DEFAULT '',
    evidence   jsonb            NOT NULL DEFAULT '{}',
    CONSTRAINT battery_alerts_pkey PRIMARY KEY (vehicle_id, alert_id, state, time)
);

-- Cycle-level training data for the predictor (seed 004: NASA PCoE and simulated fleets).
CREATE TABLE cycle_series (
    source      text             NOT NULL,  -- e.g. 'nasa_pcoe', 'simulator'
    battery_id  text             NOT NULL,
    cycle_index integer          NOT NULL,
    time        timestamptz,
    features    jsonb            NOT NULL DEFAULT '{}',
    soh_target  double precision,
    capacity_ah double precision,
    CONSTRAINT cycle_series_pkey PRIMARY KEY (source, battery_id, cycle_index)
);

-- Messages the pipeline rejected, for the data-quality dashboard (the payload stays in the DLQ).
CREATE TABLE dead_letters (
    time        timestamptz NOT NULL,  -- when the message was rejected
    reason      text        NOT NULL,  -- SchemaError.reason or a pipeline reason
    error_class text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    vehicle_id  text,
    detail      text        NOT NULL DEFAULT '',
    CONSTRAINT dead_letters_pkey PRIMARY KEY (topic, partition, "offset", time)
);

-- The fleet: one row per vehicle, upserted by the pipeline (last_seen only moves forward).
CREATE TABLE vehicles (
    vehicle_id    text        NOT NULL,
    make          text,
    model         text,
    chemistry     text,
    profile       text,
    first_seen    timestamptz,
    last_seen     timestamptz,
    offline       boolean     NOT NULL DEFAULT false,
    offline_since timestamptz,
    CONSTRAINT vehicles_pkey PRIMARY KEY (vehicle_id)
);

-- Dashboards list recent alerts and rejections across the fleet.
CREATE INDEX battery_alerts_state_time_idx ON battery_alerts (state, time DESC);
CREATE INDEX dead_letters_reason_time_idx ON dead_letters (reason, time DESC);
