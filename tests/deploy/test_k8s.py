"""deploy/k8s: kustomize builds; every workload has resources, probes, secrets from refs."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.support import DEPLOY, load_yaml, load_yaml_all, settings_env_names

K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "production"


def kustomization_files(directory: Path) -> list[Path]:
    kustomization = load_yaml(directory / "kustomization.yaml")
    paths = [directory / r for r in kustomization.get("resources", [])]
    paths += [directory / p["path"] for p in kustomization.get("patches", [])]
    return paths


def base_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in kustomization_files(BASE):
        objects.extend(load_yaml_all(path))
    return objects


def built(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    kustomize = shutil.which("kustomize")
    if kubectl is None and kustomize is None:
        pytest.skip("neither kubectl nor kustomize is installed")
    argv = (
        [kubectl, "kustomize", str(directory)]
        if kubectl
        else [str(kustomize), "build", str(directory)]
    )
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    import yaml

    return [d for d in yaml.safe_load_all(result.stdout) if d]


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def test_every_listed_file_exists() -> None:
    for directory in (BASE, OVERLAY):
        for path in kustomization_files(directory):
            assert path.exists() or (path / "kustomization.yaml").exists(), path


def test_containers_have_resources_probes_and_non_root() -> None:
    deployments = 0
    for obj in workloads(base_objects()):
        spec = obj["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, obj["metadata"]["name"]
        for container in spec["containers"]:
            name = f"{obj['metadata']['name']}/{container['name']}"
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), f"{name}: {kind}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            if obj["kind"] != "Deployment":
                continue
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports["metrics"] == 9464, name
            for probe in ("livenessProbe", "readinessProbe"):
                http = container[probe]["httpGet"]
                assert http["port"] in ("metrics", 9464), f"{name}: {probe}"
        deployments += obj["kind"] == "Deployment"
    assert deployments == 3


def test_env_names_and_secret_refs() -> None:
    known = settings_env_names()
    objects = base_objects()
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    unknown = set(config["data"]) - known
    assert not unknown, f"ConfigMap keys nobody reads: {sorted(unknown)}"
    secret_refs: set[str] = set()
    for obj in workloads(objects):
        for container in obj["spec"]["template"]["spec"]["containers"]:
            for variable in container.get("env", []):
                assert variable["name"] in known, variable["name"]
                assert "value" not in variable or "PASSWORD" not in variable["name"]
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secret_refs.add(ref["name"])
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] == config["metadata"]["name"]
    assert not [o for o in objects if o["kind"] == "Secret"], "secrets must not be committed"
    assert {"voltstream-database", "voltstream-kafka"} <= secret_refs
    overlay_config = load_yaml(OVERLAY / "configmap-patch.yaml")["data"]
    assert not set(overlay_config) - known
    assert overlay_config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"


def test_hpa_scales_workers_on_cpu_and_lag_within_partitions() -> None:
    objects = base_objects()
    hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert any(
        o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"] for o in objects
    )
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    assert kinds["Pods"]["pods"]["metric"]["name"] == "voltstream_consumer_lag"
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert hpa["spec"]["maxReplicas"] <= int(config["data"]["VOLTSTREAM_TOPIC_PARTITIONS"])
    adapter = load_yaml(K8S / "prometheus-adapter-rules.yaml")
    assert adapter["rules"]["custom"][0]["name"]["as"] == "voltstream_consumer_lag"


def test_overlay_builds_with_pinned_images() -> None:
    objects = built(OVERLAY)
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "Deployment", "HorizontalPodAutoscaler", "Job", "ConfigMap"} <= kinds
    for obj in workloads(objects):
        assert obj["metadata"]["namespace"] == "voltstream"
        for container in obj["spec"]["template"]["spec"]["containers"]:
            image = container["image"]
            assert image.rsplit(":", 1)[-1] not in ("", "latest"), image
            assert ":" in image
    hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert hpa["spec"]["maxReplicas"] <= int(config["data"]["VOLTSTREAM_TOPIC_PARTITIONS"])
    assert built(BASE)


def test_container_args_are_cli_commands() -> None:
    from voltstream.cli import build_parser

    parser = build_parser()
    for obj in workloads(base_objects()):
        for container in obj["spec"]["template"]["spec"]["containers"]:
            args = parser.parse_args(container["args"])
            assert callable(args.func), obj["metadata"]["name"]
