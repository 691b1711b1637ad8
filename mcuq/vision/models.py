"""RepVGG (Ding et al., 2021) for small images: stages of 3x3 blocks, each block a sum of
a 3x3 conv + BatchNorm, a 1x1 conv + BatchNorm and (when the shape allows) an identity
BatchNorm, then ReLU; global average pooling and a Linear classifier.

A0-like stage depths (1, 2, 4, 14, 1) and widths (64a, 64a, 128a, 256a, 512b) as in
RepVGG-A0 (a = 0.75, b = 2.5), scaled by `width`; the first block of each stage has
stride 2, so a 32x32 input ends at 1x1. The model is exported in its train-time form:
mcuq's reparameterize pass fuses every block into one 3x3 convolution.
`deploy()` is PyTorch's own fusion, for comparison.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

A0_DEPTHS = (1, 2, 4, 14, 1)
A0_WIDTHS = (48, 48, 96, 192, 1280)


def _conv_bn(cin: int, cout: int, k: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class RepVGGBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.dense = _conv_bn(cin, cout, 3, stride)
        self.pointwise = _conv_bn(cin, cout, 1, stride)
        self.identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.fused: nn.Conv2d | None = None

    def forward(self, x):
        if self.fused is not None:
            return torch.relu(self.fused(x))
        y = self.dense(x) + self.pointwise(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return torch.relu(y)

    def fuse(self) -> None:
        def folded(weight, bn):
            std = (bn.running_var + bn.eps).sqrt()
            return weight * (bn.weight / std).reshape(-1, 1, 1, 1), \
                bn.bias - bn.running_mean * bn.weight / std
        w, b = folded(self.dense[0].weight, self.dense[1])
        w1, b1 = folded(self.pointwise[0].weight, self.pointwise[1])
        w, b = w + nn.functional.pad(w1, [1, 1, 1, 1]), b + b1
        if self.identity is not None:
            eye = torch.zeros_like(w)
            eye[torch.arange(w.shape[0]), torch.arange(w.shape[0]), 1, 1] = 1.0
            wi, bi = folded(eye, self.identity)
            w, b = w + wi, b + bi
        self.fused = nn.Conv2d(w.shape[1], w.shape[0], 3, self.dense[0].stride, 1)
        self.fused.weight.data, self.fused.bias.data = w.detach(), b.detach()
        self.dense = self.pointwise = self.identity = None


class RepVGG(nn.Module):
    def __init__(self, in_channels: int = 3, classes: int = 10, width: float = 0.25,
                 depths=A0_DEPTHS):
        super().__init__()
        widths = [max(4, int(round(w * width))) for w in A0_WIDTHS]
        self.config = {"in_channels": in_channels, "classes": classes, "width": width,
                       "depths": list(depths)}
        blocks, cin = [], in_channels
        for depth, cout in zip(depths, widths):
            for i in range(depth):
                blocks.append(RepVGGBlock(cin, cout, 2 if i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))

    def forward(self, x):
        return self.head(self.blocks(x))

    def deploy(self) -> "RepVGG":
        model = copy.deepcopy(self).eval()
        for block in model.blocks:
            block.fuse()
        return model
