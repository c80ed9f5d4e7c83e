-- Login users for the compose stack, run by the one-shot `db-users` job after `migrate`
-- (psql variables: app_password, grafana_password). Idempotent: re-running resets passwords.
-- The group roles voltstream_writer / voltstream_reader come from migration 0003.
SELECT format('CREATE ROLE voltstream_app LOGIN PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'voltstream_app') \gexec
SELECT format('CREATE ROLE grafana LOGIN PASSWORD %L', :'grafana_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana') \gexec
ALTER ROLE voltstream_app PASSWORD :'app_password';
ALTER ROLE grafana PASSWORD :'grafana_password';
GRANT voltstream_writer TO voltstream_app;
GRANT voltstream_reader TO grafana;
-- Dashboards must not hog the database.
ALTER ROLE grafana SET statement_timeout = '30s';
ALTER ROLE grafana SET default_transaction_read_only = on;
