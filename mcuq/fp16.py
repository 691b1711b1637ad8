"""FP16 arithmetic as the device does it; the C twin is firmware/kernels/mcuq_fp16.h
(and the fp16 dot products of firmware/kernels/<isa>/mcuq_isa.h).

Every operation rounds to float16 on its own (round to nearest even): NumPy's
float16 `+`, `-`, `*` compute in float32 and round once, which equals IEEE half
precision because float32 has at least 2p + 2 bits for p = 11 (double rounding is
innocuous). The C code writes every rounding point as its own statement, compiles
with -ffp-contract=off (no fused multiply-add) and, on RV32, with native Zfh
arithmetic (clang -ffloat16-excess-precision=none).

Formats at precision boundaries:
  int8 -> fp16   y = fp16(f32(q - zp) * f32(scale))
  fp16 -> int8   q = clamp(floor(f32(x) * f32(1 / scale) + 0.5) + zp, -128, 127); NaN -> zp
  NaN results    stored as the canonical NaN 0x7e00 (canonical)
  sigmoid/tanh   x in Q12 by truncation of f32(x) * 4096 (clamped, NaN -> 0), the Q15
                 table of mcuq.fixedpoint, then fp16(f32(y_q15) / 32768)
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.errors import McuqError
from mcuq.qgraph import QTensor

F16 = np.float16
F32 = np.float32
Q12_LIMIT = 65536.0  # |x| beyond 16 is flat for both tables: clamp before converting


def tensor(shape) -> QTensor:
    """An fp16 activation tensor (no scale: the value is the number)."""
    return QTensor(shape=tuple(shape), scale=1.0, zero_point=0, dtype="float16")


CANONICAL_NAN = np.array([0x7E00], np.uint16).view(F16)[0]


def canonical(x: np.ndarray) -> np.ndarray:
    """Every NaN as the canonical 0x7e00 (what RISC-V arithmetic gives; NumPy on x86 keeps
    an operand's sign and payload). Applied to every fp16 value a kernel stores: a NaN
    stays a NaN through any arithmetic, so only stored bits can differ."""
    x = np.asarray(x, F16)
    nan = np.isnan(x)
    if nan.any():
        x = np.where(nan, CANONICAL_NAN, x)
    return x


def bits(value) -> int:
    """The bits of fp16(value), as a kernel takes an fp16 constant (mcuq_f16_of_bits):
    exact, infinities included."""
    return int(np.float16(value).view(np.uint16))


def to_fp16(values: np.ndarray, what: str) -> np.ndarray:
    """Float weights as fp16 (round to nearest even); refuse what fp16 cannot hold."""
    half = np.asarray(values, np.float32).astype(F16)
    if not np.all(np.isfinite(half)):
        raise McuqError(f"{what}: a weight is beyond the fp16 range (|w| > 65504); "
                        "use int8 for this layer")
    return half


def to_q12(x: np.ndarray) -> np.ndarray:
    v = np.asarray(x, F16).astype(F32) * F32(4096.0)
    v = np.where(np.isnan(v), F32(0.0), np.clip(v, F32(-Q12_LIMIT), F32(Q12_LIMIT - 1)))
    return np.trunc(v).astype(np.int64)


def from_q15(y_q15: np.ndarray) -> np.ndarray:
    return (np.asarray(y_q15).astype(F32) * F32(1.0 / 32768.0)).astype(F16)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return from_q15(fx.sigmoid_q15(to_q12(x)))


def tanh(x: np.ndarray) -> np.ndarray:
    return from_q15(fx.tanh_q15(to_q12(x)))


def relu(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, F16)
    return np.where(x < F16(0), F16(0), x).astype(F16)


def from_int8(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((np.asarray(q).astype(np.int32) - zero_point).astype(F32) * F32(scale)).astype(F16)


def to_int8(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    v = np.asarray(x, F16).astype(F32) * F32(1.0 / scale)
    v = np.clip(np.where(np.isnan(v), F32(0.0), v), F32(-256.0), F32(256.0))
    q = np.floor(v + F32(0.5)).astype(np.int64) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def matvec(weight: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """acc[n] = bias[n]; for k in order: acc[n] = acc[n] + fp16(w[n, k] * x[k]).

    weight (out, in) fp16, bias (out,) fp16, x (batch, in) fp16 -> (batch, out) fp16."""
    w = np.asarray(weight, F16)
    x = np.asarray(x, F16)
    acc = np.broadcast_to(np.asarray(bias, F16), (x.shape[0], w.shape[0])).copy()
    for k in range(w.shape[1]):
        acc = acc + w[:, k][None, :] * x[:, k][:, None]
    return acc
