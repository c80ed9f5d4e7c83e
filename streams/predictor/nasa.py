"""Loaders for NASA PCoE battery data: the original .mat files and flattened discharge CSVs."""

import csv
import hashlib
import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from streams.predictor.errors import DataError
from streams.predictor.features import (
    FEATURE_NAMES,
    RATED_CAPACITY_AH,
    CycleFeatures,
    FloatArray,
    discharge_features,
)

log = logging.getLogger(__name__)

SOURCE = "nasa_pcoe"
DATA_ENV = "VOLTSTREAM_NASA_DATA"
MIN_CAPACITY_FRACTION = 0.1
"""Capacities at or below 10 % of rated (0.2 Ah) are failed or truncated runs, not ageing."""
DIP_FRACTION = 0.10
DIP_NEIGHBOURS = 3
"""A capacity more than 10 % below the median of its 3+3 valid neighbours is an isolated dip."""
DISCHARGE_FIELDS = ("Voltage_measured", "Current_measured", "Temperature_measured", "Time")


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """One discharge cycle of one battery: target capacity/SOH and cycle-level features."""

    source: str
    battery_id: str
    cycle_index: int
    start_time: datetime
    capacity_ah: float
    soh_percent: float
    features: dict[str, float]
    rated_capacity_ah: float = RATED_CAPACITY_AH

    def to_cycle_features(self) -> CycleFeatures:
        """The record as the model's per-cycle input."""
        f = self.features
        return CycleFeatures(
            capacity_ah=self.capacity_ah,
            max_temperature_c=f["max_temperature_c"],
            avg_voltage_load_v=f["avg_voltage_load_v"],
            time_to_discharge_s=f["time_to_discharge_s"],
            mean_temperature_c=_opt(f.get("mean_temperature_c")),
            time_to_3p5v_s=_opt(f.get("time_to_3p5v_s")),
            mean_current_a=_opt(f.get("mean_current_a")),
            rest_s=_opt(f.get("rest_s")),
            ambient_temperature_c=_opt(f.get("ambient_temperature_c")),
            rated_capacity_ah=self.rated_capacity_ah,
        )

    def features_json(self) -> dict[str, float | None]:
        """Features for JSON / JSONB (NaN becomes null)."""
        return {k: _opt(v) for k, v in self.features.items()}


def _opt(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A discharge cycle left out of the series, and why."""

    battery_id: str
    cycle_index: int
    reason: str


@dataclass(frozen=True, slots=True)
class BatterySeries:
    """The kept discharge cycles of one battery in time order, and the dropped ones."""

    battery_id: str
    source_path: str
    records: tuple[CycleRecord, ...]
    dropped: tuple[Dropped, ...] = ()

    def history(self) -> list[CycleFeatures]:
        """All kept cycles as model inputs, oldest first."""
        return [r.to_cycle_features() for r in self.records]

    def soh(self) -> FloatArray:
        """SOH in percent per kept cycle."""
        return np.array([r.soh_percent for r in self.records], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Batteries loaded from one or more paths, with a hash of the input files."""

    batteries: dict[str, BatterySeries]
    data_hash: str
    files: tuple[str, ...] = field(default=())

    def select(self, names: Iterable[str]) -> list[BatterySeries]:
        """The named batteries (DataError for an unknown name)."""
        out = []
        for name in names:
            if name not in self.batteries:
                raise DataError(f"battery {name} not in the data ({', '.join(self.batteries)})")
            out.append(self.batteries[name])
        return out


@dataclass(frozen=True, slots=True)
class RawDischarge:
    """A discharge as read from a file, before filtering and feature extraction."""

    index: int
    start_time: datetime
    ambient_c: float | None
    capacity_ah: float | None
    time_s: FloatArray
    voltage_v: FloatArray
    current_a: FloatArray
    temperature_c: FloatArray


def default_data_dir(repo_root: Path | None = None) -> Path:
    """`$VOLTSTREAM_NASA_DATA`, else `<repo>/../shared/data/nasa_pcoe`."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    root = repo_root if repo_root is not None else Path(__file__).resolve().parents[2]
    return (root / ".." / "shared" / "data" / "nasa_pcoe").resolve()


def matlab_datevec(vec: Sequence[float]) -> datetime:
    """A MATLAB date vector [Y M D h m s] as a UTC datetime (NASA gives no time zone)."""
    y, mo, d, h, mi = (round(float(x)) for x in vec[:5])
    seconds = float(vec[5]) if len(vec) > 5 else 0.0
    return datetime(y, mo, d, h, mi, tzinfo=UTC) + timedelta(seconds=seconds)


def _field(struct: Any, name: str) -> Any:
    """A field of a loadmat struct (record array) or mat_struct, tolerant of both layouts."""
    if isinstance(struct, np.ndarray):
        if struct.dtype.names is None:
            if struct.dtype == object and struct.size == 1:
                return _field(struct.item(), name)
            raise KeyError(name)
        if name not in struct.dtype.names:
            raise KeyError(name)
        return struct.reshape(-1)[0][name]
    if isinstance(struct, np.void):
        return struct[name]
    return getattr(struct, name)


def _vector(value: Any) -> FloatArray:
    return np.asarray(value, dtype=np.float64).reshape(-1)


def _text(value: Any) -> str:
    arr = np.asarray(value)
    if arr.size == 0:
        return ""
    return str(arr.reshape(-1)[0]).strip()


def _scalar(value: Any) -> float | None:
    arr = np.asarray(value)
    if arr.size == 0:
        return None
    try:
        return float(arr.reshape(-1)[0])
    except (TypeError, ValueError):
        return None


def read_mat(path: Path) -> tuple[str, list[RawDischarge]]:
    """Read the discharge cycles of a NASA .mat file (`scipy.io.loadmat`)."""
    from scipy.io import loadmat  # scipy is only needed for .mat files

    try:
        mat = loadmat(str(path))
    except (NotImplementedError, ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable MATLAB 5 file: {exc}") from exc
    names = [k for k in mat if not k.startswith("__")]
    if not names:
        raise DataError(f"{path}: no variable in the file")
    name = path.stem if path.stem in names else names[0]
    try:
        cycles = np.asarray(_field(mat[name], "cycle")).reshape(-1)
    except KeyError as exc:
        raise DataError(f"{path}: variable {name} has no 'cycle' field") from exc
    out: list[RawDischarge] = []
    for cycle in cycles:
        if _text(_field(cycle, "type")) != "discharge":
            continue
        index = len(out) + 1
        data = _field(cycle, "data")
        try:
            arrays = {f: _vector(_field(data, f)) for f in DISCHARGE_FIELDS}
        except KeyError as exc:
            raise DataError(f"{path}: discharge {index} lacks field {exc}") from exc
        try:
            capacity = _scalar(_field(data, "Capacity"))
        except KeyError:
            capacity = None
        out.append(
            RawDischarge(
                index=index,
                start_time=matlab_datevec(_vector(_field(cycle, "time")).tolist()),
                ambient_c=_scalar(_field(cycle, "ambient_temperature")),
                capacity_ah=capacity,
                time_s=arrays["Time"],
                voltage_v=arrays["Voltage_measured"],
                current_a=arrays["Current_measured"],
                temperature_c=arrays["Temperature_measured"],
            )
        )
    return name.upper(), out


def _find_capacity_csv(csv_path: Path) -> Path:
    for folder in (csv_path.parent, csv_path.parent.parent):
        candidate = folder / "capacity.csv"
        if candidate.is_file():
            return candidate
    raise DataError(f"{csv_path}: no capacity.csv beside it or in its parent folder")


def read_discharge_csv(
    path: Path, capacity_csv: Path | None = None
) -> tuple[str, list[RawDischarge]]:
    """Read a flattened discharge CSV (`cycle_idx` 1-based) and its rows of capacity.csv."""
    battery = path.stem.upper()
    cap_path = capacity_csv if capacity_csv is not None else _find_capacity_csv(path)
    meta: dict[int, tuple[datetime, float | None, float | None]] = {}
    with cap_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("battery_id", "").strip().upper() != battery:
                continue
            idx = int(row["discharge_index"])
            start = datetime.fromisoformat(row["start_time"])
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            meta[idx] = (
                start,
                _float_or_none(row.get("ambient_temperature_c")),
                _float_or_none(row.get("capacity_ah")),
            )
    with path.open() as fh:
        header = fh.readline().strip().split(",")
    needed = (*DISCHARGE_FIELDS, "cycle_idx")
    missing = [c for c in needed if c not in header]
    if missing:
        raise DataError(f"{path}: missing columns {missing}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    col = {name: header.index(name) for name in needed}
    idx_col = table[:, col["cycle_idx"]].astype(np.int64)
    out: list[RawDischarge] = []
    for idx in np.unique(idx_col):
        rows = table[idx_col == idx]
        info = meta.get(int(idx))
        if info is None:
            log.warning("%s discharge %d: not in %s, skipped", battery, idx, cap_path)
            continue
        start, ambient, capacity = info
        out.append(
            RawDischarge(
                index=int(idx),
                start_time=start,
                ambient_c=ambient,
                capacity_ah=capacity,
                time_s=rows[:, col["Time"]],
                voltage_v=rows[:, col["Voltage_measured"]],
                current_a=rows[:, col["Current_measured"]],
                temperature_c=rows[:, col["Temperature_measured"]],
            )
        )
    return battery, out


def _float_or_none(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def build_series(
    battery_id: str,
    raws: Sequence[RawDischarge],
    source_path: str,
    rated_capacity_ah: float = RATED_CAPACITY_AH,
) -> BatterySeries:
    """Filter bad cycles (logged with a reason), extract features, compute rest times."""
    dropped: list[Dropped] = []
    kept: list[tuple[RawDischarge, float, dict[str, float]]] = []
    prev_end: datetime | None = None
    for raw in raws:
        end = raw.start_time + timedelta(seconds=float(raw.time_s[-1]) if raw.time_s.size else 0.0)
        rest = (raw.start_time - prev_end).total_seconds() if prev_end is not None else math.nan
        prev_end = end
        reason = _capacity_problem(raw.capacity_ah, rated_capacity_ah)
        feats: dict[str, float] = {}
        if reason is None:
            try:
                feats = discharge_features(
                    raw.time_s, raw.voltage_v, raw.current_a, raw.temperature_c
                )
            except ValueError as exc:
                reason = f"bad discharge samples: {exc}"
        if reason is not None:
            dropped.append(Dropped(battery_id, raw.index, reason))
            continue
        assert raw.capacity_ah is not None
        feats["rest_s"] = max(rest, 0.0) if math.isfinite(rest) else math.nan
        feats["ambient_temperature_c"] = math.nan if raw.ambient_c is None else raw.ambient_c
        kept.append((raw, raw.capacity_ah, feats))
    caps = np.array([c for _, c, _ in kept], dtype=np.float64)
    records: list[CycleRecord] = []
    for i, (raw, cap, feats) in enumerate(kept):
        lo, hi = max(0, i - DIP_NEIGHBOURS), min(len(kept), i + DIP_NEIGHBOURS + 1)
        neighbours = np.concatenate([caps[lo:i], caps[i + 1 : hi]])
        if neighbours.size >= 2 and cap < (1.0 - DIP_FRACTION) * float(np.median(neighbours)):
            dropped.append(
                Dropped(
                    battery_id,
                    raw.index,
                    f"isolated dip: {cap:.3f} Ah vs neighbour median "
                    f"{float(np.median(neighbours)):.3f} Ah",
                )
            )
            continue
        records.append(
            CycleRecord(
                source=SOURCE,
                battery_id=battery_id,
                cycle_index=raw.index,
                start_time=raw.start_time,
                capacity_ah=cap,
                soh_percent=cap / rated_capacity_ah * 100.0,
                features={name: feats.get(name, math.nan) for name in FEATURE_NAMES},
                rated_capacity_ah=rated_capacity_ah,
            )
        )
    for d in sorted(dropped, key=lambda d: d.cycle_index):
        log.info("%s discharge %d dropped: %s", d.battery_id, d.cycle_index, d.reason)
    return BatterySeries(
        battery_id=battery_id,
        source_path=source_path,
        records=tuple(records),
        dropped=tuple(sorted(dropped, key=lambda d: d.cycle_index)),
    )


def _capacity_problem(capacity: float | None, rated: float) -> str | None:
    if capacity is None:
        return "missing capacity"
    if not math.isfinite(capacity):
        return "non-finite capacity"
    if capacity <= MIN_CAPACITY_FRACTION * rated:
        return f"implausible capacity {capacity:.3f} Ah (<= {MIN_CAPACITY_FRACTION:.0%} of rated)"
    if capacity > 1.5 * rated:
        return f"implausible capacity {capacity:.3f} Ah (> 150 % of rated)"
    return None


def load_mat(path: Path) -> BatterySeries:
    """One battery from a NASA .mat file."""
    battery, raws = read_mat(path)
    return build_series(battery, raws, str(path))


def load_discharge_csv(path: Path, capacity_csv: Path | None = None) -> BatterySeries:
    """One battery from a flattened discharge CSV plus capacity.csv."""
    battery, raws = read_discharge_csv(path, capacity_csv)
    return build_series(battery, raws, str(path))


def _is_discharge_csv(path: Path) -> bool:
    if path.name.lower() == "capacity.csv":
        return False
    with path.open() as fh:
        return "cycle_idx" in fh.readline()


def discover(paths: Sequence[Path]) -> list[Path]:
    """The .mat and discharge-CSV files in the given files and folders (recursive), sorted."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(p.rglob("*.mat")))
            found.extend(c for c in sorted(p.rglob("*.csv")) if _is_discharge_csv(c))
        elif p.is_file():
            found.append(p)
        else:
            raise DataError(f"{p}: no such file or folder")
    return found


def load_dataset(paths: Sequence[Path]) -> Dataset:
    """Load every battery found under `paths`; the hash covers every file read."""
    files = discover(paths)
    if not files:
        raise DataError(f"no .mat or discharge CSV files under {', '.join(map(str, paths))}")
    batteries: dict[str, BatterySeries] = {}
    hashed: set[Path] = set()
    for path in files:
        if path.suffix.lower() == ".mat":
            series = load_mat(path)
        elif path.suffix.lower() == ".csv":
            series = load_discharge_csv(path)
            hashed.add(_find_capacity_csv(path).resolve())
        else:
            raise DataError(f"{path}: expected a .mat or a discharge .csv file")
        hashed.add(path.resolve())
        if series.battery_id in batteries:
            raise DataError(f"battery {series.battery_id} found twice ({path})")
        if not series.records:
            log.warning("%s: no usable discharge cycle, skipped", series.battery_id)
            continue
        batteries[series.battery_id] = series
    digest = hashlib.sha256()
    for path in sorted(hashed, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return Dataset(
        batteries=dict(sorted(batteries.items())),
        data_hash=digest.hexdigest(),
        files=tuple(str(p) for p in files),
    )
