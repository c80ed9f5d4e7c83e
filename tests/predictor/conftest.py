"""Fixtures of the predictor tests: generated NASA-format files and the shared NASA data."""

import math
from pathlib import Path

import pytest

from streams.predictor.matgen import MISSING, CellSpec, write_nasa_mat
from streams.predictor.nasa import default_data_dir


@pytest.fixture(scope="session")
def mat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small synthetic cells in NASA's .mat structure (one with bad capacities)."""
    folder = tmp_path_factory.mktemp("nasa_mat")
    write_nasa_mat(
        folder / "B0901.mat",
        "B0901",
        36,
        CellSpec(),
        seed=1,
        bad_capacity={5: 0.0, 9: MISSING, 11: math.nan},
    )
    write_nasa_mat(
        folder / "B0902.mat",
        "B0902",
        36,
        CellSpec(initial_capacity_ah=1.85, fade_per_cycle_ah=0.006),
        seed=2,
    )
    write_nasa_mat(
        folder / "B0903.mat",
        "B0903",
        36,
        CellSpec(initial_capacity_ah=1.95, fade_per_cycle_ah=0.005, ambient_c=4),
        seed=3,
    )
    return folder


@pytest.fixture(scope="session")
def nasa_dir() -> Path:
    """The shared NASA PCoE folder; tests using it skip when it is absent."""
    path = default_data_dir()
    if not (path / "mat").is_dir() or not (path / "discharge").is_dir():
        pytest.skip(f"NASA PCoE data not found at {path} (set VOLTSTREAM_NASA_DATA)")
    return path
