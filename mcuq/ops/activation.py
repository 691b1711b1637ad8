"""Element-wise activations on int8: ReLU, Sigmoid, Tanh.

ReLU    float: y = max(x, 0)     int8: y = max(xq, zp_x), same scale and zero point
Sigmoid float: y = 1/(1+e^-x)    int8: y = table[xq + 128]; output scale 1/256, zp -128
Tanh    float: y = tanh(x)       int8: y = table[xq + 128]; output scale 1/128, zp 0
The 256-entry table is computed per layer from its input scale (as TFLM does):
table[q + 128] = clamp(round(f(s_x (q - zp_x)) / s_y) + zp_y, -128, 127).
fp16: relu(x) = x < 0 ? 0 : x; sigmoid and tanh through the Q15 tables (mcuq.fp16).
C kernels: mcuq_relu_s8 and mcuq_table_s8 in firmware/kernels/activation.c,
mcuq_relu_f16, mcuq_sigmoid_f16_layer, mcuq_tanh_f16_layer in activation_f16.c.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor

STATE = ()
FP16_FUNCTIONS = {"relu": fp16.relu, "sigmoid": fp16.sigmoid, "tanh": fp16.tanh}
FUNCTIONS = {"relu": lambda x: np.maximum(x, 0),
             "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
             "tanh": np.tanh}
# fixed output quantization of the bounded functions: their whole range, no calibration
OUTPUT_QPARAMS = {"sigmoid": (1.0 / 256.0, -128), "tanh": (1.0 / 128.0, 0)}


def init_float_state(layer: Layer, batch: int) -> dict:
    return {}


def run_float(layer: Layer, x: np.ndarray, state: dict) -> np.ndarray:
    return FUNCTIONS[layer.kind](x.astype(np.float64)).astype(np.float32)


def quantize(layer: Layer, qin: QTensor, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    base = dict(kind=layer.kind, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    if precision == "fp16":
        return QLayer(params={"precision": "fp16", "size": qin.size}, **base), fp16.tensor(qin.size)
    if layer.kind == "relu":
        qout = QTensor(size=qin.size, scale=qin.scale, zero_point=qin.zero_point)
        return QLayer(params={"precision": "int8", "zero_point": qin.zero_point,
                              "size": qin.size}, **base), qout
    out_scale, out_zp = OUTPUT_QPARAMS[layer.kind]
    codes = np.arange(-128, 128)
    real = FUNCTIONS[layer.kind](fx.dequantize(codes, qin.scale, qin.zero_point).astype(np.float64))
    table = fx.quantize_activation(real, out_scale, out_zp)
    qout = QTensor(size=qin.size, scale=out_scale, zero_point=out_zp)
    return QLayer(arrays={"table": table}, params={"precision": "int8", "size": qin.size},
                  **base), qout


def init_device_state(qlayer: QLayer, batch: int) -> dict:
    return {}


def run_device(qlayer: QLayer, x: np.ndarray, state: dict) -> np.ndarray:
    if qlayer.params["precision"] == "fp16":
        return FP16_FUNCTIONS[qlayer.kind](x)
    if qlayer.kind == "relu":
        return np.maximum(x, qlayer.params["zero_point"]).astype(np.int8)
    return qlayer.arrays["table"][x.astype(np.int64) + 128]
