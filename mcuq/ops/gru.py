"""GRU layer, one frame per call: PyTorch's (ONNX linear_before_reset=1) and the
reset-first form (linear_before_reset=0, ONNX's default and Keras' reset_after=False).

float:  r  = sigmoid(gx_r + gh_r)
        z  = sigmoid(gx_z + gh_z)
        n  = tanh(gx_n + r * gh_n)                      linear_before_reset=1
        n  = tanh(gx_n + R_n (r * h) + b_hn)            linear_before_reset=0
        h' = (1 - z) * n + z * h  =  n + z * (h - n)
int8 (gx, gh in Q12 from recurrent.int_gates; r, z, n in Q15; h int8 with scale s_h):
        r  = sigmoid_q15(gx_r + gh_r)
        z  = sigmoid_q15(gx_z + gh_z)
        n  = tanh_q15(gx_n + rshift_round(r * gh_n, 15))                   (lbr=1)
        rh = clamp(rshift_round(r * hq8, 15), -128, 127)   r h in int8 at h's scale (lbr=0)
        n  = tanh_q15(gx_n + requant(R_n_q rh + b_hn_q, M_hh_n))          (lbr=0)
        hq = clamp(requant(h, M_h2q), -32768, 32767)          M_h2q ~ s_h 2^15   (h in Q15)
        h' = n + rshift_round(z * (hq - n), 15)                              (Q15; |z (hq - n)| < 2^31)
        h'q = clamp(requant(h', M_q2h), -128, 127)            M_q2h ~ 2^-15 / s_h
fp16 (gx, gh from recurrent.fp16_gates; every operation rounds to fp16):
        r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
        lbr=0: rh = r * h, gh_n = b_hn + sum_k fp16(R_n[k] rh[k]) in order, n = tanh(gx_n + gh_n)
        h' = n + z * (h - n)
lbr=0 needs every unit's r h before any unit's n: the kernels write it to a scratch
buffer of the layer (c_scratch) and wait for all cores once.
C kernels: mcuq_gru_s8 (firmware/kernels/<isa>/gru_s8.c), mcuq_gru_f16 (gru_f16.c).
ONNX: GRU (forward, zero initial state; mcuq.ops._recurrent.import_onnx).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.ops import _recurrent as recurrent
from mcuq.qgraph import QLayer, QTensor

KIND = "gru"
ONNX_TYPES = ("GRU",)
STATEFUL = True
OUTPUT_BOUNDS = (-1.0, 1.0)  # headroom stops here
WEIGHTS = ("w_ih", "w_hh")
output_shape, macs = recurrent.output_shape, recurrent.macs
in_channels, scale_in_channels = recurrent.in_channels, recurrent.scale_in_channels


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """The gate arrays (mcuq.ops._recurrent), and for int8 the h -> Q15 requantization of
    every int8 h as a table (one load per unit in place of a requantization)."""
    arrays = recurrent.c_arrays(qlayer, isa)
    p = qlayer.params
    if p["precision"] == "int8":
        hq = fx.requant(np.arange(-128, 128), p["h2q_mult"], p["h2q_shift"])
        arrays["h2q"] = fx.saturate(hq, -32768, 32767).astype(np.int16)
    return arrays


def c_stream(qlayer: QLayer, arrays: dict):
    """PyTorch's form streams (mcuq.ops._recurrent); the reset-first one reads every unit's
    n row after all r h are known, so its weights are read where they live."""
    return None if reset_first(qlayer) else recurrent.c_stream(qlayer, arrays)


def import_onnx(ctx, node) -> list:
    return recurrent.import_onnx(ctx, node, KIND)


def init_float_state(layer: Layer, batch: int) -> dict:
    return {"h": np.zeros((batch, layer.attrs["hidden"]), np.float32)}


def reset_first(layer: Layer | QLayer) -> bool:
    """The linear_before_reset=0 form: an IR layer's attribute, or a quantized layer's
    parameter."""
    attrs = layer.params if isinstance(layer, QLayer) else layer.attrs
    return attrs.get("linear_before_reset", 1) == 0


def run_float(layer: Layer, xs, state: dict) -> np.ndarray:
    x = xs[0]
    hidden = layer.attrs["hidden"]
    gx, gh = recurrent.float_gates(layer, x, state["h"])
    r = recurrent.sigmoid(gx[:, :hidden] + gh[:, :hidden])
    z = recurrent.sigmoid(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
    if reset_first(layer):
        w = layer.weights
        n = np.tanh(gx[:, 2 * hidden:] + (r * state["h"]) @ w["w_hh"][2 * hidden:].T
                    + w["b_hh"][2 * hidden:])
    else:
        n = np.tanh(gx[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
    state["h"] = ((1 - z) * n + z * state["h"]).astype(np.float32)
    return state["h"]


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    hidden = layer.attrs["hidden"]
    if precision == "fp16":
        arrays = recurrent.quantize_fp16(layer)
        params = {"precision": "fp16", "hidden": hidden,
                  "in_features": int(arrays["w_ih"].shape[1]),
                  "linear_before_reset": 0 if reset_first(layer) else 1}
        return recurrent.layer_of(layer, arrays, params), fp16.tensor((hidden,))
    qout = recurrent.output_qparams(stats, hidden)
    arrays = recurrent.quantize_gates(layer, qin, qout.scale)
    h2q = fx.quantize_multiplier(qout.scale * 2.0**fx.Q_UNIT)
    q2h = fx.quantize_multiplier(2.0**-fx.Q_UNIT / qout.scale)
    params = {"precision": "int8", "hidden": hidden, "in_features": int(arrays["w_ih"].shape[1]),
              "linear_before_reset": 0 if reset_first(layer) else 1,
              "h2q_mult": h2q[0], "h2q_shift": h2q[1], "q2h_mult": q2h[0], "q2h_shift": q2h[1]}
    return recurrent.layer_of(layer, arrays, params), qout


def c_state(qlayer: QLayer) -> list:
    """h persists between frames (kernel argument order)."""
    dtype = "float16" if qlayer.params["precision"] == "fp16" else "int8"
    return [("h", dtype, qlayer.params["hidden"])]


def c_scratch(qlayer: QLayer, isa: str) -> list:
    """lbr=0: r h, z and gx_n of every unit, shared by the cores between the two phases
    (0 bytes for lbr=1, which needs none)."""
    H = qlayer.params["hidden"] if reset_first(qlayer) else 0
    if qlayer.params["precision"] == "fp16":
        return [("work", "float16", 3 * H)]  # rh | z | gx_n
    return [("work", "uint8", (H + 3) // 4 * 4 + 8 * H)]  # rh (int8) | z, gx_n (int32)


def init_device_state(qlayer: QLayer, batch: int) -> dict:
    dtype = np.float16 if qlayer.params["precision"] == "fp16" else np.int8
    return {"h": np.zeros((batch, qlayer.params["hidden"]), dtype)}


def run_fp16(qlayer: QLayer, x: np.ndarray, state: dict) -> np.ndarray:
    H = qlayer.params["hidden"]
    h = state["h"]
    gx, gh = recurrent.fp16_gates(qlayer.arrays, x, h)
    r = fp16.sigmoid(gx[:, :H] + gh[:, :H])
    z = fp16.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    if reset_first(qlayer):
        a = qlayer.arrays
        gh_n = fp16.matvec(a["w_hh"][2 * H:], a["b_hh"][2 * H:], (r * h).astype(np.float16))
        n = fp16.tanh(gx[:, 2 * H:] + gh_n)
    else:
        n = fp16.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    state["h"] = fp16.canonical(n + z * (h - n))
    return state["h"]


def run_device(qlayer: QLayer, xs, state: dict) -> np.ndarray:
    x = xs[0]
    p = qlayer.params
    if p["precision"] == "fp16":
        return run_fp16(qlayer, x, state)
    H = p["hidden"]
    gx, gh = recurrent.int_gates(qlayer.arrays, x, state["h"])
    r = fx.sigmoid_q15(recurrent.gate_sum(gx[:, :H], gh[:, :H]))
    z = fx.sigmoid_q15(recurrent.gate_sum(gx[:, H:2 * H], gh[:, H:2 * H]))
    if reset_first(qlayer):
        a = qlayer.arrays
        rh = fx.saturate(fx.rshift_round(r * state["h"].astype(np.int64), 15), -128, 127)
        acc = rh @ a["w_hh"][2 * H:].astype(np.int64).T + a["b_hh"][2 * H:]
        gh_n = fx.requant(acc, a["mult_hh"][2 * H:], a["shift_hh"][2 * H:])
        n = fx.tanh_q15(recurrent.gate_sum(gx[:, 2 * H:], gh_n))
    else:
        n = fx.tanh_q15(recurrent.gate_sum(gx[:, 2 * H:], fx.rshift_round(r * gh[:, 2 * H:], 15)))
    hq = fx.saturate(fx.requant(state["h"], p["h2q_mult"], p["h2q_shift"]), -32768, 32767)
    h_new = n + fx.rshift_round(z * (hq - n), 15)
    state["h"] = fx.saturate(fx.requant(h_new, p["q2h_mult"], p["q2h_shift"]), -128, 127
                             ).astype(np.int8)
    return state["h"]
