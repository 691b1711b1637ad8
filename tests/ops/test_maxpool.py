"""MaxPool: kernels 2 and 3, strides 1 and 2, padding (never the maximum), odd image
sizes; float equal to ONNX Runtime; int8 and fp16 bit-exact on host and QEMU, 1 and 8
cores; ceil_mode (a larger output, the last windows partly outside); a used Indices
output is refused."""
import re

import numpy as np
import onnx
import pytest
import torch
from onnx import helper

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from optest import check_op, float_matches_onnxruntime_on_images, frame_data

# (kernel, stride, padding, channels, image (H, W))
SHAPES = [(3, 2, 1, 5, (9, 7)), (2, 2, 0, 3, (8, 6)), (3, 1, 1, 4, (5, 6))]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_maxpool(tmp_path, precision, shape):
    k, s, p, c, hw = SHAPES[shape]
    pool = torch.nn.MaxPool2d(k, stride=s, padding=p)
    qgraph = check_op(tmp_path, pool, "maxpool", precision, shape=(c, *hw), items=5,
                      seed=shape)
    assert qgraph.output_tensor.shape == tuple(pool(torch.zeros(1, c, *hw)).shape[1:])
    if precision == "int8":  # the codes pass through: the output keeps the input's format
        assert (qgraph.output_tensor.scale, qgraph.output_tensor.zero_point) == (
            qgraph.input_tensor.scale, qgraph.input_tensor.zero_point)


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo", "torchscript", "torch_export"])
def test_float_equals_onnxruntime(tmp_path, exporter):
    model = torch.nn.Sequential(torch.nn.MaxPool2d(3, stride=2, padding=1)).eval()
    path = save_model(model, torch.zeros(1, 3, 7, 8), exporter, tmp_path / "m", dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (3, 7, 8), seed=5))
    assert [lay.kind for lay in graph.layers] == ["maxpool"]


def _pool_model(outputs, **attrs):
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], outputs, name="mp", kernel_shape=[2, 2], **attrs)],
        "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info(outputs[-1], onnx.TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_dilation(tmp_path, precision):
    pool = torch.nn.MaxPool2d(3, stride=1, padding=1, dilation=2)
    qgraph = check_op(tmp_path, pool, "maxpool", precision, shape=(3, 7, 6), items=4,
                      exporter="onnx_legacy")
    assert qgraph.output_tensor.shape == tuple(pool(torch.zeros(1, 3, 7, 6)).shape[1:])
    assert qgraph.layers[0].params["dilation_h"] == 2


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_ceil_mode(tmp_path, precision):
    pool = torch.nn.MaxPool2d(3, stride=2, ceil_mode=True)
    qgraph = check_op(tmp_path, pool, "maxpool", precision, shape=(3, 8, 6), items=4,
                      exporter="onnx_dynamo")
    assert qgraph.output_tensor.shape == (3, 4, 3) == tuple(pool(torch.zeros(1, 3, 8, 6)).shape[1:])


def test_refusals_name_the_node():
    with pytest.raises(McuqError, match=re.escape("node 'mp' (MaxPool) has dilations [0, 2]")):
        import_onnx(_pool_model(["y"], strides=[2, 2], dilations=[0, 2]))
    with pytest.raises(McuqError, match="Indices output of node 'mp'"):
        import_onnx(_pool_model(["y", "i"]))
    # ceil_mode, whatever size it gives
    for strides in ([1, 1], [2, 2]):
        assert [lay.kind for lay in import_onnx(_pool_model(["y"], strides=strides, ceil_mode=1)).layers
                ] == ["maxpool"]
    np.testing.assert_equal(len(import_onnx(_pool_model(["y"])).layers), 1)


class GlobalMax(torch.nn.Module):
    def __init__(self, keepdim):
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x):
        return x.amax((2, 3), keepdim=self.keepdim)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("model,exporter", [(torch.nn.AdaptiveMaxPool2d(1), "onnx_legacy"),
                                            (GlobalMax(True), "onnx_dynamo"),
                                            (GlobalMax(False), "onnx_legacy")])
def test_global_max_pool(tmp_path, precision, model, exporter):
    """GlobalMaxPool and ReduceMax over H and W: one window over the whole image."""
    shape = (5, 7, 3)
    qgraph = check_op(tmp_path, model, "maxpool", precision, shape=shape, items=5,
                      exporter=exporter)
    assert qgraph.output_tensor.shape == tuple(model(torch.zeros(1, *shape)).shape[1:])


@pytest.mark.parametrize("model", [torch.nn.AdaptiveMaxPool2d(1), GlobalMax(False)])
def test_global_max_float_equals_onnxruntime(tmp_path, model):
    path = save_model(model.eval(), torch.zeros(1, 4, 6, 5), "onnx_dynamo", tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (4, 6, 5), seed=7))
    assert [lay.kind for lay in graph.layers][0] == "maxpool"
