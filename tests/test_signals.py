"""1-D signals (batch 1, channels, length): Conv1d (dense, depthwise, strided, dilated),
BatchNorm1d, MaxPool1d, AvgPool1d, ConvTranspose1d and a mean over the length, as the
2-D ops over an image of height 1 (mcuq.frontend.onnx_import, window_1d). The float import
equals ONNX Runtime; int8 and fp16 are bit-exact on host and QEMU at 1 and 8 cores."""
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from conftest import save_model  # noqa: E402
from mcuq.frontend import load_model  # noqa: E402
from mcuq.reference import FloatModel  # noqa: E402
from optest import check_op  # noqa: E402


class Signal(nn.Module):
    """A small TC-ResNet-like stack over (1, 5, 17)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.c1, self.b1 = nn.Conv1d(5, 8, 3, padding=1), nn.BatchNorm1d(8)
        self.c2 = nn.Conv1d(8, 8, 3, stride=2, dilation=2, padding=2, groups=8)
        self.b2 = nn.BatchNorm1d(8)
        self.pool, self.avg = nn.MaxPool1d(2), nn.AvgPool1d(3, stride=1, padding=1)
        self.up = nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1)
        self.fc = nn.Linear(6, 3)
        with torch.no_grad():
            for b in (self.b1, self.b2):
                b.running_mean.uniform_(-0.5, 0.5)
                b.running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.avg(self.pool(torch.relu(self.b2(self.c2(y)))))
        return self.fc(self.up(y).mean(dim=2))


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo"])
def test_signal_float_matches_onnxruntime(tmp_path, exporter):
    path = save_model(Signal().eval(), torch.zeros(1, 5, 17), exporter, tmp_path / "m",
                      dynamic_time=False)
    _, graph = load_model(path)
    kinds = [layer.kind for layer in graph.layers]
    # one transpose puts the (C, L) input into an image; the BatchNorms and ReLUs fold
    assert kinds == ["transpose", "conv2d", "depthwise_conv2d", "maxpool", "avgpool", "pad",
                     "conv2d", "global_avgpool", "linear"], kinds
    x = np.random.default_rng(1).standard_normal((1, 5, 17)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(FloatModel(graph).run(x[:, None])[0, 0], want[0], rtol=0,
                               atol=2e-5)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_signal_is_bit_exact(tmp_path, precision):
    qgraph = check_op(tmp_path, Signal(), "depthwise_conv2d", precision, shape=(5, 17),
                      items=7)
    assert qgraph.input_tensor.shape == (5, 17)


def test_a_signal_read_by_another_op_is_its_frame(tmp_path):
    """A Softmax over a Conv1d's channels reads the (C, L) frame, not the image."""
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(2)
            self.conv = nn.Conv1d(3, 4, 3)

        def forward(self, x):
            return torch.softmax(self.conv(x), dim=2)

    path = save_model(Head().eval(), torch.zeros(1, 3, 9), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    _, graph = load_model(path)
    assert [layer.kind for layer in graph.layers] == ["transpose", "conv2d", "transpose",
                                                      "softmax"]
    x = np.random.default_rng(3).standard_normal((1, 3, 9)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(FloatModel(graph).run(x[:, None])[0, 0], want[0], rtol=0,
                               atol=2e-6)
