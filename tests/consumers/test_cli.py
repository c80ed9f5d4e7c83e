"""`voltstream alerts tail` and `voltstream forward ...` argument handling."""

import json

import pytest

from schemas.alerts import Severity
from tests.consumers.helpers import fresh_settings, make_alert, produce
from voltstream.commands import alerts as alerts_command
from voltstream.commands import forward as forward_command

pytestmark = pytest.mark.integration


def _run(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="voltstream")
    subparsers = parser.add_subparsers(dest="command", required=True)
    alerts_command.register(subparsers)
    forward_command.register(subparsers)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_tail_prints_matching_alerts(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fresh_settings(kafka_bootstrap)
    monkeypatch.setenv("VOLTSTREAM_TOPIC_PREFIX", settings.topics.prefix)
    wanted = make_alert("EV-TAIL-1", severity=Severity.critical)
    other_vehicle = make_alert("EV-TAIL-2", severity=Severity.critical)
    too_low = make_alert("EV-TAIL-1", severity=Severity.warning)
    produce(kafka_bootstrap, settings.topics.alerts_topic, [too_low, other_vehicle, wanted])

    code = _run(
        [
            "alerts",
            "tail",
            "--bootstrap-servers",
            kafka_bootstrap,
            "--from-beginning",
            "--severity",
            "major",
            "--vehicle",
            "EV-TAIL-1",
            "--format",
            "json",
            "--max",
            "1",
            "--timeout",
            "30",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["alert_id"] for line in lines] == [wanted.alert_id]

    code = _run(
        [
            "alerts",
            "tail",
            "--bootstrap-servers",
            kafka_bootstrap,
            "--from-beginning",
            "--type",
            "overheating",
            "--max",
            "5",
            "--timeout",
            "8",
        ]
    )
    assert code == 1  # fewer than --max before --timeout
    text = capsys.readouterr().out.splitlines()
    assert len(text) == 3
    assert all(" overheating " in line and "vehicle=EV-TAIL-" in line for line in text)


def test_forward_webhook_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VOLTSTREAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    assert _run(["forward", "webhook", "--url", "http://127.0.0.1:9/x"]) == 2
    assert "secret" in capsys.readouterr().err
    assert (
        _run(["forward", "webhook", "--url", "http://127.0.0.1:9/x", "--secret-env", "HOOK_SECRET"])
        == 2
    )
    assert "HOOK_SECRET is not set" in capsys.readouterr().err


def test_forward_alertmanager_rejects_two_auth_methods(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AM_TOKEN", "t")
    monkeypatch.setenv("AM_PASSWORD", "p")
    code = _run(
        [
            "forward",
            "alertmanager",
            "--url",
            "http://127.0.0.1:9",
            "--bearer-token-env",
            "AM_TOKEN",
            "--basic-auth-username",
            "u",
            "--basic-auth-password-env",
            "AM_PASSWORD",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "not both" in err
    assert "'p'" not in err


def test_settings_errors_do_not_echo_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BEARER_TOKEN", "hunter2-token")
    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BASIC_AUTH_USERNAME", "u")
    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BASIC_AUTH_PASSWORD", "hunter2-password")
    assert _run(["forward", "alertmanager"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err
    assert "hunter2" not in err
