"""Conversion between int8 and fp16 at a precision boundary (inserted by the quantizer).

int8 -> fp16:  y = fp16(f32(q - zp) * f32(scale))
fp16 -> int8:  q = clamp(floor(f32(x) * f32(1 / scale) + 0.5) + zp, -128, 127)
C kernel: mcuq_convert_s8_f16 / mcuq_convert_f16_s8 in firmware/kernels/convert.c.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.qgraph import QLayer, QTensor

STATE = ()


def make(name: str, source: str, tensor: str, out: str, qin: QTensor, qout: QTensor) -> QLayer:
    """A layer converting `tensor` (qin) into `out` (qout); one of the two is fp16."""
    int8 = qout if qout.dtype == "int8" else qin
    return QLayer(kind="convert", name=name, inputs=[tensor], outputs=[out],
                  params={"precision": "int8" if qout.dtype == "int8" else "fp16",
                          "size": qin.size, "scale": int8.scale, "zero_point": int8.zero_point},
                  source=source)


def init_device_state(qlayer: QLayer, batch: int) -> dict:
    return {}


def run_device(qlayer: QLayer, x: np.ndarray, state: dict) -> np.ndarray:
    p = qlayer.params
    if p["precision"] == "fp16":
        return fp16.from_int8(x, p["scale"], p["zero_point"])
    return fp16.to_int8(x, p["scale"], p["zero_point"])
