"""Pointwise functions (Clip/ReLU6, LeakyRelu, HardSigmoid, HardSwish, scalar Mul, Div,
Add, Sub) on their own, int8 (a table) and fp16, bit-exact on host and QEMU at 1 and 8
cores; each from a PyTorch module, odd sizes, on a vector and an image."""
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
