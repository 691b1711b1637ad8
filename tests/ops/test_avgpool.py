"""AveragePool with a window smaller than the image: kernels 2 and 3, strides 1 and 2,
padding with count_include_pad 0 (ONNX's default: the divisor is the taps inside) and 1,
odd image sizes; float equal to ONNX Runtime; int8 and fp16 bit-exact on host and QEMU,
1 and 8 cores; ceil_mode, and its refusal where ONNX counts neither pad nor value."""
import onnx
from onnx import helper

from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
import pytest
import torch

from conftest import save_model
from optest import check_op, float_matches_onnxruntime_on_images, frame_data

# (kernel, stride, padding, count_include_pad, channels, image (H, W))
SHAPES = [(2, 2, 0, True, 3, (8, 6)), (3, 2, 1, False, 5, (9, 7)), (3, 1, 1, True, 4, (5, 6))]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_avgpool(tmp_path, precision, shape):
    k, s, p, include, c, hw = SHAPES[shape]
    pool = torch.nn.AvgPool2d(k, stride=s, padding=p, count_include_pad=include)
    qgraph = check_op(tmp_path, pool, "avgpool", precision, shape=(c, *hw), items=5,
                      seed=shape, exporter=("onnx_legacy", "onnx_dynamo", "torch_export")[shape])
    assert qgraph.output_tensor.shape == tuple(pool(torch.zeros(1, c, *hw)).shape[1:])


@pytest.mark.parametrize("include", [False, True])
def test_float_equals_onnxruntime(tmp_path, include):
    model = torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=include).eval()
    path = save_model(model, torch.zeros(1, 3, 7, 8), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (3, 7, 8), seed=5))
    assert [lay.kind for lay in graph.layers] == ["avgpool"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_ceil_mode(tmp_path, precision):
    """The last windows reach beyond the image and its padding: only the taps inside
    count (count_include_pad=0)."""
    pool = torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    qgraph = check_op(tmp_path, pool, "avgpool", precision, shape=(4, 8, 6), items=4,
                      exporter="onnx_legacy")
    assert qgraph.output_tensor.shape == (4, 5, 4) == tuple(pool(torch.zeros(1, 4, 8, 6)).shape[1:])


def test_ceil_mode_float_equals_onnxruntime(tmp_path):
    model = torch.nn.AvgPool2d(2, stride=2, ceil_mode=True).eval()
    path = save_model(model, torch.zeros(1, 3, 7, 5), "onnx_dynamo", tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (3, 7, 5), seed=6))
    assert [lay.kind for lay in graph.layers] == ["avgpool"]


def test_ceil_mode_counting_padding_beyond_the_padding_is_refused():
    node = helper.make_node("AveragePool", ["x"], ["y"], name="ap", kernel_shape=[3, 3],
                            strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    with pytest.raises(McuqError, match=r"node 'ap' \(AveragePool\) has ceil_mode=1 with count_include_pad=1 and padding"):
        import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_dilation(tmp_path, precision):
    """A dilated window (ONNX AveragePool's dilations; PyTorch has none): its taps a
    dilation apart, the divisor the taps inside."""
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 3], strides=[1, 2],
                            pads=[1, 1, 1, 1], dilations=[2, 2])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 7, 8])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]), tmp_path / "m.onnx")
    from optest import export_and_verify
    data = frame_data(4, (3, 7, 8), 3)
    graph = float_matches_onnxruntime_on_images(tmp_path / "m.onnx", data)
    assert graph.layers[0].attrs["dilation_h"] == 2
    export_and_verify(tmp_path, tmp_path / "m.onnx", data, data, "avgpool", precision)
