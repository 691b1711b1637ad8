"""Clipping is never silent: values the float model puts beyond a tensor's range are counted
per tensor and
warned about, naming the tensor, by simulate, export/report (on the report data) and
top1; --calib-headroom is the way out; a ReLU output's zeros (-128 when -128 is the zero
point) are not saturation."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator, saturation_warnings

MCUQ = [sys.executable, "-m", "mcuq.cli"]
RNG = np.random.default_rng(3)


def mcuq(*args):
    return subprocess.run(MCUQ + [str(a) for a in args], capture_output=True, text=True)


def setup(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    path = save_model(model.eval(), torch.zeros(1, 12), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    quiet = (RNG.standard_normal((200, 12)) * 0.03).astype(np.float32)  # 30 dB quieter
    loud = (RNG.standard_normal((50, 12)) * 1.0).astype(np.float32)
    np.save(tmp_path / "quiet.npy", quiet)
    np.save(tmp_path / "loud.npy", loud)
    return path


def test_simulate_warns_and_headroom_fixes_it(tmp_path):
    path = setup(tmp_path)
    assert mcuq("export", path, "--calib", tmp_path / "quiet.npy", "-o", tmp_path / "a").returncode == 0
    run = mcuq("simulate", tmp_path / "a", "--input", tmp_path / "loud.npy", "-o", tmp_path / "y.npy")
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert any("of the model input are beyond its calibrated range" in w for w in warnings), run.stderr
    assert any("layer linear" in w for w in warnings), run.stderr
    run = mcuq("export", path, "--calib", tmp_path / "quiet.npy", "-o", tmp_path / "b",
               "--calib-headroom", "32")
    assert run.returncode == 0, run.stderr
    run = mcuq("simulate", tmp_path / "b", "--input", tmp_path / "loud.npy", "-o", tmp_path / "z.npy")
    assert run.returncode == 0 and "warning:" not in run.stderr, run.stderr


def test_export_and_report_warn_on_the_report_data(tmp_path):
    path = setup(tmp_path)
    run = mcuq("export", path, "--calib", tmp_path / "quiet.npy", "--test", tmp_path / "loud.npy",
               "-o", tmp_path / "a")
    assert run.returncode == 0 and "warning:" in run.stderr, run.stderr
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["warnings"] and report["layers"][0]["saturated"] > 0.01
    run = mcuq("report", tmp_path / "a")
    assert run.returncode == 0 and "warning:" in run.stdout and "beyond its calibrated range" in run.stdout


def test_counts_are_exact_and_relu_zeros_are_not_saturation(tmp_path):
    path = setup(tmp_path)
    assert mcuq("export", path, "--calib", tmp_path / "quiet.npy", "-o", tmp_path / "a").returncode == 0
    qgraph = QGraph.load(tmp_path / "a")
    t = qgraph.input_tensor
    top = (127 - t.zero_point) * t.scale  # the largest input value the format holds
    x = np.zeros((1, 1, 12), np.float32)
    step = t.scale
    x[0, 0, :4] = [top + 1.01 * step, top + 0.99 * step, -(t.zero_point + 128) * t.scale * 1.5 - step,
                   top * 0.5]
    sim = Simulator(qgraph)
    sim.run(x)
    hits, total, worst = sim.saturation[qgraph.input]
    low = -(t.zero_point + 129) * t.scale  # one step beyond the code -128
    assert (hits, total) == (2, 12) and worst == pytest.approx(float(x[0, 0, 2]) / low, rel=1e-6)
    relu = qgraph.tensors[qgraph.layers[0].outputs[0]]
    assert relu.zero_point == -128  # a fused ReLU: its many zeros sit at -128
    quiet = np.load(tmp_path / "quiet.npy")[:, None]
    sim = Simulator(qgraph)
    sim.run(quiet)
    assert saturation_warnings(qgraph, sim.saturation) == []


def test_values_on_the_edge_of_the_range_are_not_clipped(tmp_path):
    """A tanh/GRU state near 1 and a max equal to the calibrated maximum sit at code 127
    without being clipped: on the calibration data itself nothing is beyond its range."""
    from mcuq.export import export

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.Tanh(), torch.nn.Linear(9, 4),
                                torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.mul_(8.0)  # the tanh saturates: most outputs near +-1
    path = save_model(model.eval(), torch.zeros(1, 6), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    calib = RNG.standard_normal((64, 6)).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib)
    report = export(path, tmp_path / "calib.npy", tmp_path / "out")
    assert report["warnings"] == []
    qgraph = QGraph.load(tmp_path / "out")
    sim, trace = Simulator(qgraph), {}
    sim.run_device(sim.quantize_input(calib[:, None]), trace)
    tanh = next(layer.name for layer in qgraph.layers if layer.kind == "tanh")
    assert np.mean(np.abs(trace[tanh].astype(int)) >= 126) > 0.2  # many codes on the edge


def test_a_small_clip_on_a_small_input_is_still_said(tmp_path):
    """One value of 9 beyond the range (11%) warns: there is no minimum count."""
    path = setup(tmp_path)
    assert mcuq("export", path, "--calib", tmp_path / "quiet.npy", "-o", tmp_path / "a").returncode == 0
    qgraph = QGraph.load(tmp_path / "a")
    t = qgraph.input_tensor
    x = np.zeros((1, 1, 12), np.float32)
    x[0, 0, 0] = (127 - t.zero_point) * t.scale * 3
    sim = Simulator(qgraph)
    sim.run(x)
    warnings = saturation_warnings(qgraph, sim.saturation)
    assert len(warnings) == 1 and "1 of 12" in warnings[0] and "the model input" in warnings[0]
