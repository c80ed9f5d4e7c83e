"""deploy/postgres/users.sql gives the workers a writer login and Grafana a read-only one."""

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.deploy.support import DEPLOY
from tests.fixtures.postgres import MigratedTemplate, create_database, drop_database

pytestmark = pytest.mark.integration

USERS_SQL = DEPLOY / "postgres" / "users.sql"


@pytest.fixture
def users_db(database_url: str, migrated_template: MigratedTemplate) -> Iterator[str]:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    name = create_database(database_url, template=migrated_template.name)
    url = make_conninfo(database_url, dbname=name)
    try:
        yield url
    finally:
        drop_database(database_url, name)
        with psycopg.connect(database_url, autocommit=True) as conn:
            for role in ("grafana", "voltstream_app"):
                conn.execute(f"DROP ROLE IF EXISTS {role}".encode())


def login(url: str, user: str, password: str) -> str:
    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    params.update(user=user, password=password)
    return make_conninfo(**params)


def run_users_sql(url: str, app_password: str, grafana_password: str) -> None:
    result = subprocess.run(
        [
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"app_password={app_password}",
            "-v",
            f"grafana_password={grafana_password}",
            "-f",
            str(USERS_SQL),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_users_sql_is_idempotent_and_least_privilege(users_db: str) -> None:
    app_pw, grafana_pw = uuid.uuid4().hex, uuid.uuid4().hex
    run_users_sql(users_db, "first-" + app_pw, "first-" + grafana_pw)
    run_users_sql(users_db, app_pw, grafana_pw)  # a re-run resets the passwords

    with psycopg.connect(login(users_db, "grafana", grafana_pw)) as conn:
        assert conn.execute("SELECT count(*) FROM battery_alerts").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pack_telemetry_hourly").fetchone() == (0,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO vehicles (vehicle_id) VALUES ('EV-X')")
    with psycopg.connect(login(users_db, "grafana", grafana_pw)) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.commit()  # read-only is only a default: the privileges still refuse writes
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO vehicles (vehicle_id) VALUES ('EV-X')")

    with psycopg.connect(login(users_db, "voltstream_app", app_pw)) as conn:
        conn.execute("INSERT INTO vehicles (vehicle_id) VALUES ('EV-APP')")
        conn.execute("UPDATE vehicles SET offline = true WHERE vehicle_id = 'EV-APP'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM vehicles")
