"""Analytics accuracy vs simulator ground truth: rolling SOH, fault recall, false alarms."""

import argparse
import functools
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from schemas.alerts import Alert, AlertState
from schemas.errors import SchemaError
from streams.analytics.profiles import resolve_profile
from streams.analytics.state import VehicleState
from streams.fastpath import FastDecoder
from voltstream.simulator import (
    BmsCapacityMode,
    FaultRates,
    FleetConfig,
    MessageKind,
    VehicleSim,
)

DECODE_NOW = datetime(2100, 1, 1, tzinfo=UTC)
LOW_SOH_MARGIN_PERCENT = 1.0


@dataclass(frozen=True, slots=True)
class Options:
    """What to simulate and how to judge it."""

    vehicles: int = 200
    days: float = 4.0
    seed: int = 1
    usage: float = 3.0
    fault_rate: float = 0.1
    message_faults: bool = True
    bms_capacity: str = "nominal"
    min_swing_percent: float = 40.0
    sessions: int = 3
    settle_s: float = 900.0
    tolerance_percent: float = 1.0
    detection_grace_s: float = 300.0
    offline_after_s: float = 600.0
    offline_tick_s: float = 15.0
    workers: int = 2
    sample_period_s: float = 10.0
    snapshot_period_s: float = 60.0
    start: datetime = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)

    def fleet_config(self) -> FleetConfig:
        """The simulated fleet."""
        r = self.fault_rate
        return FleetConfig(
            vehicles=self.vehicles,
            seed=self.seed,
            start=self.start,
            duration_s=self.days * 86_400.0,
            sample_period_s=self.sample_period_s,
            snapshot_period_s=self.snapshot_period_s,
            usage_scale=self.usage,
            bms_capacity=BmsCapacityMode(self.bms_capacity),
            faults=FaultRates(
                weak_cell=r,
                thermal_event=r,
                stuck_sensor=r,
                dead_sensor=r,
                pack_voltage_mismatch=r,
                offline=r,
                duplicate=0.002 if self.message_faults else 0.0,
                out_of_order=0.002 if self.message_faults else 0.0,
                malformed=0.001 if self.message_faults else 0.0,
            ),
        )


@dataclass(slots=True)
class FaultResult:
    """One injected fault window and whether its primary expected alert fired in time."""

    type: str
    expected: str
    detected: bool
    latency_s: float | None
    alerts_in_window: list[str]


@dataclass(slots=True)
class VehicleResult:
    """Everything measured on one vehicle."""

    vehicle_id: str
    chemistry: str
    profile: str
    true_soh_start: float
    faults: list[FaultResult] = field(default_factory=list)
    false_alerts: list[str] = field(default_factory=list)
    false_alert_details: list[dict[str, Any]] = field(default_factory=list)
    deep_sessions: int = 0
    soh_estimate: float | None = None
    soh_truth: float | None = None
    soh_method: str | None = None
    soh_sessions: int = 0
    messages: int = 0
    readings: int = 0
    malformed: int = 0
    malformed_rejected: int = 0
    valid_rejected: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    elapsed_s: float = 0.0


class Fired(NamedTuple):
    """A firing alert seen during the replay (offset in seconds since the fleet start)."""

    kind: str
    t: float
    true_soh: float
    alert: Alert


@functools.lru_cache(maxsize=1)
def _decoder() -> FastDecoder:
    return FastDecoder()


def evaluate_vehicle(options: Options, index: int) -> VehicleResult:
    """Replay one simulated vehicle through a fresh `VehicleState` and score it."""
    began = time.perf_counter()
    config = options.fleet_config()
    sim = VehicleSim(config, index)
    spec = sim.spec
    profile = resolve_profile(None, spec.model.make, spec.model.model, spec.chemistry.name.value)
    state = VehicleState(spec.vehicle_id)
    decoder = _decoder()
    start = config.start
    result = VehicleResult(
        vehicle_id=spec.vehicle_id,
        chemistry=spec.chemistry.name.value,
        profile=profile.name,
        true_soh_start=round(spec.initial_soh_percent, 3),
    )
    fired: list[Fired] = []
    deep_ends: list[float] = []
    seen_sessions = 0
    offline_fired_for: int | None = None
    for message in sim.messages():
        result.messages += 1
        emit = message.emit_offset_s
        last_us = state.last_seen
        if last_us is not None and last_us != offline_fired_for:
            last_offset = last_us / 1e6 - start.timestamp()
            due = last_offset + options.offline_after_s + options.offline_tick_s
            if emit > due:
                alert = state.check_offline(start + timedelta(seconds=due), options.offline_after_s)
                offline_fired_for = last_us
                if alert is not None and alert.state is AlertState.firing:
                    fired.append(Fired(alert.type.value, due, message.true_soh_percent, alert))
        kind = message.kind
        if kind is MessageKind.DUPLICATE:
            result.duplicates += 1
        elif kind is MessageKind.OUT_OF_ORDER:
            result.out_of_order += 1
        elif kind is MessageKind.MALFORMED:
            result.malformed += 1
        try:
            decoded = decoder.decode(message.value, DECODE_NOW)
        except SchemaError:
            if kind is MessageKind.MALFORMED:
                result.malformed_rejected += 1
            else:
                result.valid_rejected += 1
            continue
        errors = sum(isinstance(item, SchemaError) for item in decoded)
        if kind is MessageKind.MALFORMED and errors:
            result.malformed_rejected += 1
        elif errors:
            result.valid_rejected += 1
        for item in decoded:
            if isinstance(item, SchemaError):
                continue
            result.readings += 1
            outcome = state.process(item, profile)
            for alert in outcome.alerts:
                if alert.state is AlertState.firing:
                    offset = (alert.event_time - start).total_seconds()
                    fired.append(Fired(alert.type.value, offset, message.true_soh_percent, alert))
        sessions = sim.truth.sessions
        if len(sessions) != seen_sessions:
            for session in sessions[seen_sessions:]:
                if session.soc_end - session.soc_start >= options.min_swing_percent:
                    deep_ends.append(session.end_s)
            seen_sessions = len(sessions)
        if (
            result.soh_estimate is None
            and len(deep_ends) >= options.sessions
            and kind is not MessageKind.MALFORMED
            and (message.event_time - start).total_seconds()
            >= deep_ends[options.sessions - 1] + options.settle_s
        ):
            health = state.health(profile)
            result.soh_estimate = health.soh_percent
            result.soh_truth = round(message.true_soh_percent, 4)
            result.soh_method = health.method.value
            result.soh_sessions = health.sessions
    result.deep_sessions = len(deep_ends)
    _score_faults(options, sim, fired, result)
    result.elapsed_s = round(time.perf_counter() - began, 3)
    return result


def _score_faults(
    options: Options,
    sim: VehicleSim,
    fired: list[Fired],
    result: VehicleResult,
) -> None:
    grace = options.detection_grace_s
    windows = sim.faults
    for window in windows:
        expected = window.expected_alerts[0]
        inside = [(f.kind, f.t) for f in fired if window.start_s <= f.t <= window.end_s + grace]
        hits = [t for kind, t in inside if kind == expected]
        result.faults.append(
            FaultResult(
                type=window.type.value,
                expected=expected,
                detected=bool(hits),
                latency_s=round(min(hits) - window.start_s, 1) if hits else None,
                alerts_in_window=sorted({kind for kind, _ in inside}),
            )
        )
    for f in fired:
        if any(w.start_s <= f.t <= w.end_s + grace for w in windows):
            continue
        if f.kind == "low_soh" and f.true_soh < 80.0 + LOW_SOH_MARGIN_PERCENT:
            continue
        result.false_alerts.append(f.kind)
        result.false_alert_details.append(
            {
                "vehicle_id": result.vehicle_id,
                "type": f.kind,
                "severity": f.alert.severity.value,
                "at_s": round(f.t, 1),
                "value": f.alert.value,
                "threshold": f.alert.threshold,
                "cells": list(f.alert.cells[:8]),
                "true_soh": round(f.true_soh, 3),
                "faults": [w.type.value for w in windows],
            }
        )


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def summarize(options: Options, results: list[VehicleResult], elapsed_s: float) -> dict[str, Any]:
    """Aggregate per-vehicle results into the report (targets included)."""
    evaluated = [r for r in results if r.soh_estimate is not None and r.soh_truth is not None]
    errors = [abs(r.soh_estimate - r.soh_truth) for r in evaluated]  # type: ignore[operator]
    within = sum(e <= options.tolerance_percent for e in errors)
    soh = {
        "vehicles_evaluated": len(evaluated),
        "vehicles_without_enough_sessions": len(results) - len(evaluated),
        "within_tolerance_percent": _percent(within, len(evaluated)),
        "tolerance_soh_percent": options.tolerance_percent,
        "target_percent": 95.0,
        "mean_abs_error": round(statistics.fmean(errors), 4) if errors else None,
        "p95_abs_error": round(sorted(errors)[int(0.95 * (len(errors) - 1))], 4)
        if errors
        else None,
        "max_abs_error": round(max(errors), 4) if errors else None,
        "methods": dict(Counter(r.soh_method for r in evaluated)),
        "worst": [
            {
                "vehicle_id": r.vehicle_id,
                "estimate": r.soh_estimate,
                "truth": r.soh_truth,
                "method": r.soh_method,
                "sessions": r.soh_sessions,
            }
            for r in sorted(
                evaluated,
                key=lambda r: -abs(r.soh_estimate - r.soh_truth),  # type: ignore[operator]
            )[:5]
        ],
    }
    by_type: dict[str, list[FaultResult]] = {}
    for r in results:
        for f in r.faults:
            by_type.setdefault(f.type, []).append(f)
    recall: dict[str, Any] = {}
    for kind, faults in sorted(by_type.items()):
        detected = [f for f in faults if f.detected]
        latencies = [f.latency_s for f in detected if f.latency_s is not None]
        recall[kind] = {
            "expected_alert": faults[0].expected,
            "windows": len(faults),
            "detected": len(detected),
            "recall_percent": _percent(len(detected), len(faults)),
            "median_latency_s": round(statistics.median(latencies), 1) if latencies else None,
            "missed_alerts_seen": dict(
                Counter(a for f in faults if not f.detected for a in f.alerts_in_window)
            ),
        }
    healthy = [r for r in results if not r.faults]
    noisy = [r for r in healthy if r.false_alerts]
    faulted_spurious = [r for r in results if r.faults and r.false_alerts]
    messages = sum(r.messages for r in results)
    malformed = sum(r.malformed for r in results)
    summary: dict[str, Any] = {
        "config": {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(options).items()
        },
        "soh": soh,
        "fault_recall": {"target_percent": 99.0, "by_type": recall},
        "false_alarms": {
            "healthy_vehicles": len(healthy),
            "healthy_with_false_alarm": len(noisy),
            "rate_percent": _percent(len(noisy), len(healthy)),
            "target_percent": 1.0,
            "by_type": dict(Counter(a for r in healthy for a in r.false_alerts)),
            "faulted_vehicles_with_alerts_outside_windows": len(faulted_spurious),
            "outside_window_by_type": dict(
                Counter(a for r in faulted_spurious for a in r.false_alerts)
            ),
            "examples": [d for r in results for d in r.false_alert_details][:30],
        },
        "messages": {
            "total": messages,
            "readings_processed": sum(r.readings for r in results),
            "malformed": malformed,
            "malformed_rejected_percent": _percent(
                sum(r.malformed_rejected for r in results), malformed
            ),
            "valid_rejected": sum(r.valid_rejected for r in results),
            "duplicates": sum(r.duplicates for r in results),
            "out_of_order": sum(r.out_of_order for r in results),
        },
        "elapsed_s": round(elapsed_s, 2),
        "messages_per_s": round(messages / elapsed_s) if elapsed_s > 0 else None,
    }
    summary["passed"] = _passed(summary)
    return summary


def _passed(summary: dict[str, Any]) -> dict[str, bool]:
    soh = summary["soh"]["within_tolerance_percent"]
    recalls = [v["recall_percent"] for v in summary["fault_recall"]["by_type"].values()]
    rate = summary["false_alarms"]["rate_percent"]
    return {
        "soh": soh is not None and soh >= 95.0,
        "fault_recall": bool(recalls) and all(r is not None and r >= 99.0 for r in recalls),
        "false_alarms": rate is not None and rate <= 1.0,
    }


def run(options: Options) -> dict[str, Any]:
    """Simulate, replay and summarize (vehicles spread over `workers` processes)."""
    began = time.perf_counter()
    indices = range(options.vehicles)
    if options.workers <= 1:
        results = [evaluate_vehicle(options, i) for i in indices]
    else:
        with ProcessPoolExecutor(max_workers=options.workers) as pool:
            work = functools.partial(evaluate_vehicle, options)
            chunk = max(1, options.vehicles // (options.workers * 8))
            results = list(pool.map(work, indices, chunksize=chunk))
    return summarize(options, results, time.perf_counter() - began)


def render(summary: dict[str, Any]) -> str:
    """Human-readable summary."""
    soh = summary["soh"]
    fa = summary["false_alarms"]
    msg = summary["messages"]
    ok = summary["passed"]
    cfg = summary["config"]
    lines = [
        f"accuracy: {cfg['vehicles']} vehicles x {cfg['days']:g} days (seed {cfg['seed']}, "
        f"usage x{cfg['usage']:g}, BMS capacity {cfg['bms_capacity']}), "
        f"{msg['total']:,} messages in {summary['elapsed_s']:.1f} s "
        f"({summary['messages_per_s']:,} msg/s)",
        "",
        f"SOH within {soh['tolerance_soh_percent']:g} % of truth after {cfg['sessions']} "
        f"sessions >= {cfg['min_swing_percent']:g} % swing: {soh['within_tolerance_percent']} % "
        f"of {soh['vehicles_evaluated']} vehicles (target >= {soh['target_percent']:g} %) "
        f"[{'PASS' if ok['soh'] else 'FAIL'}]",
        f"  mean |err| {soh['mean_abs_error']}  p95 {soh['p95_abs_error']}  "
        f"max {soh['max_abs_error']}  methods {soh['methods']}  "
        f"(not enough sessions: {soh['vehicles_without_enough_sessions']})",
        "",
        f"fault recall (target >= 99 %) [{'PASS' if ok['fault_recall'] else 'FAIL'}]",
    ]
    for kind, row in summary["fault_recall"]["by_type"].items():
        missed = (
            f"  missed-window alerts {row['missed_alerts_seen']}"
            if row["detected"] < row["windows"]
            else ""
        )
        lines.append(
            f"  {kind:<22} {row['expected_alert']:<21} {row['detected']:>4}/{row['windows']:<4} "
            f"{row['recall_percent']} %  median latency {row['median_latency_s']} s{missed}"
        )
    lines += [
        "",
        f"false alarms on healthy vehicles: {fa['healthy_with_false_alarm']}/"
        f"{fa['healthy_vehicles']} = {fa['rate_percent']} % (target <= 1 %) "
        f"[{'PASS' if ok['false_alarms'] else 'FAIL'}]  by type {fa['by_type']}",
        f"  faulted vehicles with alerts outside their windows: "
        f"{fa['faulted_vehicles_with_alerts_outside_windows']} {fa['outside_window_by_type']}",
        "",
        f"messages: malformed {msg['malformed']} (rejected {msg['malformed_rejected_percent']} %),"
        f" valid rejected {msg['valid_rejected']}, duplicates {msg['duplicates']}, "
        f"out-of-order {msg['out_of_order']}",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> tuple[Options, argparse.Namespace]:
    """Command-line options."""
    d = Options()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, default=d.vehicles)
    parser.add_argument("--days", type=float, default=d.days, help="simulated days")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--usage", type=float, default=d.usage, help="daily distance multiplier")
    parser.add_argument(
        "--fault-rate", type=float, default=d.fault_rate, help="per vehicle, per fault type"
    )
    parser.add_argument("--no-message-faults", action="store_true")
    parser.add_argument("--bms-capacity", choices=["noisy", "nominal"], default=d.bms_capacity)
    parser.add_argument("--sessions", type=int, default=d.sessions)
    parser.add_argument("--min-swing", type=float, default=d.min_swing_percent)
    parser.add_argument("--tolerance", type=float, default=d.tolerance_percent)
    parser.add_argument("--workers", type=int, default=d.workers)
    parser.add_argument("--sample-period", type=float, default=d.sample_period_s)
    parser.add_argument("--snapshot-period", type=float, default=d.snapshot_period_s)
    parser.add_argument("--json", default=None, help="write the JSON summary here ('-': stdout)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    options = Options(
        vehicles=args.vehicles,
        days=args.days,
        seed=args.seed,
        usage=args.usage,
        fault_rate=args.fault_rate,
        message_faults=not args.no_message_faults,
        bms_capacity=args.bms_capacity,
        sessions=args.sessions,
        min_swing_percent=args.min_swing,
        tolerance_percent=args.tolerance,
        workers=args.workers,
        sample_period_s=args.sample_period,
        snapshot_period_s=args.snapshot_period,
    )
    return options, args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the accuracy check and print (or write) the summary."""
    options, args = parse_args(argv)
    summary = run(options)
    text = json.dumps(summary, indent=2, default=str)
    if args.json == "-":
        print(text)
    else:
        print(render(summary), end="")
        if args.json:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    if args.check and not all(summary["passed"].values()):
        return 1
    return 0 if not math.isnan(summary["elapsed_s"]) else 1


if __name__ == "__main__":
    sys.exit(main())
