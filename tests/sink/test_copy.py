"""Binary COPY encoding: each type round-trips through a real server in PostgreSQL's layout."""

import math
import struct
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import psycopg
import pytest

from streams.sink.copy import (
    HEADER,
    TRAILER,
    encode_float4_array,
    encode_int4_array,
    encode_rows,
    encode_timestamptz,
    float4_array,
    row_encoder,
)
from streams.sink.tables import PgType

ALL_TYPES = (
    ("ts", PgType.TIMESTAMPTZ, "timestamptz"),
    ("txt", PgType.TEXT, "text"),
    ("f8", PgType.FLOAT8, "float8"),
    ("i4", PgType.INT4, "int4"),
    ("i8", PgType.INT8, "int8"),
    ("b", PgType.BOOL, "bool"),
    ("j", PgType.JSONB, "jsonb"),
    ("ia", PgType.INT4_ARRAY, "int4[]"),
    ("fa", PgType.FLOAT4_ARRAY, "real[]"),
)


def _roundtrip(url: str, rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    columns = ", ".join(f"{name} {sql}" for name, _, sql in ALL_TYPES)
    names = ", ".join(name for name, _, _ in ALL_TYPES)
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TEMP TABLE t (n serial, {columns})".encode())
        with conn.cursor().copy(f"COPY t ({names}) FROM STDIN (FORMAT BINARY)".encode()) as copy:
            for chunk in encode_rows([t for _, t, _ in ALL_TYPES], rows, chunk_bytes=64):
                copy.write(chunk)
        return conn.execute(f"SELECT {names} FROM t ORDER BY n".encode()).fetchall()


def test_every_type_round_trips(empty_db: str) -> None:
    now = datetime(2026, 2, 1, 14, 23, 45, 123456, tzinfo=UTC)
    rows: list[tuple[object, ...]] = [
        (
            now,
            "VIN-ÄÖ-1 ✓",
            -45.3,
            2**31 - 1,
            2**62,
            True,
            {"a": [1.5, 2], "b": "x", "c": None},
            [0, 5, -7],
            [3.5, 4.25, -1.0],
        ),
        (None, None, None, None, None, None, None, None, None),
        (
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
            "",
            math.inf,
            -(2**31),
            -1,
            False,
            {},
            [],
            [],
        ),
    ]
    got = _roundtrip(empty_db, rows)
    assert got[0] == (
        now,
        "VIN-ÄÖ-1 ✓",
        -45.3,
        2**31 - 1,
        2**62,
        True,
        {"a": [1.5, 2], "b": "x", "c": None},
        [0, 5, -7],
        [3.5, 4.25, -1.0],
    )
    assert got[1] == (None,) * 9
    assert got[2][0] == datetime(2000, 1, 1, 4, 59, 59, tzinfo=UTC)
    assert got[2][1:] == ("", math.inf, -(2**31), -1, False, {}, [], [])


def test_float4_arrays_keep_float32_values_nan_and_null_elements(empty_db: str) -> None:
    values = [3.123456789, float("nan"), 0.0, -2.5e-3]
    with_null = [3.5, None, 4.0]
    got = _roundtrip(
        empty_db,
        [
            (None, None, None, None, None, None, None, None, values),
            (None, None, None, None, None, None, None, None, with_null),
        ],
    )
    stored = got[0][8]
    assert isinstance(stored, list)
    expected = [struct.unpack(">f", struct.pack(">f", v))[0] for v in values]
    assert stored[0] == pytest.approx(expected[0])
    assert math.isnan(stored[1])
    assert stored[2:] == pytest.approx(expected[2:])
    assert got[1][8] == [3.5, None, 4.0]


def test_jsonb_has_no_nan() -> None:
    (data,) = list(encode_rows([PgType.JSONB], []))  # header and trailer only
    assert data == HEADER + TRAILER
    chunks = b"".join(encode_rows([PgType.JSONB], [({"x": float("nan")},)]))
    assert b'{"x":null}' in chunks
    numbers = {"f": np.float32(1.5), "i": np.int64(3), "a": np.array([1.0, 2.0])}
    assert b'{"f":1.5,"i":3,"a":[1.0,2.0]}' in b"".join(encode_rows([PgType.JSONB], [(numbers,)]))


def test_float4_array_layout_matches_the_server_format() -> None:
    field = encode_float4_array([1.0, 2.0])
    length, ndim, hasnull, oid, dim, lbound = struct.unpack_from(">iiiIii", field)
    assert (length, ndim, hasnull, oid, dim, lbound) == (20 + 16, 1, 0, 700, 2, 1)
    assert struct.unpack_from(">ifif", field, 24) == (4, 1.0, 4, 2.0)
    assert encode_int4_array([]) == struct.pack(">iiiI", 12, 0, 0, 23)
    assert encode_float4_array(None) == b"\xff\xff\xff\xff"


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(TypeError):
        encode_timestamptz(datetime(2026, 1, 1))


def _plain_float4_array(values: list[float]) -> bytes:
    body = b"".join(struct.pack(">if", 4, v) for v in values)
    return struct.pack(">iiiIii", 20 + len(body), 1, 0, 700, len(values), 1) + body


def test_float4_arrays_of_every_length_match_the_plain_layout() -> None:
    # More distinct lengths than the layout cache keeps, each encoded twice.
    for n in [*range(1, 300), *range(1, 300)]:
        values = [n + i / 7 for i in range(n)]
        assert encode_float4_array(values) == _plain_float4_array(values)
    assert encode_float4_array([1.5, None]) == (
        struct.pack(">iiiIii", 20 + 8 + 4, 1, 1, 700, 2, 1)
        + struct.pack(">if", 4, 1.5)
        + b"\xff" * 4
    )


@pytest.mark.parametrize(
    "values",
    [
        [3.123456789, -2.5e-3, 0.0, -0.0, 1e-42, 3.4e38, math.inf, -math.inf],
        [float(i) / 3 for i in range(96)],
        [7.0],
    ],
)
def test_float32_arrays_encode_like_the_values(values: list[float]) -> None:
    compact = float4_array(values)
    assert compact.typecode == "f"
    assert encode_float4_array(compact) == encode_float4_array(values)
    assert encode_float4_array(compact) == _plain_float4_array(values)
    nan = encode_float4_array(float4_array([math.nan]))
    assert math.isnan(struct.unpack_from(">f", nan, 28)[0])


def test_float32_arrays_refuse_what_encoding_refuses() -> None:
    with pytest.raises(OverflowError):
        encode_float4_array([1e300])
    with pytest.raises(OverflowError):
        float4_array([1e300])
    with pytest.raises(struct.error):
        float4_array([1.0, None])  # type: ignore[list-item]


def test_text_columns_encode_the_same_from_the_cache() -> None:
    encode = row_encoder((PgType.TEXT, PgType.TEXT))
    rows = [("VIN-1", None), ("VIN-1", "x" * 100), ("ÄÖ ✓", ""), ("VIN-1", None)]
    for row in [*rows, *rows]:
        expected = b"\x00\x02" + b"".join(
            b"\xff\xff\xff\xff" if v is None else struct.pack(">i", len(v.encode())) + v.encode()
            for v in row
        )
        assert encode(row) == expected
