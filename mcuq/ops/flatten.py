"""Flatten an image (C, H, W) into a vector (C * H * W,) in ONNX's order (channel-major),
as a classifier head reads it.

float, int8, fp16: y[c * HW + i] = x[c, i]     (int8 keeps the input's scale and zero point)
In C the image is HWC, so this is a transpose: y[c * HW + i] = x_hwc[i * C + c]; after a
global pooling (H = W = 1) it is a plain copy.
C kernels: mcuq_flatten_s8 / _f16 (firmware/kernels/<isa>/flatten_*.c): each core copies
a share of the channels.
ONNX: Flatten or Reshape of an image into (batch, C * H * W); Squeeze of the spatial
axes of a (C, 1, 1) image (mcuq/frontend/onnx_import.py).
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor

KIND = "flatten"


def onnx_nodes(qlayer, b, xs: list) -> str:
    return b.node("Flatten", xs, axis=1)


def output_shape(layer: Layer, shapes):
    return (int(np.prod(shapes[0])),)


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return xs[0].reshape(xs[0].shape[0], -1)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    channels, h, w = qin.shape
    params = {"precision": precision, "channels": channels, "pixels": h * w}
    shape = (qin.size,)
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(shape)
    return QLayer(params=params, **base), QTensor(shape=shape, scale=qin.scale,
                                                  zero_point=qin.zero_point)


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    return xs[0].reshape(xs[0].shape[0], -1)
