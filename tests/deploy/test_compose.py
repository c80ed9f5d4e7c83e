"""deploy/compose.yaml: pinned images, real settings names, wiring, healthchecks, CLI commands."""

import shlex
from typing import Any

import pytest

from tests.deploy.support import DEPLOY, load_yaml, resolve_defaults, settings_env_names
from voltstream.cli import build_parser
from voltstream.settings import MetricsSettings, TopicSettings

COMPOSE = DEPLOY / "compose.yaml"
ONE_SHOT = {"kafka-init", "migrate", "db-users"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(COMPOSE)
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def voltstream_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in services.items()
        if "build" in svc or str(svc.get("image", "")).startswith("voltstream:")
    }


def env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: resolve_defaults(str(v)) for k, v in environment.items()}


def test_expected_services(services: dict[str, dict[str, Any]]) -> None:
    assert {
        "kafka",
        "kafka-init",
        "timescaledb",
        "migrate",
        "db-users",
        "worker",
        "alertmanager-forwarder",
        "prometheus",
        "alertmanager",
        "grafana",
    } <= set(services)


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        image = resolve_defaults(svc["image"])
        if "@sha256:" in image:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: image {image!r} has no tag"
        assert "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag not in ("", "latest"), f"{name}: image {image!r} is not pinned"
        assert any(ch.isdigit() for ch in tag), f"{name}: tag {tag!r} is not a version"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["timescaledb"]["image"] == "timescale/timescaledb:2.17.2-pg16"


def test_voltstream_env_names_are_settings(services: dict[str, dict[str, Any]]) -> None:
    known = settings_env_names()
    assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "VOLTSTREAM_METRICS_PORT"} <= known
    vs = voltstream_services(services)
    assert {"migrate", "worker", "alertmanager-forwarder"} <= set(vs)
    for name, svc in vs.items():
        unknown = set(env(svc)) - known
        assert not unknown, f"{name}: {sorted(unknown)} are not read by voltstream's settings"


def test_voltstream_commands_parse(services: dict[str, dict[str, Any]]) -> None:
    parser = build_parser()
    for name, svc in voltstream_services(services).items():
        command = svc["command"]
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        args = parser.parse_args(argv)
        assert callable(args.func), name


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        if name in ONE_SHOT:
            assert svc.get("restart") == "no", f"{name} is a one-shot job"
            continue
        check = svc.get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has its healthcheck disabled"
        assert svc.get("restart") in ("unless-stopped", "always"), name


def test_dependencies_exist_and_wait(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for dep, condition in svc.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            expected = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert condition["condition"] == expected, f"{name} -> {dep}"
    assert "db-users" in services["worker"]["depends_on"]
    assert "kafka-init" in services["worker"]["depends_on"]


def test_workers_scale_on_partitions(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    replicas = worker["deploy"]["replicas"]
    assert replicas == 2
    partitions = int(env(worker)["VOLTSTREAM_TOPIC_PARTITIONS"])
    assert partitions == 8 >= replicas
    script = " ".join(services["kafka-init"]["command"])
    assert f"--partitions {partitions}" in script
    topics = TopicSettings()
    for topic in (topics.telemetry, topics.alerts, topics.dlq, "battery.alerts.webhook.dlq"):
        assert topic in script


def test_metrics_listen_on_all_interfaces(services: dict[str, dict[str, Any]]) -> None:
    for name in ("worker", "alertmanager-forwarder", "webhook-forwarder"):
        variables = env(services[name])
        assert variables["VOLTSTREAM_METRICS_HOST"] == "0.0.0.0", name
        port = int(variables.get("VOLTSTREAM_METRICS_PORT", MetricsSettings().port))
        assert str(port) in services[name]["expose"], name


def test_kafka_and_database_wiring(services: dict[str, dict[str, Any]]) -> None:
    kafka_env = env(services["kafka"])
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    for name, svc in voltstream_services(services).items():
        variables = env(svc)
        if "KAFKA_BOOTSTRAP_SERVERS" in variables:
            assert f"PLAINTEXT://{variables['KAFKA_BOOTSTRAP_SERVERS']}" in advertised, name
        if "DATABASE_URL" in variables:
            assert "@timescaledb:5432/voltstream" in variables["DATABASE_URL"], name
    db = env(services["timescaledb"])
    assert db["POSTGRES_DB"] == "voltstream"
    # The workers log in as a writer-only user, not as the owner.
    assert env(services["worker"])["DATABASE_URL"].startswith("postgresql://voltstream_app:")
    users_sql = (DEPLOY / "postgres" / "users.sql").read_text()
    assert "GRANT voltstream_writer TO voltstream_app" in users_sql
    assert "GRANT voltstream_reader TO grafana" in users_sql


def test_forwarder_points_at_alertmanager(services: dict[str, dict[str, Any]]) -> None:
    url = env(services["alertmanager-forwarder"])["VOLTSTREAM_ALERTMANAGER_URL"]
    assert url == "http://alertmanager:9093"
    assert "alertmanager" in services["alertmanager-forwarder"]["depends_on"]


def test_mounted_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_kraft_cluster_id_is_a_base64_uuid(services: dict[str, dict[str, Any]]) -> None:
    import base64

    cluster_id = str(services["kafka"]["environment"]["CLUSTER_ID"])
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
