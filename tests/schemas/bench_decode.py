"""Timing of both decode paths on a 96-cell snapshot: `python -m tests.schemas.bench_decode`."""

import json
import timeit
from collections.abc import Callable

import msgspec
import orjson

from schemas import DecodeLimits, PackSnapshot, decode_telemetry
from streams.fastpath import FastDecoder, derive_struct
from tests.schemas.payloads import NOW, sample, snapshot


def per_call_us(func: Callable[[], object], number: int) -> float:
    """Best of 7 repeats, in microseconds per call (best-of filters noise from shared cores)."""
    return min(timeit.repeat(func, number=number, repeat=7)) / number * 1e6


def main() -> None:
    """Print us/decode for the pydantic reference and the fast path."""
    raw = json.dumps(snapshot(cells=96)).encode()
    raw_sample = json.dumps(sample()).encode()
    batch = json.dumps({"vehicle_id": "EV-12345", "readings": [snapshot(cells=96)] * 10}).encode()
    limits = DecodeLimits()
    fast = FastDecoder(limits)
    assert fast.decode(raw, NOW)[0] is not None
    plain = msgspec.json.Decoder(derive_struct(PackSnapshot))
    rows = [
        ("baseline: orjson.loads (parse only)", lambda: orjson.loads(raw), 20000),
        ("baseline: msgspec derived struct (no checks)", lambda: plain.decode(raw), 20000),
        (
            "pydantic model_validate_json (model only)",
            lambda: PackSnapshot.model_validate_json(raw),
            2000,
        ),
        (
            "decode_telemetry (reference, all checks)",
            lambda: decode_telemetry(raw, limits, NOW),
            2000,
        ),
        ("FastDecoder.decode (all checks)", lambda: fast.decode(raw, NOW), 20000),
        ("FastDecoder.decode, seed 003 sample", lambda: fast.decode(raw_sample, NOW), 20000),
        ("FastDecoder.decode, batch of 10 (per reading)", lambda: fast.decode(batch, NOW), 2000),
    ]
    print(f"{len(raw)} bytes, 96-cell snapshot")
    for name, func, number in rows:
        scale = 10 if "batch" in name else 1
        print(f"{name:48s} {per_call_us(func, number) / scale:8.1f} us")
    assert fast.fallbacks == 0


if __name__ == "__main__":
    main()
