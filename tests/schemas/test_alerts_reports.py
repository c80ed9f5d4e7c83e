"""Alert and HealthReport contracts: strict extras, UTC times, seed 001 report keys."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import (
    Alert,
    AlertState,
    AlertType,
    Anomaly,
    Confidence,
    CycleStats,
    Diagnostics,
    HealthReport,
    Severity,
    SohEstimate,
    SohMethod,
)

T0 = datetime(2026, 2, 1, 14, 0, tzinfo=UTC)


def _alert(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alert_id": "a1b2c3",
        "vehicle_id": "EV-12345",
        "type": "overheating",
        "severity": "critical",
        "state": "firing",
        "value": 61.0,
        "threshold": 45.0,
        "unit": "C",
        "cells": [3, 7],
        "first_seen": "2026-02-01T14:00:00Z",
        "last_seen": "2026-02-01T14:05:00Z",
        "event_time": "2026-02-01T14:05:00Z",
        "message": "cell 3 at 61 C",
        "evidence": {"t_max_c": 61.0, "cells": [3, 7], "note": None},
    }
    body.update(overrides)
    return body


def _report() -> HealthReport:
    return HealthReport(
        vehicle_id="EV-12345",
        generated_at=T0,
        battery_soh=91.5,
        cycle_count=412,
        anomalies=[
            Anomaly(
                type=AlertType.voltage_imbalance,
                severity=Severity.major,
                value=0.11,
                threshold=0.05,
                unit="V",
                cells=(4, 9),
                message="Voltage imbalance detected",
            )
        ],
        soh=SohEstimate(
            soh_percent=91.5,
            method=SohMethod.measured_capacity,
            confidence=Confidence.high,
            capacity_kwh=54.9,
            std_percent=None,
        ),
        cycles=CycleStats(
            equivalent_full_cycles=2.1, deep_discharge_cycles=1, reported_cycle_count=412
        ),
        diagnostics=Diagnostics(cell_count=96, voltage_min_v=3.852, voltage_max_v=4.132),
        readings=1,
    )


def test_severity_orders_by_rank() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3]
    assert Severity.info < Severity.warning < Severity.major < Severity.critical
    assert max([Severity.major, Severity.critical, Severity.info]) is Severity.critical
    assert sorted(Severity, reverse=True)[0] is Severity.critical


def test_alert_json_round_trip() -> None:
    alert = Alert.model_validate_json(json.dumps(_alert()))
    assert alert.type is AlertType.overheating
    assert alert.state is AlertState.firing
    assert alert.cells == (3, 7)
    assert alert.schema_version == 1
    assert Alert.model_validate_json(alert.model_dump_json()) == alert
    assert json.loads(alert.model_dump_json())["first_seen"] == "2026-02-01T14:00:00Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"severity": "fatal"}, "severity"),
        ({"type": "bad_vibes"}, "type"),
        ({"first_seen": "2026-02-01T14:00:00"}, "first_seen"),
        ({"value": float("nan")}, "value"),
        ({"vehicle_id": "has space"}, "vehicle_id"),
        ({"schema_version": 2}, "schema_version"),
    ],
)
def test_alert_rejects(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Alert.model_validate_json(json.dumps(_alert(**change)))
    assert caught.value.errors()[0]["loc"][0] == field


def test_alert_times_are_normalised_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    alert = Alert.model_validate(_alert(last_seen=datetime(2026, 2, 1, 15, 5, tzinfo=cet)))
    assert alert.last_seen == datetime(2026, 2, 1, 14, 5, tzinfo=UTC)
    assert alert.last_seen.tzinfo is UTC


def test_alert_is_frozen() -> None:
    alert = Alert.model_validate(_alert())
    with pytest.raises(ValidationError):
        alert.severity = Severity.info  # type: ignore[misc]


def test_report_keeps_seed_001_top_level_keys() -> None:
    body = json.loads(_report().model_dump_json())
    assert list(body)[:4] == ["schema_version", "vehicle_id", "generated_at", "battery_soh"]
    assert body["battery_soh"] == 91.5
    assert body["cycle_count"] == 412
    assert body["anomalies"][0]["type"] == "voltage_imbalance"
    assert body["anomalies"][0]["message"] == "Voltage imbalance detected"
    assert body["diagnostics"]["temperature_mean_c"] is None
    assert HealthReport.model_validate_json(json.dumps(body)) == _report()


def test_report_forbids_extra_keys() -> None:
    body = json.loads(_report().model_dump_json()) | {"log_id": "x"}
    with pytest.raises(ValidationError):
        HealthReport.model_validate(body)
