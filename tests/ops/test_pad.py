"""Pad: a constant border on an image, int8 and fp16 bit-exact on host and QEMU at 1 and 8
cores (before a max pool, where it stays a layer); a zero border before a convolution
folds into the convolution's padding; float equal to ONNX Runtime; other modes refused."""
import pytest
import torch

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from optest import check_op, float_matches_onnxruntime_on_images, frame_data


class PadThenPool(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.nn.functional.max_pool2d(
            torch.nn.functional.pad(x, (1, 2, 0, 3), value=self.value), 2)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("value", [0.0, 0.75])
def test_pad(tmp_path, precision, value):
    qgraph = check_op(tmp_path, PadThenPool(value), "pad", precision, shape=(3, 5, 6), items=5,
                      exporter="onnx_legacy" if value else "onnx_dynamo")
    assert [q.kind for q in qgraph.layers] == ["pad", "maxpool"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_zero_pad_folds_into_the_convolution(tmp_path, precision):
    model = torch.nn.Sequential(torch.nn.ZeroPad2d((2, 1, 1, 0)), torch.nn.Conv2d(3, 4, 3))
    qgraph = check_op(tmp_path, model, "conv2d", precision, shape=(3, 6, 5), items=5)
    assert [q.kind for q in qgraph.layers] == ["conv2d"]
    p = qgraph.layers[0].params
    assert (p["pad_top"], p["pad_left"], p["pad_bottom"], p["pad_right"]) == (1, 2, 0, 1)


@pytest.mark.parametrize("module", [torch.nn.ZeroPad2d((2, 1, 1, 0)), PadThenPool(0.5)])
def test_float_equals_onnxruntime(tmp_path, module):
    path = save_model(module.eval(), torch.zeros(1, 3, 5, 6), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(3, (3, 5, 6), seed=2))
    assert graph.layers[0].kind == "pad"


def test_reflect_padding_is_refused(tmp_path):
    path = save_model(torch.nn.ReflectionPad2d(1).eval(), torch.zeros(1, 2, 5, 5), "onnx_legacy",
                      tmp_path / "m", dynamic_time=False)
    with pytest.raises(McuqError, match="pads in mode 'reflect'"):
        load_model(path)
