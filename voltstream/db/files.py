"""Discovery of the numbered SQL migration files and their grouping into versions."""

import hashlib
import importlib.resources
import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from voltstream.errors import MigrationError

_FILE_RE = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<variant>timescale|plain))?\.sql$"
)


@dataclass(frozen=True)
class Migration:
    """One version: a base file and optional TimescaleDB-only and plain-PostgreSQL companions."""

    version: int
    name: str
    base: str
    timescale: str
    plain: str

    @property
    def label(self) -> str:
        """`NNNN_name`, as reported and recorded."""
        return f"{self.version:04d}_{self.name}"

    @property
    def checksum(self) -> str:
        """SHA-256 over all three files, so editing any of them is detected in either mode."""
        digest = hashlib.sha256()
        for part in (self.base, self.timescale, self.plain):
            digest.update(part.encode())
            digest.update(b"\x00")
        return digest.hexdigest()

    def scripts(self, timescale: bool) -> list[str]:
        """The SQL to run, in order, in the given mode (blank and comment-only files dropped)."""
        companion = self.timescale if timescale else self.plain
        return [text for text in (self.base, companion) if has_statements(text)]


def has_statements(text: str) -> bool:
    """Whether `text` holds anything besides blank lines and `--` comments."""
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def sql_directory() -> Traversable:
    """The migrations: `voltstream/_sql` in a wheel, else the repository's `sql/` (editable)."""
    packaged = importlib.resources.files("voltstream") / "_sql"
    if packaged.is_dir():
        return packaged
    checkout = Path(str(importlib.resources.files("voltstream"))).parent / "sql"
    if checkout.is_dir():
        return checkout
    raise MigrationError(f"no SQL migrations found in {packaged} or {checkout}")


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """Read every migration in `directory` (default: `sql_directory()`), ordered by version."""
    root = directory if directory is not None else sql_directory()
    names: dict[int, str] = {}
    texts: dict[int, dict[str, str]] = {}
    for entry in root.iterdir():
        match = _FILE_RE.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise MigrationError(f"badly named migration file: {entry.name}")
            continue
        version = int(match["version"])
        if names.setdefault(version, match["name"]) != match["name"]:
            raise MigrationError(f"migration {version:04d} has two names: {entry.name}")
        texts.setdefault(version, {})[match["variant"] or "base"] = entry.read_text("utf-8")
    return [
        Migration(
            version=version,
            name=names[version],
            base=texts[version].get("base", ""),
            timescale=texts[version].get("timescale", ""),
            plain=texts[version].get("plain", ""),
        )
        for version in sorted(texts)
    ]
