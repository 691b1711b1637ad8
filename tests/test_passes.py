"""Graph passes not tied to one graph-only op: Linear+ReLU fusion, dead layers, and the
pipeline as an export records it. Each keeps the float outputs (ONNX Runtime)."""
import json

import numpy as np
import pytest
import onnx
import torch
from onnx import helper

from conftest import save_model
from mcuq.export import export
from mcuq.frontend import import_onnx, load_model
from mcuq.passes import PIPELINE, fuse_activations, remove_dead_layers
from passtest import check_pass, onnx_model

RNG = np.random.default_rng(11)
W = {"w1": RNG.standard_normal((6, 9)), "b1": RNG.standard_normal(6),
     "w2": RNG.standard_normal((4, 9)), "b2": RNG.standard_normal(4)}


def test_fuse_activations_keeps_the_float_outputs():
    model = onnx_model([helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc", transB=1),
                        helper.make_node("Relu", ["h"], ["y"], name="relu")], W, [1, 9])
    graph = import_onnx(model)
    after = check_pass(fuse_activations, graph, model, RNG.standard_normal((19, 9)).astype(np.float32))
    assert [lay.kind for lay in after.layers] == ["linear"]
    assert after.layers[0].attrs["activation"] == "relu"


def test_a_relu_then_a_clip_fuse_into_one_clamp():
    model = onnx_model([helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc", transB=1),
                        helper.make_node("Relu", ["h"], ["r"], name="relu"),
                        helper.make_node("Clip", ["r", "lo", "hi"], ["y"], name="relu6")],
                       {**W, "lo": np.array(-1.0), "hi": np.array(0.9)}, [1, 9])
    graph = import_onnx(model)
    after = check_pass(fuse_activations, graph, model, RNG.standard_normal((23, 9)).astype(np.float32) * 3)
    assert [lay.kind for lay in after.layers] == ["linear"]
    a = after.layers[0].attrs
    assert (a["activation"], a["clip_min"], a["clip_max"]) == ("clip", 0.0, pytest.approx(0.9))


def test_relu_not_fused_when_the_linear_output_is_read_elsewhere():
    class Both(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(9, 6)

        def forward(self, x):
            h = self.fc(x)
            return torch.cat([torch.relu(h), h], dim=-1)

    model = onnx_model([helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc", transB=1),
                        helper.make_node("Relu", ["h"], ["r"], name="relu"),
                        helper.make_node("Concat", ["r", "h"], ["y"], name="cat", axis=1)],
                       W, [1, 9])
    graph = import_onnx(model)
    after = check_pass(fuse_activations, graph, model, RNG.standard_normal((5, 9)).astype(np.float32))
    assert [lay.kind for lay in after.layers] == ["linear", "relu", "concat"]


def test_remove_dead_layers_keeps_the_float_outputs():
    """Layers whose output only feeds shape arithmetic: the ONNX graph needs their nodes
    (the importer keeps them), the computed output does not."""
    model = onnx_model([helper.make_node("Gemm", ["x", "w2", "b2"], ["dead"], name="unused",
                                         transB=1),
                        helper.make_node("Sigmoid", ["dead"], ["dead2"], name="unused_too"),
                        helper.make_node("Shape", ["dead2"], ["s"], name="shape", end=1),
                        helper.make_node("Constant", [], ["six"], value=helper.make_tensor(
                            "six", onnx.TensorProto.INT64, [1], [6])),
                        helper.make_node("Concat", ["s", "six"], ["target"], name="cat", axis=0),
                        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc", transB=1),
                        helper.make_node("Reshape", ["h", "target"], ["y"], name="reshape")],
                       W, [1, 9], out_shape=(1, 6))
    graph = import_onnx(model)
    assert len(graph.layers) == 3
    after = check_pass(remove_dead_layers, graph, model,
                       RNG.standard_normal((7, 9)).astype(np.float32))
    assert [lay.source for lay in after.layers] == ["'fc'"]
    assert set(after.tensors) == {after.input, after.output}


def test_export_records_the_passes(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.ReLU())
    path = save_model(model, torch.zeros(1, 5), "onnx_legacy", tmp_path / "m", dynamic_time=False)
    np.save(tmp_path / "calib.npy", RNG.standard_normal((8, 5)).astype(np.float32))
    export(path, tmp_path / "calib.npy", tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "model.json").read_text())
    assert doc["meta"]["passes"] == [p.__name__ for p in PIPELINE]
    _, graph = load_model(path)
    assert graph.passes == doc["meta"]["passes"]
