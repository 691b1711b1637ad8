"""The importer copes with what real exporters emit; the float executor agrees with ONNX Runtime."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import EXPORTERS, make_stack, random_sequences, save_model
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from mcuq.reference import FloatModel

CASES = [
    # (rnn stack, batch_first)
    ([("gru", 11), ("gru", 7)], True),
    ([("lstm", 9), ("lstm", 13)], True),
    ([("gru", 5), ("lstm", 17), ("gru", 3)], True),
    ([("lstm", 7), ("gru", 9)], False),
]


def to_source_layout(seq: np.ndarray, roles) -> np.ndarray:
    """(time, features) -> the model input's layout, e.g. (1, time, features)."""
    arr = seq if roles.index("T") < roles.index("F") else seq.T
    return np.expand_dims(arr, [i for i, r in enumerate(roles) if r == "1"])


def from_source_layout(y: np.ndarray, roles) -> np.ndarray:
    y = np.squeeze(y, axis=tuple(i for i, r in enumerate(roles) if r == "1"))
    return y if roles.index("T") < roles.index("F") else y.T


def ort_run(model, graph, seq):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: to_source_layout(seq, graph.input_roles)})[0]
    return from_source_layout(y, graph.output_roles)


# every exporter on every case, but the slow dynamo-based ones not on the 3-layer case
COMBINATIONS = [(e, c) for c in range(len(CASES)) for e in EXPORTERS
                if not (c == 2 and e in ("onnx_dynamo", "torch_export"))]


@pytest.mark.parametrize("exporter,case", COMBINATIONS)
def test_float_reference_matches_onnxruntime(tmp_path, exporter, case):
    rnns, batch_first = CASES[case]
    features, frames = 19, 23
    model = make_stack(case, features, 15, rnns, 21, batch_first=batch_first)
    shape = (1, frames, features) if batch_first else (frames, 1, features)
    path = save_model(model, torch.zeros(shape), exporter, tmp_path / "m")
    onnx_model, graph = load_model(path, features=features, frames=frames)

    assert [layer.kind for layer in graph.layers if layer.kind in ("gru", "lstm")] == \
        [kind for kind, _ in rnns]
    seq = random_sequences(1, frames, features, seed=case)[0]
    ours = FloatModel(graph).run(seq[None])[0]
    oracle = ort_run(onnx_model, graph, seq)
    assert oracle.shape == ours.shape
    # float32 vs float32 with another summation order: rounding-level agreement
    np.testing.assert_allclose(ours, oracle, rtol=0, atol=2e-5)
    with torch.no_grad():
        eager = model(torch.from_numpy(to_source_layout(seq, graph.input_roles))).numpy()
    np.testing.assert_allclose(ours, from_source_layout(eager, graph.output_roles), atol=2e-5)


def test_mlp_with_gemm_imports(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(9, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).eval()
    path = save_model(model, torch.zeros(1, 9), "onnx_legacy", tmp_path / "mlp",
                      dynamic_time=False)
    onnx_model, graph = load_model(path)
    assert [layer.kind for layer in graph.layers] == ["linear", "tanh", "linear"]
    x = np.random.default_rng(0).standard_normal((1, 9)).astype(np.float32)
    sess = ort.InferenceSession(onnx_model.SerializeToString())
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    got = FloatModel(graph).run(x[:, None, :])[:, 0]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_relu_is_fused_into_linear(tmp_path):
    model = make_stack(0, 6, 5, [("gru", 3)], 4)
    path = save_model(model, torch.zeros(1, 4, 6), "onnx_legacy", tmp_path / "m")
    _, graph = load_model(path)
    assert graph.layers[0].kind == "linear" and graph.layers[0].attrs["activation"] == "relu"
    assert "relu" not in [layer.kind for layer in graph.layers]


class ErfNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        return torch.erf(self.fc(x))


def test_unsupported_op_names_op_and_node(tmp_path):
    path = save_model(ErfNet().eval(), torch.zeros(1, 8), "onnx_legacy", tmp_path / "erf",
                      dynamic_time=False)
    with pytest.raises(McuqError, match=r"unsupported: op Erf \(node '/Erf'\)"):
        load_model(path)


class FinalState(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(4, 3, batch_first=True)

    def forward(self, x):
        _, h = self.gru(x)
        return h


def test_final_state_output_is_the_last_frame(tmp_path):
    """h_n as the output: the GRU's output after the last frame (the model streams)."""
    path = save_model(FinalState().eval(), torch.zeros(1, 5, 4), "onnx_legacy", tmp_path / "fs")
    _, graph = load_model(path)
    assert graph.output_final and [layer.kind for layer in graph.layers] == ["gru"]


def test_a_final_state_read_as_a_sequence_is_refused(tmp_path):
    """A recurrent layer fed the final state of another would need it at every frame."""
    class Chained(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.GRU(4, 3), torch.nn.GRU(3, 2)

        def forward(self, x):
            return self.b(self.a(x)[1])[0]

    path = save_model(Chained().eval(), torch.zeros(5, 1, 4), "onnx_legacy", tmp_path / "ch",
                      dynamic_time=False)
    with pytest.raises(McuqError, match="final state as a sequence"):
        load_model(path)


class MultiLayerNoBias(torch.nn.Module):
    """num_layers > 1 in one module, time-first, no bias: one IR layer per stacked layer."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(9, 7, num_layers=3, bias=False)
        self.fc = torch.nn.Linear(7, 4)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


class Unbatched(torch.nn.Module):
    """A (time, features) input with no batch axis."""

    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(9, 5)
        self.fc = torch.nn.Linear(5, 3)

    def forward(self, x):
        return torch.sigmoid(self.fc(self.gru(x)[0]))


@pytest.mark.parametrize("module,shape,exporter", [
    (MultiLayerNoBias, (13, 1, 9), "onnx_legacy"),
    (MultiLayerNoBias, (13, 1, 9), "torch_export"),
    (Unbatched, (13, 9), "torchscript"),
])
def test_other_layouts_match_onnxruntime(tmp_path, module, shape, exporter):
    torch.manual_seed(0)
    model = module().eval()
    path = save_model(model, torch.zeros(shape), exporter, tmp_path / "m", dynamic_time=False)
    onnx_model, graph = load_model(path, features=9, frames=13)
    seq = random_sequences(1, 13, 9, seed=5)[0]
    np.testing.assert_allclose(FloatModel(graph).run(seq[None])[0],
                               ort_run(onnx_model, graph, seq), atol=2e-5)


def test_fp32_reference_export_simulates_the_float_model(tmp_path):
    """--precision fp32-ref: the export's simulator is the float model, checked by ORT."""
    import subprocess
    import sys

    features, frames = 11, 17
    model = make_stack(7, features, 9, [("lstm", 13), ("gru", 6)], 5)
    path = save_model(model, torch.zeros(1, frames, features), "onnx_legacy", tmp_path / "m")
    seq = random_sequences(3, frames, features, seed=7)
    np.save(tmp_path / "calib.npy", seq)
    mcuq = [sys.executable, "-m", "mcuq.cli"]
    subprocess.run(mcuq + ["export", str(path), "--calib", str(tmp_path / "calib.npy"), "-o",
                           str(tmp_path / "out"), "--precision", "fp32-ref"], check=True,
                   capture_output=True)
    assert not (tmp_path / "out" / "c").exists()
    subprocess.run(mcuq + ["simulate", str(tmp_path / "out"), "--input",
                           str(tmp_path / "calib.npy"), "-o", str(tmp_path / "y.npy")],
                   check=True, capture_output=True)
    got = np.load(tmp_path / "y.npy")
    onnx_model, graph = load_model(path, features=features, frames=frames)
    for item in range(seq.shape[0]):
        np.testing.assert_allclose(got[item], ort_run(onnx_model, graph, seq[item]),
                                   rtol=0, atol=2e-5)


class Projected(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.rnn = torch.nn.LSTM(5, 8, proj_size=3, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


@pytest.mark.parametrize("exporter", ["torch_export", "onnx_dynamo"])
def test_lstm_with_projection_is_refused_not_silently_wrong(tmp_path, exporter):
    """The exporters write an ONNX LSTM without the projection (ONNX has none): its state
    shapes give it away, and mcuq refuses rather than compute another network."""
    path = save_model(Projected().eval(), torch.zeros(1, 7, 5), exporter, tmp_path / "m")
    with pytest.raises(McuqError, match="proj_size"):
        load_model(path, features=5, frames=7)


@pytest.mark.parametrize("exporter", ["onnx_dynamo", "torch_export"])
def test_single_frame_stack(tmp_path, exporter):
    """Exported with one time step, the time axis has extent 1 like the batch axis; the
    second layer's input must still be read as (time, batch, features). Found by the
    random-model test."""
    model = make_stack(1, 19, 7, [("lstm", 5), ("lstm", 3)], 4)
    path = save_model(model, torch.zeros(1, 1, 19), exporter, tmp_path / "m")
    _, graph = load_model(path, features=19, frames=1)
    seq = random_sequences(1, 1, 19, seed=0)
    with torch.no_grad():
        eager = model(torch.from_numpy(seq)).numpy()
    np.testing.assert_allclose(FloatModel(graph).run(seq), eager, atol=2e-5)


def test_lenient_forms_import_as_their_standard_twins():
    """What some tools write and ONNX's checker rejects, read as meant: nodes out of
    topological order, opset 1's Reshape with its shape as an attribute, a GRU without its
    (optional) hidden_size, an unused huge ConstantOfShape (never evaluated). Each gives
    the float outputs of its standard twin, and the twin those of ONNX Runtime."""
    from onnx import TensorProto, helper, numpy_helper

    from mcuq.frontend.onnx_import import import_onnx
    from passtest import float_frames, ort_frames

    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 4)).astype(np.float32)

    def model(nodes, inits, opset=17, x=(1, 6), y=(1, 4)):
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, list(x))],
                                  [helper.make_tensor_value_info("y", 1, list(y))],
                                  [numpy_helper.from_array(v, k) for k, v in inits.items()])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])

    standard = model([helper.make_node("MatMul", ["x", "w"], ["h"]),
                      helper.make_node("Sigmoid", ["h"], ["y"])], {"w": w})
    unsorted = model([helper.make_node("Sigmoid", ["h"], ["y"]),
                      helper.make_node("MatMul", ["x", "w"], ["h"])], {"w": w})
    unused = model([helper.make_node("ConstantOfShape", ["big"], ["never"]),
                    helper.make_node("MatMul", ["x", "w"], ["h"]),
                    helper.make_node("Sigmoid", ["h"], ["y"])],
                   {"w": w, "big": np.array([1 << 40], np.int64)})
    flat = model([helper.make_node("Sigmoid", ["x"], ["y"])], {}, y=(1, 6))
    reshape1 = model([helper.make_node("Reshape", ["x"], ["r"], shape=[1, 6]),
                      helper.make_node("Sigmoid", ["r"], ["y"])], {}, opset=1, y=(1, 6))
    x = rng.standard_normal((5, 6)).astype(np.float32)
    for odd, twin in ((unsorted, standard), (unused, standard), (reshape1, flat)):
        want = ort_frames(twin, x)
        np.testing.assert_allclose(float_frames(import_onnx(twin), x), want, rtol=0, atol=1e-6)
        assert np.array_equal(float_frames(import_onnx(odd), x), float_frames(import_onnx(twin), x))

    W = rng.standard_normal((1, 9, 6)).astype(np.float32)
    R = rng.standard_normal((1, 9, 3)).astype(np.float32)
    gru = [model([helper.make_node("GRU", ["x", "W", "R"], ["h"], **a),
                  helper.make_node("Squeeze", ["h", "axes"], ["y"])],
                 {"W": W, "R": R, "axes": np.array([1], np.int64)}, x=(7, 1, 6), y=(7, 1, 3))
           for a in ({"hidden_size": 3}, {})]
    seq = rng.standard_normal((7, 6)).astype(np.float32)
    runs = [FloatModel(import_onnx(m)).run(seq[None])[0] for m in gru]
    assert np.array_equal(runs[0], runs[1])
    sess = ort.InferenceSession(gru[0].SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(runs[0], sess.run(None, {"x": seq[:, None]})[0][:, 0], rtol=0, atol=1e-5)
