"""Concat on the feature axis (vector), the channel, height and width axes (image, HWC in
C), of activations and constants, int8 (each input requantized to the output scale, a
constant stored in it) and fp16, bit-exact on host and QEMU at 1 and 8 cores."""
import pytest
import torch

from optest import check_op


class Features(torch.nn.Module):
    def forward(self, x):
        return torch.cat([x, torch.tanh(x), torch.sigmoid(x)], dim=-1)


class Channels(torch.nn.Module):
    def forward(self, x):
        return torch.cat([torch.relu(x), x], dim=1)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_concat_features(tmp_path, precision):
    qgraph = check_op(tmp_path, Features(), "concat", precision, shape=(13,),
                      exporter="onnx_legacy")
    assert qgraph.output_tensor.shape == (39,)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_concat_channels(tmp_path, precision):
    qgraph = check_op(tmp_path, Channels(), "concat", precision, shape=(3, 5, 7),
                      exporter="onnx_legacy")
    assert qgraph.output_tensor.shape == (6, 5, 7)


class WithConstant(torch.nn.Module):
    """A learned vector appended to every frame (a class token, a fixed feature)."""
    def __init__(self):
        super().__init__()
        self.token = torch.nn.Parameter(torch.linspace(-2.0, 3.0, 5).reshape(1, 5))

    def forward(self, x):
        return torch.cat([self.token, torch.tanh(x), x], dim=-1)


class Spatial(torch.nn.Module):
    """Concat along an image's height, and along its width with a constant border."""
    def __init__(self):
        super().__init__()
        self.border = torch.nn.Parameter(torch.linspace(-1.0, 1.0, 3 * 10 * 2).reshape(1, 3, 10, 2))

    def forward(self, x):
        tall = torch.cat([torch.relu(x), x], dim=2)
        return torch.cat([tall, self.border], dim=3)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_concat_with_a_constant(tmp_path, precision):
    qgraph = check_op(tmp_path, WithConstant(), "concat", precision, shape=(13,),
                      exporter="onnx_dynamo")
    assert qgraph.output_tensor.shape == (31,)
    assert qgraph.layers[-1].params["sources"] == "part0,i0,i1"


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_concat_along_height_and_width(tmp_path, precision):
    qgraph = check_op(tmp_path, Spatial(), "concat", precision, shape=(3, 5, 7),
                      exporter="onnx_legacy")
    assert qgraph.output_tensor.shape == (3, 10, 9)
    assert [q.params["axis"] for q in qgraph.layers if q.kind == "concat"] == [1, 2]
