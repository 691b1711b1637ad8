"""The matrix-vector core shared by Linear and Conv2d: y = W x + b over output rows
(Linear: its features; Conv2d: its output channels, x one im2col column per pixel).

int8:   acc[n] = sum_k Wq[n][k] xq[k] + bq[n]      (int32; zp_x folded into bq)
        Wq = the dense int8 codes, plus the int16 codes of a side list of outliers when
        --weight-outliers keeps some aside (mcuq.outliers: the same sum, in two parts)
        y[n]   = clamp(zp_y + requant(acc[n], M[n]), act_min, act_max)
        Wq symmetric per row, bq = round(b / (s_x s_w[n])) - zp_x sum_k Wq[n][k],
        M[n] ~ s_x s_w[n] / s_y
fp16:   acc = b[n]; for k in order: acc = fp16(acc + fp16(W[n][k] x[k])); y = clamp(acc)
The fused activation (act_min, act_max and the fp16 clamp) is mcuq/ops/_activation.py.
The C twin is the mcuq_matvec_* helpers of firmware/kernels/<isa>/matvec.h.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq import outliers as outlier_list
from mcuq.ops import _activation as activation


def quantize_weights(weight: np.ndarray, bits: int = 8, rule: str = "max",
                     outliers: float = 0.0) -> tuple[np.ndarray, np.ndarray, dict]:
    """(codes int8 [rows][k], scale [rows], side list) of weight rows: `bits` bits over each
    row's range under `rule` (fixedpoint.weight_range), with the `outliers` share of each
    row kept aside in a side list (mcuq.outliers; {} without)."""
    if outliers:
        return outlier_list.quantize(weight, bits, rule, outliers)
    wq, scale = fx.quantize_weights_per_channel(weight, bits, rule)
    return wq, scale, {}


def quantize_int8(weight: np.ndarray, bias: np.ndarray, in_scale: float, in_zero_point: int,
                  stats: dict, attrs: dict, what: str, weight_bits: int = 8,
                  weight_range: str = "max", outliers: float = 0.0
                  ) -> tuple[dict, dict, float]:
    """(arrays, params, out_scale) of an int8 matvec with weights [rows][k] of
    `weight_bits` bits over each row's range under `weight_range` (fixedpoint.weight_range),
    the `outliers` share of each row in a side list (mcuq.outliers); `attrs` name its
    fused activation."""
    dense, w_scale, side = quantize_weights(weight, weight_bits, weight_range, outliers)
    wq = outlier_list.codes({"weight": dense, **side})  # what the accumulator sums
    acc_scale = in_scale * w_scale
    # M = acc_scale / out_scale must stay below 2^30 (mcuq.fixedpoint.quantize_multiplier)
    out_scale, out_zp = fx.activation_qparams(*activation.out_range(stats, attrs),
                                              min_scale=float(np.max(acc_scale)) * 2.0**-29)
    bq = fx.quantize_bias(bias, acc_scale, what)
    bq -= in_zero_point * wq.astype(np.int64).sum(axis=1)
    fx.check_accumulator(wq, bq, what)
    mult, shift = fx.quantize_multipliers(acc_scale / out_scale)
    arrays = {"weight": dense, **side, "bias": bq.astype(np.int32), "mult": mult,
              "shift": shift}
    params = {"out_zero_point": out_zp, **activation.int8_limits(attrs, out_scale, out_zp)}
    if side:
        params["outlier_bits"] = outlier_list.value_bits(side["outlier_value"])
    return arrays, params, out_scale


def run_int8(x: np.ndarray, weight, bias, mult, shift, out_zero_point: int,
             act_min: int, act_max: int) -> np.ndarray:
    """x (n, k) int8, weight (rows, k) integer codes (with a side list's outliers added:
    mcuq.outliers.codes) -> (n, rows) int8."""
    acc = x.astype(np.int64) @ np.asarray(weight, np.int64).T + bias
    y = out_zero_point + fx.requant(acc, mult, shift)
    return fx.saturate(y, act_min, act_max).astype(np.int8)


def run_fp16(x: np.ndarray, weight, bias, params: dict) -> np.ndarray:
    """x (n, k) fp16, weight (rows, k) -> (n, rows) fp16, clamped as `params` say."""
    return activation.run_fp16(fp16.matvec(weight, bias, x), params)


def requant_zp8(p: dict, shift) -> int:
    """The struct's requant_zp8 flag: 1 when every row takes the kernels' register
    requantization (mcuq_requant_zp8, firmware/kernels/mcuq_fixedpoint.h): an int8 layer
    whose shifts are all 33 to 54 and whose activation range is all of int8 (a ReLU's
    output has zero point -128). Worked out here once, so that no core checks the shifts
    of its share at run time; the result is the same either way."""
    if p.get("precision") != "int8" or shift is None:
        return 0
    shift = np.asarray(shift)
    return int(p["act_min"] == -128 and p["act_max"] == 127
               and bool(np.all((shift >= 33) & (shift <= 54))))
