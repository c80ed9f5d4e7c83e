"""PostgreSQL/TimescaleDB access: migrations, the connection pool, TimescaleDB detection."""
