"""Mul of two tensors: x times sigmoid(x) (SiLU, as exporters write it), a
squeeze-and-excitation gate (one weight per channel times the image), a constant mask of
the frame's shape and Div by one; int8 and fp16 bit-exact on host and QEMU at 1 and 8
cores."""
import pytest
import torch

from optest import check_op


class SiLU(torch.nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class SqueezeExcite(torch.nn.Module):
    def __init__(self, channels=6):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, channels, 3, padding=1)
        self.squeeze = torch.nn.Conv2d(channels, 2, 1)
        self.excite = torch.nn.Conv2d(2, channels, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        gate = torch.sigmoid(self.excite(torch.relu(self.squeeze(y.mean((2, 3), keepdim=True)))))
        return y * gate


class Mask(torch.nn.Module):
    def __init__(self, divide: bool):
        super().__init__()
        self.divide = divide
        self.register_buffer("mask", torch.linspace(0.25, 2.0, 3 * 5 * 4).reshape(1, 3, 5, 4))

    def forward(self, x):
        return x / self.mask if self.divide else self.mask * x


MODELS = {"silu": (SiLU(), (17,), "onnx_legacy"),
          "squeeze_excite": (SqueezeExcite(), (3, 6, 5), "onnx_dynamo"),
          "mask": (Mask(False), (3, 5, 4), "torch_export"),
          "divide": (Mask(True), (3, 5, 4), "onnx_legacy")}


@pytest.mark.parametrize("name,precision", [(n, p) for n in sorted(MODELS) for p in ("int8", "fp16")
                                            if (n, p) != ("divide", "fp16")])
def test_mul(tmp_path, name, precision):
    model, shape, exporter = MODELS[name]
    torch.manual_seed(0)
    qgraph = check_op(tmp_path, model, "mul", precision, shape=shape, items=4, exporter=exporter)
    layer = next(q for q in qgraph.layers if q.kind == "mul")
    assert layer.params["per_channel"] == int(name == "squeeze_excite")
    assert ("b" in layer.arrays) == (name in ("mask", "divide"))
