"""Sigmoid, element-wise.

float:  y = 1 / (1 + e^-x)
int8:   y = table[xq + 128] (mcuq.ops._lookup); output scale 1/256, zero point -128
fp16:   y = fp16(sigmoid_q15(Q12 of x) / 32768)  (mcuq.fp16.sigmoid)
C kernels: mcuq_sigmoid_s8 (firmware/kernels/<isa>/sigmoid_s8.c), mcuq_sigmoid_f16.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.ops import _lookup as lookup

KIND = "sigmoid"
ONNX_TYPES = ("Sigmoid",)
OUTPUT_BOUNDS = (0.0, 1.0)  # headroom stops here
OUTPUT_QPARAMS = (1.0 / 256.0, -128)  # the whole range [0, 1), no calibration


def function(x):
    return 1.0 / (1.0 + np.exp(-x))


def import_onnx(ctx, node) -> list:
    return ctx.elementwise(node, KIND)


def onnx_nodes(qlayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): the exact function (int8: instead of mcuq's table)."""
    return b.node("Sigmoid", xs)


def run_float(layer, xs, state) -> np.ndarray:
    return function(xs[0].astype(np.float64)).astype(np.float32)


def quantize(layer, qins, stats, precision):
    return lookup.quantize(layer, qins[0], precision, function, OUTPUT_QPARAMS)


def run_device(qlayer, xs, state) -> np.ndarray:
    return lookup.run_device(qlayer, xs[0], fp16.sigmoid)
