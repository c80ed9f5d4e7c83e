"""psql-style `:'name'` variables in migration files, replaced by safely quoted literals."""

import re
from collections.abc import Mapping

from voltstream.errors import MigrationError
from voltstream.settings import DatabaseSettings

# `:'name'` not preceded by another colon (so `x::interval` casts are left alone).
_VARIABLE_RE = re.compile(r"(?<!:):'(?P<name>[A-Za-z_][A-Za-z0-9_]*)'")


def policy_variables(settings: DatabaseSettings) -> dict[str, str]:
    """The variables every migration may use, from the storage policy settings."""
    return {
        "chunk_interval": settings.chunk_interval,
        "compress_after": settings.compress_after,
        "retention": settings.retention,
        "cagg_refresh_interval": settings.cagg_refresh_interval,
    }


def quote_literal(value: str) -> str:
    """A SQL string literal that means `value` whatever standard_conforming_strings says."""
    if "\x00" in value:
        raise MigrationError("a migration variable contains a NUL character")
    quoted = value.replace("'", "''")
    if "\\" in value:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def substitute(sql: str, variables: Mapping[str, str]) -> str:
    """Replace each `:'name'` in `sql` with the quoted value; an unknown name is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in variables:
            raise MigrationError(f"unknown migration variable :'{name}'")
        return quote_literal(variables[name])

    return _VARIABLE_RE.sub(replace, sql)
