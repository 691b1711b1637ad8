"""Conv2d (groups 1): kernels 1 and 3, strides 1 and 2, padding (symmetric, SAME_UPPER
and asymmetric), fused ReLU and a folded BatchNorm, odd image sizes; float equal to
ONNX Runtime from every exporter; int8 and fp16 bit-exact on host and QEMU, 1 and 8
cores; the refusals name the node."""
import re

import numpy as np
import onnx
import pytest
import torch
from onnx import helper

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from optest import check_op, export_and_verify, float_matches_onnxruntime_on_images, frame_data
from passtest import float_frames, onnx_model, ort_frames

# (in channels, out channels, kernel, stride, padding, image (H, W))
SHAPES = [(3, 5, 3, 1, 1, (9, 7)),     # the RepVGG 3x3 block
          (4, 6, 3, 2, 1, (8, 11)),    # stride 2 (RepVGG's first block of a stage)
          (5, 3, 1, 1, 0, (6, 5)),     # 1x1: the column is the input pixel, in place
          (3, 7, 1, 2, 0, (7, 7)),     # 1x1, stride 2, in place
          (2, 9, 3, 1, 0, (5, 6)),     # no padding
          (5, 11, 3, 2, 1, (3, 3))]    # 2x2 output: fewer pixels than cores, the groups split


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_conv2d(tmp_path, precision, shape):
    cin, cout, k, s, p, hw = SHAPES[shape]
    torch.manual_seed(shape)
    conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
    qgraph = check_op(tmp_path, conv, "conv2d", precision, shape=(cin, *hw), items=5)
    assert qgraph.output_tensor.shape == tuple(conv(torch.zeros(1, cin, *hw)).shape[1:])


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo", "torchscript", "torch_export"])
def test_conv_bn_relu_from_every_exporter(tmp_path, exporter):
    """Conv + BatchNorm + ReLU: the BatchNorm folds into the conv, the ReLU fuses."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, bias=False),
                                torch.nn.BatchNorm2d(6), torch.nn.ReLU()).eval()
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
        model[1].weight.uniform_(0.5, 2)
    path = save_model(model, torch.zeros(1, 3, 7, 9), exporter, tmp_path / "m", dynamic_time=False)
    images = frame_data(6, (3, 7, 9), seed=1)
    graph = float_matches_onnxruntime_on_images(path, images)
    assert [(lay.kind, lay.attrs.get("activation")) for lay in graph.layers] == [("conv2d", "relu")]
    if exporter == "onnx_legacy":
        export_and_verify(tmp_path, path, images, images, "conv2d", "int8")


def test_same_upper_and_asymmetric_pads(tmp_path):
    """Padding as other exporters write it: auto_pad SAME_UPPER (an even kernel puts the
    extra row and column at the end) and explicit unequal pads."""
    rng = np.random.default_rng(5)
    model = onnx_model(
        [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], name="same", auto_pad="SAME_UPPER",
                          kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Conv", ["h", "w2"], ["y"], name="asym", pads=[0, 1, 2, 1])],
        {"w1": rng.standard_normal((4, 3, 2, 2)), "b1": rng.standard_normal(4),
         "w2": rng.standard_normal((5, 4, 3, 3))}, [1, 3, 9, 7], out_shape=(1, 5, None, None))
    images = frame_data(5, (3, 9, 7), seed=2)
    graph = import_onnx(model)
    np.testing.assert_allclose(float_frames(graph, images), ort_frames(model, images), rtol=0,
                               atol=5e-5)
    onnx.save(model, tmp_path / "pads.onnx")
    for precision in ("int8", "fp16"):
        export_and_verify(tmp_path, tmp_path / "pads.onnx", images, images, "conv2d", precision)


@pytest.mark.parametrize("attrs,inits,why", [
    ({"dilations": [0, 1]}, {}, "dilations [0, 1]"),
    ({"group": 2}, {"w": np.ones((4, 2, 3, 3))}, "2 groups"),
    ({"auto_pad": "SAME"}, {}, "auto_pad 'SAME'"),
])
def test_refusals_name_the_node(attrs, inits, why):
    w = inits.get("w", np.ones((4, 4, 3, 3))).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c7", **attrs)], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [onnx.numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(McuqError, match=re.escape(f"node 'c7' (Conv) has {why}")):
        import_onnx(model)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("groups", [1, 4])
def test_dilated_convolution(tmp_path, precision, groups):
    """Dilated 3x3 (a TCN's or DeepLab's), dense and depthwise: the taps a dilation apart
    in the im2col and in the depthwise kernel; float equal to ONNX Runtime."""
    torch.manual_seed(7 + groups)
    conv = torch.nn.Conv2d(4, 4 if groups > 1 else 6, 3, padding=(2, 3), dilation=(2, 3), groups=groups)
    kind = "depthwise_conv2d" if groups > 1 else "conv2d"
    qgraph = check_op(tmp_path, conv, kind, precision, shape=(4, 9, 8), items=4, exporter="onnx_dynamo")
    assert qgraph.output_tensor.shape == tuple(conv(torch.zeros(1, 4, 9, 8)).shape[1:])
    assert (qgraph.layers[0].params["dilation_h"], qgraph.layers[0].params["dilation_w"]) == (2, 3)
    path = save_model(conv.eval(), torch.zeros(1, 4, 9, 8), "onnx_legacy", tmp_path / "f", dynamic_time=False)
    float_matches_onnxruntime_on_images(path, frame_data(3, (4, 9, 8), seed=2))
