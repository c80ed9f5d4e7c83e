"""Grafana provisioning: data sources wired to the compose services, dashboards loadable."""

from typing import Any

from tests.deploy.dashboards import DASHBOARDS, load_dashboards, panels, sql_queries
from tests.deploy.support import DEPLOY, load_yaml, resolve_defaults

PROVISIONING = DEPLOY / "grafana" / "provisioning"
COMPOSE = DEPLOY / "compose.yaml"


def datasources() -> dict[str, dict[str, Any]]:
    doc = load_yaml(PROVISIONING / "datasources" / "voltstream.yaml")
    assert doc["apiVersion"] == 1
    return {ds["uid"]: ds for ds in doc["datasources"]}


def test_postgres_datasource_is_the_timescaledb_service_as_reader() -> None:
    services = load_yaml(COMPOSE)["services"]
    ds = datasources()["voltstream-timescaledb"]
    assert ds["type"] == "grafana-postgresql-datasource"
    host, _, port = ds["url"].partition(":")
    assert host == "timescaledb"
    assert host in services
    assert port == "5432"
    assert ds["jsonData"]["database"] == services["timescaledb"]["environment"]["POSTGRES_DB"]
    assert ds["jsonData"]["timescaledb"] is True
    assert ds["user"] == "grafana"
    users_sql = (DEPLOY / "postgres" / "users.sql").read_text()
    assert "GRANT voltstream_reader TO grafana" in users_sql
    assert "voltstream_writer TO grafana" not in users_sql
    # The password comes from Grafana's environment, which compose sets.
    assert ds["secureJsonData"]["password"] == "${GRAFANA_DB_PASSWORD}"
    grafana_env = services["grafana"]["environment"]
    assert resolve_defaults(grafana_env["GRAFANA_DB_PASSWORD"])


def test_prometheus_and_alertmanager_datasources() -> None:
    services = load_yaml(COMPOSE)["services"]
    all_ds = datasources()
    assert all_ds["voltstream-prometheus"]["url"] == "http://prometheus:9090"
    assert all_ds["voltstream-alertmanager"]["url"] == "http://alertmanager:9093"
    assert {"prometheus", "alertmanager"} <= set(services)


def test_dashboard_provider_path_is_mounted() -> None:
    provider = load_yaml(PROVISIONING / "dashboards" / "voltstream.yaml")["providers"][0]
    path = provider["options"]["path"]
    volumes = load_yaml(COMPOSE)["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{path}:ro" in volumes
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes


def test_dashboards_are_consistent() -> None:
    uids = set(datasources())
    boards = load_dashboards()
    assert {"fleet-overview.json", "vehicle-detail.json", "data-quality.json"} <= set(boards)
    seen_uids: set[str] = set()
    for name, board in boards.items():
        assert board["uid"] not in seen_uids, name
        seen_uids.add(board["uid"])
        ids = [p["id"] for p in panels(board)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        for panel in panels(board):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in uids, f"{name}: {panel['title']}"
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in uids
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24
    assert any(v["name"] == "vehicle" for v in boards["vehicle-detail.json"]["templating"]["list"])
    assert DASHBOARDS.is_dir()


def test_dashboards_query_the_storage_contract() -> None:
    sql = "\n".join(q.sql for q in sql_queries())
    for relation in (
        "pack_telemetry_hourly",
        "pack_telemetry_daily",
        "cell_readings",
        "battery_health",
        "battery_alerts",
        "dead_letters",
        "vehicles",
        "FROM pack_telemetry\n",
    ):
        assert relation in sql, relation
    for macro in (
        "$__timeFilter(",
        "$__timeGroupAlias(",
        "$__timeFrom()",
        "$__timeTo()",
        "$__interval",
        "${vehicle:sqlstring}",
    ):
        assert macro in sql, macro
