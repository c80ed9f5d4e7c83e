"""Render results: the Markdown summary table with ratios, and the throughput/latency plot."""

import math
from pathlib import Path
from typing import Any


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _ms(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{1000 * float(value):,.0f}"


def _ratio(a: Any, b: Any) -> str:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return "-"
    if math.isnan(x) or math.isnan(y) or y == 0:
        return "-"
    return f"{x / y:.2f}x"


def _yardstick(machine: dict[str, Any]) -> list[str]:
    """The machine-speed line (``load_tests.yardstick``), when the run measured it."""
    start = machine.get("orjson_us_per_reading")
    if start is None:
        return []
    end = machine.get("orjson_us_per_reading_end")
    reference = machine["orjson_us_reference"]
    at_end = "" if end is None else f", {end:.1f} at the end"
    return [
        f"Machine speed: `orjson.loads` of the generated envelopes took {start:.1f} µs CPU per"
        f" reading at the start{at_end}; {reference:.1f} µs on the reference machine"
        f" ({start / reference:.2f}x; `load_tests/yardstick.py`). Absolute rates scale with it;"
        " the ratios against same-run baselines move less, but they move too (load_tests/README.md,"
        " *A slower machine moves the ratios too*).",
        *_interpreter_yardstick(machine),
        "",
    ]


def _interpreter_yardstick(machine: dict[str, Any]) -> list[str]:
    """The interpreted-Python yardstick's line (``yardstick.python_us_per_reading``), if any."""
    start = machine.get("python_us_per_reading")
    if start is None:
        return []
    end = machine.get("python_us_per_reading_end")
    at_end = "" if end is None else f", {end:.1f} at the end"
    low, high = machine["python_us_seen"]
    return [
        "",
        f"Interpreter speed: a fixed pure-Python loop over the same readings took {start:.1f} µs"
        f" CPU per reading at the start{at_end} ({low:.1f}-{high:.1f} on the Xeon VM of 2026-12-07,"
        " whose `bench_hotpath` ran 1.35-1.5x slower than the reference machine's while its"
        " `orjson.loads` was 1.03-1.09x). Most of the worker's time is interpreted Python, so"
        " this one tracks its rate more closely than the JSON parser does.",
    ]


def markdown(result: dict[str, Any]) -> str:
    """The human summary: per-scenario table, ratios vs baselines, targets, memory, storage."""
    lines = [
        f"# voltstream load test ({result['mode']}, {result['started_at']})",
        "",
        f"Kafka: {result['services']['kafka']}; database: {result['services']['database']};"
        f" {result['machine']['cpus']} CPUs. Throughput is Kafka -> committed rows, sustained"
        " (10 %-90 % of the run's readings). CPU-s counts the consumer's processes plus the"
        " database server's (the per-CPU figures hold up when other work shares the cores)."
        " All ratios are against baselines measured in this same run.",
        "",
        *_yardstick(result["machine"]),
        "| scenario | system | msg shape | readings/s | messages/s | readings per CPU-s (+DB)"
        " | CPU ms / 1k readings (DB) | peak RSS MB | row p50/p95/p99 ms | commit p99 ms (hist)"
        " | load avg | starved % | complete |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for s in result["scenarios"]:
        row_lat = s.get("latency_row_visible_s") or {}
        hist = s.get("latency_commit_histogram_s") or {}
        shape = f"{s['kind']} x{s['readings_per_message']}"
        if s.get("workers", 1) > 1:
            shape += f", {s['workers']} workers"
        if s.get("target_rate_messages_per_s"):
            shape += f", paced {s['target_rate_messages_per_s']:,.0f} msg/s"
        lat = "/".join(_ms(row_lat.get(p)) for p in ("p50", "p95", "p99")) if row_lat else "-"
        lines.append(
            f"| {s['name']} | {s['system']} | {shape} | {_num(s.get('readings_per_s'))}"
            f" | {_num(s.get('messages_per_s'))} | {_num(s.get('readings_per_cpu_s'))}"
            f" | {_num(s.get('cpu_ms_per_1k_readings'))}"
            f" ({_num(s.get('db_cpu_ms_per_1k_readings'))})"
            f" | {_num(s.get('peak_rss_mb'))} | {lat} | {_ms(hist.get('p99'))}"
            f" | {_num(s.get('load_average_before'), 1)}"
            f" | {_num(100 * s.get('cpu_starved_share', math.nan))}"
            f" | {'yes' if s.get('complete') else 'NO'} |"
        )
    raw = result.get("raw_copy")
    if raw:
        lines += [
            "",
            f"Raw database limit ({raw['readings']:,} pre-decoded {raw['kind']} readings,"
            f" {raw['batch_readings']:,} per transaction, {raw['rows_per_reading']} rows each):"
            f" sink writer (COPY -> staging -> INSERT ON CONFLICT)"
            f" {_num(raw['sink_writer_readings_per_s'])} readings/s; plain binary COPY"
            f" {_num(raw['plain_copy_readings_per_s'])} readings/s.",
        ]
    broker = result.get("broker_latency")
    if broker:
        slow = broker[f"fetch_max_wait_{1500}ms_s"]
        fast = broker[f"fetch_max_wait_{100}ms_s"]
        lines += [
            "",
            f"Broker delivery latency to a caught-up aiokafka consumer (1 message / 0.1 s):"
            f" with Faust's fetch_max_wait_ms=1500 p50/p99 {_ms(slow.get('p50'))}/"
            f"{_ms(slow.get('p99'))} ms; with 100 ms {_ms(fast.get('p50'))}/"
            f"{_ms(fast.get('p99'))} ms. (A broker that holds a fetch until its max wait even"
            " when data arrives adds up to that wait to every end-to-end latency.)",
        ]
    ratios = result.get("ratios") or []
    if ratios:
        lines += [
            "",
            "| voltstream vs | baseline readings/s | voltstream readings/s | ratio"
            " | baseline readings/CPU-s | voltstream readings/CPU-s | ratio per CPU-s | target |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in ratios:
            lines.append(
                f"| {r['baseline']} | {_num(r['baseline_value'])} | {_num(r['value'])}"
                f" | {_ratio(r['value'], r['baseline_value'])}"
                f" | {_num(r.get('baseline_per_cpu_s'))} | {_num(r.get('value_per_cpu_s'))}"
                f" | {_ratio(r.get('value_per_cpu_s'), r.get('baseline_per_cpu_s'))}"
                f" | {r.get('target', '')} |"
            )
    checks = result.get("targets") or []
    if checks:
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        for c in checks:
            met = {True: "yes", False: "no", None: "n/a"}[c["met"]]
            lines.append(f"| {c['target']} | {c['measured']} | {met} |")
    memory = result.get("memory")
    if memory:
        lines += [
            "",
            f"Memory per tracked vehicle ({memory['vehicles']:,} `VehicleState`s,"
            f" {memory['readings_per_vehicle']} readings each): RSS delta"
            f" {_num(memory['rss_bytes_per_vehicle'])} B, tracemalloc"
            f" {_num(memory['tracemalloc_bytes_per_vehicle'])} B, `to_bytes()`"
            f" {_num(memory['to_bytes_mean'])} B (max {memory['to_bytes_max']});"
            f" target < {memory['target_bytes']} B.",
        ]
    storage = result.get("storage")
    if storage:
        parts = [
            f"`{t}` {_num(v['bytes_per_row'])} B/row ({v['rows']:,} rows"
            + (", hypertable_size" if v.get("hypertable") else "")
            + ")"
            for t, v in storage.items()
            if v["rows"]
        ]
        lines += [
            "",
            "Storage (pg_total_relation_size or, for a hypertable, hypertable_size / rows, after"
            " the headline run): " + "; ".join(parts) + ".",
        ]
    for s in result["scenarios"]:
        alerts = s.get("latency_alert_s")
        if alerts:
            lines += [
                "",
                f"Alerts ({s['name']}): {s.get('alerts_received')}/{s.get('alerts_injected')}"
                f" injected critical thermal events arrived on the alerts topic, types"
                f" {s.get('alert_types')}; produce -> alert p50/p95/p99"
                f" {_ms(alerts.get('p50'))}/{_ms(alerts.get('p95'))}/{_ms(alerts.get('p99'))} ms.",
            ]
        prof = s.get("profile")
        if prof and prof.get("self"):
            lines += [
                "",
                f"Profile of {s['name']} (py-spy, {prof['samples']} samples; self time):",
                "",
            ]
            lines += [f"- {p['percent']:.1f}% {p['frame']}" for p in prof["self"][:10]]
            main = prof.get("main_thread") or {}
            if main:
                shares = ", ".join(f"{k} {v:.0f}%" for k, v in main.items())
                lines += ["", f"Main (event-loop) thread, all samples incl. idle: {shares}."]
            lines += ["", "Inclusive time in project code:", ""]
            lines += [f"- {p['percent']:.1f}% {p['frame']}" for p in prof["inclusive_project"][:15]]
    lines += _budget(result["scenarios"])
    for s in result["scenarios"]:
        lines += _paired(s)
    for note in result.get("notes", []):
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def _budget(scenarios: list[dict[str, Any]]) -> list[str]:
    """Mean cores used by each side of every scenario (`scenario.cpu_budget`)."""
    rows = [(s["name"], s["cpu_budget"]) for s in scenarios if s.get("cpu_budget")]
    if not rows:
        return []
    sides = ("consumer", "database", "generator", "harness", "idle")
    lines = [
        "",
        "CPU budget (mean cores over each scenario's measured run; the harness is this process:"
        " the embedded broker, sampler, prober and alert listener; the generator's figure"
        " includes its start-up):",
        "",
        "| scenario | " + " | ".join(sides) + " |",
        "|---|" + "---:|" * len(sides),
    ]
    for name, budget in rows:
        lines.append(f"| {name} | " + " | ".join(f"{budget[k]:.2f}" for k in sides) + " |")
    return lines


def _paired(scenario: dict[str, Any]) -> list[str]:
    """The A/B table of a run whose workers ran different source trees side by side."""
    workers = scenario.get("per_worker") or []
    if len(workers) < 2 or all(w.get("tree") is None for w in workers):
        return []
    us = [1e6 * w["cpu_s"] / w["readings"] if w["readings"] else math.nan for w in workers]
    lines = [
        "",
        f"Paired A/B ({scenario['name']}): each worker on its own shard of the same load, at the"
        " same time, so both see the same machine. CPU per reading is the worker process's"
        " user + system time over the measured part of the run.",
        "",
        "| worker | source tree | readings | CPU us / reading | vs worker 0 |",
        "|---|---|---:|---:|---:|",
    ]
    for index, (w, cost) in enumerate(zip(workers, us, strict=True)):
        lines.append(
            f"| {index} | {w.get('tree') or 'this tree'} | {w['readings']:,} | {_num(cost, 1)}"
            f" | {_ratio(cost, us[0])} |"
        )
    return lines


def _smooth(values: list[float], width: int = 4) -> list[float]:
    """Trailing moving average over `width` points (2 s of 0.5 s windows)."""
    out: list[float] = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= width:
            total -= values[index - width]
        out.append(total / min(index + 1, width))
    return out


def plot(result: dict[str, Any], path: Path) -> None:
    """Sustained throughput per scenario, throughput and lag over time, paced latency (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 10), constrained_layout=True)
    (ax_bar, ax_rate), (ax_lag, ax_lat) = axes
    scenarios = [s for s in result["scenarios"] if (s.get("series") or {}).get("t")]
    colors = {s["name"]: f"C{i % 10}" for i, s in enumerate(scenarios)}

    names = [s["name"] for s in scenarios]
    rates = [float(s.get("readings_per_s") or 0.0) for s in scenarios]
    per_cpu = [float(s.get("readings_per_cpu_s") or 0.0) for s in scenarios]
    raw = result.get("raw_copy")
    if raw:
        names.append("raw-copy (sink writer)")
        rates.append(float(raw["sink_writer_readings_per_s"]))
        per_cpu.append(0.0)
    positions = list(range(len(names)))
    ax_bar.barh([p + 0.2 for p in positions], rates, height=0.4, label="readings/s (wall)")
    ax_bar.barh([p - 0.2 for p in positions], per_cpu, height=0.4, label="readings per CPU-s (+DB)")
    for pos, value in zip(positions, rates, strict=True):
        ax_bar.annotate(f"{value:,.0f}", (value, pos + 0.2), fontsize=7, va="center")
    ax_bar.set_yticks(positions, names, fontsize=8)
    ax_bar.invert_yaxis()
    ax_bar.set_xscale("log")
    ax_bar.axvline(10_000, color="grey", linestyle="--", linewidth=0.8)
    ax_bar.set_title("Sustained throughput, Kafka -> committed rows (log scale; target 10k)")
    ax_bar.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2)
    ax_bar.grid(alpha=0.3, axis="x")

    for s in scenarios:
        series = s["series"]
        color = colors[s["name"]]
        ax_rate.plot(
            series["t"], _smooth(series["readings_per_s"]), label=s["name"], color=color, lw=1.2
        )
        ax_lag.plot(
            series["t"], _smooth(series["lag_readings"]), label=s["name"], color=color, lw=1.2
        )
        if series.get("probe_t"):
            ax_lat.scatter(
                series["probe_t"],
                [1000 * v for v in series["probe_latency_s"]],
                s=5,
                alpha=0.5,
                color="C0",
                label=f"{s['name']}: produce -> row visible",
            )
        if series.get("alert_t"):
            ax_lat.scatter(
                series["alert_t"],
                [1000 * v for v in series["alert_latency_s"]],
                s=30,
                marker="x",
                color="red",
                label=f"{s['name']}: produce -> critical alert",
            )
    ax_rate.set_title("Committed readings/s over time (2 s moving average)")
    ax_rate.set_ylabel("readings/s")
    ax_lag.set_title("Consumer lag: readings produced, not yet committed (2 s average)")
    ax_lag.set_ylabel("readings")
    ax_lat.set_title("Latency of the paced run (80 % of max) with critical thermal events")
    ax_lat.set_ylabel("ms")
    ax_lat.axhline(1000, color="grey", linestyle="--", linewidth=0.8, label="1 s (row target)")
    ax_lat.axhline(2000, color="red", linestyle=":", linewidth=0.8, label="2 s (alert target)")
    for ax in (ax_rate, ax_lag, ax_lat):
        ax.set_xlabel("seconds since the scenario's measured run started")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"voltstream load test ({result['mode']}, {result['started_at']})")
    fig.savefig(path, dpi=100)
    plt.close(fig)
