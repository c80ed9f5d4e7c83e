"""`voltstream simulate`: stream a deterministic simulated fleet to JSON Lines or Kafka."""

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from voltstream.errors import VoltstreamError

if TYPE_CHECKING:
    from voltstream.simulator import FleetConfig, SimMessage


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `simulate` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="generate a simulated EV fleet (JSON Lines or Kafka) with ground truth",
        description="Simulate a deterministic fleet (same --seed, same bytes) with drive/charge/"
        "park duty cycles, ageing packs and injected faults. Writes one message per line "
        "(the exact Kafka value) to --out, or produces to Kafka with --kafka. --truth writes "
        "the ground truth as JSON Lines.",
    )
    parser.add_argument("--vehicles", type=int, default=10, help="fleet size (default 10)")
    parser.add_argument(
        "--duration", default="1h", help="simulated time: 3600, 90s, 15m, 1h, 2d (default 1h)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--faults", default="default", choices=["none", "default", "all"])
    parser.add_argument("--batch-size", type=int, default=1, help="readings per message")
    parser.add_argument(
        "--out",
        default=None,
        help="JSON Lines output file, '-' for stdout (default without --kafka: stdout)",
    )
    parser.add_argument("--truth", type=Path, default=None, help="ground truth JSON Lines file")
    parser.add_argument(
        "--kafka",
        nargs="?",
        const="",
        default=None,
        metavar="BOOTSTRAP",
        help="produce to Kafka (host:port,...; bare --kafka uses KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument("--topic", default=None, help="topic (default: the telemetry topic)")
    parser.add_argument("--rate", type=float, default=None, help="cap in messages per second")
    parser.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="simulated seconds per wall second: 1 = real time, 0 = as fast as possible",
    )
    parser.add_argument(
        "--start",
        default=None,
        help="simulated start, ISO 8601 or 'now' (default: 2026-01-05T07:00Z for files; for "
        "Kafka now - duration, or now when --speed > 0)",
    )
    parser.add_argument("--snapshot-period", type=float, default=30.0, help="seconds (30)")
    parser.add_argument("--sample-period", type=float, default=5.0, help="seconds, 0 = none (5)")
    parser.add_argument("--parked-period", type=float, default=180.0, help="seconds (180)")
    parser.add_argument(
        "--bms-capacity",
        choices=["noisy", "nominal"],
        default="noisy",
        help="what the BMS reports as current_capacity_kwh (default noisy true capacity)",
    )
    parser.add_argument(
        "--usage", type=float, default=1.0, help="daily distance multiplier (default 1)"
    )
    parser.add_argument("--quiet", action="store_true", help="no summary on stderr")
    parser.set_defaults(func=_run)


def _parse_start(text: str | None, kafka: bool, speed: float, duration_s: float) -> datetime:
    from voltstream.simulator import DEFAULT_START, InvalidFleetConfig

    now = datetime.now(UTC).replace(microsecond=0)
    if text is None:
        if not kafka:
            return DEFAULT_START
        return now if speed > 0 else now - timedelta(seconds=duration_s)
    if text == "now":
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidFleetConfig(f"--start: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise InvalidFleetConfig("--start must include a UTC offset (e.g. 'Z')")
    return moment.astimezone(UTC)


def _config(args: argparse.Namespace) -> "FleetConfig":
    from voltstream.simulator import FAULT_PRESETS, BmsCapacityMode, FleetConfig, parse_duration

    duration_s = parse_duration(args.duration)
    return FleetConfig(
        vehicles=args.vehicles,
        seed=args.seed,
        start=_parse_start(args.start, args.kafka is not None, args.speed, duration_s),
        duration_s=duration_s,
        snapshot_period_s=args.snapshot_period or None,
        sample_period_s=args.sample_period or None,
        parked_period_s=args.parked_period,
        batch_size=args.batch_size,
        faults=FAULT_PRESETS[args.faults],
        bms_capacity=BmsCapacityMode(args.bms_capacity),
        usage_scale=args.usage,
    )


class _KafkaSink:
    """confluent-kafka producer that counts delivery failures."""

    def __init__(self, bootstrap: str, topic: str | None) -> None:
        import confluent_kafka

        from voltstream.kafka import producer_config
        from voltstream.settings import Settings

        settings = Settings()
        if bootstrap:
            settings = settings.with_services(bootstrap_servers=bootstrap)
        overrides: dict[str, Any] = {"linger.ms": 20}
        self.producer = confluent_kafka.Producer(producer_config(settings.kafka, **overrides))
        self.topic = topic or settings.topics.telemetry_topic
        self.failed = 0
        self.last_error = ""

    def _delivered(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self.failed += 1
            self.last_error = str(err)

    def send(self, message: "SimMessage") -> None:
        while True:
            try:
                self.producer.produce(
                    self.topic, key=message.key, value=message.value, on_delivery=self._delivered
                )
            except BufferError:
                self.producer.poll(0.1)
                continue
            break
        self.producer.poll(0)

    def close(self) -> int:
        remaining: int = self.producer.flush(60)
        return remaining


def _open_out(name: str | None, kafka: bool) -> tuple[IO[bytes] | None, bool]:
    if name is None:
        return (None, False) if kafka else (sys.stdout.buffer, False)
    if name == "-":
        return sys.stdout.buffer, False
    return Path(name).open("wb"), True


def _run(args: argparse.Namespace) -> int:
    from voltstream.simulator import Fleet, MessageKind
    from voltstream.simulator.pacing import Pacer
    from voltstream.simulator.truth import message_record, vehicle_records

    try:
        config = _config(args)
        pacer = Pacer(args.speed, args.rate)
    except (VoltstreamError, ValueError) as exc:
        print(f"voltstream simulate: {exc}", file=sys.stderr)
        return 2
    kafka: _KafkaSink | None = None
    out, close_out = None, False
    truth_file: IO[bytes] | None = None
    counts: Counter[str] = Counter()
    began = time.monotonic()
    try:
        if args.kafka is not None:
            kafka = _KafkaSink(args.kafka, args.topic)
        out, close_out = _open_out(args.out, kafka is not None)
        truth_file = args.truth.open("wb") if args.truth is not None else None
        fleet = Fleet(config)
        line = 0
        for message in fleet.messages():
            pacer.wait(message.emit_offset_s)
            if out is not None:
                out.write(message.value + b"\n")
                line += 1
            if kafka is not None:
                kafka.send(message)
            counts[message.kind.value] += 1
            if truth_file is not None and message.kind is not MessageKind.VALID:
                record = message_record(message, config.start)
                if out is not None:
                    record["line"] = line
                truth_file.write(_json_line(record))
        if truth_file is not None:
            truth = fleet.ground_truth()
            for vehicle in truth.vehicles.values():
                for record in vehicle_records(vehicle, config.start, include_messages=False):
                    truth_file.write(_json_line(record))
        if out is not None:
            out.flush()
    except BrokenPipeError:
        return 0
    except (VoltstreamError, OSError) as exc:
        print(f"voltstream simulate: {exc}", file=sys.stderr)
        return 1
    finally:
        if close_out and out is not None:
            out.close()
        if truth_file is not None:
            truth_file.close()
    code = 0
    if kafka is not None:
        remaining = kafka.close()
        if kafka.failed or remaining:
            print(
                f"voltstream simulate: {kafka.failed} deliveries failed, {remaining} undelivered"
                f" ({kafka.last_error})",
                file=sys.stderr,
            )
            code = 1
    if not args.quiet:
        elapsed = max(time.monotonic() - began, 1e-9)
        total = sum(counts.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(
            f"simulated {config.vehicles} vehicles for {config.duration_s:g} s: {total} messages "
            f"({detail}) in {elapsed:.1f} s ({total / elapsed:,.0f} msg/s)",
            file=sys.stderr,
        )
    return code


def _json_line(record: dict[str, Any]) -> bytes:
    import orjson

    return orjson.dumps(record) + b"\n"
