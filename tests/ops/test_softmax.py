"""Softmax over a vector's features and over an image's channels, int8 (an exponential
table, integer division) and fp16 (f32 exponential), bit-exact on host and QEMU at 1 and
8 cores; float equal to ONNX Runtime; the fp16 exponential's edge values; and the axes
mcuq cannot normalise over refused with their reason."""
import numpy as np
import onnx
import pytest
import torch
from onnx import helper

from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from mcuq.ops import softmax
from optest import check_op, float_matches_onnxruntime_on_images, frame_data


class Logits(torch.nn.Module):
    """Scaled logits, so the int8 input range is wide and the softmax peaked."""
    def __init__(self, dim):
        super().__init__()
        self.softmax = torch.nn.Softmax(dim=dim)

    def forward(self, x):
        return self.softmax(x * 2.5)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("form", ["vector", "image"])
def test_softmax(tmp_path, form, precision):
    shape, dim, exporter = ((37,), -1, "onnx_legacy") if form == "vector" else ((7, 5, 3), 1, "onnx_dynamo")
    qgraph = check_op(tmp_path, Logits(dim), "softmax", precision, shape=shape, exporter=exporter)
    layer = next(q for q in qgraph.layers if q.kind == "softmax")
    assert (layer.params["rows"], layer.params["length"]) == ((1, 37) if form == "vector" else (15, 7))
    if precision == "int8":
        assert (qgraph.output_tensor.scale, qgraph.output_tensor.zero_point) == (1 / 256, -128)


def test_softmax_float_matches_onnxruntime(tmp_path):
    from conftest import save_model
    path = save_model(Logits(1), torch.zeros(1, 6, 4, 5), "onnx_dynamo", tmp_path / "m")
    float_matches_onnxruntime_on_images(path, frame_data(5, (6, 4, 5), 2))


def test_int8_softmax_rows_sum_to_one_within_rounding():
    """Each output is round(256 e / S): a row's 256ths sum to 256 within half a step each."""
    rng = np.random.default_rng(1)
    q = rng.integers(-128, 128, (50, 23)).astype(np.int8)
    from mcuq.qgraph import QLayer
    table = np.floor(np.exp(-0.05 * np.arange(256)) * 2**15 + 0.5).astype(np.int32)
    layer = QLayer(kind="softmax", name="s", inputs=[], outputs=[], arrays={"table": table},
                   params={"precision": "int8", "rows": 1, "length": 23, "axis": 0})
    y = softmax.run_device(layer, [q], {}).astype(np.int64) + 128
    assert np.all(np.abs(y.sum(axis=1) - 256) <= 23 / 2 + 1)
    qi = q.astype(np.int64)
    real = np.exp(0.05 * (qi - qi.max(axis=1, keepdims=True)))
    assert np.max(np.abs(y / 256 - real / real.sum(axis=1, keepdims=True))) <= 1 / 512 + 1e-4


def test_fp16_exponential_is_close_and_edges_are_defined():
    t = np.linspace(-30, 0, 20001, dtype=np.float32)
    e = fp16.exp2_nonpositive(t)
    assert np.max(np.abs(e / np.exp2(t.astype(np.float64)) - 1)) < 2e-7
    assert fp16.exp2_nonpositive(np.float32([0.0]))[0] == 1.0
    edge = fp16.exp2_nonpositive(np.float32([-30.5, -np.inf, np.nan]))
    assert edge[0] == 0 and edge[1] == 0 and np.isnan(edge[2])
    y = softmax.fp16_softmax(np.float16([[1, 2, np.nan], [np.inf, 0, 1], [-np.inf, 0, 0]]))
    assert np.isnan(y[0]).all() and np.isnan(y[1]).all()  # inf - inf is NaN, as in ONNX
    assert list(y[2]) == [0.0, 0.5, 0.5]


def _softmax_model(shape, axis, opset=13):
    node = helper.make_node("Softmax", ["x"], ["y"], axis=axis)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, shape)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("shape,axis,opset,why", [
    ([3, 4, 5], 1, 13, "axis 1 of shape [3, 4, 5], the time (or item) axis"),
    ([1, 6, 4, 5], 2, 13, "axis 2 of shape [1, 6, 4, 5], a spatial axis of the image"),
    ([1, 6, 4, 5], 1, 11, "axis 2 of shape [1, 6, 4, 5], a spatial axis of the image"),
    ([1, 1], 1, 13, "axes of extent 1 only"),
    ([1, 8], 2, 13, "has axis 2, outside the 2 axes"),
])
def test_softmax_axes_it_cannot_normalise_over_are_refused(shape, axis, opset, why):
    with pytest.raises(McuqError, match=why.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        import_onnx(_softmax_model(shape, axis, opset))


def test_softmax_before_opset_13_over_the_trailing_axes():
    graph = import_onnx(_softmax_model([1, 9], 1, 11))
    assert [layer.kind for layer in graph.layers] == ["softmax"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_softmax_over_the_last_axis_of_a_2d_frame(tmp_path, precision):
    """A stateless model whose Softmax normalises across the leading axis of its input
    takes the whole input as one (4, 9) frame; the rows are its last axis."""
    from optest import export_and_verify
    node = helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0])
    soft = helper.make_node("Softmax", ["t"], ["y"], axis=1)
    graph = helper.make_graph([node, soft], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [4, 9])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [9, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, tmp_path / "m.onnx")
    data = frame_data(6, (4, 9), 3) * 2
    qgraph = export_and_verify(tmp_path, tmp_path / "m.onnx", data, data, "softmax", precision)
    assert [q.kind for q in qgraph.layers] == ["transpose", "softmax"]
    assert qgraph.layers[1].params["axis"] == 1 and qgraph.output_tensor.shape == (9, 4)
