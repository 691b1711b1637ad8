"""Linear (Gemm / MatMul + Add), int8 and fp16, one layer, odd sizes."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper

from mcuq.frontend import import_onnx
from optest import check_op, export_and_verify, frame_data
from passtest import float_frames, onnx_model


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_linear(tmp_path, precision):
    torch.manual_seed(1)
    qgraph = check_op(tmp_path, torch.nn.Linear(13, 11), "linear", precision,
                      exporter="onnx_dynamo")  # MatMul + Add from the dynamo exporter
    assert [q.kind for q in qgraph.layers] == ["linear"]


def test_linear_relu_fused_int8(tmp_path):
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(9, 7), torch.nn.ReLU())
    qgraph = check_op(tmp_path, model, "linear", "int8", shape=(9,))
    assert qgraph.layers[0].params["activation"] == "relu"


def test_linear_relu_that_is_always_zero_int8(tmp_path):
    """A ReLU output that never leaves 0 on the calibration data gets the nominal range
    [0, 1], so its reader's biases still fit int32; the export says so, and stays
    bit-exact."""
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    with torch.no_grad():
        model[0].weight.fill_(0.0)
        model[0].bias.fill_(-1.0)
        model[2].bias.copy_(torch.tensor([3.0, -0.5, 40.0]))
    qgraph = check_op(tmp_path, model, "linear", "int8", shape=(6,))
    dead = qgraph.tensors[qgraph.layers[0].outputs[0]]
    assert (dead.scale, dead.zero_point) == (1.0 / 255.0, -128)
    notes = json.loads((tmp_path / "out_int8" / "report.json").read_text())["notes"]
    assert len(notes) == 1 and notes[0].startswith(f"layer {qgraph.layers[0].name} "), notes


def test_gemm_with_transposed_input(tmp_path):
    """Gemm(transA=1) reads its input as (features, items): the input's items are its
    columns. Float equals ONNX Runtime; int8 deploys bit-exact."""
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", transA=1,
                                         alpha=0.5)],
                       {"w": rng.standard_normal((9, 6)), "b": rng.standard_normal(6)}, [9, 5],
                       out_shape=(5, 6))
    x = rng.standard_normal((9, 5)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": x})[0]  # (5 items, 6 features)
    graph = import_onnx(model)
    assert graph.input_roles == ("F", "T")
    np.testing.assert_allclose(float_frames(graph, x.T), want, rtol=0, atol=2e-5)
    onnx.save(model, tmp_path / "gemm.onnx")
    frames = frame_data(7, (9,), seed=3)
    export_and_verify(tmp_path, tmp_path / "gemm.onnx", frames, frames, "linear", "int8")
