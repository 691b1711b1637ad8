"""`mcuq qdq`: an export as an ONNX QDQ model. A MobileNetV2 (convolutions, depthwise,
fused ReLU6, residual Adds, pooling, Linear), a classifier head with Softmax, and a
layer-mix (Concat with a constant, Transpose, HardSwish, Mul, Pad): the model passes
onnx.checker, holds QuantizeLinear/DequantizeLinear pairs with mcuq's scales and zero
points, and ONNX Runtime on it agrees with mcuq's simulator (measured: int8 within one
output step, fp16 within fp16 rounding); recurrent exports are refused with the reason."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from conftest import save_model
from mcuq import qdq
from mcuq.errors import McuqError
from mcuq.export import export
from mcuq.qgraph import QGraph
from mcuq.vision.models import MobileNetV2

SETTINGS = ((1, 4, 1, 1), (6, 6, 2, 2), (6, 8, 2, 2))


class Mix(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.token = torch.nn.Parameter(torch.linspace(-1, 1, 2 * 4 * 4).reshape(1, 2, 4, 4))
        self.fc = torch.nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):
        y = torch.nn.functional.hardswish(self.conv(torch.nn.functional.pad(x, (1, 1, 0, 0))))
        y = torch.cat([y * torch.sigmoid(y), self.token], dim=1).transpose(2, 3)
        return torch.softmax(self.fc(y.flatten(1)), dim=-1)


def _export(tmp_path, model, shape, precision):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (20, *shape)).astype(np.float32)
    path = save_model(model.eval(), torch.zeros(1, *shape), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    np.save(tmp_path / "calib.npy", x[:14])
    export(path, tmp_path / "calib.npy", tmp_path / precision, precision=precision)
    return QGraph.load(tmp_path / precision), x[14:]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("name", ["mobilenet", "mix"])
def test_qdq_model_runs_in_onnxruntime_as_the_simulator(tmp_path, name, precision):
    torch.manual_seed(0)
    model, shape = ((MobileNetV2(settings=SETTINGS, stem=8, last=32, divisor=1), (3, 16, 16))
                    if name == "mobilenet" else (Mix(), (3, 6, 4)))
    qgraph, frames = _export(tmp_path, model, shape, precision)
    proto = qdq.build(qgraph)
    ops = [n.op_type for n in proto.graph.node]
    if precision == "int8":
        assert ops.count("QuantizeLinear") == len(qgraph.layers) + 1
        scales = {float(numpy_value(proto, n.input[1])) for n in proto.graph.node
                  if n.op_type == "QuantizeLinear"}
        assert np.float32(qgraph.output_tensor.scale) in scales
    else:
        assert "QuantizeLinear" not in ops
    result = qdq.compare(proto, qgraph, frames)
    print(name, precision, result)
    limit = 1.0 if precision == "int8" else 2e-3  # int8: output steps; fp16: value
    assert result["max_difference_steps"] <= limit, result


def numpy_value(model, name):
    init = {i.name: i for i in model.graph.initializer}
    return onnx.numpy_helper.to_array(init[name])


def test_cli_writes_the_model_and_compares(tmp_path):
    torch.manual_seed(1)
    qgraph, frames = _export(tmp_path, MobileNetV2(settings=SETTINGS, stem=8, last=32, divisor=1),
                             (3, 16, 16), "int8")
    np.save(tmp_path / "frames.npy", frames)
    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "qdq", str(tmp_path / "int8"), "-o",
                          str(tmp_path / "m.qdq.onnx"), "--input", str(tmp_path / "frames.npy")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "SQNR" in run.stdout and (tmp_path / "m.qdq.onnx").is_file()
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.qdq.onnx")))


def test_a_recurrent_export_is_refused(tmp_path):
    from conftest import make_stack, random_sequences
    model = make_stack(0, 6, 5, [("gru", 4)], 3)
    path = save_model(model, torch.zeros(1, 7, 6), "onnx_legacy", tmp_path / "m")
    np.save(tmp_path / "calib.npy", random_sequences(3, 7, 6, 0))
    export(path, tmp_path / "calib.npy", tmp_path / "out")
    with pytest.raises(McuqError, match="QDQ has no form for their fixed-point gates"):
        qdq.build(QGraph.load(tmp_path / "out"))
