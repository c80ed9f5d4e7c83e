"""`voltstream migrate`: applies, reports, and refuses to run without a database URL."""

import pytest

from voltstream.cli import main


def test_without_a_url_it_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["migrate"]) == 2
    assert "DATABASE_URL is required" in capsys.readouterr().err


def test_migrate_then_up_to_date(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database-url", empty_db]) == 0
    out = capsys.readouterr().out
    assert "applied 0001_core" in out
    assert "4 migration(s) applied" in out
    assert main(["migrate", "--database-url", empty_db]) == 0
    assert "database is up to date" in capsys.readouterr().out


def test_url_from_the_environment_and_timescale_off(
    empty_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    assert main(["migrate", "--timescale", "off"]) == 0
    assert "(plain PostgreSQL)" in capsys.readouterr().out


def test_failure_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOLTSTREAM_DB_CONNECT_TIMEOUT_S", "1")
    assert main(["migrate", "--database-url", "postgresql://nobody@/x?host=/nonexistent"]) == 1
    assert "cannot connect" in capsys.readouterr().err
