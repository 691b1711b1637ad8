"""Concat on the feature axis (vector) and the channel axis (image, HWC in C), int8
(each input requantized to the output scale) and fp16."""
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
