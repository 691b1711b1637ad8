"""What Sigmoid and Tanh share: an int8 -> int8 lookup table per layer.

int8:  y = table[xq + 128], the 256-entry table computed from the layer's input
       quantization (as TFLM does):
       table[q + 128] = clamp(round(f(s_x (q - zp_x)) / s_y) + zp_y, -128, 127)
       with the output quantization fixed to the function's whole range.
fp16:  y = fp16(f_q15(Q12 of x) / 32768) through the shared Q15 tables (mcuq.fp16).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor


def quantize(layer: Layer, qin: QTensor, precision: str, fn, out_qparams
             ) -> tuple[QLayer, QTensor]:
    base = dict(kind=layer.kind, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    if precision == "fp16":
        return QLayer(params={"precision": "fp16", "size": qin.size}, **base), fp16.tensor(qin.shape)
    out_scale, out_zp = out_qparams
    codes = np.arange(-128, 128)
    real = fn(fx.dequantize(codes, qin.scale, qin.zero_point).astype(np.float64))
    table = fx.quantize_activation(real, out_scale, out_zp)
    qout = QTensor(shape=qin.shape, scale=out_scale, zero_point=out_zp)
    return QLayer(arrays={"table": table}, params={"precision": "int8", "size": qin.size},
                  **base), qout


def run_device(qlayer: QLayer, x: np.ndarray, fp16_fn) -> np.ndarray:
    if qlayer.params["precision"] == "fp16":
        return fp16_fn(x)
    return qlayer.arrays["table"][x.astype(np.int64) + 128]
