"""Tanh, element-wise.

float:  y = tanh(x)
int8:   y = table[xq + 128] (mcuq.ops._lookup); output scale 1/128, zero point 0
fp16:   y = fp16(tanh_q15(Q12 of x) / 32768)  (mcuq.fp16.tanh)
C kernels: mcuq_tanh_s8 (firmware/kernels/<isa>/tanh_s8.c), mcuq_tanh_f16.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.ops import _lookup as lookup

KIND = "tanh"
ONNX_TYPES = ("Tanh",)
OUTPUT_BOUNDS = (-1.0, 1.0)  # headroom stops here
OUTPUT_QPARAMS = (1.0 / 128.0, 0)  # the whole range (-1, 1), no calibration


def import_onnx(ctx, node) -> list:
    return ctx.elementwise(node, KIND)


def onnx_nodes(qlayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): the exact function (int8: instead of mcuq's table)."""
    return b.node("Tanh", xs)


def run_float(layer, xs, state) -> np.ndarray:
    return np.tanh(xs[0].astype(np.float64)).astype(np.float32)


def quantize(layer, qins, stats, precision):
    return lookup.quantize(layer, qins[0], precision, np.tanh, OUTPUT_QPARAMS)


def run_device(qlayer, xs, state) -> np.ndarray:
    return lookup.run_device(qlayer, xs[0], fp16.tanh)
