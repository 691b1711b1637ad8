"""Linear (fully connected) layer, optionally with a fused ReLU.

float:  y = W x + b            (y = max(y, 0) with a fused ReLU)
int8:   acc[n] = sum_k Wq[n,k] * xq[k] + bq[n]      with bq = round(b / (s_x s_w[n])) - zp_x sum_k Wq[n,k]
        y[n]   = clamp(zp_y + requant(acc[n], M[n]), lo, 127)
        where M[n] ~ s_x s_w[n] / s_y, and lo = zp_y for a fused ReLU, else -128.
fp16:   acc = b[n]; for k in order: acc = acc + fp16(W[n,k] x[k])      (mcuq.fp16.matvec)
        y[n] = acc, or relu(acc)
C kernels: mcuq_linear_s8 in firmware/kernels/linear.c, mcuq_linear_f16 in linear_f16.c.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor

STATE = ()


def init_float_state(layer: Layer, batch: int) -> dict:
    return {}


def run_float(layer: Layer, x: np.ndarray, state: dict) -> np.ndarray:
    y = x @ layer.weights["weight"].T + layer.weights["bias"]
    if layer.attrs.get("activation") == "relu":
        y = np.maximum(y, 0)
    return y.astype(np.float32)


def quantize(layer: Layer, qin: QTensor, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    relu = layer.attrs.get("activation") == "relu"
    if precision == "fp16":
        weight = fp16.to_fp16(layer.weights["weight"], f"layer {layer.name}")
        bias = fp16.to_fp16(layer.weights["bias"], f"layer {layer.name}")
        qlayer = QLayer(
            kind="linear", name=layer.name, inputs=list(layer.inputs),
            outputs=list(layer.outputs), arrays={"weight": weight, "bias": bias},
            params={"precision": "fp16", "in_features": int(weight.shape[1]),
                    "out_features": int(weight.shape[0]),
                    "activation": "relu" if relu else "none"},
            source=layer.source)
        return qlayer, fp16.tensor(weight.shape[0])
    wq, w_scale = fx.quantize_weights_per_channel(layer.weights["weight"])
    out_scale, out_zp = fx.activation_qparams(0.0 if relu else stats["min"], stats["max"])
    acc_scale = qin.scale * w_scale
    bias = fx.quantize_bias(layer.weights["bias"], acc_scale, f"layer {layer.name}")
    bias -= qin.zero_point * wq.astype(np.int64).sum(axis=1)
    fx.check_accumulator(wq, bias, f"layer {layer.name}")
    mult, shift = fx.quantize_multipliers(acc_scale / out_scale)
    qout = QTensor(size=wq.shape[0], scale=out_scale, zero_point=out_zp)
    qlayer = QLayer(
        kind="linear", name=layer.name, inputs=list(layer.inputs), outputs=list(layer.outputs),
        arrays={"weight": wq, "bias": bias.astype(np.int32), "mult": mult, "shift": shift},
        params={"precision": "int8", "in_features": int(wq.shape[1]), "out_features": int(wq.shape[0]),
                "out_zero_point": out_zp, "act_min": out_zp if relu else -128,
                "activation": "relu" if relu else "none"},
        source=layer.source)
    return qlayer, qout


def init_device_state(qlayer: QLayer, batch: int) -> dict:
    return {}


def run_device(qlayer: QLayer, x: np.ndarray, state: dict) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    if p["precision"] == "fp16":
        y = fp16.matvec(a["weight"], a["bias"], x)
        return fp16.relu(y) if p["activation"] == "relu" else y
    acc = x.astype(np.int64) @ a["weight"].astype(np.int64).T + a["bias"]
    y = p["out_zero_point"] + fx.requant(acc, a["mult"], a["shift"])
    return fx.saturate(y, p["act_min"], 127).astype(np.int8)
