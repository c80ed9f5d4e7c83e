"""Builders of telemetry readings for the analytics tests."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from schemas.telemetry import CellReading, PackSample, PackSnapshot, SampleMetrics

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def cells(volts: Sequence[float], temps: Sequence[float] | None = None) -> tuple[CellReading, ...]:
    """Cells with ids 0..n-1."""
    temps = temps if temps is not None else [30.0] * len(volts)
    pairs = zip(volts, temps, strict=False)  # temps may be longer (hypothesis tests slice)
    return tuple(CellReading(id=i, voltage=v, temperature=t) for i, (v, t) in enumerate(pairs))


def snapshot(
    volts: Sequence[float] | None = None,
    temps: Sequence[float] | None = None,
    *,
    t: float = 0.0,
    vehicle_id: str = "EV-1",
    nominal: float = 60.0,
    capacity: float = 54.0,
    current: float | None = None,
    soc: float | None = None,
    pack_v: float | None = None,
    chemistry: str | None = None,
    cycle_count: int = 100,
    cell_list: tuple[CellReading, ...] | None = None,
) -> PackSnapshot:
    """A snapshot; 96 healthy cells at 3.7 V / 30 C unless given."""
    if cell_list is None:
        volts = volts if volts is not None else [3.7] * 96
        cell_list = cells(volts, temps)
    return PackSnapshot(
        vehicle_id=vehicle_id,
        timestamp=at(t),
        cells=cell_list,
        cycle_count=cycle_count,
        nominal_capacity_kwh=nominal,
        current_capacity_kwh=capacity,
        pack_current_a=current,
        soc_percent=soc,
        pack_voltage_v=pack_v,
        chemistry=chemistry,
    )


def sample(
    *,
    t: float,
    soc: float,
    current: float,
    temp: float = 25.0,
    volts: float = 350.0,
    vehicle_id: str = "EV-1",
) -> PackSample:
    """A seed 003 pack sample."""
    return PackSample(
        device_id=vehicle_id,
        timestamp=at(t),
        metrics=SampleMetrics(soc_percent=soc, voltage_v=volts, current_a=current, temp_c=temp),
    )


def spread_volts(n: int, low: float, high: float) -> list[float]:
    """n cell voltages with min ``low`` and max ``high`` (the rest in between)."""
    mid = round((low + high) / 2, 4)
    return [low, high] + [mid] * (n - 2)
