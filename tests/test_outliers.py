"""Weight outliers kept aside (--weight-outliers, mcuq.outliers): known answers for the
choice, the side list's code and the dense range; exports whose C equals the simulator
on the host, QEMU and the RTL at 1 and 8 cores (linear, convolution, CFWS's fine part,
a side list with filler entries, bit errors in the outlier codes); bad input refused."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from conftest import save_model
from mcuq import bit_errors, outliers
from mcuq.export import export
from mcuq.qgraph import QGraph
from mcuq.robustness import write_flipped_export
from mcuq.verify import verify

MCUQ = [sys.executable, "-m", "mcuq.cli"]


def test_each_row_keeps_its_largest_magnitudes_aside():
    w = np.array([[0.1, -0.9, 0.3, 0.9, 0.2],
                  [0.5, 0.5, -0.5, 0.1, 0.0]])
    # round(0.3 x 5) = 2 per row; of equal magnitudes the first
    assert outliers.choose(w, 0.3).tolist() == [[False, True, False, True, False],
                                                [True, True, False, False, False]]
    assert outliers.per_row(0.01, 49) == 0 and outliers.per_row(0.01, 50) == 1
    assert not outliers.choose(w, 0.0).any()


def test_the_side_list_codes_columns_as_gaps_with_fillers():
    codes = np.zeros((3, 600), np.int64)
    mask = np.zeros((3, 600), bool)
    for row, col, value in ((0, 2, 300), (0, 599, -7), (2, 0, 1000), (2, 256, 5)):
        codes[row, col], mask[row, col] = value, True
    side = outliers.encode(codes, mask)
    # row 0: 2, then 597 = 255 + 255 + 87 (two fillers); row 1: none; row 2: 0, 256 = 255 + 1
    assert side["outlier_gap"].tolist() == [2, 255, 255, 87, 0, 255, 1]
    assert side["outlier_value"].tolist() == [300, 0, 0, -7, 1000, 0, 5]
    assert side["outlier_count"].tolist() == [4, 0, 3]
    assert side["outlier_value"].dtype == np.int16 and side["outlier_count"].dtype == np.uint16
    assert np.array_equal(outliers.codes({"weight": np.zeros((3, 600), np.int8), **side}), codes)
    # packed: the widest code (1000) needs 11 bits with its sign
    assert outliers.value_bits(side["outlier_value"]) == 11
    assert outliers.side_list_bits(side, {"outlier_bits": 11}) == 7 * (11 + 8) + 3 * 16


def test_the_dense_range_is_the_rests_and_outliers_keep_their_value():
    w = np.array([[0.02, -0.05, 1.0, 0.04, 0.01, -0.03, 0.05, 0.0, 0.02, -0.01]])
    dense, scale, side = outliers.quantize(w, 4, "max", 0.1)  # 1 of 10 aside
    assert scale[0] == pytest.approx(0.05 / 7)  # the rest's max |w| at 4 bits
    assert dense[0, 2] == 0 and np.abs(dense).max() == 7
    full = outliers.codes({"weight": dense, **side})
    assert full[0, 2] == 140 and side["outlier_count"].tolist() == [1]
    # without the side list the 4-bit codes of the small weights were all 0
    plain = np.round(w / (1.0 / 7))
    assert np.count_nonzero(plain) == 1 and np.count_nonzero(full) == 9
    # an outlier beyond int16 at the rest's scale widens the row's scale
    wide = np.array([[1e-4, -1e-4, 100.0, 5e-5]])
    dense, scale, side = outliers.quantize(wide, 8, "max", 0.25)
    assert scale[0] == pytest.approx(100.0 / 32767)
    assert outliers.codes({"weight": dense, **side})[0, 2] == 32767


def test_keeping_outliers_aside_raises_the_weight_sqnr_at_four_bits():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 144)) * 0.05
    w[np.arange(16), rng.integers(0, 144, 16)] = 1.0  # one wide tap per row
    clipped, plain = outliers.quality(w, 4, "max", 0.0)
    kept_clipped, kept = outliers.quality(w, 4, "max", 0.01)
    assert clipped == 0.0 and kept_clipped == 0.0
    assert kept > plain + 10.0, (plain, kept)


class Net(nn.Module):
    """3x3 conv (odd channels) + ReLU, a 1x1 conv, a Linear: 3 x 5 x 6 images, a few wide
    weights per layer."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(3, 7, 3, padding=1)
        self.pw = nn.Conv2d(7, 5, 1)
        self.fc = nn.Linear(5 * 5 * 6, 9)
        with torch.no_grad():
            self.conv.weight[2, 1, 1, 1] = 3.0
            self.pw.weight[4, 6] = -2.0
            self.fc.weight[4, 10] = -2.5
            self.fc.weight[0, 140] = 2.0  # gaps over 255 are not possible here: k = 150

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(torch.relu(self.pw(x)).flatten(1))


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outliers")
    path = save_model(Net().eval(), torch.zeros(1, 3, 5, 6), "onnx_legacy", tmp / "net",
                      dynamic_time=False)
    data = (np.random.default_rng(2).standard_normal((9, 3, 5, 6)) * 1.5 + 0.4).astype(np.float32)
    np.save(tmp / "calib.npy", data)
    return tmp, path, data


@pytest.mark.parametrize("options", [{}, {"cfws": True}], ids=["plain", "cfws"])
def test_outliers_aside_are_bit_exact_on_host_and_qemu(net, tmp_path, options):
    tmp, path, data = net
    rows = {}
    for fraction in (0.0, 0.1):  # the 1x1 conv (k = 7) keeps one per row aside
        out = tmp_path / f"out{fraction}"
        report = export(path, tmp / "calib.npy", out, cores=3, weight_bits=4,
                        weight_outliers=fraction, **options)
        rows[fraction] = {r["layer"]: r for r in report["layers"]}
    q = QGraph.load(tmp_path / "out0.1")
    kinds = {layer.kind: layer for layer in q.layers}
    assert set(kinds) >= {"conv2d_cfws" if options else "conv2d", "linear"}
    for layer in q.layers:
        if layer.kind in ("conv2d", "conv2d_cfws", "linear"):
            assert outliers.has_outliers(layer.arrays), layer.name
            k = layer.arrays["weight"].shape[1]
            assert rows[0.1][layer.name]["outlier_bits_per_weight"] == round(
                outliers.side_list_bits(layer.arrays, layer.params) / layer.arrays["weight"].size,
                4)
            assert layer.params["outlier_bits"] == outliers.value_bits(
                layer.arrays["outlier_value"])
            if k >= 20:  # at least one aside per row
                assert layer.arrays["outlier_count"].min() >= 1
            assert rows[0.1][layer.name]["weight_sqnr_db"] > rows[0.0][layer.name]["weight_sqnr_db"]
    last = q.layers[-1].name
    assert rows[0.1][last]["sqnr_db"] > rows[0.0][last]["sqnr_db"]  # the model gains too
    for target, cores in (("host", 1), ("qemu", 1), ("qemu", 8)):
        summary = verify(tmp_path / "out0.1", target, data[:3], cores=cores)
        assert summary["bit_exact"] and summary["compared_bytes"] > 0, (target, cores, summary)


def test_a_long_row_with_filler_entries_is_bit_exact(tmp_path):
    """A Linear of 700 inputs with its outliers far apart: gaps over 255 take fillers."""
    torch.manual_seed(1)
    model = nn.Linear(700, 6).eval()
    with torch.no_grad():
        model.weight.mul_(0.05)
        model.weight[:, 3] = 2.0
        model.weight[:, 650] = -2.0
    path = save_model(model, torch.zeros(1, 700), "onnx_legacy", tmp_path / "fc",
                      dynamic_time=False)
    data = np.random.default_rng(5).standard_normal((5, 700)).astype(np.float32)
    np.save(tmp_path / "x.npy", data)
    export(path, tmp_path / "x.npy", tmp_path / "out", cores=3, weight_outliers=0.003)
    layer = QGraph.load(tmp_path / "out").layers[0]
    assert 255 in layer.arrays["outlier_gap"].tolist()  # fillers are there
    assert (layer.arrays["outlier_count"] >= 2).all()
    for target, cores in (("host", 2), ("qemu", 8)):
        assert verify(tmp_path / "out", target, data, cores=cores)["bit_exact"]


def test_outliers_aside_on_the_rtl(net, tmp_path):
    tmp, path, data = net
    export(path, tmp / "calib.npy", tmp_path / "xcv", cores=8, isa="xcv", weight_outliers=0.05)
    assert any(outliers.has_outliers(layer.arrays) for layer in QGraph.load(tmp_path / "xcv").layers)
    for cores in (1, 8):
        summary = verify(tmp_path / "xcv", "rtl", data[:2], cores=cores)
        assert summary["bit_exact"] and summary["compared_bytes"] > 0, (cores, summary)


def test_bit_errors_reach_the_outlier_codes(net, tmp_path):
    tmp, path, data = net
    export(path, tmp / "calib.npy", tmp_path / "q", cores=8, weight_outliers=0.05)
    clean = QGraph.load(tmp_path / "q")
    sites = bit_errors.sites(clean)
    side = [s for s in sites if s.key == "outlier_value"]
    # the bits a packed store holds: the widest code's, so a flip moves a code by at most
    # 2^(bits - 1)
    assert side and all(s.bits == clean.layers[s.layer].params["outlier_bits"] < 16
                        for s in side)
    # a high rate flips some outlier code bits: the injector writes them, and the C agrees
    write_flipped_export(tmp_path / "q", tmp_path / "flipped", 0.05, 2, seed=1)
    flipped = QGraph.load(tmp_path / "flipped")
    changed = [s for s in side if not np.array_equal(
        flipped.layers[s.layer].arrays[s.key], clean.layers[s.layer].arrays[s.key])]
    assert changed
    for s in side:  # codes stay within their packed width; positions as they were
        bound = 1 << (s.bits - 1)
        values = flipped.layers[s.layer].arrays[s.key].astype(np.int64)
        assert values.min() >= -bound and values.max() < bound
        for key in ("outlier_gap", "outlier_count"):
            assert np.array_equal(flipped.layers[s.layer].arrays[key],
                                  clean.layers[s.layer].arrays[key])
    for target, cores in (("host", 1), ("qemu", 8)):
        assert verify(tmp_path / "flipped", target, data[:3], cores=cores)["bit_exact"]


@pytest.mark.parametrize("args,phrase", [
    (["--weight-outliers", "0.2"], "must be between 0 and 0.1"),
    (["--weight-outliers", "-0.01"], "must be between 0 and 0.1"),
    (["--precision-file", "flat.json"], "sets weight outliers, but layer flatten0 has no weights"),
    (["--precision-file", "bad.json"], "weight_outliers nan"),
])
def test_bad_outlier_options_are_one_line_errors(net, tmp_path, args, phrase):
    tmp, path, _ = net
    (tmp_path / "flat.json").write_text(json.dumps({"flatten": {"weight_outliers": 0.01}}))
    (tmp_path / "bad.json").write_text('{"conv2d0": {"weight_outliers": NaN}}')
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    run = subprocess.run(MCUQ + ["export", str(path), "--calib", str(tmp / "calib.npy"),
                                 "-o", str(tmp_path / "out"), *args],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and phrase in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


def test_outliers_on_a_layer_without_a_side_list_are_refused(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, groups=3), nn.Flatten(),
                          nn.Linear(27, 4)).eval()
    path = save_model(model, torch.zeros(1, 3, 3, 3), "onnx_legacy", tmp_path / "dw",
                      dynamic_time=False)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(
        np.float32))
    (tmp_path / "p.json").write_text(json.dumps({"depthwise_conv2d": {"weight_outliers": 0.1}}))
    run = subprocess.run(MCUQ + ["export", str(path), "--calib", str(tmp_path / "x.npy"), "-o",
                                 str(tmp_path / "out"), "--precision-file",
                                 str(tmp_path / "p.json")], capture_output=True, text=True)
    assert run.returncode != 0 and "cannot keep outliers aside" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
    # run-wide, it applies where it can and says where it cannot
    run = subprocess.run(MCUQ + ["export", str(path), "--calib", str(tmp_path / "x.npy"), "-o",
                                 str(tmp_path / "out"), "--weight-outliers", "0.05"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "keeps no outliers aside in depthwise_conv2d0" in run.stdout + run.stderr


def test_the_qdq_form_carries_the_outliers(net, tmp_path):
    """The QDQ model dequantizes the full codes (int32 where outliers were kept aside) and
    ONNX Runtime on it agrees with the simulator within one output step, as without."""
    from mcuq import qdq

    tmp, path, data = net
    export(path, tmp / "calib.npy", tmp_path / "q", weight_bits=4, weight_outliers=0.1)
    qgraph = QGraph.load(tmp_path / "q")
    result = qdq.compare(qdq.build(qgraph), qgraph, data[:4])
    assert result["max_difference_steps"] <= 1.0, result
