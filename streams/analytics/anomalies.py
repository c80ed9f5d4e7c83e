"""Anomaly detection on one reading against a calibration profile (pure, no state)."""

import math
from collections.abc import Sequence

from schemas.alerts import AlertType, Severity
from schemas.report import Anomaly
from schemas.telemetry import CellReading, PackSample, PackSnapshot
from streams.analytics.profiles import CalibrationProfile
from streams.analytics.stats import PackStats, cell_stats

Reading = PackSnapshot | PackSample

# Types whose alert clears on a value margin (value below threshold - hysteresis).
VALUE_HYSTERESIS = frozenset(
    {
        AlertType.voltage_imbalance,
        AlertType.overheating,
        AlertType.temperature_spread,
        AlertType.low_soh,
    }
)


def _band(value: float, warning: float, major: float, critical: float) -> tuple[Severity, float]:
    """Severity and crossed threshold; warning is strict, major/critical inclusive."""
    if value >= critical:
        return Severity.critical, critical
    if value >= major:
        return Severity.major, major
    if value > warning:
        return Severity.warning, warning
    return Severity.info, warning


def _ids(cells: Sequence[CellReading], attr: str, value: float) -> int:
    """Smallest id among cells whose ``attr`` equals ``value`` (order-independent tie break)."""
    return min(c.id for c in cells if getattr(c, attr) == value)


def detect(
    stats: PackStats | None,
    reading: Reading,
    profile: CalibrationProfile,
    thermal_rate_c_per_s: float = 0.0,
    *,
    soh_percent: float | None = None,
    stuck_cells: tuple[int, ...] = (),
) -> list[Anomaly]:
    """All anomalies of one reading, at most one per type (the worst band reached).

    ``thermal_rate_c_per_s`` is the *sustained* rate from ``ThermalRateTracker`` (0.0 when not
    sustained); ``soh_percent`` the current SOH estimate; ``stuck_cells`` from
    ``StuckSensorTracker``.
    """
    p = profile
    out: list[Anomaly] = []
    sensor: list[tuple[Severity, float, float, str, str, tuple[int, ...]]] = []
    if stats is not None and isinstance(reading, PackSnapshot):
        cells = reading.cells
        plausible: PackStats | None = stats
        dead_v = False
        if (
            not stats.finite
            or stats.v_min <= p.dead_cell_low_v
            or stats.v_max >= p.dead_cell_high_v
            or stats.t_min <= p.dead_temp_low_c
            or stats.t_max >= p.dead_temp_high_c
        ):
            found = _dead_sensors(cells, p)
            if found is not None:
                ids, dead_v, plausible, worst = found
                unit, bound = ("V", p.dead_cell_low_v) if dead_v else ("C", p.dead_temp_low_c)
                sensor.append((Severity.major, worst, bound, unit, "dead sensor value", ids))
        if plausible is not None:
            _check_cells(plausible, reading, p, out)
            pack_v = reading.pack_voltage_v
            if pack_v is not None and not dead_v:
                diff = abs(plausible.v_sum - pack_v)
                tol = max(p.pack_sum_tolerance_v, p.pack_sum_tolerance_ratio * abs(pack_v))
                if diff > tol:
                    sensor.append(
                        (Severity.warning, round(diff, 6), tol, "V", "cell sum != pack voltage", ())
                    )
    elif isinstance(reading, PackSample):
        temp = reading.metrics.temp_c
        if temp <= p.dead_temp_low_c or temp >= p.dead_temp_high_c or math.isnan(temp):
            bound = p.dead_temp_low_c if temp <= p.dead_temp_low_c else p.dead_temp_high_c
            sensor.append((Severity.major, temp, bound, "C", "dead temperature", ()))
        else:
            _overheating(temp, (), p, out)
    if thermal_rate_c_per_s >= p.runaway_rate_c_per_s:
        hot = (stats.t_max_cell,) if stats is not None else ()
        out.append(
            Anomaly(
                type=AlertType.thermal_runaway_risk,
                severity=Severity.critical,
                value=round(thermal_rate_c_per_s, 6),
                threshold=p.runaway_rate_c_per_s,
                unit="C/s",
                cells=hot,
                message=(
                    f"temperature rising {thermal_rate_c_per_s:.2f} C/s for more than "
                    f"{p.runaway_sustain_s:g} s (thermal runaway risk)"
                ),
            )
        )
    if soh_percent is not None and soh_percent < p.low_soh_warning_percent:
        major = soh_percent < p.low_soh_major_percent
        out.append(
            Anomaly(
                type=AlertType.low_soh,
                severity=Severity.major if major else Severity.warning,
                value=soh_percent,
                threshold=p.low_soh_major_percent if major else p.low_soh_warning_percent,
                unit="%",
                cells=(),
                message=f"state of health {soh_percent:.1f} % below "
                f"{p.low_soh_major_percent if major else p.low_soh_warning_percent:g} %",
            )
        )
    if stuck_cells:
        sensor.append(
            (Severity.major, float(len(stuck_cells)), 0.0, "cells", "stuck sensor", stuck_cells)
        )
    if sensor:
        out.append(_merge_sensor(sensor))
    return out


def imbalance_allowance(s: PackStats, reading: PackSnapshot, p: CalibrationProfile) -> float:
    """IR-drop allowance (V) added to every imbalance band: ``imbalance_per_c_rate_v`` x C-rate.

    C-rate = |pack current| x pack voltage / nominal Wh (cell sum when no pack voltage); 0 at
    rest or without a current, so seed snapshots use the plain bands.
    """
    current = reading.pack_current_a
    if not current:
        return 0.0
    volts = reading.pack_voltage_v or s.v_sum
    c_rate = abs(current) * volts / (reading.nominal_capacity_kwh * 1000.0)
    return p.imbalance_per_c_rate_v * c_rate


def _check_cells(
    s: PackStats, reading: PackSnapshot, p: CalibrationProfile, out: list[Anomaly]
) -> None:
    cells = reading.cells
    spread = s.v_spread
    if spread > p.imbalance_warning_v and (
        spread > p.imbalance_warning_v + (extra := imbalance_allowance(s, reading, p))
    ):
        sev, thr = _band(
            spread,
            p.imbalance_warning_v + extra,
            p.imbalance_major_v + extra,
            p.imbalance_critical_v + extra,
        )
        thr = round(thr, 6)
        lo = _ids(cells, "voltage", s.v_min)
        hi = _ids(cells, "voltage", s.v_max)
        out.append(
            Anomaly(
                type=AlertType.voltage_imbalance,
                severity=sev,
                value=spread,
                threshold=thr,
                unit="V",
                cells=(lo, hi),
                message=f"cell voltage spread {spread:.3f} V (cell {lo} {s.v_min:.3f} V, "
                f"cell {hi} {s.v_max:.3f} V) exceeds {thr:g} V",
            )
        )
    if s.t_max > p.overheat_warning_c:
        _overheating(s.t_max, (_ids(cells, "temperature", s.t_max),), p, out)
    raw = s.t_max - s.t_min
    # round(x, 6) moves x by at most 5e-7 (+ an ulp): well below the band it cannot cross it, so
    # the (costly) rounding is skipped for the common case.
    if raw > p.temp_spread_warning_c - 1e-6 and (t_spread := round(raw, 6)) > (
        p.temp_spread_warning_c
    ):
        major = t_spread >= p.temp_spread_major_c
        thr = p.temp_spread_major_c if major else p.temp_spread_warning_c
        hot = _ids(cells, "temperature", s.t_max)
        cold = _ids(cells, "temperature", s.t_min)
        out.append(
            Anomaly(
                type=AlertType.temperature_spread,
                severity=Severity.major if major else Severity.warning,
                value=t_spread,
                threshold=thr,
                unit="C",
                cells=(hot, cold),
                message=f"cell temperature spread {t_spread:.1f} C exceeds {thr:g} C",
            )
        )
    if s.v_min < p.cell_min_v or s.v_max > p.cell_max_v:
        _out_of_range(s, cells, p, out)


def _overheating(
    temp: float, cells: tuple[int, ...], p: CalibrationProfile, out: list[Anomaly]
) -> None:
    if not temp > p.overheat_warning_c:
        return
    sev, thr = _band(temp, p.overheat_warning_c, p.overheat_major_c, p.overheat_critical_c)
    out.append(
        Anomaly(
            type=AlertType.overheating,
            severity=sev,
            value=temp,
            threshold=thr,
            unit="C",
            cells=cells,
            message=f"temperature {temp:.1f} C exceeds {thr:g} C",
        )
    )


def _out_of_range(
    s: PackStats, cells: Sequence[CellReading], p: CalibrationProfile, out: list[Anomaly]
) -> None:
    lo, hi, margin = p.cell_min_v, p.cell_max_v, p.cell_critical_margin_v
    bad = sorted(
        c.id
        for c in cells
        if (c.voltage < lo or c.voltage > hi) and p.dead_cell_low_v < c.voltage < p.dead_cell_high_v
    )
    over = s.v_max > hi
    value = s.v_max if over else s.v_min
    excess = value - hi if over else lo - value
    critical = excess >= margin
    out.append(
        Anomaly(
            type=AlertType.cell_voltage_out_of_range,
            severity=Severity.critical if critical else Severity.major,
            value=value,
            threshold=hi if over else lo,
            unit="V",
            cells=tuple(bad),
            message=f"{len(bad)} cell(s) {'above' if over else 'below'} the {p.chemistry} "
            f"window {lo:g}-{hi:g} V (worst {value:.3f} V)",
        )
    )


def _dead_sensors(
    cells: Sequence[CellReading], p: CalibrationProfile
) -> tuple[tuple[int, ...], bool, PackStats | None, float] | None:
    """Ids of cells with implausible values, whether any voltage is dead, stats without them."""
    dead: list[CellReading] = []
    good: list[CellReading] = []
    dead_v = False
    worst = 0.0
    for c in cells:
        v_ok = p.dead_cell_low_v < c.voltage < p.dead_cell_high_v
        t_ok = p.dead_temp_low_c < c.temperature < p.dead_temp_high_c
        if v_ok and t_ok:
            good.append(c)
        else:
            dead.append(c)
            if not v_ok:
                dead_v = True
                worst = c.voltage
            elif worst == 0.0:
                worst = c.temperature
    if not dead:
        return None
    ids = tuple(sorted(c.id for c in dead))
    return ids, dead_v, cell_stats(good) if good else None, worst


def _merge_sensor(found: list[tuple[Severity, float, float, str, str, tuple[int, ...]]]) -> Anomaly:
    """One sensor_fault anomaly from several findings: worst severity, union of cells."""
    found.sort(key=lambda f: -f[0].rank)
    sev, value, thr, unit, _, _ = found[0]
    cells = sorted({c for f in found for c in f[5]})
    return Anomaly(
        type=AlertType.sensor_fault,
        severity=sev,
        value=value if math.isfinite(value) else -1.0,
        threshold=thr,
        unit=unit,
        cells=tuple(cells),
        message="; ".join(
            f"{f[4]}" + (f" (cells {', '.join(map(str, f[5]))})" if f[5] else "") for f in found
        ),
    )


#: Alert types computed from per-cell values, which only snapshots carry.
CELL_LEVEL_KINDS = frozenset(
    {
        AlertType.voltage_imbalance,
        AlertType.temperature_spread,
        AlertType.overheating,
        AlertType.cell_voltage_out_of_range,
        AlertType.sensor_fault,
    }
)


def still_elevated(
    kind: AlertType,
    stats: PackStats | None,
    reading: Reading,
    profile: CalibrationProfile,
    soh_percent: float | None,
    *,
    cells_seen: bool = True,
) -> bool:
    """True while a firing alert's metric is still inside the hysteresis band (no anomaly now
    but not yet below ``threshold - margin``); types without a value margin return False.

    ``cells_seen``: the vehicle has sent snapshots. Then a pack sample holds every cell-level
    alert (it cannot observe it); for a sample-only vehicle, overheating clears on the
    sample's temperature.
    """
    p = profile
    if kind is AlertType.low_soh:
        return soh_percent is not None and soh_percent < (
            p.low_soh_warning_percent + p.low_soh_hysteresis_percent
        )
    if stats is None and not cells_seen and isinstance(reading, PackSample):
        if kind is AlertType.overheating:
            return reading.metrics.temp_c > p.overheat_warning_c - p.overheat_hysteresis_c
        return False
    if stats is None:
        # A reading without cells (a pack sample) cannot observe a cell-level metric: it
        # neither fires nor clears it, or every sample between two snapshots would resolve it.
        return kind in CELL_LEVEL_KINDS
    if kind is AlertType.overheating:
        return stats.t_max > p.overheat_warning_c - p.overheat_hysteresis_c
    if kind is AlertType.voltage_imbalance:
        extra = imbalance_allowance(stats, reading, p) if isinstance(reading, PackSnapshot) else 0.0
        return stats.v_spread > p.imbalance_warning_v + extra - p.imbalance_hysteresis_v
    if kind is AlertType.temperature_spread:
        return stats.t_max - stats.t_min > p.temp_spread_warning_c - p.temp_spread_hysteresis_c
    return False
