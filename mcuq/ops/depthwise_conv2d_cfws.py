"""Depthwise Conv2d with coarse & fine weight splitting (CFWS), int8: what `mcuq export
--cfws` makes of a square odd depthwise kernel (MobileOne's re-parameterized 3x3, whose
centre tap absorbed the 1x1 scale branch and the BatchNorm'd identity, and is far wider
than the other taps). Made by depthwise_conv2d's quantize; no ONNX type of its own.

float:   the depthwise convolution of mcuq/ops/depthwise_conv2d.py, W = W_coarse + W_fine
split:   C[c] = W[c, k/2, k/2] (the centre tap of channel c):
         Cq = round(C / s_c)  with s_c = |C| / qmax per channel (the coarse part: one
                                                                  code per channel)
         F  = W with its centre replaced by C - Cq s_c           (outer taps + residual)
         Fq = round(F / s_f)  with s_f = max|F| / qmax          (the fine kxk kernel)
int8:    acc_f[c] = bq[c] + sum_{ky, kx} Fq[c, ky, kx] x[c, ...]  (the depthwise layer, at
                                                                  scale s_x s_f[c])
         acc_c[c] = Cq[c] x_centre[c] + cb[c]                   (cb = -zp_x Cq; the centre
                                                                  pixel lies in the image)
         acc      = acc_f + requant(acc_c, R[c])                 R ~ s_c[c] / s_f[c]
         y[c]     = clamp(zp_y + requant(acc, M[c]), act_min, act_max)
The centre then keeps the precision of a 32-bit multiplier, and the outer taps get the
whole code range. C kernel: mcuq_depthwise_conv2d_cfws_s8
(firmware/kernels/<isa>/depthwise_conv2d_cfws_s8.c): the depthwise kernel's taps
(depthwise.h) with the coarse product of each channel beside them.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.errors import McuqError
from mcuq.ir import Layer
from mcuq.ops import _conv, conv2d_cfws, depthwise_conv2d
from mcuq.qgraph import QLayer, QTensor

KIND = "depthwise_conv2d_cfws"
PRECISIONS = ("int8",)
HEADER = "mcuq_conv2d.h"
WEIGHTS = ("weight", "coarse")  # the fine and the coarse part

splits = conv2d_cfws.splits  # a square odd kernel of 3 or more whose centres lie inside


def split(weight: np.ndarray, bits: int, rule: str = "max"
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Cq [c], s_c [c], F [c][k][k] float): the coarse centre codes and scales, and the
    fine kernel (outer taps plus the centre's rounding residual)."""
    c = weight.shape[1] // 2
    return conv2d_cfws.split_at(weight, (slice(None), c, c), bits, rule)


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return depthwise_conv2d.run_float(layer, xs, state)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    bits, rule = layer.attrs.get("weight_bits", 8), layer.attrs.get("weight_range", "max")
    what = f"layer {layer.name}"
    coarse, coarse_scale, fine = split(layer.weights["weight"], bits, rule)
    fine_rows = fine.reshape(fine.shape[0], -1)
    fine_layer = dataclasses.replace(layer, weights={**layer.weights,
                                                     "weight": fine.astype(np.float32)})
    qlayer, qout = depthwise_conv2d.quantize_plain(fine_layer, qins, stats, precision)
    fine_scale = fx.quantize_weights_per_channel(fine_rows, bits, rule)[1]
    coarse_bias = -qin.zero_point * coarse.astype(np.int64)
    ratio = coarse_scale / fine_scale
    coarse_mult, coarse_shift = fx.quantize_multipliers(ratio)
    a = qlayer.arrays
    worst = (np.abs(a["bias"].astype(np.int64))
             + 128 * np.abs(a["weight"].astype(np.int64)).sum(axis=1)
             + np.ceil(ratio * (np.abs(coarse_bias) + 128 * np.abs(coarse.astype(np.int64))))
             + 1)
    if np.any(worst > fx.INT32_MAX):
        raise McuqError(f"{what}: with --cfws its int32 accumulator could overflow (the centre "
                        "taps are too wide for the fine scale); export it without --cfws")
    arrays = {**a, "coarse": coarse.astype(np.int8), "coarse_bias": coarse_bias.astype(np.int32),
              "coarse_mult": coarse_mult, "coarse_shift": coarse_shift}
    return dataclasses.replace(qlayer, kind=KIND, arrays=arrays), qout


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    x = xs[0]
    t = depthwise_conv2d.taps(x, _conv.window_of(p), np.int8(p["in_zero_point"])).astype(np.int64)
    acc_f = np.einsum("bhwtc,ct->bhwc", t, a["weight"].astype(np.int64)) + a["bias"]
    centre = conv2d_cfws.centres(x, p).reshape(acc_f.shape).astype(np.int64)
    acc_c = centre * a["coarse"].astype(np.int64) + a["coarse_bias"]
    acc = acc_f + fx.requant(acc_c, a["coarse_mult"], a["coarse_shift"])
    y = p["out_zero_point"] + fx.requant(acc, a["mult"], a["shift"])
    return depthwise_conv2d.to_image(fx.saturate(y, p["act_min"], p["act_max"]).astype(np.int8))


def macs(qlayer: QLayer) -> int:
    p = qlayer.params
    return depthwise_conv2d.macs(qlayer) + p["out_h"] * p["out_w"] * p["in_channels"]


def c_scratch(qlayer: QLayer, isa: str) -> list:
    return depthwise_conv2d.c_scratch(qlayer, isa)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    return depthwise_conv2d.c_arrays(qlayer, isa)


def c_values(qlayer: QLayer) -> dict:
    return depthwise_conv2d.c_values(qlayer)
