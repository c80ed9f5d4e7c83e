"""`voltstream model ingest` against a real PostgreSQL (the suite's `database_url` fixture)."""

from pathlib import Path

import pytest

from streams.predictor.nasa import load_dataset
from voltstream.commands.model import ingest_records

psycopg = pytest.importorskip("psycopg")

TEMP_TABLE = """
CREATE TEMP TABLE cycle_series (
    source text NOT NULL, battery_id text NOT NULL, cycle_index integer NOT NULL,
    time timestamptz NOT NULL, features jsonb NOT NULL, soh_target double precision,
    capacity_ah double precision, PRIMARY KEY (source, battery_id, cycle_index))
"""


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    try:
        url: str = request.getfixturevalue("database_url")
    except pytest.FixtureLookupError:
        pytest.skip("no database_url fixture in this test suite")
    return url


@pytest.mark.integration
def test_ingest_is_idempotent(db_url: str, mat_dir: Path) -> None:
    dataset = load_dataset([mat_dir])
    records = [r for s in dataset.batteries.values() for r in s.records]
    with psycopg.connect(db_url) as conn:
        # A temp table shadows any migrated cycle_series for this session only.
        conn.execute(TEMP_TABLE)
        assert ingest_records(conn, records) == len(records)
        assert ingest_records(conn, records[:5]) == 0
        row = conn.execute(
            "SELECT count(*), count(DISTINCT battery_id), "
            "max((features->>'mean_current_a')::float) FROM cycle_series"
        ).fetchone()
        assert row is not None
        assert row[0] == len(records)
        assert row[1] == 3
        assert row[2] == pytest.approx(2.0, abs=0.01)
        first = conn.execute(
            "SELECT soh_target, capacity_ah, features->'rest_s' FROM cycle_series "
            "WHERE battery_id = 'B0902' AND cycle_index = 1"
        ).fetchone()
        assert first is not None
        assert first[0] == pytest.approx(first[1] / 2.0 * 100)
        assert first[2] is None
