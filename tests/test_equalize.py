"""Cross-layer equalization (--equalize, mcuq.passes.equalize): the float model is
unchanged (against ONNX Runtime), the ranges of each pair's channels are balanced, and
a model with one channel scaled up (its reader's column scaled down: the same float
function) gets its int8 quality back. The kernels are unchanged: one host check."""
import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from conftest import random_sequences, save_model
from mcuq.export import export
from mcuq.frontend import load_model
from mcuq.passes import equalize
from mcuq.reference import FloatModel
from mcuq.verify import verify


class Lopsided(nn.Module):
    """Linear -> ReLU -> Linear -> LSTM with channel 0 of the first Linear 20 times larger
    and the second Linear's column 0 20 times smaller, and the same for the LSTM's input."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2 = nn.Linear(6, 10), nn.Linear(10, 8)
        self.lstm = nn.LSTM(8, 7, batch_first=True)
        with torch.no_grad():
            self.fc1.weight[0] *= 20
            self.fc1.bias[0] *= 20
            self.fc2.weight[:, 0] /= 20
            self.fc2.weight[3] *= 20
            self.fc2.bias[3] *= 20
            self.lstm.weight_ih_l0[:, 3] /= 20

    def forward(self, x):
        return self.lstm(self.fc2(torch.relu(self.fc1(x))))[0]


class Convs(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.a, self.b = nn.Conv2d(3, 5, 3, padding=1), nn.Conv2d(5, 4, 3)
        with torch.no_grad():
            self.a.weight[2] *= 30
            self.a.bias[2] *= 30
            self.b.weight[:, 2] /= 30

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def _onnx_run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def test_equalized_float_model_is_unchanged_and_balanced(tmp_path):
    path = save_model(Lopsided().eval(), torch.zeros(1, 9, 6), "onnx_legacy", tmp_path / "m")
    graph = equalize(load_model(path)[1])
    seq = random_sequences(1, 9, 6, seed=2)
    np.testing.assert_allclose(FloatModel(graph).run(seq)[0], _onnx_run(path, seq)[0],
                               rtol=0, atol=2e-5)
    fc1, fc2, lstm = graph.layers
    r_out = np.abs(fc1.weights["weight"]).max(axis=1)
    r_in = np.abs(fc2.weights["weight"]).max(axis=0)
    np.testing.assert_allclose(r_out, r_in, rtol=1e-3)  # both sqrt(r_a r_b), converged
    np.testing.assert_allclose(np.abs(fc2.weights["weight"]).max(axis=1),
                               np.abs(lstm.weights["w_ih"]).max(axis=0), rtol=1e-3)


def test_equalized_convolutions_are_unchanged(tmp_path):
    path = save_model(Convs().eval(), torch.zeros(1, 3, 7, 7), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = equalize(load_model(path)[1])
    x = np.random.default_rng(3).standard_normal((1, 3, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(FloatModel(graph).run(x[:, None])[0, 0], _onnx_run(path, x)[0],
                               rtol=0, atol=1e-4)


def test_equalize_wins_back_int8_quality(tmp_path):
    path = save_model(Lopsided().eval(), torch.zeros(1, 9, 6), "onnx_legacy", tmp_path / "m")
    np.save(tmp_path / "x.npy", random_sequences(8, 9, 6, seed=4))
    sqnr = {}
    for flag in (False, True):
        out = tmp_path / f"out{flag}"
        report = export(path, tmp_path / "x.npy", out, equalize=flag)
        sqnr[flag] = report["layers"][-1]["sqnr_db"]
        assert ("equalize" in report["passes"]) == flag
        lopsided = [w for w in report["warnings"] if "the median channel's magnitude" in w]
        # the report names the wide channels and what helps, and is quiet once equalized
        assert bool(lopsided) != flag, report["warnings"]
        assert all("--equalize" in w for w in lopsided)
        assert flag or any(w.startswith("layer linear0") and "channel 0 " in w for w in lopsided)
    assert sqnr[True] > sqnr[False] + 6, sqnr
    seq = random_sequences(1, 9, 6, seed=5)[0]
    assert verify(tmp_path / "outTrue", "host", seq, cores=2)["mismatched_bytes"] == 0
