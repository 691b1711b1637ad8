"""LSTM layer (PyTorch semantics, plus ONNX's optional peepholes), one frame per call.

float:  i = sigmoid(gx_i + gh_i [+ p_i c])   f = sigmoid(gx_f + gh_f [+ p_f c])
        g = tanh(gx_g + gh_g)
        c' = f * c + i * g
        o = sigmoid(gx_o + gh_o [+ p_o c'])
        h' = o * tanh(c')
peepholes, int8: P_q = round(p 2^12) (int32, Q12), a term rshift_round(P_q c, C) in Q12
        (int64 product, saturated to int32) added with gate_sum; fp16: pre + fp16(p c).
int8 (gx, gh in Q12 from recurrent.int_gates; gates in Q15; c int16 with C fraction
bits, C = 15 - integer bits of the calibrated max |c|; h int8 with scale s_h):
        i, f, o = sigmoid_q15(gx + gh),  g = tanh_q15(gx + gh)
        c' = clamp(rshift_round(f * c, 15) + rshift_round(i * g, 30 - C), -32768, 32767)
        t  = tanh_q15(c' in Q12)     (c' >> (C - 12) rounded when C >= 12, else c' << (12 - C))
        h'q = clamp(requant(o * t, M_q30), -128, 127)          M_q30 ~ 2^-30 / s_h
fp16 (gx, gh from recurrent.fp16_gates; every operation rounds to fp16):
        i, f, o = sigmoid(gx + gh),  g = tanh(gx + gh)
        c' = f * c + i * g,  h' = o * tanh(c')
C kernels: mcuq_lstm_s8 (firmware/kernels/<isa>/lstm_s8.c), mcuq_lstm_f16 (lstm_f16.c).
ONNX: LSTM (forward, zero initial state; mcuq.ops._recurrent.import_onnx).
"""
from __future__ import annotations

import math

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.ops import _recurrent as recurrent
from mcuq.qgraph import QLayer, QTensor

KIND = "lstm"
ONNX_TYPES = ("LSTM",)
STATEFUL = True
OUTPUT_BOUNDS = (-1.0, 1.0)  # headroom stops here
CALIBRATED_STATE = ("c",)  # besides the output: max |c| sets the cell format
WEIGHTS = ("w_ih", "w_hh", "peephole")
output_shape, macs, c_arrays = recurrent.output_shape, recurrent.macs, recurrent.c_arrays
c_stream = recurrent.c_stream
in_channels, scale_in_channels = recurrent.in_channels, recurrent.scale_in_channels


def import_onnx(ctx, node) -> list:
    return recurrent.import_onnx(ctx, node, KIND)


def init_float_state(layer: Layer, batch: int) -> dict:
    zeros = np.zeros((batch, layer.attrs["hidden"]), np.float32)
    return {"h": zeros, "c": zeros.copy()}


def run_float(layer: Layer, xs, state: dict) -> np.ndarray:
    x = xs[0]
    H = layer.attrs["hidden"]
    gx, gh = recurrent.float_gates(layer, x, state["h"])
    pre = gx + gh
    peep = layer.weights.get("peephole")
    if peep is not None:
        pre[:, :H] += peep[0] * state["c"]
        pre[:, H:2 * H] += peep[1] * state["c"]
    i = recurrent.sigmoid(pre[:, :H])
    f = recurrent.sigmoid(pre[:, H:2 * H])
    g = np.tanh(pre[:, 2 * H:3 * H])
    state["c"] = (f * state["c"] + i * g).astype(np.float32)
    if peep is not None:
        pre[:, 3 * H:] += peep[2] * state["c"]
    o = recurrent.sigmoid(pre[:, 3 * H:])
    state["h"] = (o * np.tanh(state["c"])).astype(np.float32)
    return state["h"]


def cell_fraction_bits(max_abs_c: float) -> int:
    """Q format of the int16 cell state: enough integer bits for the calibrated max |c|."""
    integer_bits = 0 if max_abs_c < 1 else math.floor(math.log2(max_abs_c)) + 1
    return 15 - min(integer_bits, 15)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    hidden = layer.attrs["hidden"]
    if precision == "fp16":
        arrays = recurrent.quantize_fp16(layer)
        params = {"precision": "fp16", "hidden": hidden,
                  "in_features": int(arrays["w_ih"].shape[1])}
        return recurrent.layer_of(layer, arrays, params), fp16.tensor((hidden,))
    qout = recurrent.output_qparams(stats, hidden)
    arrays = recurrent.quantize_gates(layer, qin, qout.scale)
    q30 = fx.quantize_multiplier(2.0**-30 / qout.scale)
    if "peephole" in layer.weights:  # Q12, int32
        arrays["peephole"] = np.clip(np.round(layer.weights["peephole"].astype(np.float64)
                                              * 2**fx.Q_GATE), -2**24, 2**24).astype(np.int32)
    params = {"precision": "int8", "hidden": hidden, "in_features": int(arrays["w_ih"].shape[1]),
              "cell_frac": cell_fraction_bits(stats["state_max_abs"]["c"]),
              "q30_mult": q30[0], "q30_shift": q30[1]}
    return recurrent.layer_of(layer, arrays, params), qout


def c_state(qlayer: QLayer) -> list:
    """h and c persist between frames (kernel argument order)."""
    H = qlayer.params["hidden"]
    if qlayer.params["precision"] == "fp16":
        return [("h", "float16", H), ("c", "float16", H)]
    return [("h", "int8", H), ("c", "int16", H)]


def init_device_state(qlayer: QLayer, batch: int) -> dict:
    H = qlayer.params["hidden"]
    if qlayer.params["precision"] == "fp16":
        return {"h": np.zeros((batch, H), np.float16), "c": np.zeros((batch, H), np.float16)}
    return {"h": np.zeros((batch, H), np.int8), "c": np.zeros((batch, H), np.int16)}


def run_fp16(qlayer: QLayer, x: np.ndarray, state: dict) -> np.ndarray:
    H = qlayer.params["hidden"]
    gx, gh = recurrent.fp16_gates(qlayer.arrays, x, state["h"])
    pre = gx + gh
    peep = qlayer.arrays.get("peephole")
    if peep is not None:
        pre[:, :H] = pre[:, :H] + peep[0] * state["c"]
        pre[:, H:2 * H] = pre[:, H:2 * H] + peep[1] * state["c"]
    i = fp16.sigmoid(pre[:, :H])
    f = fp16.sigmoid(pre[:, H:2 * H])
    g = fp16.tanh(pre[:, 2 * H:3 * H])
    state["c"] = fp16.canonical(f * state["c"] + i * g)
    if peep is not None:
        pre[:, 3 * H:] = pre[:, 3 * H:] + peep[2] * state["c"]
    o = fp16.sigmoid(pre[:, 3 * H:])
    state["h"] = fp16.canonical(o * fp16.tanh(state["c"]))
    return state["h"]


def cell_to_q12(c: np.ndarray, cell_frac: int) -> np.ndarray:
    if cell_frac >= fx.Q_GATE:
        return fx.rshift_round(c, cell_frac - fx.Q_GATE)
    return c.astype(np.int64) << (fx.Q_GATE - cell_frac)


def run_device(qlayer: QLayer, xs, state: dict) -> np.ndarray:
    x = xs[0]
    p = qlayer.params
    if p["precision"] == "fp16":
        return run_fp16(qlayer, x, state)
    H, C = p["hidden"], p["cell_frac"]
    gx, gh = recurrent.int_gates(qlayer.arrays, x, state["h"])
    pre = recurrent.gate_sum(gx, gh)
    peep = qlayer.arrays.get("peephole")

    def peephole(gate, c):
        term = fx.saturate(fx.rshift_round(peep[gate].astype(np.int64) * c, C),
                           fx.INT32_MIN, fx.INT32_MAX)
        return term

    if peep is not None:
        pre[:, :H] = recurrent.gate_sum(pre[:, :H], peephole(0, state["c"]))
        pre[:, H:2 * H] = recurrent.gate_sum(pre[:, H:2 * H], peephole(1, state["c"]))
    i = fx.sigmoid_q15(pre[:, :H])
    f = fx.sigmoid_q15(pre[:, H:2 * H])
    g = fx.tanh_q15(pre[:, 2 * H:3 * H])
    c = fx.rshift_round(f * state["c"], 15) + fx.rshift_round(i * g, 30 - C)
    state["c"] = fx.saturate(c, -32768, 32767).astype(np.int16)
    if peep is not None:
        pre[:, 3 * H:] = recurrent.gate_sum(pre[:, 3 * H:], peephole(2, state["c"]))
    o = fx.sigmoid_q15(pre[:, 3 * H:])
    t = fx.tanh_q15(cell_to_q12(state["c"], C))
    h = fx.requant(o * t, p["q30_mult"], p["q30_shift"])
    state["h"] = fx.saturate(h, -128, 127).astype(np.int8)
    return state["h"]
