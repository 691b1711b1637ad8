"""Conversion between int8 and fp16 at a precision boundary (inserted by the quantizer).

int8 -> fp16 (precision fp16):  y = fp16(f32(q - zp) * f32(scale))
fp16 -> int8 (precision int8):  q = clamp(floor(f32(x) * f32(1 / scale) + 0.5) + zp, -128, 127)
C kernels: mcuq_convert_f16 (firmware/kernels/<isa>/convert_f16.c, int8 in) and
mcuq_convert_s8 (convert_s8.c, fp16 in): named, like every kernel, by what they output.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.qgraph import QLayer, QTensor

KIND = "convert"


def make(name: str, source: str, tensor: str, out: str, qin: QTensor, qout: QTensor) -> QLayer:
    """A layer converting `tensor` (qin) into `out` (qout); one of the two is fp16."""
    int8 = qout if qout.dtype == "int8" else qin
    return QLayer(kind=KIND, name=name, inputs=[tensor], outputs=[out],
                  params={"precision": "int8" if qout.dtype == "int8" else "fp16",
                          "size": qin.size, "scale": int8.scale, "zero_point": int8.zero_point},
                  source=source)


def run_float(layer, xs, state) -> np.ndarray:
    return xs[0]


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    p = qlayer.params
    if p["precision"] == "fp16":
        return fp16.from_int8(xs[0], p["scale"], p["zero_point"])
    return fp16.to_int8(xs[0], p["scale"], p["zero_point"])


def c_float(value: float) -> str:
    """value rounded to float32, as an exact C hexadecimal literal."""
    return float(np.float32(value)).hex() + "f"


def c_values(qlayer: QLayer) -> dict:
    """The scale into fp16, 1 / scale into int8, as exact float32 literals."""
    scale = qlayer.params["scale"]
    return {"scale": c_float(scale if qlayer.params["precision"] == "fp16" else 1.0 / scale)}
