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
  2^t, t <= 0    in f32 (exp2_nonpositive): 2^floor(t) times a degree-6 polynomial of the
                 fraction, each product and sum its own f32 rounding; 0 below t = -30
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


# 2^f on [0, 1): c0 + f (c1 + f (c2 + ...)), a least-squares fit with c0 = 1 exactly (so
# 2^0 = 1), relative error below 1e-7; the C reads these from mcuq_tables.c (mcuq.lower)
EXP2_POLY = np.array([float.fromhex(h) for h in (
    "0x1.0p+0", "0x1.62e42ap-1", "0x1.ebfdaap-3", "0x1.c6830ep-5", "0x1.3d3c6p-7",
    "0x1.456f08p-10", "0x1.c9186p-13")], F32)
EXP2_FLOOR = -30.0  # 2^t below 2^-30 is 0: less than half fp16's smallest step of a ratio <= 1
LOG2E = F32(1.4426950408889634)


def exp2_nonpositive(t: np.ndarray) -> np.ndarray:
    """2^t for f32 t <= 0 as mcuq_f32_exp2_nonpositive computes it (a NaN stays a NaN):
    n = floor(t), f = f32(t - n), p = Horner over EXP2_POLY (each * and + rounded to
    f32), 2^t = p * 2^n (exact); t < -30 gives 0."""
    t = np.asarray(t, F32)
    small = t < F32(EXP2_FLOOR)
    tc = np.where(small | np.isnan(t), F32(0), t)
    n = np.floor(tc)
    f = (tc - n).astype(F32)
    p = np.full_like(f, EXP2_POLY[-1])
    for c in EXP2_POLY[-2::-1]:
        p = (p * f).astype(F32)
        p = (p + c).astype(F32)
    e = (p * np.ldexp(F32(1), n.astype(np.int32))).astype(F32)
    return np.where(np.isnan(t), t, np.where(small, F32(0), e)).astype(F32)
