"""A small realistic fleet in the voltstream tables, for running the dashboard queries."""

import json
import math
from datetime import datetime, timedelta

import psycopg

VEHICLES = [
    ("EV-0001", "Volta", "Model S", "NMC"),
    ("EV-0002", "Volta", "Model S", "NMC"),
    ("EV-0003", "Ampera", "City", "LFP"),
    ("EV-0004", "Ampera", "Van", "LFP"),
    ("EV-0005", "Volta", "Model X", "NMC"),  # went offline two days ago
]
HOURS = 72
STEP = timedelta(minutes=10)
CELLS = 8


def _telemetry_rows(now: datetime) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    pack: list[tuple[object, ...]] = []
    cells: list[tuple[object, ...]] = []
    start = now - timedelta(hours=HOURS)
    for index, (vehicle_id, _make, _model, chemistry) in enumerate(VEHICLES):
        stop = now - timedelta(hours=50) if vehicle_id == "EV-0005" else now
        t, n = start, 0
        while t <= stop:
            phase = n / 36.0
            soc = 55 + 35 * math.sin(phase + index)
            current = 40 * math.cos(phase + index)
            base_v = 3.3 if chemistry == "LFP" else 3.7
            volts = [base_v + 0.002 * c + 0.01 * math.sin(phase + c) for c in range(CELLS)]
            if vehicle_id == "EV-0001" and n % 50 == 7:
                volts[3] -= 0.15  # an imbalanced cell now and then
            temps = [28 + 6 * math.sin(phase) + 0.4 * c for c in range(CELLS)]
            late = n % 37 == 5
            if vehicle_id == "EV-0004" and n % 2:
                pack.append(
                    (
                        t,
                        vehicle_id,
                        "sample",
                        355.0 + soc / 10,
                        current,
                        soc,
                        temps[0],
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        60.0,
                        None,
                        None,
                        late,
                    )
                )
            else:
                mean_t = sum(temps) / CELLS
                pack.append(
                    (
                        t,
                        vehicle_id,
                        "snapshot",
                        sum(volts),
                        current,
                        soc,
                        None,
                        12000.0 + n,
                        CELLS,
                        min(volts),
                        max(volts),
                        sum(volts) / CELLS,
                        max(volts) - min(volts),
                        min(temps),
                        max(temps),
                        mean_t,
                        60.0,
                        60.0 * (0.95 - 0.02 * index),
                        300 + n // 20,
                        late,
                    )
                )
                cells.append(
                    (t, vehicle_id, None, volts, temps, [1.1 + 0.01 * c for c in range(CELLS)])
                )
            t += STEP
            n += 1
    return pack, cells


def populate(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> None:
    """Insert five vehicles with 72 h of telemetry, cells, SOH, alerts and dead letters."""
    pack, cells = _telemetry_rows(now)
    with conn.cursor() as cur:
        for vehicle_id, make, model, chemistry in VEHICLES:
            offline = vehicle_id == "EV-0005"
            last_seen = now - timedelta(hours=50) if offline else now
            cur.execute(
                "INSERT INTO vehicles (vehicle_id, make, model, chemistry, profile, first_seen,"
                " last_seen, offline, offline_since) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s)",
                (
                    vehicle_id,
                    make,
                    model,
                    chemistry,
                    now - timedelta(hours=HOURS),
                    last_seen,
                    offline,
                    last_seen + timedelta(minutes=10) if offline else None,
                ),
            )
        cur.executemany(
            "INSERT INTO pack_telemetry (time, vehicle_id, kind, pack_voltage_v, pack_current_a,"
            " soc_percent, temp_c, odometer_km, cell_count, v_min, v_max, v_mean, v_spread, t_min,"
            " t_max, t_mean, nominal_capacity_kwh, current_capacity_kwh, cycle_count, late)"
            " VALUES (" + ", ".join(["%s"] * 20) + ")",
            pack,
        )
        cur.executemany(
            "INSERT INTO pack_cells"
            " (time, vehicle_id, cell_ids, voltages, temperatures, resistances)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            cells,
        )
        health = []
        for index, (vehicle_id, *_rest) in enumerate(VEHICLES):
            for hour in range(0, HOURS, 2):
                t = now - timedelta(hours=HOURS - hour)
                soh = 97.0 - 9 * index - hour * 0.01
                health.append(
                    (
                        t,
                        vehicle_id,
                        soh,
                        "fused",
                        "medium",
                        0.8,
                        60.0 * soh / 100,
                        hour // 10,
                        300.0 + hour,
                        1,
                        soh - 0.1,
                        900.0 - hour,
                    )
                )
        cur.executemany(
            "INSERT INTO battery_health (time, vehicle_id, soh_percent, soh_method, soh_confidence,"
            " soh_std_percent, capacity_kwh, sessions, equivalent_full_cycles,"
            " deep_discharge_cycles, predicted_soh, predicted_rul_cycles)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            health,
        )
        alerts = [
            ("EV-0001", "a-ovh-1", "overheating", "critical", "firing", 5.0, None),
            ("EV-0001", "a-ovh-1", "overheating", "critical", "resolved", 5.0, 4.0),
            ("EV-0001", "a-imb-1", "voltage_imbalance", "major", "firing", 1.0, None),
            ("EV-0002", "a-soh-2", "low_soh", "warning", "firing", 30.0, None),
            ("EV-0003", "a-trr-3", "thermal_runaway_risk", "critical", "firing", 2.0, None),
            ("EV-0003", "a-trr-3", "thermal_runaway_risk", "critical", "resolved", 2.0, 1.5),
            ("EV-0005", "a-off-5", "device_offline", "warning", "firing", 49.0, None),
        ]
        for vehicle_id, alert_id, type_, severity, state, first_h, resolved_h in alerts:
            first = now - timedelta(hours=first_h)
            event = now - timedelta(hours=resolved_h) if resolved_h is not None else first
            cur.execute(
                "INSERT INTO battery_alerts (time, alert_id, vehicle_id, type, severity, state,"
                " value, threshold, unit, cells, first_seen, last_seen, message, evidence)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    event,
                    alert_id,
                    vehicle_id,
                    type_,
                    severity,
                    state,
                    61.5,
                    60.0,
                    "°C",
                    [3, 4],
                    first,
                    event,
                    f"{type_} on {vehicle_id}",
                    json.dumps({"t_max_c": 61.5}),
                ),
            )
        letters = []
        reasons = ["malformed_json", "invalid_field", "future_timestamp", "rate_limited"]
        for n in range(60):
            t = now - timedelta(minutes=70 * n + 3)
            letters.append(
                (
                    t,
                    reasons[n % 4],
                    "SchemaError",
                    "battery.telemetry",
                    n % 8,
                    1000 + n,
                    VEHICLES[n % 5][0],
                    f"bad reading {n}",
                )
            )
        cur.executemany(
            'INSERT INTO dead_letters (time, reason, error_class, topic, partition, "offset",'
            " vehicle_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            letters,
        )
    conn.commit()
