"""What GRU and LSTM share: quantized gate pre-activations.

float:  gx = W_ih x + b_ih,  gh = W_hh h + b_hh          (one row per gate unit)
int8:   acc_x = W_ih_q x_q + b_ih_q,  acc_h = W_hh_q h_q + b_hh_q    (int32)
        gx = requant(acc_x, M_ih),  gh = requant(acc_h, M_hh)     in Q12 (int32)
        with M_ih[r] ~ s_x s_ih[r] 2^12,  M_hh[r] ~ s_h s_hh[r] 2^12, and the
        input zero point folded into b_ih_q (h is symmetric: zero point 0).
The state h is int8 with a symmetric scale calibrated from the layer output.
fp16:   gx = b_ih, then gx += fp16(W_ih[r, k] x[k]) for k in order (likewise gh), every
        operation rounded to fp16 (mcuq.fp16).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.qgraph import QTensor


def quantize_gates(layer: Layer, qin: QTensor, h_scale: float) -> dict[str, np.ndarray]:
    w = layer.weights
    w_ih, s_ih = fx.quantize_weights_per_channel(w["w_ih"])
    w_hh, s_hh = fx.quantize_weights_per_channel(w["w_hh"])
    b_ih = fx.quantize_bias(w["b_ih"], qin.scale * s_ih, f"layer {layer.name}")
    b_ih -= qin.zero_point * w_ih.astype(np.int64).sum(axis=1)
    b_hh = fx.quantize_bias(w["b_hh"], h_scale * s_hh, f"layer {layer.name}")
    fx.check_accumulator(w_ih, b_ih, f"layer {layer.name} (input weights)")
    fx.check_accumulator(w_hh, b_hh, f"layer {layer.name} (recurrent weights)")
    mult_ih, shift_ih = fx.quantize_multipliers(qin.scale * s_ih * 2.0**fx.Q_GATE)
    mult_hh, shift_hh = fx.quantize_multipliers(h_scale * s_hh * 2.0**fx.Q_GATE)
    return {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih.astype(np.int32),
            "b_hh": b_hh.astype(np.int32), "mult_ih": mult_ih, "shift_ih": shift_ih,
            "mult_hh": mult_hh, "shift_hh": shift_hh}


def int_gates(arrays: dict, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gh) in Q12 for int8 x and h, shape (batch, gates * hidden)."""
    acc_x = x.astype(np.int64) @ arrays["w_ih"].astype(np.int64).T + arrays["b_ih"]
    acc_h = h.astype(np.int64) @ arrays["w_hh"].astype(np.int64).T + arrays["b_hh"]
    return (fx.requant(acc_x, arrays["mult_ih"], arrays["shift_ih"]),
            fx.requant(acc_h, arrays["mult_hh"], arrays["shift_hh"]))


def float_gates(layer: Layer, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = layer.weights
    return x @ w["w_ih"].T + w["b_ih"], h @ w["w_hh"].T + w["b_hh"]


def quantize_fp16(layer: Layer) -> dict[str, np.ndarray]:
    what = f"layer {layer.name}"
    return {key: fp16.to_fp16(layer.weights[key], what)
            for key in ("w_ih", "w_hh", "b_ih", "b_hh")}


def fp16_gates(arrays: dict, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gh) in fp16: matvecs that start from the bias and add products in order."""
    return (fp16.matvec(arrays["w_ih"], arrays["b_ih"], x),
            fp16.matvec(arrays["w_hh"], arrays["b_hh"], h))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gate_sum(gx, gh) -> np.ndarray:
    """gx + gh, saturated to int32 (the C code adds in int64, then saturates)."""
    return fx.saturate(gx + gh, fx.INT32_MIN, fx.INT32_MAX)


def output_qparams(stats: dict, size: int) -> QTensor:
    max_abs = max(abs(stats["min"]), abs(stats["max"]))
    return QTensor(size=size, scale=fx.symmetric_scale(max_abs), zero_point=0)
