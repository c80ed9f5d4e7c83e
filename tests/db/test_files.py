"""Migration files: naming, grouping into versions, checksums and variable substitution."""

from pathlib import Path

import pytest

from voltstream.db.files import has_statements, load_migrations, sql_directory
from voltstream.db.variables import policy_variables, quote_literal, substitute
from voltstream.errors import MigrationError
from voltstream.settings import DatabaseSettings


def test_the_shipped_migrations_are_found_in_order() -> None:
    migrations = load_migrations()
    assert [m.label for m in migrations] == [
        "0001_core",
        "0002_summaries",
        "0003_roles",
        "0004_summary_refresh",
    ]
    assert (sql_directory() / "0001_core.sql").is_file()
    core = migrations[0]
    assert "create_hypertable" in core.timescale
    assert "SELECT create_hypertable" not in core.base + core.plain
    assert len(core.scripts(timescale=True)) == 2
    summaries = migrations[1]
    assert summaries.scripts(timescale=False) == [summaries.plain]  # the base is comments only


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_companions_join_their_version(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "0002_b.sql": "SELECT 2;",
            "0001_a.sql": "SELECT 1;",
            "0001_a.timescale.sql": "SELECT 'ts';",
            "0001_a.plain.sql": "SELECT 'plain';",
            "README.md": "not a migration",
        },
    )
    first, second = load_migrations(root)
    assert (first.version, first.name, second.label) == (1, "a", "0002_b")
    assert first.scripts(timescale=True) == ["SELECT 1;", "SELECT 'ts';"]
    assert first.scripts(timescale=False) == ["SELECT 1;", "SELECT 'plain';"]
    assert second.scripts(timescale=True) == ["SELECT 2;"]


def test_checksum_covers_every_file_of_a_version(tmp_path: Path) -> None:
    _write(tmp_path, {"0001_a.sql": "SELECT 1;", "0001_a.timescale.sql": "SELECT 2;"})
    before = load_migrations(tmp_path)[0].checksum
    (tmp_path / "0001_a.timescale.sql").write_text("SELECT 3;")
    assert load_migrations(tmp_path)[0].checksum != before


@pytest.mark.parametrize(
    "files",
    [
        {"001_short.sql": "SELECT 1;"},
        {"0001_Upper.sql": "SELECT 1;"},
        {"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"},
    ],
)
def test_bad_layouts_are_rejected(tmp_path: Path, files: dict[str, str]) -> None:
    _write(tmp_path, files)
    with pytest.raises(MigrationError):
        load_migrations(tmp_path)


def test_comment_only_files_have_no_statements() -> None:
    assert not has_statements("-- nothing\n\n   -- here\n")
    assert has_statements("-- a view\nCREATE VIEW v AS SELECT 1;")


def test_variables_become_quoted_literals_and_casts_are_untouched() -> None:
    sql = "SELECT :'retention'::interval, x::text, ':'' not a variable'"
    out = substitute(sql, {"retention": "7 days"})
    assert out == "SELECT '7 days'::interval, x::text, ':'' not a variable'"


def test_hostile_values_stay_literals() -> None:
    assert quote_literal("1 day'); DROP TABLE x; --") == "'1 day''); DROP TABLE x; --'"
    assert quote_literal("a\\b") == "E'a\\\\b'"
    with pytest.raises(MigrationError):
        quote_literal("a\x00b")


def test_unknown_variables_are_errors() -> None:
    with pytest.raises(MigrationError, match="chunk_size"):
        substitute("SELECT :'chunk_size'", {"retention": "1 day"})


def test_policy_variables_come_from_settings() -> None:
    settings = DatabaseSettings.model_validate(
        {"retention": "30 days", "chunk_interval": "6 hours"}
    )
    variables = policy_variables(settings)
    assert variables["retention"] == "30 days"
    assert variables["chunk_interval"] == "6 hours"
    assert set(variables) == {
        "chunk_interval",
        "compress_after",
        "retention",
        "cagg_refresh_interval",
    }
