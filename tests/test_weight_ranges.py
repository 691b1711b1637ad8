"""--weight-range: how each int8 weight row's range is chosen (mcuq.fixedpoint.weight_range):
known answers for every rule, the per-layer entry of a precision file, the report's
columns, and bad values refused in one line."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from conftest import save_model
from mcuq import fixedpoint as fx
from mcuq.errors import McuqError
from mcuq.export import export
from mcuq.verify import verify


def test_max_is_the_rows_largest_magnitude():
    w = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]])
    assert fx.weight_range(w, 8, "max").tolist() == [1.0, 0.0]
    q, scale = fx.quantize_weights_per_channel(w, 8, "max")
    assert q[0].tolist() == [64, -127, 32] and scale[1] == 1.0  # an all-zero row: scale 1


def test_clip_bounds_the_range_and_never_widens_it():
    w = np.array([[0.2, -0.05, 0.01], [0.03, -0.02, 0.01]])
    assert fx.weight_range(w, 8, "clip=0.1").tolist() == [0.1, 0.03]
    q, _ = fx.quantize_weights_per_channel(w, 8, "clip=0.1")
    assert q[0, 0] == 127  # 0.2 clips to the last code
    clipped, _ = fx.weight_quality(w, 8, "clip=0.1")
    assert clipped == pytest.approx(1 / 6)


def test_percentile_is_of_the_rows_magnitudes():
    w = np.arange(1, 102, dtype=np.float64)[None] * np.array([[1.0]])  # |w| = 1 .. 101
    assert fx.weight_range(w, 8, "percentile=75")[0] == pytest.approx(76.0)
    assert fx.weight_range(w, 8, "percentile")[0] == pytest.approx(np.percentile(w, 99.9))


def test_mse_keeps_a_range_that_is_already_exact_and_cuts_an_outlier():
    grid = np.arange(-7, 8)[None] * 0.1  # on the 4-bit grid of max |w| = 0.7: no error
    assert fx.weight_range(grid, 4, "mse")[0] == pytest.approx(0.7)
    rng = np.random.default_rng(0)
    row = np.concatenate([[10.0], rng.uniform(-1, 1, 255)])[None]
    r = fx.weight_range(row, 4, "mse")[0]
    assert r < 10.0
    assert fx.weight_quality(row, 4, "mse")[1] > fx.weight_quality(row, 4, "max")[1]


@pytest.mark.parametrize("text", ["foo", "max=3", "percentile=30", "percentile=101",
                                  "clip=0", "clip=-1", "clip=nan", "clip=x"])
def test_bad_rules_are_refused(text):
    with pytest.raises(McuqError, match="weight range"):
        fx.parse_weight_range(text)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 5 * 5, 4)
        with torch.no_grad():
            self.conv.weight[0, 0, 1, 1] = 3.0  # one outlier in channel 0

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("net")
    path = save_model(Net().eval(), torch.zeros(1, 3, 5, 5), "onnx_legacy", tmp / "m",
                      dynamic_time=False)
    np.save(tmp / "x.npy", np.random.default_rng(1).standard_normal((6, 3, 5, 5)).astype(
        np.float32))
    return tmp, path


def test_mse_ranges_at_four_bits_are_reported_and_bit_exact(net, tmp_path):
    tmp, path = net
    rows = {}
    for rule in ("max", "mse"):
        out = tmp_path / rule
        report = export(path, tmp / "x.npy", out, weight_bits=4, weight_range=rule)
        rows[rule] = {r["layer"]: r for r in report["layers"]}
        assert report["weight_range"] == rule
        assert verify(out, "host", np.load(tmp / "x.npy"), cores=2)["mismatched_bytes"] == 0
    for layer in ("conv2d0", "linear0"):
        assert rows["max"][layer]["weight_range"] == "max"
        assert rows["max"][layer]["weights_clipped"] == 0.0
        assert rows["mse"][layer]["weight_sqnr_db"] >= rows["max"][layer]["weight_sqnr_db"]
    assert rows["mse"]["conv2d0"]["weights_clipped"] > 0  # the outlier is clipped


def test_a_precision_file_sets_one_layers_range(net, tmp_path):
    tmp, path = net
    (tmp_path / "p.json").write_text(json.dumps({"conv2d0": {"weight_range": "clip=0.05"}}))
    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "export", str(path), "--calib",
                          str(tmp / "x.npy"), "-o", str(tmp_path / "out"), "--precision-file",
                          str(tmp_path / "p.json")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = {r["layer"]: r for r in json.loads(
        (tmp_path / "out" / "report.json").read_text())["layers"]}
    assert rows["conv2d0"]["weight_range"] == "clip=0.05" and rows["linear0"]["weight_range"] == "max"
    assert "clip=0.05" in run.stdout


@pytest.mark.parametrize("args,phrase", [
    (["--weight-range", "clip=0"], "the bound must be a number above 0"),
    (["--precision-file", "relu.json"], "has no weights")])
def test_bad_weight_ranges_are_one_line_errors(net, tmp_path, args, phrase):
    tmp, path = net
    (tmp_path / "relu.json").write_text(json.dumps({"flatten": {"weight_range": "mse"}}))
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "export", str(path), "--calib",
                          str(tmp / "x.npy"), "-o", str(tmp_path / "out"), *args],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and phrase in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
