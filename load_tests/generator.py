"""Fleet load generator: pre-built message templates patched with ids and wall-clock timestamps."""

import multiprocessing
import random
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from voltstream.simulator.encode import cells_list, sample_dict, snapshot_dict

Kind = Literal["snapshot", "sample"]

#: Width of the timestamp text `2026-11-22T05:50:00.123Z`.
_TS_WIDTH = 24
_TS_SLOT = "T" * _TS_WIDTH
#: Readings per second of event time a vehicle may send (the worker's default flood limit).
VEHICLE_RATE_LIMIT = 10.0
#: A vehicle sends at most this share of its allowed rate (room for clock jitter).
VEHICLE_RATE_SHARE = 0.6
#: Pack nominal capacity, BMS capacity estimate and cycle count of every generated vehicle.
NOMINAL_KWH = 75.0
BMS_CAPACITY_KWH = 68.25
BMS_CYCLE_COUNT = 412
#: Temperature of the injected critical cell (the default profile's critical band is >= 60 C).
HOT_CELL_C = 75.0


@dataclass(frozen=True)
class FleetSpec:
    """What the generator sends: reading kind, fleet size and the message envelope."""

    kind: Kind = "snapshot"
    vehicles: int = 10_000
    cells: int = 96
    readings_per_message: int = 1
    prefix: str = "lt0"
    variants: int = 48
    probe_every: int = 50
    seed: int = 7

    def vehicle_id(self, index: int) -> str:
        """The fixed-width id of vehicle `index`."""
        return f"{self.prefix}-{index:07d}"

    def alert_vehicle_id(self, index: int) -> str:
        """The id of the `index`-th vehicle used once for an injected critical thermal event."""
        return f"{self.prefix}-x{index:06d}"

    @property
    def id_width(self) -> int:
        """Length of every vehicle id."""
        return len(self.vehicle_id(0))

    def probes(self) -> list[str]:
        """Vehicles whose rows the latency poller watches."""
        return [self.vehicle_id(i) for i in range(0, self.vehicles, self.probe_every)]

    @property
    def min_gap_s(self) -> float:
        """Shortest wall-clock gap between two messages of one vehicle (flood limit margin)."""
        return self.readings_per_message / (VEHICLE_RATE_LIMIT * VEHICLE_RATE_SHARE)


@dataclass(frozen=True)
class RunPlan:
    """How much and how fast to send."""

    count: int
    """Messages to send (the run may end earlier at `duration_s`)."""
    duration_s: float
    rate: float | None = None
    """Messages per second; None sends as fast as the window allows."""
    window_bytes: int = 60 << 20
    """Uncompressed bytes produced but not yet consumed, at most (the mock broker keeps ~5 MB
    per partition of lz4-compressed batches; the generated snapshots compress ~4.5x)."""
    window_messages: int = 20_000
    """...and at most this many messages."""
    alert_interval_s: float = 0.0
    """Inject a critical thermal event this often (0: never)."""
    topics: tuple[str, ...] = ("battery.telemetry",)
    """Vehicle i goes to topics[i % len(topics)] (several: one per independent worker)."""
    bootstrap_servers: str = ""


@dataclass
class GeneratorSummary:
    """What the generator process did."""

    messages: int = 0
    readings: int = 0
    bytes: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0
    window_waits: int = 0
    gap_waits: int = 0
    alerts: list[tuple[str, float]] = field(default_factory=list)
    message_bytes: float = 0.0
    cpu_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "messages": self.messages,
            "readings": self.readings,
            "bytes": self.bytes,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "window_waits": self.window_waits,
            "gap_waits": self.gap_waits,
            "alerts_injected": len(self.alerts),
            "message_bytes": self.message_bytes,
            "cpu_s": self.cpu_s,
        }


def _reading(
    spec: FleetSpec, rng: random.Random, vehicle_id: str, timestamp: str
) -> dict[str, Any]:
    if spec.kind == "sample":
        return sample_dict(
            vehicle_id,
            timestamp,
            soc_percent=round(rng.uniform(20, 90), 1),
            voltage_v=round(rng.uniform(360, 400), 1),
            current_a=round(rng.uniform(-120, 40), 1),
            temp_c=round(rng.uniform(22, 34), 1),
        )
    base_v = rng.uniform(3.6, 3.9)
    base_t = rng.uniform(24, 32)
    volts = [round(base_v + rng.uniform(-0.008, 0.008), 3) for _ in range(spec.cells)]
    temps = [round(base_t + rng.uniform(-1.5, 1.5), 1) for _ in range(spec.cells)]
    # The BMS's capacity estimate and cycle count move over weeks, not between readings: a
    # vehicle reports the same values from every template (so SOH is not re-estimated per
    # reading, which no real fleet does).
    return snapshot_dict(
        vehicle_id,
        timestamp,
        cells_list(volts, temps),
        cycle_count=BMS_CYCLE_COUNT,
        nominal_capacity_kwh=NOMINAL_KWH,
        current_capacity_kwh=BMS_CAPACITY_KWH,
        pack_voltage_v=round(sum(volts), 1),
        pack_current_a=round(rng.uniform(-120, -5), 1),
        soc_percent=round(rng.uniform(20, 90), 1),
        odometer_km=round(rng.uniform(1_000, 150_000), 1),
        make="Loadtest",
        model="LT-1",
        chemistry="NMC",
    )


@dataclass(frozen=True)
class Template:
    """One encoded message with the byte offsets of its id and timestamp slots."""

    data: bytes
    id_offsets: tuple[int, ...]
    ts_offsets: tuple[int, ...]


def _offsets(data: bytes, slot: bytes) -> tuple[int, ...]:
    found: list[int] = []
    start = data.find(slot)
    while start >= 0:
        found.append(start)
        start = data.find(slot, start + len(slot))
    return tuple(found)


def build_templates(spec: FleetSpec) -> list[Template]:
    """`spec.variants` messages with placeholder ids and timestamps, encoded once."""
    rng = random.Random(spec.seed)
    id_slot = "V" * spec.id_width
    templates: list[Template] = []
    for _ in range(spec.variants):
        readings = [
            _reading(spec, rng, id_slot, _TS_SLOT) for _ in range(spec.readings_per_message)
        ]
        if spec.readings_per_message == 1:
            data = orjson.dumps(readings[0])
        else:
            data = orjson.dumps({"schema_version": 1, "vehicle_id": id_slot, "readings": readings})
        ids = _offsets(data, id_slot.encode())
        stamps = _offsets(data, _TS_SLOT.encode())
        assert len(stamps) == spec.readings_per_message
        templates.append(Template(data, ids, stamps))
    return templates


def hot_snapshot(spec: FleetSpec, vehicle_id: str, timestamp: str) -> bytes:
    """A snapshot with one cell above the critical temperature band (a fresh vehicle)."""
    rng = random.Random(vehicle_id)
    reading = _reading(FleetSpec(kind="snapshot", cells=spec.cells), rng, vehicle_id, timestamp)
    reading["cells"][7]["temperature"] = HOT_CELL_C
    return orjson.dumps(reading)


class TimestampText:
    """ISO 8601 UTC text with milliseconds for epoch seconds, caching the per-second prefix."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = b""

    def __call__(self, epoch_ms: int) -> bytes:
        second, ms = divmod(epoch_ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
        return self._prefix + b".%03dZ" % ms


def render(template: Template, vehicle_id: bytes, stamps: list[bytes]) -> bytes:
    """Patch `template` with a vehicle id and one timestamp per reading."""
    buf = bytearray(template.data)
    width = len(vehicle_id)
    for off in template.id_offsets:
        buf[off : off + width] = vehicle_id
    for off, stamp in zip(template.ts_offsets, stamps, strict=True):
        buf[off : off + _TS_WIDTH] = stamp
    return bytes(buf)


def producer_config(bootstrap_servers: str) -> dict[str, Any]:
    """A throughput-oriented confluent-kafka producer (lz4, like `voltstream.kafka`)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": "voltstream-loadgen",
        "linger.ms": 5,
        "batch.size": 1_000_000,
        "compression.type": "lz4",
        "acks": 1,
        "queue.buffering.max.kbytes": 512 * 1024,
        "log_level": 3,
    }


def generate(
    spec: FleetSpec,
    plan: RunPlan,
    produced: Any,
    consumed: Any,
    stop: Any,
    results: Any,
) -> None:
    """Produce messages until `plan` is met or `stop` is set (runs in a child process).

    `produced` / `consumed` are shared message counters (`multiprocessing.Value('q')`); the
    generator keeps `produced - consumed` under the byte window. Each reading is stamped with
    the wall-clock time it is produced (the readings of one envelope 1 ms apart, the last one
    at produce time); a vehicle is never sent to faster than its event-time flood limit.
    """
    from confluent_kafka import Producer

    templates = build_templates(spec)
    message_bytes = sum(len(t.data) for t in templates) / len(templates)
    window = max(1, min(plan.window_messages, int(plan.window_bytes // message_bytes)))
    producer = Producer(producer_config(plan.bootstrap_servers))
    ids = [spec.vehicle_id(i).encode() for i in range(spec.vehicles)]
    last_sent = [0.0] * spec.vehicles
    stamp = TimestampText()
    k = spec.readings_per_message
    gap = spec.min_gap_s
    summary = GeneratorSummary(message_bytes=message_bytes)
    summary.started_at = time.time()
    deadline = summary.started_at + plan.duration_s
    next_alert = summary.started_at + plan.alert_interval_s if plan.alert_interval_s else None
    topics = plan.topics
    n_topics = len(topics)
    produce = producer.produce
    sent = 0
    vehicle = 0
    variant = 0
    n_variants = len(templates)
    while sent < plan.count and not stop.is_set():
        now = time.time()
        if now >= deadline:
            break
        room = consumed.value + window - sent
        if plan.rate is not None:
            room = min(room, int(plan.rate * (now - summary.started_at)) + 1 - sent)
        if room <= 0:
            summary.window_waits += 1
            producer.poll(0.003)  # librdkafka counts whole milliseconds: 0 would spin
            continue
        room = min(room, 256, plan.count - sent)
        for _ in range(room):
            if now - last_sent[vehicle] < gap:
                summary.gap_waits += 1
                time.sleep(gap - (now - last_sent[vehicle]))
                now = time.time()
            epoch_ms = int(now * 1000)
            stamps = [stamp(epoch_ms - (k - 1 - j)) for j in range(k)]
            value = render(templates[variant], ids[vehicle], stamps)
            while True:
                try:
                    produce(topics[vehicle % n_topics], value, ids[vehicle])
                    break
                except BufferError:
                    producer.poll(0.05)
            last_sent[vehicle] = now
            summary.bytes += len(value)
            sent += 1
            vehicle = (vehicle + 1) % spec.vehicles
            variant = (variant + 1) % n_variants
            now = time.time()
        produced.value = sent
        producer.poll(0)
        if next_alert is not None and now >= next_alert:
            alert_vehicle = spec.alert_vehicle_id(len(summary.alerts))
            at = time.time()
            produce(
                topics[0],
                hot_snapshot(spec, alert_vehicle, stamp(int(at * 1000)).decode()),
                alert_vehicle.encode(),
            )
            summary.alerts.append((alert_vehicle, at))
            next_alert += plan.alert_interval_s
    producer.flush(30)
    summary.messages = sent
    summary.readings = sent * k
    summary.finished_at = time.time()
    summary.cpu_s = time.process_time()
    produced.value = sent
    results.put(summary)


class Generator:
    """The generator child process and its shared counters."""

    def __init__(self, spec: FleetSpec, plan: RunPlan) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.spec = spec
        self.plan = plan
        self.produced = ctx.Value("q", 0, lock=False)
        self.consumed = ctx.Value("q", 0, lock=False)
        self._stop = ctx.Event()
        self._results: Any = ctx.Queue()
        self._process = ctx.Process(
            target=generate,
            args=(spec, plan, self.produced, self.consumed, self._stop, self._results),
            name="loadgen",
            daemon=True,
        )
        self.summary: GeneratorSummary | None = None

    def start(self) -> None:
        """Start producing."""
        self._process.start()

    @property
    def pid(self) -> int | None:
        """The child's pid."""
        return self._process.pid

    def done(self) -> bool:
        """Whether the generator has finished."""
        return not self._process.is_alive()

    def finish(self, timeout_s: float = 60.0, *, stop: bool = True) -> GeneratorSummary:
        """Stop (if running and `stop`) and collect the summary."""
        if self.summary is not None:
            return self.summary
        if stop and self._process.is_alive():
            self._stop.set()
        self.summary = self._results.get(timeout=timeout_s)
        self._process.join(10)
        return self.summary
