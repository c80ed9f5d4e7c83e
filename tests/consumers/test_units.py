"""Pure parts of the consumers: signing, failure budget, backoff, filters, mapping, settings."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from consumers.alertmanager import evidence_summary, to_postable
from consumers.backoff import Backoff
from consumers.circuit import CircuitBreaker, CircuitState
from consumers.codec import decode_alert, encode_alert
from consumers.errors import AlertDecodeError, ConsumerError, DeliveryError
from consumers.filters import AlertFilter
from consumers.settings import AlertmanagerForwarderSettings, WebhookForwarderSettings
from consumers.signing import sign, signature_headers, verify
from consumers.tail import format_json, format_text
from consumers.webhook import target_label
from schemas.alerts import AlertType, Severity
from tests.consumers.helpers import T0, make_alert, resolved


def test_signature_round_trip_and_replay_window() -> None:
    body = b'{"alert_id":"a"}'
    headers = signature_headers(b"k", body, now=1_700_000_000)
    ts, sig = headers["X-Voltstream-Timestamp"], headers["X-Voltstream-Signature"]
    assert sig.startswith("sha256=")
    assert len(sig) == len("sha256=") + 64
    assert verify(b"k", body, ts, sig, now=1_700_000_100)
    assert not verify(b"k", body, ts, sig, now=1_700_000_000 + 301)  # replayed too late
    assert not verify(b"k", body, str(int(ts) + 1), sig, now=1_700_000_000)  # timestamp changed
    assert not verify(b"k", body, None, sig)
    assert not verify(b"k", body, "not-a-number", sig)
    # Known vector: HMAC-SHA256("k", "1.x").
    assert sign(b"k", 1, b"x") == (
        "sha256=" + __import__("hmac").new(b"k", b"1.x", "sha256").hexdigest()
    )


def test_circuit_breaker_parks_then_probes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(budget=3, cooldown_s=10, clock=lambda: now[0])
    assert not breaker.record_failure()
    assert not breaker.record_failure()
    breaker.record_success()  # success resets the count
    assert [breaker.record_failure() for _ in range(3)] == [False, False, True]
    assert breaker.state is CircuitState.open
    assert not breaker.allows()
    now[0] = 10.0
    assert breaker.state is CircuitState.half_open  # type: ignore[comparison-overlap]
    assert breaker.allows()
    assert breaker.record_failure()  # the probe failed: parked again
    now[0] = 25.0
    breaker.record_success()
    assert breaker.state is CircuitState.closed


def test_backoff_is_exponential_and_capped() -> None:
    exact = Backoff(initial_s=0.5, max_s=4, jitter=0)
    assert [exact.delay(n) for n in range(6)] == [0.5, 1, 2, 4, 4, 4]
    jittered = Backoff(initial_s=1, max_s=10, jitter=0.2)
    assert all(0.8 <= jittered.delay(0) <= 1.2 for _ in range(100))


def test_filter() -> None:
    alert = make_alert("EV-F", severity=Severity.major, type_=AlertType.overheating)
    assert AlertFilter().accepts(alert)
    assert AlertFilter.build("major").accepts(alert)
    assert not AlertFilter.build("critical").accepts(alert)
    assert AlertFilter.build(types=["overheating"]).accepts(alert)
    assert not AlertFilter.build(types=["low_soh"]).accepts(alert)
    assert not AlertFilter.build(vehicles=["EV-X"]).accepts(alert)
    with pytest.raises(ValueError, match="bogus"):
        AlertFilter.build(types=["bogus"])


def test_alertmanager_mapping() -> None:
    firing = make_alert("EV-M", first_seen=T0)
    now = T0 + timedelta(minutes=5)
    postable = to_postable(
        firing, now=now, firing_ttl_s=3600, generator_url="http://g/{vehicle_id}"
    )
    assert postable["labels"] == {
        "alertname": "overheating",
        "severity": "critical",
        "vehicle_id": "EV-M",
        "alert_id": firing.alert_id,
        "service": "voltstream",
    }
    assert postable["startsAt"] == "2026-01-01T12:00:00Z"
    assert postable["endsAt"] == "2026-01-01T13:05:00Z"
    assert postable["generatorURL"] == "http://g/EV-M"
    assert postable["annotations"]["threshold"] == "60"
    assert postable["annotations"]["unit"] == "°C"
    done = to_postable(resolved(firing), now=now, firing_ttl_s=3600)
    assert done["endsAt"] == "2026-01-01T12:00:30Z"
    assert done["labels"] == postable["labels"]  # same labels: Alertmanager merges them
    assert "generatorURL" not in done


def test_evidence_summary_is_short() -> None:
    text = evidence_summary({"b": 1.23456789, "a": list(range(20)), "c": None, "d": "x" * 2000})
    assert text.startswith("a=[0,1,2,3,4,5,6,7,...], b=1.23457, c=None, d=xxx")
    assert len(text) == 1000


def test_codec_rejects_non_alerts() -> None:
    alert = make_alert()
    assert decode_alert(encode_alert(alert)) == alert
    for raw in (b"", b"{", b'{"alert_id": "x"}', None):
        with pytest.raises(AlertDecodeError):
            decode_alert(raw)
    assert issubclass(AlertDecodeError, ConsumerError)
    assert not DeliveryError("http_4xx", "400", retryable=False).retryable


def test_tail_formats() -> None:
    alert = make_alert("EV-T", first_seen=T0)
    line = format_text(alert)
    assert line.startswith("2026-01-01T12:00:00Z CRITICAL firing   overheating")
    assert "vehicle=EV-T" in line
    assert "cells=3,4" in line
    assert "\x1b" not in line
    assert "\n" not in line
    assert format_json(alert) == alert.model_dump_json()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOLTSTREAM_WEBHOOK_URLS", "http://a/x, http://b/y")
    monkeypatch.setenv("VOLTSTREAM_WEBHOOK_SECRET", "hunter2-secret")
    monkeypatch.setenv("VOLTSTREAM_WEBHOOK_TYPES", "overheating,low_soh")
    monkeypatch.setenv("VOLTSTREAM_WEBHOOK_MIN_SEVERITY", "major")
    hook = WebhookForwarderSettings()
    assert hook.urls == ("http://a/x", "http://b/y")
    assert hook.types == (AlertType.overheating, AlertType.low_soh)
    assert hook.secret is not None
    assert "hunter2" not in repr(hook)
    assert hook.alert_filter.min_severity is Severity.major
    with pytest.raises(ValidationError):
        hook.cooldown_s = 1  # type: ignore[misc]  # frozen
    monkeypatch.delenv("VOLTSTREAM_WEBHOOK_SECRET")
    with pytest.raises(ValidationError, match="secret"):
        WebhookForwarderSettings()

    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BEARER_TOKEN", "t")
    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BASIC_AUTH_USERNAME", "u")
    monkeypatch.setenv("VOLTSTREAM_ALERTMANAGER_BASIC_AUTH_PASSWORD", "p")
    with pytest.raises(ValidationError, match="not both"):
        AlertmanagerForwarderSettings()
    monkeypatch.delenv("VOLTSTREAM_ALERTMANAGER_BEARER_TOKEN")
    am = AlertmanagerForwarderSettings()
    assert am.basic_auth_password is not None
    assert str(am.basic_auth_password) != "p"


def test_target_label_hides_credentials() -> None:
    assert target_label("https://user:pw@hooks.example/x?token=1#f") == "https://hooks.example/x"


def test_iso_is_utc() -> None:
    alert = make_alert(first_seen=datetime(2026, 1, 1, 13, 0, tzinfo=UTC))
    assert to_postable(alert, now=T0, firing_ttl_s=1)["startsAt"] == "2026-01-01T13:00:00Z"


def test_escalation_ends_lower_severity_variants() -> None:
    from consumers.alertmanager import to_postables

    major = make_alert("EV-E", severity=Severity.major, first_seen=T0)
    postables = to_postables(major, now=T0, firing_ttl_s=60)
    assert [p["labels"]["severity"] for p in postables] == ["major", "info", "warning"]
    assert {p["labels"]["alert_id"] for p in postables} == {major.alert_id}
    assert postables[0]["endsAt"] == "2026-01-01T12:01:00Z"
    assert all(p["endsAt"] == "2026-01-01T12:00:00Z" for p in postables[1:])
    info = make_alert("EV-E", severity=Severity.info, first_seen=T0)
    assert len(to_postables(info, now=T0, firing_ttl_s=60)) == 1
