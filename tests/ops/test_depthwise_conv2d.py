"""Depthwise Conv2d (groups = channels): kernel 3, strides 1 and 2, padding, fused ReLU,
odd image sizes, maps of at most 4 pixels; float equal to ONNX Runtime; int8 and fp16 bit-exact on host and QEMU,
1 and 8 cores."""
import pytest
import torch

from conftest import save_model
from optest import check_op, float_matches_onnxruntime_on_images, frame_data

# (channels, kernel, stride, padding, image (H, W))
SHAPES = [(5, 3, 1, 1, (9, 7)), (3, 3, 2, 1, (8, 11)), (7, 3, 1, 0, (5, 6)), (1, 1, 1, 0, (4, 3)),
          (6, 3, 2, 1, (3, 3)),  # 2x2 output: fewer pixels than cores, the channels split
          # maps that fit in a word (the int8 map kernel): 2x2 at strides 1 and 2, 1x3
          (6, 3, 1, 1, (2, 2)), (9, 3, 2, 1, (2, 2)), (5, 3, 1, 1, (1, 3))]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_depthwise_conv2d(tmp_path, precision, shape):
    c, k, s, p, hw = SHAPES[shape]
    torch.manual_seed(shape)
    conv = torch.nn.Conv2d(c, c, k, stride=s, padding=p, groups=c)
    if c == 1:  # a 1-channel image: the depthwise conv is an ordinary one
        check_op(tmp_path, conv, "conv2d", precision, shape=(c, *hw), items=5)
        return
    qgraph = check_op(tmp_path, conv, "depthwise_conv2d", precision, shape=(c, *hw), items=5)
    assert qgraph.output_tensor.shape == tuple(conv(torch.zeros(1, c, *hw)).shape[1:])


@pytest.mark.parametrize("exporter", ["onnx_dynamo", "torch_export"])
def test_depthwise_relu_float_equals_onnxruntime(tmp_path, exporter):
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Conv2d(6, 6, 3, padding=1, groups=6), torch.nn.ReLU())
    path = save_model(model.eval(), torch.zeros(1, 6, 7, 5), exporter, tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(4, (6, 7, 5), seed=3))
    assert [(lay.kind, lay.attrs.get("activation")) for lay in graph.layers] == [
        ("depthwise_conv2d", "relu")]
