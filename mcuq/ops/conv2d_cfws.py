"""Conv2d with coarse & fine weight splitting (CFWS, Yang et al., arXiv 2312.10588), int8:
what `mcuq export --cfws` makes of a square odd convolution (a re-parameterized RepVGG
3x3 whose centre tap absorbed the 1x1 and identity branches, and is far wider than the
other taps). Made by conv2d's quantize; it has no ONNX type of its own.

float:   the convolution of mcuq/ops/conv2d.py, W = W_coarse + W_fine
split:   C = W[:, :, c, c] (the centre taps), per output channel:
         Cq = round(C / s_c)  with s_c = max|C| / qmax          (the coarse 1x1 kernel)
         F  = W with its centre replaced by C - Cq s_c           (outer taps + residual)
         Fq = round(F / s_f)  with s_f = max|F| / qmax          (the fine kxk kernel;
                                                    with --weight-outliers, its outliers
                                                    in a side list: mcuq.outliers)
int8:    acc_f = sum_k Fq[n][k] col[k] + bq[n]                  (the conv2d matvec, at
                                                                  scale s_x s_f[n])
         acc_c = sum_ci Cq[n][ci] x[ci] + cb[n]                 (the centre pixel, x
                                                                  always inside the image;
                                                                  cb = -zp_x sum Cq)
1x1:     a square 1x1 kernel whose diagonal dominates (an identity branch absorbed) splits
         into its diagonal, C[n] = W[n, n] (one coarse code per row, `diagonal`), and the
         rest: acc_c = Cq[n] x[n] + cb[n], the same sum with one term
         acc   = acc_f + requant(acc_c, R[n])                    R ~ s_c[n] / s_f[n]
         y[n]  = clamp(zp_y + requant(acc, M[n]), act_min, 127)  M ~ s_x s_f[n] / s_y
The coarse product costs in_channels MACs per output value, 1/(k k) of the fine one.
C kernel: mcuq_conv2d_cfws_s8 (firmware/kernels/<isa>/conv2d_cfws_s8.c): conv2d's
column and channel groups, with the coarse dot products on the centre pixel beside them.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import layouts
from mcuq import outliers as outlier_list
from mcuq.errors import McuqError
from mcuq.ir import Layer
from mcuq.ops import _activation as activation
from mcuq.ops import _conv, _matvec, conv2d
from mcuq.qgraph import QLayer, QTensor

KIND = "conv2d_cfws"
PRECISIONS = ("int8",)
HEADER = "mcuq_conv2d.h"
WEIGHTS = ("weight", "coarse", "outlier_value")  # the fine and the coarse part, the fine
# part's outliers kept aside (mcuq.outliers)
OUTLIERS = True  # --weight-outliers: the matvec core's side list


def splits(layer: Layer) -> bool:
    """Whether CFWS applies: a square odd kernel with a centre and outer taps, padded by
    at most k // 2 on each side (so every window's centre lies inside the image), not
    dilated; or a 1x1 kernel with as many outputs as inputs and no padding whose diagonal
    is the widest weight of most rows (an identity branch absorbed: MobileOne, RepVGG's
    1x1 blocks), which splits into its diagonal and the rest."""
    g = _conv.window_of(layer.attrs)
    k = g["kernel"]
    if k == [1, 1]:
        w = layer.weights["weight"]
        if w.shape[0] != w.shape[1] or max(g["pads"]) > 0:
            return False
        m = np.abs(w[:, :, 0, 0])
        return bool(np.mean(np.diagonal(m) >= m.max(axis=1)) > 0.5)
    return (k[0] == k[1] and k[0] % 2 == 1 and k[0] >= 3 and max(g["pads"]) <= k[0] // 2
            and g["dilation"] == [1, 1])


def split(weight: np.ndarray, bits: int, rule: str = "max"
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Cq [out][in], s_c [out], F [out][in][k][k] float): the coarse centre codes and
    scales, and the fine kernel (outer taps plus the centre's rounding residual); the
    centre's range follows the weight range rule `rule` (so does the fine part's). A 1x1
    kernel splits into its diagonal (Cq [out], one code per row) and the rest."""
    if weight.shape[2] == 1:
        rows = np.arange(weight.shape[0])
        return split_at(weight, (rows, rows, 0, 0), bits, rule)
    c = weight.shape[2] // 2
    return split_at(weight, (slice(None), slice(None), c, c), bits, rule)


def split_at(weight: np.ndarray, where: tuple, bits: int, rule: str
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Cq, s_c, F) for the coarse taps weight[where] (indexed per output channel on the
    first axis): their codes, in their shape, over a range of their own per output
    channel (the rule `rule`), and the fine kernel, `weight` with those taps replaced by
    their rounding residual. The dense, diagonal and depthwise splits are this one."""
    taps = weight[where].astype(np.float64)
    rows = taps.reshape(len(taps), -1)
    codes, scale = fx.quantize_weights_per_channel(rows, bits, rule)
    fine = weight.astype(np.float64).copy()
    fine[where] = (rows - codes * scale[:, None]).reshape(taps.shape)
    return codes.reshape(taps.shape), scale, fine


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return conv2d.run_float(layer, xs, state)


def quantize_split(layer: Layer, qin: QTensor, stats: dict) -> tuple[QLayer, QTensor]:
    bits, rule = layer.attrs.get("weight_bits", 8), layer.attrs.get("weight_range", "max")
    act = activation.params(layer.attrs)
    what = f"layer {layer.name}"
    coarse, coarse_scale, fine = split(layer.weights["weight"], bits, rule)
    fine_matrix = conv2d.matrix(fine)
    kept_aside = layer.attrs.get("weight_outliers", 0.0)
    fine_scale = _matvec.quantize_weights(fine_matrix, bits, rule, kept_aside)[1]
    arrays, qparams, out_scale = _matvec.quantize_int8(
        fine_matrix, layer.weights["bias"], qin.scale, qin.zero_point, stats, act, what, bits,
        rule, kept_aside)
    coarse_rows = coarse.astype(np.int64).reshape(len(coarse), -1)  # a diagonal: one per row
    coarse_bias = -qin.zero_point * coarse_rows.sum(axis=1)
    ratio = coarse_scale / fine_scale
    coarse_mult, coarse_shift = fx.quantize_multipliers(ratio)
    worst = (np.abs(arrays["bias"].astype(np.int64))
             + 128 * np.abs(outlier_list.codes(arrays)).sum(axis=1)
             + np.ceil(ratio * (np.abs(coarse_bias) + 128 * np.abs(coarse_rows).sum(axis=1)))
             + 1)
    if np.any(worst > fx.INT32_MAX):
        raise McuqError(f"{what}: with --cfws its int32 accumulator could overflow (the centre "
                        "taps are too wide for the fine scale); export it without --cfws")
    arrays.update({"coarse": coarse, "coarse_bias": coarse_bias.astype(np.int32),
                   "coarse_mult": coarse_mult, "coarse_shift": coarse_shift})
    shape = conv2d.output_shape(layer, [qin.shape])
    params = {"precision": "int8", **_conv.window_params(qin.shape, _conv.window_of(layer.attrs)),
              "out_channels": int(fine_matrix.shape[0]), **act, **qparams,
              "in_zero_point": qin.zero_point, "diagonal": int(coarse.ndim == 1)}
    qlayer = QLayer(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                    outputs=list(layer.outputs), arrays=arrays, params=params,
                    source=layer.source)
    return qlayer, QTensor(shape=shape, scale=out_scale, zero_point=qparams["out_zero_point"])


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    return quantize_split(layer, qins[0], stats)


def centres(x: np.ndarray, p: dict) -> np.ndarray:
    """(batch, C, H, W) -> (batch * out_h * out_w, C): each window's centre pixel, which
    lies inside the image (pads are k // 2)."""
    c = p["kernel_h"] // 2
    top, left = c - p["pad_top"], c - p["pad_left"]
    picked = x[:, :, top::p["stride_h"], left::p["stride_w"]][:, :, :p["out_h"], :p["out_w"]]
    return np.ascontiguousarray(picked.transpose(0, 2, 3, 1)).reshape(-1, x.shape[1])


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    x = xs[0]
    cols = _conv.columns(x, _conv.window_of(p), np.int8(p["in_zero_point"]))
    acc_f = cols.astype(np.int64) @ outlier_list.codes(a).T + a["bias"]
    centre = centres(x, p).astype(np.int64)
    if p.get("diagonal"):
        acc_c = centre * a["coarse"].astype(np.int64) + a["coarse_bias"]
    else:
        acc_c = centre @ a["coarse"].astype(np.int64).T + a["coarse_bias"]
    acc = acc_f + fx.requant(acc_c, a["coarse_mult"], a["coarse_shift"])
    y = p["out_zero_point"] + fx.requant(acc, a["mult"], a["shift"])
    y = fx.saturate(y, p["act_min"], p["act_max"]).astype(np.int8)
    return _conv.to_image(y, x.shape[0], (p["out_h"], p["out_w"]))


def macs(qlayer: QLayer) -> int:
    p = qlayer.params
    coarse = 1 if p.get("diagonal") else p["in_channels"]
    return conv2d.macs(qlayer) + p["out_h"] * p["out_w"] * p["out_channels"] * coarse


def c_scratch(qlayer: QLayer, isa: str) -> list:
    return conv2d.c_scratch(qlayer, isa)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    arrays = conv2d.c_arrays(qlayer, isa)
    arrays.pop("taps", None)  # the CFWS kernel gathers each core's columns itself
    if not qlayer.params.get("diagonal"):
        arrays["coarse"] = layouts.arrange(isa, "matvec", arrays["coarse"])
    return arrays


def c_values(qlayer: QLayer) -> dict:
    return conv2d.c_values(qlayer)
