"""Vanilla RNN layer (ONNX RNN, PyTorch nn.RNN with tanh), one frame per call.

float:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
int8 (gx, gh in Q12 from recurrent.int_gates with one gate; n in Q15; h int8, scale s_h):
        n   = tanh_q15(gx + gh)
        h'q = clamp(requant(n, M_q2h), -128, 127)          M_q2h ~ 2^-15 / s_h
fp16 (gx, gh from recurrent.fp16_gates, every operation rounded to fp16):
        h' = tanh(gx + gh)
The kernels read the weights as a Linear's (groups of four units, layouts "matvec") and
the int8 per-unit values as the recurrent row records of one gate.
C kernels: mcuq_rnn_s8 (firmware/kernels/<isa>/rnn_s8.c), mcuq_rnn_f16 (rnn_f16.c).
ONNX: RNN with the tanh activation (mcuq.ops._recurrent.import_onnx).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq import layouts
from mcuq.ir import Layer
from mcuq.ops import _recurrent as recurrent
from mcuq.qgraph import QLayer, QTensor

KIND = "rnn"
ONNX_TYPES = ("RNN",)
STATEFUL = True
OUTPUT_BOUNDS = (-1.0, 1.0)  # headroom stops here
WEIGHTS = ("w_ih", "w_hh")
output_shape, macs = recurrent.output_shape, recurrent.macs
in_channels, scale_in_channels = recurrent.in_channels, recurrent.scale_in_channels


def import_onnx(ctx, node) -> list:
    return recurrent.import_onnx(ctx, node, KIND)


def init_float_state(layer: Layer, batch: int) -> dict:
    return {"h": np.zeros((batch, layer.attrs["hidden"]), np.float32)}


def run_float(layer: Layer, xs, state: dict) -> np.ndarray:
    gx, gh = recurrent.float_gates(layer, xs[0], state["h"])
    state["h"] = np.tanh(gx + gh).astype(np.float32)
    return state["h"]


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    hidden = layer.attrs["hidden"]
    params = {"precision": precision, "hidden": hidden,
              "in_features": int(layer.weights["w_ih"].shape[1])}
    if precision == "fp16":
        return (recurrent.layer_of(layer, recurrent.quantize_fp16(layer), params),
                fp16.tensor((hidden,)))
    qout = recurrent.output_qparams(stats, hidden)
    arrays = recurrent.quantize_gates(layer, qins[0], qout.scale)
    params["q2h_mult"], params["q2h_shift"] = fx.quantize_multiplier(
        2.0**-fx.Q_UNIT / qout.scale)
    return recurrent.layer_of(layer, arrays, params), qout


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """The weights as a Linear's (groups of four units); int8 per-unit records."""
    arrays = dict(qlayer.arrays)
    if "mult_ih" in arrays:
        arrays = {key: a for key, a in arrays.items() if key not in recurrent.ROW_SOURCES}
        arrays["rows"] = recurrent.row_records(qlayer.arrays, 1)
    for key in ("w_ih", "w_hh"):
        arrays[key] = layouts.arrange(isa, "matvec", arrays[key])
    return arrays


c_state, init_device_state = recurrent.h_state, recurrent.init_h  # h between frames


def run_device(qlayer: QLayer, xs, state: dict) -> np.ndarray:
    x, p = xs[0], qlayer.params
    if p["precision"] == "fp16":
        gx, gh = recurrent.fp16_gates(qlayer.arrays, x, state["h"])
        state["h"] = fp16.canonical(fp16.tanh(gx + gh))
        return state["h"]
    gx, gh = recurrent.int_gates(qlayer.arrays, x, state["h"])
    n = fx.tanh_q15(recurrent.gate_sum(gx, gh))
    state["h"] = fx.saturate(fx.requant(n, p["q2h_mult"], p["q2h_shift"]), -128, 127
                             ).astype(np.int8)
    return state["h"]
