"""Prometheus config, alert rules (with promtool unit tests) and the Alertmanager config."""

import shutil
import subprocess
from typing import Any

import pytest

from tests.deploy.dashboards import load_dashboards, panels
from tests.deploy.support import (
    DEPLOY,
    exported_metric_names,
    load_yaml,
    referenced_metrics,
    resolve_defaults,
)

PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
COMPOSE = DEPLOY / "compose.yaml"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install prometheus prometheus-alertmanager)")
    return path


def run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout}\n{result.stderr}"


def test_promtool_accepts_config_and_rules() -> None:
    promtool = tool("promtool")
    run(promtool, "check", "config", str(PROMETHEUS))
    run(promtool, "check", "rules", *map(str, RULES))


def test_alert_rules_unit_tests() -> None:
    promtool = tool("promtool")
    assert RULE_TESTS
    run(promtool, "test", "rules", *map(str, RULE_TESTS))


def test_amtool_accepts_alertmanager_config() -> None:
    run(tool("amtool"), "check-config", str(ALERTMANAGER))


def test_scrape_targets_are_compose_services_on_metrics_ports() -> None:
    config: dict[str, Any] = load_yaml(PROMETHEUS)
    services: dict[str, Any] = load_yaml(COMPOSE)["services"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"voltstream-worker", "voltstream-forwarder"} <= set(jobs)
    for job_name in ("voltstream-worker", "voltstream-forwarder"):
        for sd in jobs[job_name]["dns_sd_configs"]:
            for host in sd["names"]:
                assert host in services, f"{job_name}: {host} is not a compose service"
                environment = services[host]["environment"]
                port = int(resolve_defaults(str(environment["VOLTSTREAM_METRICS_PORT"])))
                assert sd["port"] == port, f"{job_name}: {host} serves metrics on {port}"
    assert "worker" in jobs["voltstream-worker"]["dns_sd_configs"][0]["names"]
    for job in jobs.values():
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.partition(":")
                assert host == "localhost" or host in services, target
                if host == "alertmanager":
                    assert port == "9093"
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]


def test_rules_and_dashboards_use_exported_metrics() -> None:
    known = exported_metric_names()
    texts = [p.read_text() for p in RULES]
    for board in load_dashboards().values():
        for panel in panels(board):
            texts += [t["expr"] for t in panel.get("targets", []) if "expr" in t]
    texts.append((DEPLOY / "k8s" / "base" / "worker-hpa.yaml").read_text())
    used = set().union(*(referenced_metrics(t) for t in texts))
    assert {"voltstream_consumer_lag", "voltstream_dead_letters_total"} <= used
    assert not used - known, f"metrics nobody exports: {sorted(used - known)}"


def test_rules_have_routing_labels_and_docs() -> None:
    for path in RULES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                assert rule["labels"]["team"] == "platform", rule["alert"]
                assert rule["labels"]["severity"] in {"info", "warning", "critical"}
                assert rule["annotations"]["summary"]
                assert rule["annotations"]["description"]


def test_alertmanager_routes_battery_alerts_by_forwarder_labels() -> None:
    config: dict[str, Any] = load_yaml(ALERTMANAGER)
    receivers = {r["name"] for r in config["receivers"]}
    routes = config["route"]["routes"]
    fleet = [r for r in routes if 'service="voltstream"' in r["matchers"]]
    assert fleet
    for route in fleet:
        assert route["receiver"] in receivers
        assert set(route["group_by"]) == {"alertname", "vehicle_id"}
    assert config["route"]["receiver"] in receivers
