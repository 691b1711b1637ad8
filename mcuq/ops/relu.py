"""ReLU, element-wise (a ReLU right after a Linear is fused into it by mcuq.passes).

float:  y = max(x, 0)
int8:   y = max(xq, zp_x), the input's scale and zero point
fp16:   y = x < 0 ? 0 : x
C kernels: mcuq_relu_s8 (firmware/kernels/<isa>/relu_s8.c), mcuq_relu_f16 (relu_f16.c).
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.qgraph import QLayer, QTensor

KIND = "relu"
ONNX_TYPES = ("Relu",)


def import_onnx(ctx, node) -> list:
    return ctx.elementwise(node, KIND)


def onnx_nodes(qlayer, b, xs: list) -> str:
    return b.node("Relu", xs)


def run_float(layer, xs, state) -> np.ndarray:
    return np.maximum(xs[0], 0).astype(np.float32)


def quantize(layer, qins, stats, precision):
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    if precision == "fp16":
        return QLayer(params={"precision": "fp16", "size": qin.size}, **base), fp16.tensor(qin.shape)
    qout = QTensor(shape=qin.shape, scale=qin.scale, zero_point=qin.zero_point)
    return QLayer(params={"precision": "int8", "zero_point": qin.zero_point, "size": qin.size},
                  **base), qout


def run_device(qlayer, xs, state) -> np.ndarray:
    if qlayer.params["precision"] == "fp16":
        return fp16.relu(xs[0])
    return np.maximum(xs[0], qlayer.params["zero_point"]).astype(np.int8)
