"""Read the provisioned Grafana dashboards and list every SQL query they run."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
SQL_TYPES = {"grafana-postgresql-datasource", "postgres"}


@dataclass(frozen=True)
class SqlQuery:
    """One SQL query of a dashboard: a panel target, a template variable or an annotation."""

    dashboard: str
    where: str
    sql: str
    format: str

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.where}"


def load_dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _is_sql(datasource: Any) -> bool:
    return isinstance(datasource, dict) and datasource.get("type") in SQL_TYPES


def sql_queries() -> list[SqlQuery]:
    """Every SQL query in every dashboard."""
    found: list[SqlQuery] = []
    for name, dashboard in load_dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if _is_sql(target.get("datasource", panel.get("datasource"))):
                    found.append(
                        SqlQuery(
                            name,
                            f"panel {panel['title']!r} target {target['refId']}",
                            target["rawSql"],
                            target.get("format", "time_series"),
                        )
                    )
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query" and _is_sql(variable.get("datasource")):
                query = variable["query"]
                sql = query if isinstance(query, str) else query["rawSql"]
                found.append(SqlQuery(name, f"variable ${variable['name']}", sql, "table"))
        for annotation in dashboard.get("annotations", {}).get("list", []):
            if _is_sql(annotation.get("datasource")):
                found.append(
                    SqlQuery(
                        name,
                        f"annotation {annotation['name']!r}",
                        annotation["target"]["rawSql"],
                        "table",
                    )
                )
    return found
