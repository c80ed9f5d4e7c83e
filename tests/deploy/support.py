"""Helpers of the deploy tests: YAML, the env-var names the settings read, metric names."""

import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DEFAULT_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}")


def load_yaml(path: Path) -> Any:
    """Parse one YAML document."""
    return yaml.safe_load(path.read_text())


def load_yaml_all(path: Path) -> list[Any]:
    """Parse a multi-document YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def resolve_defaults(text: str) -> str:
    """Replace compose's `${VAR:-default}` with the default (what an empty environment gets)."""
    return DEFAULT_VAR.sub(lambda m: m.group(2) or "", text)


def _settings_classes() -> list[type[BaseSettings]]:
    from consumers import settings as consumer_settings
    from voltstream import settings as voltstream_settings

    classes: list[type[BaseSettings]] = []
    for module in (voltstream_settings, consumer_settings):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value is not BaseSettings
                and value.__module__ == module.__name__
            ):
                classes.append(value)
    return classes


def settings_env_names() -> set[str]:
    """Every environment variable a voltstream process reads: env_prefix + field name, or the
    field's validation alias (pydantic-settings applies no prefix to an alias)."""
    names: set[str] = set()
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field_name, field in cls.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
                continue  # a nested settings group, read through its own prefix
            alias = field.validation_alias
            if isinstance(alias, str):
                names.add(alias.upper())
            elif isinstance(alias, AliasChoices):
                names.update(str(c).upper() for c in alias.choices if isinstance(c, str))
            else:
                names.add(f"{prefix}{field_name}".upper())
    return names


def exported_metric_names() -> set[str]:
    """Names of every series the worker and the forwarders export (with _total, _bucket, ...)."""
    from consumers.metrics import ForwarderMetrics
    from streams.metrics import WorkerMetrics

    names: set[str] = {"up"}
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    ForwarderMetrics(registry, "alertmanager")
    for family in registry.collect():
        names.add(family.name)
        suffixes = {
            "counter": ["_total", "_created"],
            "histogram": ["_bucket", "_sum", "_count", "_created"],
            "gauge": [""],
        }.get(family.type, [""])
        names.update(family.name + s for s in suffixes)
    return names


METRIC_REF = re.compile(r"\b(voltstream_[a-z0-9_]+)")


def referenced_metrics(text: str) -> set[str]:
    """voltstream_* metric names used in a PromQL expression or file."""
    return set(METRIC_REF.findall(text))
