"""Expand Grafana's PostgreSQL macros and template variables the way Grafana does before a query
runs (pkg/tsdb/grafana-postgresql-datasource/macros.go), so dashboard SQL can be executed."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Grafana's own macro pattern: arguments cannot contain a closing parenthesis.
MACRO = re.compile(r"\$(__[_a-zA-Z0-9]+)\(([^\)]*)\)")
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
NICE_INTERVALS_S = (
    1,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1200,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    604800,
)


def parse_interval(text: str) -> float:
    """'5m' -> 300.0 (Grafana's gtime.ParseInterval for the units dashboards use)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text.strip().strip("'"))
    if match is None:
        raise ValueError(f"cannot parse interval {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def format_interval(seconds: float) -> str:
    """300 -> '5m', like Grafana's interval formatting."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


def auto_interval(
    start: datetime, end: datetime, max_points: int = 1000, min_s: float = 60.0
) -> float:
    """The interval Grafana picks: range / max data points, rounded up to a nice value, at least
    the datasource's `timeInterval`."""
    raw = max(min_s, (end - start).total_seconds() / max_points)
    return next((n for n in NICE_INTERVALS_S if n >= raw), NICE_INTERVALS_S[-1])


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class QueryContext:
    """The time range, interval and variables of one dashboard refresh."""

    start: datetime
    end: datetime
    variables: Mapping[str, str]
    timescaledb: bool = False
    interval_s: float | None = None

    @property
    def interval(self) -> float:
        return self.interval_s or auto_interval(self.start, self.end)


def _group(column: str, interval_arg: str, ctx: QueryContext) -> str:
    seconds = parse_interval(interval_arg)
    if ctx.timescaledb:
        return f"time_bucket('{seconds:.3f}s',{column})"
    return f"floor(extract(epoch from {column})/{seconds:g})*{seconds:g}"


def _macro(name: str, args: list[str], ctx: QueryContext) -> str:
    if name == "__time":
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {args[0]}) as "time"'
    if name == "__timeFilter":
        return f"{args[0]} BETWEEN '{_rfc3339(ctx.start)}' AND '{_rfc3339(ctx.end)}'"
    if name == "__timeFrom":
        return f"'{_rfc3339(ctx.start)}'"
    if name == "__timeTo":
        return f"'{_rfc3339(ctx.end)}'"
    if name == "__timeGroup":
        return _group(args[0], args[1], ctx)
    if name == "__timeGroupAlias":
        return _group(args[0], args[1], ctx) + ' AS "time"'
    if name == "__unixEpochFilter":
        lo, hi = int(ctx.start.timestamp()), int(ctx.end.timestamp())
        return f"{args[0]} >= {lo} AND {args[0]} <= {hi}"
    raise ValueError(f"unknown macro ${name}")


def _variables(sql: str, ctx: QueryContext) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        fmt = match.group("fmt")
        if name not in ctx.variables:
            raise ValueError(f"undefined template variable ${name}")
        value = ctx.variables[name]
        if fmt in (None, "raw"):
            return value
        if fmt == "sqlstring":
            return _sql_string(value)
        raise ValueError(f"unsupported variable format {fmt}")

    pattern = (
        r"\$\{(?P<braced>[a-zA-Z_][a-zA-Z0-9_]*)(?::(?P<fmt>[a-z]+))?\}"
        r"|\$(?P<plain>[a-zA-Z][a-zA-Z0-9_]*)"
    )
    return re.sub(pattern, replace, sql)


def expand(sql: str, ctx: QueryContext) -> str:
    """Return `sql` as Grafana would send it to PostgreSQL."""
    interval = ctx.interval
    # Grafana's own variables first ($__interval_ms before $__interval), then the dashboard's.
    sql = sql.replace("$__interval_ms", str(int(interval * 1000)))
    sql = sql.replace("$__interval", format_interval(interval))
    sql = sql.replace("$__rate_interval", format_interval(max(interval * 4, 60)))
    sql = re.sub(r"\$\{__[a-zA-Z_.]+\}", "", sql)  # ${__value.raw} & co. only appear in links
    sql = _variables(sql, ctx)

    def replace(match: re.Match[str]) -> str:
        args = [a.strip() for a in match.group(2).split(",")] if match.group(2).strip() else []
        return _macro(match.group(1), args, ctx)

    expanded = MACRO.sub(replace, sql)
    if "$__" in expanded:
        raise ValueError(f"unexpanded macro left in: {expanded}")
    return expanded
