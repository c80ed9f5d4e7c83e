"""Hysteresis alerting."""

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.alerts import Alert, AlertState, AlertType, Severity
from schemas.report import Anomaly
from streams.analytics.alerting import AlertTracker, alert_id
from streams.analytics.profiles import DEFAULT_PROFILE
from tests.analytics.helpers import at

P = DEFAULT_PROFILE
IMB = AlertType.voltage_imbalance


def anomaly(value: float, severity: Severity = Severity.warning) -> Anomaly:
    return Anomaly(
        type=IMB,
        severity=severity,
        value=value,
        threshold=0.05,
        unit="V",
        cells=(1, 2),
        message="imbalance",
    )


def step(
    tr: AlertTracker, k: int, anomalies: list[Anomaly], held: frozenset[str] = frozenset()
) -> list[Alert]:
    return tr.observe("EV-1", anomalies, at(k), P, held=held)


def test_fire_escalate_resolve() -> None:
    tr = AlertTracker()
    (fired,) = step(tr, 0, [anomaly(0.06)])
    assert fired.state is AlertState.firing
    assert fired.severity is Severity.warning
    assert fired.alert_id == alert_id("EV-1", IMB, at(0))
    assert len(fired.alert_id) == 24
    assert step(tr, 1, [anomaly(0.07)]) == []
    (esc,) = step(tr, 2, [anomaly(0.12, Severity.major)])
    assert esc.severity is Severity.major
    assert esc.alert_id == fired.alert_id
    assert step(tr, 3, [anomaly(0.06)]) == []  # de-escalation is silent
    assert step(tr, 4, []) == []
    assert step(tr, 5, []) == []
    (res,) = step(tr, 6, [])
    assert res.state is AlertState.resolved
    assert res.alert_id == fired.alert_id
    assert res.first_seen == at(0)
    assert res.last_seen == at(3)
    assert res.event_time == at(6)
    assert res.evidence["recent_values"] == [0.06, 0.07, 0.12, 0.06]
    (again,) = step(tr, 7, [anomaly(0.06)])
    assert again.alert_id != fired.alert_id


def test_held_inside_hysteresis_band_does_not_resolve() -> None:
    tr = AlertTracker()
    step(tr, 0, [anomaly(0.06)])
    held = frozenset({IMB.value})
    for k in range(1, 20):
        assert step(tr, k, [], held) == []
    assert step(tr, 20, []) == []
    assert step(tr, 21, []) == []
    assert step(tr, 22, [])[0].state is AlertState.resolved


def test_fire_after_n_consecutive() -> None:
    from dataclasses import replace

    p = replace(P, fire_after_overrides=((IMB.value, 3),))
    tr = AlertTracker()
    assert tr.observe("EV-1", [anomaly(0.06)], at(0), p) == []
    assert tr.observe("EV-1", [anomaly(0.06)], at(1), p) == []
    assert tr.observe("EV-1", [], at(2), p) == []  # streak broken
    assert tr.observe("EV-1", [anomaly(0.06)], at(3), p) == []
    assert tr.observe("EV-1", [anomaly(0.06)], at(4), p) == []
    (fired,) = tr.observe("EV-1", [anomaly(0.06)], at(5), p)
    assert fired.first_seen == at(3)


def test_offline_fires_once_and_resolves() -> None:
    tr = AlertTracker()
    a = tr.fire_offline("EV-1", at(0), at(1000), 1000.0, 900.0)
    assert a is not None
    assert a.type is AlertType.device_offline
    assert tr.fire_offline("EV-1", at(0), at(1100), 1100.0, 900.0) is None
    assert step(tr, 1200, []) == []  # other readings do not resolve it
    res = tr.resolve_offline("EV-1", at(1300))
    assert res is not None
    assert res.state is AlertState.resolved
    assert res.alert_id == a.alert_id


def _replay(values: list[float]) -> list[Alert]:
    tr = AlertTracker()
    out: list[Alert] = []
    for k, v in enumerate(values):
        anomalies = []
        if v > 0.05:
            sev = Severity.major if v >= 0.10 else Severity.warning
            anomalies.append(anomaly(v, sev))
        held = frozenset({IMB.value}) if 0.04 < v <= 0.05 else frozenset()
        out.extend(step(tr, k, anomalies, held))
        blob = tr.dump()
        tr = AlertTracker.load(blob)
        assert tr.dump() == blob
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 0.15), max_size=60))
def test_no_spam_and_replay_stable(values: list[float]) -> None:
    out = _replay(values)
    last: dict[str, Alert] = {}
    for a in out:
        prev = last.get(a.alert_id)
        if prev is not None and prev.state is AlertState.firing and a.state is AlertState.firing:
            assert a.severity.rank > prev.severity.rank, "repeat firing without escalation"
        if prev is not None:
            assert prev.state is AlertState.firing, "nothing after resolve"
        last[a.alert_id] = a
    assert [a.alert_id for a in _replay(values)] == [a.alert_id for a in out]


def test_flapping_value_does_not_spam() -> None:
    values = [0.051, 0.049, 0.052, 0.048, 0.051, 0.049] * 20
    out = _replay(values)
    assert len(out) == 1
    assert out[0].state is AlertState.firing


def test_alert_id_deterministic() -> None:
    t = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    assert alert_id("EV-1", IMB, t) == alert_id("EV-1", "voltage_imbalance", t)
    assert alert_id("EV-1", IMB, t) != alert_id("EV-2", IMB, t)
