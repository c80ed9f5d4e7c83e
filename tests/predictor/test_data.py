"""Loader, generator, features and baselines: no torch needed."""

import csv
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat

from streams.predictor import baselines
from streams.predictor.errors import DataError
from streams.predictor.features import (
    CHANNELS,
    CycleFeatures,
    build_windows,
    encode_window,
    fit_scaler,
    standardise,
)
from streams.predictor.forecaster import Forecast, fade_rate, is_rapid, remaining_useful_life
from streams.predictor.matgen import CellSpec, write_nasa_mat
from streams.predictor.nasa import (
    default_data_dir,
    load_dataset,
    load_discharge_csv,
    load_mat,
    matlab_datevec,
    read_mat,
)
from streams.predictor.train import default_split


def test_generated_file_has_nasa_structure(mat_dir: Path) -> None:
    m = loadmat(str(mat_dir / "B0902.mat"))
    cycles = m["B0902"][0, 0]["cycle"][0]
    kinds = {str(c["type"][0]) for c in cycles}
    assert kinds == {"charge", "discharge", "impedance"}
    discharge = next(c for c in cycles if c["type"][0] == "discharge")
    assert discharge["ambient_temperature"].dtype == np.uint8
    assert discharge["time"].shape == (1, 6)
    data = discharge["data"]
    assert data.dtype.names == (
        "Voltage_measured",
        "Current_measured",
        "Temperature_measured",
        "Current_load",
        "Voltage_load",
        "Time",
        "Capacity",
    )
    assert data[0, 0]["Capacity"].shape == (1, 1)
    assert data[0, 0]["Time"].shape[0] == 1
    impedance = next(c for c in cycles if c["type"][0] == "impedance")
    assert impedance["data"][0, 0]["Battery_impedance"].dtype == np.complex128


def test_generated_file_round_trips(tmp_path: Path) -> None:
    truth = write_nasa_mat(tmp_path / "B0950.mat", "B0950", 12, seed=5)
    series = load_mat(tmp_path / "B0950.mat")
    assert series.battery_id == "B0950"
    assert [r.cycle_index for r in series.records] == list(range(1, 13))
    assert [r.capacity_ah for r in series.records] == pytest.approx(truth)
    first = series.records[0]
    assert first.soh_percent == pytest.approx(first.capacity_ah / 2.0 * 100)
    f = first.features
    assert f["mean_current_a"] == pytest.approx(2.0, abs=0.01)
    assert f["time_to_discharge_s"] == pytest.approx(first.capacity_ah / 2.0 * 3600, rel=0.01)
    assert f["max_temperature_c"] > f["mean_temperature_c"] > 24
    assert 2.7 < f["avg_voltage_load_v"] < 4.2
    assert 0 < f["time_to_3p5v_s"] < f["time_to_discharge_s"]
    assert math.isnan(f["rest_s"])
    assert series.records[1].features["rest_s"] > 3600


def test_bad_capacities_are_dropped_with_reason(
    mat_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="streams.predictor.nasa"):
        series = load_mat(mat_dir / "B0901.mat")
    reasons = {d.cycle_index: d.reason for d in series.dropped}
    assert set(reasons) == {5, 9, 11}
    assert "implausible" in reasons[5]
    assert "missing" in reasons[9]
    assert "non-finite" in reasons[11]
    assert len(series.records) == 33
    assert "discharge 9 dropped: missing capacity" in caplog.text


def test_isolated_dip_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "B0960.mat"
    write_nasa_mat(
        path, "B0960", 14, CellSpec(noise_ah=0.0, long_rest_every=0), bad_capacity={7: 1.3}
    )
    series = load_mat(path)
    assert [d.cycle_index for d in series.dropped] == [7]
    assert "isolated dip" in series.dropped[0].reason


def _flatten_to_csv(mat_path: Path, folder: Path) -> None:
    battery, raws = read_mat(mat_path)
    (folder / "discharge").mkdir(parents=True)
    with (folder / "discharge" / f"{battery}.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Voltage_measured",
                "Current_measured",
                "Temperature_measured",
                "Current_load",
                "Voltage_load",
                "Time",
                "cycle_idx",
            ]
        )
        for raw in raws:
            for k in range(raw.time_s.size):
                w.writerow(
                    [
                        repr(float(raw.voltage_v[k])),
                        repr(float(raw.current_a[k])),
                        repr(float(raw.temperature_c[k])),
                        -2.0,
                        0.0,
                        repr(float(raw.time_s[k])),
                        raw.index,
                    ]
                )
    with (folder / "capacity.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["battery_id", "discharge_index", "start_time", "ambient_temperature_c", "capacity_ah"]
        )
        for raw in raws:
            cap = "" if raw.capacity_ah is None else repr(raw.capacity_ah)
            w.writerow(
                [
                    battery,
                    raw.index,
                    raw.start_time.replace(tzinfo=None).isoformat(),
                    raw.ambient_c,
                    cap,
                ]
            )


def test_csv_loader_matches_mat_loader(mat_dir: Path, tmp_path: Path) -> None:
    _flatten_to_csv(mat_dir / "B0901.mat", tmp_path)
    from_csv = load_discharge_csv(tmp_path / "discharge" / "B0901.csv")
    from_mat = load_mat(mat_dir / "B0901.mat")
    assert [d.cycle_index for d in from_csv.dropped] == [d.cycle_index for d in from_mat.dropped]
    assert len(from_csv.records) == len(from_mat.records)
    for a, b in zip(from_csv.records, from_mat.records, strict=True):
        assert a.cycle_index == b.cycle_index
        assert a.capacity_ah == pytest.approx(b.capacity_ah)
        assert a.start_time == b.start_time
        for name, value in a.features.items():
            assert value == pytest.approx(b.features[name], nan_ok=True, abs=1e-3)
    dataset = load_dataset([tmp_path])
    assert list(dataset.batteries) == ["B0901"]


def test_dataset_discovery_and_hash(mat_dir: Path, tmp_path: Path) -> None:
    a = load_dataset([mat_dir / "B0901.mat", mat_dir / "B0902.mat"])
    b = load_dataset([mat_dir / "B0902.mat", mat_dir / "B0901.mat"])
    assert a.data_hash == b.data_hash
    assert list(a.batteries) == ["B0901", "B0902"]
    with pytest.raises(DataError):
        load_dataset([tmp_path / "nothing-here"])
    with pytest.raises(DataError):
        a.select(["B0007"])


def test_matlab_datevec() -> None:
    t = matlab_datevec([2008.0, 4.0, 2.0, 15.0, 25.0, 41.5])
    assert t == datetime(2008, 4, 2, 15, 25, 41, 500000, tzinfo=UTC)


def test_default_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOLTSTREAM_NASA_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("VOLTSTREAM_NASA_DATA")
    assert default_data_dir(Path("/repo")) == Path("/shared/data/nasa_pcoe")


def _cycle(cap: float, scale: float = 1.0, rest: float | None = 7200.0) -> CycleFeatures:
    return CycleFeatures(
        capacity_ah=cap * scale,
        max_temperature_c=38.0,
        avg_voltage_load_v=3.5 * scale,
        time_to_discharge_s=cap * 1800.0,
        mean_temperature_c=30.0,
        time_to_3p5v_s=cap * 1000,
        mean_current_a=2.0 * scale,
        rest_s=rest,
        ambient_temperature_c=24.0,
        rated_capacity_ah=2.0 * scale,
    )


def test_encode_window_pads_and_is_scale_free() -> None:
    cell = [_cycle(1.9 - 0.01 * k) for k in range(8)]
    pack = [_cycle(1.9 - 0.01 * k, scale=50.0) for k in range(8)]
    a = encode_window(cell, 10)
    assert a.shape == (10, len(CHANNELS))
    assert (a[:2] == 0).all()
    assert (a[2:, CHANNELS.index("mask")] == 1).all()
    assert a[-1, CHANNELS.index("soh_rel")] == 0
    assert a[2, CHANNELS.index("soh_rel")] == pytest.approx(3.5)
    np.testing.assert_allclose(a, encode_window(pack, 10), atol=1e-9)
    assert encode_window(cell, 5).shape == (5, len(CHANNELS))


def test_windows_scaler_and_baselines() -> None:
    hist = [_cycle(1.9 - 0.01 * k) for k in range(12)]
    ws = build_windows([("X", hist, list(range(1, 13)))], window=6, min_history=3)
    assert len(ws) == 9
    assert ws.target_cycle[0] == 4
    assert ws.soh_history[0].size == 3
    assert ws.soh_history[-1].size == 6
    mean, std = fit_scaler(ws.encoded)
    scaled = standardise(ws.encoded, mean, std)
    assert (scaled[0, :3] == 0).all()
    line = np.array([95.0, 94.5, 94.0, 93.5])
    assert baselines.predict_last(line) == 93.5
    assert baselines.predict_linear(line) == pytest.approx(93.0)
    curve = 95.0 * np.exp(-0.01 * np.arange(5))
    assert baselines.predict_exponential(curve) == pytest.approx(95.0 * math.exp(-0.05))
    assert baselines.predict_linear(np.array([90.0])) == 90.0
    rows = np.stack([baselines.ridge_features(e) for e in ws.encoded])
    y = ws.target_soh - ws.last_soh
    model = baselines.RidgeModel.fit(rows, y, 1e-3)
    np.testing.assert_allclose(model.predict(rows), y, atol=1e-3)


def test_cycle_features_from_mapping() -> None:
    c = CycleFeatures.from_mapping(
        {
            "soh_percent": 90,
            "max_temperature_c": 38,
            "avg_voltage_load_v": 3.5,
            "time_to_discharge_s": 3000,
            "unknown": "ignored",
        }
    )
    assert c.capacity_ah == pytest.approx(1.8)
    assert c.soh_percent == pytest.approx(90)
    with pytest.raises(ValueError, match="capacity_ah or soh_percent"):
        CycleFeatures.from_mapping({"max_temperature_c": 38})
    with pytest.raises(ValueError, match="must be a number"):
        CycleFeatures.from_mapping({"capacity_ah": "x"})


def test_rul_fade_and_rapid() -> None:
    assert remaining_useful_life(85.0, 0.5, 85.5) == 11
    assert remaining_useful_life(79.0, 0.5, 80.5) == 1
    assert remaining_useful_life(81.0, 0.5, 79.0) == 0
    assert remaining_useful_life(90.0, 0.0, 90.0) is None
    assert remaining_useful_life(90.0, 1e-6, 90.0) is None
    soh = np.asarray(100.0 - 0.2 * np.arange(30), dtype=np.float64)
    assert fade_rate(soh, 100.0 - 0.2 * 30) == pytest.approx(0.2)
    fc = Forecast(
        predicted_soh=90.0,
        rul_cycles=50,
        last_soh=90.2,
        fade_percent_per_cycle=0.2,
        history_cycles=30,
    )
    assert is_rapid(fc, 0.05)
    assert not is_rapid(fc, 0.2)
    with pytest.raises(ValueError, match="positive"):
        is_rapid(fc, 0.0)


def test_default_split() -> None:
    names = ["B0005", "B0006", "B0007", "B0025", "B0047"]
    split = default_split(names)
    assert split.test == ("B0007",)
    assert split.val == ("B0047",)
    assert split.train == ("B0005", "B0006", "B0025")
    seed = default_split(names, train=["B0005", "B0006"])
    assert seed.train == ("B0005", "B0006")
    assert seed.val == ("B0047",)
    with pytest.raises(DataError):
        default_split(names, test=["B0005"], train=["B0005"])


def test_core_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import streams.predictor.forecaster, streams.predictor.evaluate\n"
        "import streams.predictor.nasa, voltstream.commands.model\n"
        "assert 'torch' not in sys.modules, 'torch imported eagerly'\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_real_nasa_data(nasa_dir: Path) -> None:
    dataset = load_dataset([nasa_dir])
    assert set(dataset.batteries) == {
        "B0005",
        "B0006",
        "B0007",
        "B0025",
        "B0026",
        "B0027",
        "B0028",
        "B0045",
        "B0046",
        "B0047",
        "B0048",
    }
    b5 = dataset.batteries["B0005"]
    assert len(b5.records) == 168
    assert not b5.dropped
    assert b5.records[0].capacity_ah == pytest.approx(1.856487)
    assert b5.records[0].features["mean_current_a"] == pytest.approx(2.0, abs=0.05)
    assert len(dataset.batteries["B0025"].records) == 28
    b46 = dataset.batteries["B0046"]
    assert [d.cycle_index for d in b46.dropped] == [20, 54, 66]
    assert [d.cycle_index for d in dataset.batteries["B0026"].dropped] == [6]
    assert all(r.capacity_ah > 0.2 for s in dataset.batteries.values() for r in s.records)
