-- 0003 roles: group roles for the pipeline and for dashboards. Both are NOLOGIN; grant them to
-- login users (GRANT voltstream_writer TO pipeline_user). They own nothing, so they can neither
-- ALTER nor DROP the tables; on PostgreSQL >= 15 PUBLIC has no CREATE on schema public either.
-- Roles are cluster-wide: they are created only if missing (pre-created roles need no
-- CREATEROLE here), and a concurrent creation from another database is tolerated.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'voltstream_writer') THEN
        CREATE ROLE voltstream_writer NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        RAISE NOTICE 'role voltstream_writer already exists, skipping';
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'voltstream_reader') THEN
        CREATE ROLE voltstream_reader NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        RAISE NOTICE 'role voltstream_reader already exists, skipping';
END
$$;

GRANT USAGE ON SCHEMA public TO voltstream_writer, voltstream_reader;

-- The writer: the sink's COPY -> TEMP staging -> INSERT ... ON CONFLICT. DO NOTHING needs only
-- INSERT; UPDATE is granted where the sink upserts (vehicles). SELECT on the written tables
-- lets the pipeline read back its own state. TEMPORARY (PUBLIC's by default) is granted
-- explicitly for the per-connection staging tables.
GRANT SELECT, INSERT ON
    pack_telemetry, pack_cells, battery_health, battery_alerts, cycle_series, dead_letters,
    vehicles
TO voltstream_writer;
GRANT UPDATE ON vehicles TO voltstream_writer;
GRANT SELECT ON cell_readings, pack_telemetry_hourly, pack_telemetry_daily TO voltstream_writer;

DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO voltstream_writer', current_database());
END
$$;

-- The reader (Grafana, ad-hoc analysis): SELECT on every table and view, now and later.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO voltstream_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO voltstream_reader;
