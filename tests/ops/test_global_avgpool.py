"""Global average pooling, from GlobalAveragePool, ReduceMean over H and W (keepdims 0
and 1) and a whole-image AveragePool; float equal to ONNX Runtime; int8 and fp16
bit-exact on host and QEMU, 1 and 8 cores."""
import re

import onnx
import pytest
import torch
from onnx import helper

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from optest import check_op, float_matches_onnxruntime_on_images, frame_data


class Mean(torch.nn.Module):
    def __init__(self, keepdim):
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x):
        return x.mean((2, 3), keepdim=self.keepdim)


class WholeImageAvgPool(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.avg_pool2d(x, (x.shape[2], x.shape[3]))


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("model,shape", [(torch.nn.AdaptiveAvgPool2d(1), (5, 7, 9)),
                                          (Mean(False), (3, 4, 5)),
                                          (WholeImageAvgPool(), (6, 5, 3))])
def test_global_avgpool(tmp_path, precision, model, shape):
    qgraph = check_op(tmp_path, model, "global_avgpool", precision, shape=shape, items=7)
    assert qgraph.output_tensor.shape == tuple(model(torch.zeros(1, *shape)).shape[1:])


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo", "torchscript", "torch_export"])
@pytest.mark.parametrize("model", [torch.nn.AdaptiveAvgPool2d(1), Mean(True)])
def test_float_equals_onnxruntime(tmp_path, exporter, model):
    path = save_model(model.eval(), torch.zeros(1, 4, 6, 5), exporter, tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (4, 6, 5), seed=6))
    assert [lay.kind for lay in graph.layers] == ["global_avgpool"]


def test_a_mean_over_other_axes_is_refused():
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], name="rm", axes=[1, 2])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(McuqError, match=re.escape("node 'rm' (ReduceMean) averages axes [1, 2]")):
        import_onnx(model)
