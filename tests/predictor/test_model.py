"""LSTM training, the artifact, the forecaster and the `voltstream model` command (torch)."""

import argparse
import importlib.util
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from streams.predictor.artifact import load_bundle, save_bundle  # noqa: E402
from streams.predictor.errors import ArtifactError, DataError  # noqa: E402
from streams.predictor.evaluate import (  # noqa: E402
    MODELS,
    cohorts,
    evaluate_bundle,
    format_table,
    leave_one_out,
    loo_val_battery,
)
from streams.predictor.forecaster import DegradationForecaster  # noqa: E402
from streams.predictor.nasa import Dataset, load_dataset  # noqa: E402
from streams.predictor.train import Split, TrainConfig, train_bundle  # noqa: E402
from voltstream.commands import model as model_cmd  # noqa: E402

FAST = TrainConfig(window=12, min_history=4, ensemble=1, epochs=4, patience=3, threads=1)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def dataset(mat_dir: Path) -> Dataset:
    return load_dataset([mat_dir])


@pytest.fixture(scope="module")
def artifact(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    split = Split(train=("B0901",), val=("B0902",), test=("B0903",))
    bundle = train_bundle(dataset, split, FAST)
    path = tmp_path_factory.mktemp("artifact") / "model.pt"
    save_bundle(bundle, path)
    return path


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="voltstream")
    sub = parser.add_subparsers(dest="command")
    model_cmd.register(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_training_is_deterministic(dataset: Dataset) -> None:
    split = Split(train=("B0901",), val=("B0902",), test=("B0903",))
    a = train_bundle(dataset, split, FAST)
    b = train_bundle(dataset, split, FAST)
    for key, value in a.state_dicts[0].items():
        assert torch.equal(value, b.state_dicts[0][key])
    assert a.metadata["train_batteries"] == ["B0901"]
    assert a.metadata["data_hash"] == dataset.data_hash


def test_artifact_round_trip_weights_only(artifact: Path, dataset: Dataset) -> None:
    payload = torch.load(str(artifact), weights_only=True)
    assert payload["format"] == "voltstream.soh-lstm"
    bundle = load_bundle(artifact)
    assert bundle.window == FAST.window
    assert len(bundle.state_dicts) == 1
    assert bundle.ridge is not None
    results = evaluate_bundle(bundle, dataset.select(list(dataset.batteries)))
    assert set(results["B0903"]) == set(MODELS)
    for per_model in results.values():
        for m in per_model.values():
            assert m.n > 0
            assert math.isfinite(m.rmse)
            assert m.mae <= m.rmse
    text = format_table(results)
    assert "B0903" in text
    assert "lstm" in text
    with zipfile.ZipFile(artifact) as zf:
        assert not any(name.endswith(".py") for name in zf.namelist())


def test_bad_artifacts_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        load_bundle(tmp_path / "missing.pt")
    bogus = tmp_path / "bogus.pt"
    torch.save({"format": "something-else"}, str(bogus))
    with pytest.raises(ArtifactError):
        load_bundle(bogus)
    assert DegradationForecaster.load_optional(bogus) is None
    assert DegradationForecaster.load_optional(None) is None


def test_forecaster(artifact: Path, dataset: Dataset) -> None:
    forecaster = DegradationForecaster.load(artifact)
    history = dataset.batteries["B0903"].history()
    fc = forecaster.predict(history)
    assert abs(fc.predicted_soh - history[-1].soh_percent) < 5
    assert fc.history_cycles == FAST.window
    assert fc.fade_percent_per_cycle > 0
    assert fc.rul_cycles is not None
    assert fc.rul_cycles > 0
    with pytest.raises(DataError):
        forecaster.predict(history[:2])


def test_leave_one_out_and_cohorts(dataset: Dataset) -> None:
    assert loo_val_battery(["A", "B", "C"], "C") == "A"
    assert loo_val_battery(["A", "B"], "A") is None
    assert len(cohorts(dataset)) == 1
    results, info = leave_one_out(dataset, FAST, ["B0902"])
    assert set(results) == {"B0902", "all"}
    assert info["B0902"]["val"] == "B0903"
    assert "B0902" not in info["B0902"]["train"]


def test_cli_train_evaluate_predict(
    mat_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "cli.pt"
    common = [
        "--window",
        "12",
        "--min-history",
        "4",
        "--epochs",
        "3",
        "--ensemble",
        "1",
        "--threads",
        "1",
    ]
    assert (
        _cli(
            [
                "model",
                "train",
                "--data",
                str(mat_dir),
                "--out",
                str(out),
                "--train",
                "B0901",
                "--val",
                "B0902",
                "--test",
                "B0903",
                *common,
            ]
        )
        == 0
    )
    assert "B0903" in capsys.readouterr().out
    assert (
        _cli(
            [
                "model",
                "evaluate",
                "--artifact",
                str(out),
                "--data",
                str(mat_dir),
                "--format",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["roles"]["B0903"] == "test"
    assert set(report["metrics"]["B0903"]) == set(MODELS)
    cycles = [
        r.features_json() | {"capacity_ah": r.capacity_ah}
        for r in load_dataset([mat_dir / "B0903.mat"]).batteries["B0903"].records
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(cycles[-20:])))
    assert _cli(["model", "predict", "--artifact", str(out)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert 80 < answer["predicted_soh"] < 100
    assert "rul_cycles" in answer
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert _cli(["model", "predict", "--artifact", str(out)]) == 1
    assert "error" in capsys.readouterr().err


def test_cli_without_torch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: object) -> object:
        return None if name == "torch" else real(name)

    monkeypatch.setattr("importlib.util.find_spec", fake)
    assert _cli(["model", "evaluate", "--artifact", str(tmp_path / "x.pt")]) == 2
    assert "voltstream[ml]" in capsys.readouterr().err


def test_real_data_seed_split(nasa_dir: Path) -> None:
    """A short real training run: the pipeline works end to end on NASA's cells."""
    dataset = load_dataset([nasa_dir])
    config = TrainConfig(window=20, min_history=5, ensemble=1, epochs=3, patience=3, threads=1)
    bundle = train_bundle(dataset, Split(("B0005", "B0006"), ("B0047",), ("B0007",)), config)
    results = evaluate_bundle(bundle, dataset.select(["B0007"]))
    b7 = results["B0007"]
    assert b7["last"].n == 163
    assert b7["last"].rmse == pytest.approx(0.627, abs=0.01)
    assert np.isfinite(b7["lstm"].rmse)
    assert b7["lstm"].rmse < 5
