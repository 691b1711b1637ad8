"""ConvTranspose (the decoder of conv-recurrent speech models such as CRN): imported as
the convolution it equals, a pad layer that spreads the image out (stride - 1 zeros
between pixels, a border of kernel - 1 - pad) and a stride-1 convolution with the kernel
flipped. Float equal to ONNX Runtime; int8 and fp16 bit-exact on host and QEMU at 1 and 8
cores; a stride-1 one is a single convolution (its border folds into the padding)."""
import pytest
import torch

from conftest import save_model
from optest import check_op, float_matches_onnxruntime_on_images, frame_data

# (in channels, out channels, kernel, stride, padding, output_padding, groups, image)
CASES = {
    "stride2": (4, 5, 3, 2, 1, 1, 1, (5, 6)),
    "stride_hw": (3, 2, (3, 2), (2, 3), 0, 0, 1, (4, 3)),
    "depthwise": (6, 6, 4, 2, 1, 0, 6, (5, 5)),
    "stride1": (3, 4, 3, 1, 1, 0, 1, (6, 5)),
}


def transposed(name: str) -> torch.nn.ConvTranspose2d:
    cin, cout, k, s, p, op, g, _ = CASES[name]
    torch.manual_seed(len(name))
    return torch.nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op, groups=g)


@pytest.mark.parametrize("name,precision", [(name, "int8") for name in sorted(CASES)]
                         + [("stride2", "fp16"), ("depthwise", "fp16")])
def test_conv_transpose(tmp_path, name, precision):
    model = transposed(name)
    cin, *_, g, hw = CASES[name]
    kind = "depthwise_conv2d" if g > 1 else "conv2d"
    exporter = ("onnx_legacy", "onnx_dynamo", "torch_export")[sorted(CASES).index(name) % 3]
    qgraph = check_op(tmp_path, model, kind, precision, shape=(cin, *hw), items=4, exporter=exporter)
    assert qgraph.output_tensor.shape == tuple(model(torch.zeros(1, cin, *hw)).shape[1:])
    kinds = [q.kind for q in qgraph.layers]
    assert kinds == ([kind] if name == "stride1" else ["pad", kind]), kinds


@pytest.mark.parametrize("name", sorted(CASES))
def test_conv_transpose_float_equals_onnxruntime(tmp_path, name):
    cin, *_, hw = CASES[name]
    path = save_model(transposed(name).eval(), torch.zeros(1, cin, *hw), "onnx_legacy",
                      tmp_path / "m", dynamic_time=False)
    float_matches_onnxruntime_on_images(path, frame_data(3, (cin, *hw), seed=4))
