"""PReLU with a slope per channel, on a vector and an image, int8 and fp16, bit-exact on
host and QEMU at 1 and 8 cores; a single slope becomes a pointwise leaky_relu; a slope per
value of the frame; a slope that does not broadcast is refused with that reason."""
import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from optest import check_op


def prelu(channels: int, seed: int) -> torch.nn.PReLU:
    torch.manual_seed(seed)
    module = torch.nn.PReLU(channels)
    with torch.no_grad():  # slopes of both signs and sizes, as trained ones end up
        module.weight.copy_(torch.linspace(-0.4, 0.9, channels)[torch.randperm(channels)])
    return module


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("form", ["vector", "image"])
def test_prelu(tmp_path, form, precision):
    if form == "vector":
        qgraph = check_op(tmp_path, prelu(23, 1), "prelu", precision, shape=(23,), exporter="onnx_legacy")
    else:
        qgraph = check_op(tmp_path, prelu(5, 2), "prelu", precision, shape=(5, 7, 3), exporter="torch_export")
    assert [q.kind for q in qgraph.layers] == ["prelu"]


def test_one_slope_is_a_leaky_relu(tmp_path):
    qgraph = check_op(tmp_path, torch.nn.PReLU(1, init=0.3), "pointwise", "int8", shape=(11,),
                      exporter="onnx_dynamo")
    assert [(q.kind, q.params["function"]) for q in qgraph.layers] == [("pointwise", "leaky_relu")]
    assert qgraph.layers[0].params["a"] == pytest.approx(0.3)


def _prelu_model(shape, slope):
    graph = helper.make_graph([helper.make_node("PRelu", ["x", "a"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, shape)],
                              [numpy_helper.from_array(slope.astype(np.float32), "a")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_a_slope_per_value_of_the_frame(tmp_path, precision):
    from optest import export_and_verify, frame_data
    slope = np.linspace(-0.3, 0.8, 3 * 4 * 5).reshape(3, 4, 5)
    onnx.save(_prelu_model([1, 3, 4, 5], slope), tmp_path / "m.onnx")
    data = frame_data(4, (3, 4, 5), 1)
    qgraph = export_and_verify(tmp_path, tmp_path / "m.onnx", data, data, "prelu", precision)
    assert qgraph.layers[0].params["channels"] == 60


def test_a_slope_that_does_not_broadcast_is_refused():
    with pytest.raises(McuqError, match=r"op PRelu of an activation of shape \[1, 3, 4\] with a "
                                        r"slope of shape \[5\].*one per value of a frame"):
        import_onnx(_prelu_model([1, 3, 4], np.linspace(0.1, 0.5, 5)))
