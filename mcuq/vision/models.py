"""RepVGG (Ding et al., 2021) for small images: stages of 3x3 blocks, each block a sum of
a 3x3 conv + BatchNorm, a 1x1 conv + BatchNorm and (when the shape allows) an identity
BatchNorm, then ReLU; global average pooling and a Linear classifier.

A0-like stage depths (1, 2, 4, 14, 1) and widths (64a, 64a, 128a, 256a, 512b) as in
RepVGG-A0 (a = 0.75, b = 2.5), scaled by `width`; the first block of each stage has
stride 2, so a 32x32 input ends at 1x1. The model is exported in its train-time form:
mcuq's reparameterize pass fuses every block into one 3x3 convolution.
`deploy()` is PyTorch's own fusion, for comparison.

MobileOne (Vasu et al., 2023) for small images: each block is a depthwise 3x3 stage and a
pointwise 1x1 stage, each stage a sum of k over-parameterized conv + BatchNorm branches,
a 1x1 "scale" branch (depthwise stage) and an identity BatchNorm where the shape allows,
then ReLU. S0-like widths (48, 48, 128, 256, 1024) times `width`, depths (1, 2, 8, 10, 1),
k = 4; written from the paper, summed the way its reference code sums (a branch that is
absent is the number 0, so exporters see `0 + x`).

MobileNetV2 (Sandler et al., 2018; torchvision's layout, written out): a Conv-BN-ReLU6
stem, inverted residual blocks (1x1 expansion, depthwise 3x3, linear 1x1 bottleneck,
residual Add), a 1x1 head, global average pooling, Dropout and a Linear classifier.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

A0_DEPTHS = (1, 2, 4, 14, 1)
A0_WIDTHS = (48, 48, 96, 192, 1280)


def _conv_bn(cin: int, cout: int, k: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


def _folded(weight: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    std = (bn.running_var + bn.eps).sqrt()
    scale = bn.weight / std
    return weight * scale.reshape(-1, *([1] * (weight.dim() - 1))), bn.bias - bn.running_mean * scale


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
        w, b = _folded(self.dense[0].weight, self.dense[1])
        w1, b1 = _folded(self.pointwise[0].weight, self.pointwise[1])
        w, b = w + nn.functional.pad(w1, [1, 1, 1, 1]), b + b1
        if self.identity is not None:
            eye = torch.zeros_like(w)
            eye[torch.arange(w.shape[0]), torch.arange(w.shape[0]), 1, 1] = 1.0
            wi, bi = _folded(eye, self.identity)
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


S0_DEPTHS = (1, 2, 8, 10, 1)
S0_WIDTHS = (48, 48, 128, 256, 1024)


class MobileOneStage(nn.Module):
    """One re-parameterizable stage: k branches of conv(kernel) + BN, a 1x1 + BN scale
    branch (kernel > 1), and an identity BN (same channels, stride 1); then ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, groups: int, k: int):
        super().__init__()
        def conv_bn(size):
            return nn.Sequential(nn.Conv2d(cin, cout, size, stride, size // 2, groups=groups,
                                           bias=False), nn.BatchNorm2d(cout))
        self.branches = nn.ModuleList(conv_bn(kernel) for _ in range(k))
        self.scale = conv_bn(1) if kernel > 1 else None
        self.identity = nn.BatchNorm2d(cout) if cin == cout and stride == 1 else None
        self.kernel, self.groups = kernel, groups
        self.fused: nn.Conv2d | None = None

    def forward(self, x):
        if self.fused is not None:
            return torch.relu(self.fused(x))
        identity = self.identity(x) if self.identity is not None else 0
        scale = self.scale(x) if self.scale is not None else 0
        y = scale + identity
        for branch in self.branches:
            y = y + branch(x)
        return torch.relu(y)

    def fuse(self) -> None:
        """The deploy-time stage: every branch's BN into its kernel, the 1x1 and the
        identity padded into the centre, all summed."""
        parts = [_folded(b[0].weight, b[1]) for b in self.branches]
        m = self.kernel // 2
        if self.scale is not None:
            w1, b1 = _folded(self.scale[0].weight, self.scale[1])
            parts.append((nn.functional.pad(w1, [m, m, m, m]), b1))
        if self.identity is not None:
            eye = torch.zeros_like(parts[0][0])
            per_group = eye.shape[1]
            channels = torch.arange(eye.shape[0])
            eye[channels, channels % per_group, m, m] = 1.0
            parts.append(_folded(eye, self.identity))
        w = sum(p[0] for p in parts)
        b = sum(p[1] for p in parts)
        first = self.branches[0][0]
        self.fused = nn.Conv2d(first.in_channels, first.out_channels, self.kernel, first.stride,
                               m, groups=self.groups)
        self.fused.weight.data, self.fused.bias.data = w.detach(), b.detach()
        self.branches = self.scale = self.identity = None


class MobileOne(nn.Module):
    def __init__(self, in_channels: int = 3, classes: int = 10, width: float = 0.25,
                 depths=S0_DEPTHS, k: int = 4):
        super().__init__()
        widths = [max(4, int(round(w * width))) for w in S0_WIDTHS]
        self.config = {"in_channels": in_channels, "classes": classes, "width": width,
                       "depths": list(depths), "k": k}
        # the stem is a dense 3x3 stage (k = 1 in the paper)
        stages, cin = [MobileOneStage(in_channels, widths[0], 3, 2, 1, 1)], widths[0]
        for depth, cout in zip(depths[1:], widths[1:]):
            for i in range(depth):
                stride = 2 if i == 0 else 1
                stages.append(MobileOneStage(cin, cin, 3, stride, cin, k))  # depthwise
                stages.append(MobileOneStage(cin, cout, 1, 1, 1, k))  # pointwise
                cin = cout
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))

    def forward(self, x):
        return self.head(self.stages(x))

    def deploy(self) -> "MobileOne":
        model = copy.deepcopy(self).eval()
        for stage in model.stages:
            stage.fuse()
        return model


# (expansion, channels, repeats, stride) of torchvision's MobileNetV2
V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
               (6, 160, 3, 2), (6, 320, 1, 1))


def _divisible(channels: float, divisor: int) -> int:
    """torchvision's rounding of a scaled width: to a multiple of divisor, not below 90%."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def _conv_bn_relu6(cin, cout, kernel=3, stride=1, groups=1, relu6=True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU6()) if relu6 else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        self.block = nn.Sequential(*([_conv_bn_relu6(cin, hidden, 1)] if expand != 1 else []),
                                   _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                                   _conv_bn_relu6(hidden, cout, 1, relu6=False))

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(self, in_channels: int = 3, classes: int = 10, width: float = 1.0,
                 settings=V2_SETTINGS, stem: int = 32, last: int = 1280, divisor: int = 8):
        super().__init__()
        cin = _divisible(stem * width, divisor)
        layers = [_conv_bn_relu6(in_channels, cin, 3, 2)]
        for t, c, n, s in settings:
            cout = _divisible(c * width, divisor)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = _divisible(last * max(1.0, width), divisor)
        layers.append(_conv_bn_relu6(cin, last, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))
