"""The processor turns messages into rows, alerts and dead letters, and never raises."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.analytics.state import VehicleState
from streams.dlq import SourcePosition
from streams.processor import FlushPlan, SourceMessage, TelemetryProcessor
from streams.statestore import StateStore
from tests.streams.builders import batch, encode, sample, series, snapshot
from voltstream.settings import PipelineSettings

NOW = datetime.now(UTC).replace(microsecond=0)


def make(decoder: str = "fast", **overrides: object) -> TelemetryProcessor:
    store: StateStore[VehicleState] = StateStore(
        {}, factory=VehicleState, encode=VehicleState.to_bytes, decode=VehicleState.from_bytes
    )
    settings = PipelineSettings(decoder=decoder, **overrides)  # type: ignore[arg-type]
    return TelemetryProcessor(settings, store)


def msg(key: bytes | None, value: bytes, offset: int = 0, partition: int = 0) -> SourceMessage:
    return SourceMessage(key, value, SourcePosition("battery.telemetry", partition, offset, 1.0))


@pytest.fixture(params=["fast", "pydantic"])
def processor(request: pytest.FixtureRequest) -> TelemetryProcessor:
    return make(request.param)


def test_valid_snapshot_becomes_rows(processor: TelemetryProcessor) -> None:
    plan = FlushPlan()
    processor.process(msg(b"EV-1", encode(snapshot("EV-1", NOW - timedelta(minutes=1)))), plan, NOW)
    counts = plan.rows.counts()
    assert counts["pack_telemetry"] == 1
    assert counts["pack_cells"] == 1
    assert counts["vehicles"] == 1
    assert plan.readings["snapshot"] == 1
    assert not plan.dead_letters


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{nope", "malformed_json"),
        (b"\xff\xfe", "not_utf8"),
        (b'{"a": 1}', "unknown_shape"),
        (b"[" * 100 + b"]" * 100, "too_deep"),
    ],
)
def test_bad_bytes_become_dead_letters_with_position(
    processor: TelemetryProcessor, raw: bytes, reason: str
) -> None:
    plan = FlushPlan()
    processor.process(msg(b"EV-1", raw, offset=42, partition=3), plan, NOW)
    (letter,) = plan.dead_letters
    assert letter.reason == reason
    assert letter.value == raw
    assert (letter.source.partition, letter.source.offset) == (3, 42)
    headers = dict(letter.headers())
    assert headers["voltstream.error.reason"] == reason.encode()
    assert headers["voltstream.source.offset"] == b"42"
    assert plan.rows.counts()["pack_telemetry"] == 0


def test_batch_keeps_good_readings_and_dead_letters_the_bad_one(
    processor: TelemetryProcessor,
) -> None:
    at = series(NOW - timedelta(minutes=5), 3, 10)
    bad = sample("EV-1", at[1])
    bad["metrics"]["soc_percent"] = 250.0
    raw = encode(batch("EV-1", [sample("EV-1", at[0]), bad, sample("EV-1", at[2])]))
    plan = FlushPlan()
    processor.process(msg(b"EV-1", raw), plan, NOW)
    assert plan.readings["sample"] == 2
    (letter,) = plan.dead_letters
    assert letter.reading_index == 1
    assert letter.field is not None
    assert "soc_percent" in letter.field
    assert letter.value == raw


def test_key_must_be_the_vehicle(processor: TelemetryProcessor) -> None:
    plan = FlushPlan()
    raw = encode(sample("EV-1", NOW - timedelta(seconds=30)))
    processor.process(msg(b"EV-2", raw), plan, NOW)
    processor.process(msg(None, raw), plan, NOW)
    assert [d.reason for d in plan.dead_letters] == ["key_mismatch", "missing_key"]
    assert plan.readings["sample"] == 0


def test_flood_is_rate_limited_on_event_time_and_counted() -> None:
    processor = make(rate_limit_per_s=10.0, rate_limit_burst=10.0)
    plan = FlushPlan()
    at = NOW - timedelta(minutes=1)
    for i in range(30):  # 30 readings within 30 ms of event time: the burst, then nothing
        ts = at + timedelta(milliseconds=i)
        processor.process(msg(b"EV-1", encode(sample("EV-1", ts))), plan, NOW)
    assert plan.readings["sample"] == 10
    assert plan.rate_limited == 20
    assert {d.reason for d in plan.dead_letters} == {"rate_limited"}


def test_backlog_at_honest_rate_is_not_limited() -> None:
    processor = make()
    plan = FlushPlan()
    start = NOW - timedelta(hours=2)
    for i, ts in enumerate(series(start, 2_000, 1.0)):  # 1 reading/s of event time, replayed fast
        processor.process(msg(b"EV-1", encode(sample("EV-1", ts)), offset=i), plan, NOW)
    assert plan.rate_limited == 0
    assert plan.readings["sample"] == 2_000


def test_silent_vehicle_goes_offline_once_and_resolves_when_back() -> None:
    processor = make(offline_after_s=600.0)
    plan = FlushPlan()
    last = NOW - timedelta(hours=1)
    processor.process(msg(b"EV-1", encode(snapshot("EV-1", last))), plan, NOW)
    processor.process(msg(b"EV-2", encode(snapshot("EV-2", NOW))), plan, NOW)
    offline = FlushPlan()
    processor.check_offline(offline, now=NOW.timestamp())
    processor.check_offline(offline, now=NOW.timestamp() + 60)
    fired = [a for a in offline.alerts if a.type == "device_offline"]
    assert [(a.vehicle_id, a.state) for a in fired] == [("EV-1", "firing")]
    back = FlushPlan()
    processor.process(msg(b"EV-1", encode(snapshot("EV-1", NOW))), back, NOW)
    resolved = [a for a in back.alerts if a.type == "device_offline"]
    assert [(a.state, a.alert_id) for a in resolved] == [("resolved", fired[0].alert_id)]


def test_too_late_reading_is_stored_flagged_and_does_not_move_state() -> None:
    processor = make(allowed_lateness_s=60.0)
    plan = FlushPlan()
    processor.process(msg(b"EV-1", encode(snapshot("EV-1", NOW - timedelta(minutes=1)))), plan, NOW)
    processor.process(msg(b"EV-1", encode(snapshot("EV-1", NOW - timedelta(hours=1)))), plan, NOW)
    assert plan.late == 1
    late_flags = [row for row in plan.rows.rows("pack_telemetry")]
    assert len(late_flags) == 2


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    processor = make()
    plan = FlushPlan()
    processor.process(msg(b"EV-1", raw), plan, NOW)
    assert len(plan.dead_letters) + plan.readings.total() >= 1
