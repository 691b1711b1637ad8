"""Pointwise functions (Clip/ReLU6, LeakyRelu, HardSigmoid, HardSwish, scalar Mul, Div,
Add, Sub) on their own, int8 (a table) and fp16, bit-exact on host and QEMU at 1 and 8
cores; each from a PyTorch module, odd sizes, on a vector and an image."""
import numpy as np
import pytest
import torch

from optest import check_op


class Scalar(torch.nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        return {"mul": lambda: x * 0.37, "div": lambda: x / 1.9, "add": lambda: x + 0.8,
                "sub": lambda: x - 0.45, "sub_from": lambda: 1.25 - x}[self.kind]()


MODULES = {
    "relu6": (torch.nn.ReLU6(), "clip"),
    "hardtanh": (torch.nn.Hardtanh(-0.7, 1.3), "clip"),
    "leaky_relu": (torch.nn.LeakyReLU(0.13), "leaky_relu"),
    "hard_sigmoid": (torch.nn.Hardsigmoid(), "hard_sigmoid"),
    "hard_swish": (torch.nn.Hardswish(), "hard_swish"),
    **{k: (Scalar(k), "add" if k == "sub" else k) for k in ("mul", "div", "add", "sub", "sub_from")},
}


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_pointwise(tmp_path, name, precision):
    module, function = MODULES[name]
    exporter = ("onnx_legacy", "onnx_dynamo", "torch_export")[sorted(MODULES).index(name) % 3]
    shape = (19,) if sorted(MODULES).index(name) % 2 else (3, 5, 7)
    qgraph = check_op(tmp_path, module, "pointwise", precision, shape=shape, exporter=exporter)
    assert [(q.kind, q.params["function"]) for q in qgraph.layers] == [("pointwise", function)]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("block", ["conv_bn_relu6", "depthwise_relu6", "linear_hardtanh",
                                   "linear_relu_then_relu6"])
def test_a_clip_after_a_linear_or_convolution_runs_in_its_kernel(tmp_path, block, precision):
    """MobileNet's Conv-BN-ReLU6: the Clip is fused into the kernel (act_max in int8, the
    fp16 clamp), and the int8 output range is the clamp's."""
    torch.manual_seed(3)
    if block == "conv_bn_relu6":
        model, shape, kind = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1),
                                                 torch.nn.BatchNorm2d(6), torch.nn.ReLU6()), (3, 7, 5), "conv2d"
    elif block == "depthwise_relu6":
        model, shape, kind = torch.nn.Sequential(torch.nn.Conv2d(5, 5, 3, stride=2, groups=5),
                                                 torch.nn.ReLU6()), (5, 9, 7), "depthwise_conv2d"
    elif block == "linear_hardtanh":
        model, shape, kind = torch.nn.Sequential(torch.nn.Linear(13, 9), torch.nn.Hardtanh(-0.5, 0.8)), (13,), "linear"
    else:
        model, shape, kind = torch.nn.Sequential(torch.nn.Linear(13, 9), torch.nn.ReLU(),
                                                 torch.nn.ReLU6()), (13,), "linear"
    if block == "conv_bn_relu6":
        with torch.no_grad():
            model[1].running_mean.uniform_(-1, 1)
            model[1].running_var.uniform_(0.5, 2)
            model[0].weight.mul_(3.0)  # outputs beyond 6, so the clamp matters
    qgraph = check_op(tmp_path, model, kind, precision, shape=shape,
                      exporter="onnx_dynamo" if "relu6" in block else "onnx_legacy")
    assert [q.kind for q in qgraph.layers] == [kind]
    p = qgraph.layers[0].params
    lo, hi = {"linear_hardtanh": (-0.5, 0.8)}.get(block, (0.0, 6.0))
    assert p["activation"] == "clip"  # the bounds as the model stores them (float32)
    assert (p["clip_min"], p["clip_max"]) == pytest.approx((lo, hi), rel=1e-6)
    if precision == "int8":  # the output's 256 codes span at most the clamp's range
        t = qgraph.output_tensor
        code = [min(127, max(-128, int(np.floor(v / t.scale + 0.5)) + t.zero_point)) for v in (lo, hi)]
        assert [p["act_min"], p["act_max"]] == code
        assert t.scale * (-128 - t.zero_point) == pytest.approx(lo, abs=t.scale) if lo == 0.0 else \
            t.scale * (-128 - t.zero_point) >= lo - t.scale
        assert t.scale * (127 - t.zero_point) <= hi + t.scale
