"""The clamp a Linear or convolution applies to its output inside its kernel: a fused ReLU
is [0, inf), a fused Clip (ReLU6, Hardtanh) [lo, hi], none (-inf, inf).

Layer attrs / params: "activation" is "none", "relu" or "clip"; a clip also has
"clip_min" and "clip_max" (None where unbounded). A ReLU followed by a Clip, or two Clips,
fuse into one clamp, the intersection of their ranges.
float:  y = min(max(y, lo), hi)
int8:   the output range is [lo, stats max] (lo where bounded, else the calibrated min);
        the kernel clamps to [act_min, act_max], the codes of lo and hi (-128 and 127 where
        unbounded): act = clamp(floor(v / s_y + 0.5) + zp_y, -128, 127); a ReLU's act_min
        is zp_y
fp16:   lo and hi rounded to fp16 (-inf and inf where unbounded);
        t = y < lo ? lo : y; y = t > hi ? hi : t   (a NaN stays a NaN)
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16

F16 = np.float16


def bounds(attrs: dict) -> tuple[float | None, float | None]:
    kind = attrs.get("activation", "none")
    if kind == "relu":
        return 0.0, None
    if kind == "clip":
        return attrs["clip_min"], attrs["clip_max"]
    return None, None


def fuse(layer, lo: float | None, hi: float | None) -> bool:
    """Absorb a clamp to [lo, hi] into `layer` (intersected with the one it has)."""
    old_lo, old_hi = bounds(layer.attrs)
    lo = old_lo if lo is None else (lo if old_lo is None else max(lo, old_lo))
    hi = old_hi if hi is None else (hi if old_hi is None else min(hi, old_hi))
    if lo is not None and hi is not None and lo > hi:
        return False  # a constant output: not worth a kernel of its own
    layer.attrs.update(described(lo, hi))
    return True


def described(lo, hi) -> dict:
    """The attrs (and params) naming a clamp to [lo, hi]."""
    if lo is None and hi is None:
        return {"activation": "none"}
    if lo == 0.0 and hi is None:
        return {"activation": "relu"}
    return {"activation": "clip", "clip_min": lo, "clip_max": hi}


def params(attrs: dict) -> dict:
    return described(*bounds(attrs))


def run_float(y: np.ndarray, attrs: dict) -> np.ndarray:
    lo, hi = bounds(attrs)
    if lo is not None:
        y = np.maximum(y, lo)
    if hi is not None:
        y = np.minimum(y, hi)
    return y


def out_range(stats: dict, attrs: dict) -> tuple[float, float]:
    """The range the int8 output is quantized over."""
    lo, _ = bounds(attrs)
    return (stats["min"] if lo is None else lo), stats["max"]


def int8_limits(attrs: dict, scale: float, zero_point: int) -> dict:
    """act_min and act_max: the codes of the clamp's bounds."""
    lo, hi = bounds(attrs)

    def code(v, default):
        return default if v is None else int(fx.quantize_activation(np.array([v]), scale,
                                                                     zero_point)[0])

    return {"act_min": code(lo, -128), "act_max": code(hi, 127)}


def fp16_bounds(p: dict) -> tuple[F16, F16]:
    lo, hi = bounds(p)
    return F16(-np.inf if lo is None else lo), F16(np.inf if hi is None else hi)


def run_fp16(y: np.ndarray, p: dict) -> np.ndarray:
    lo, hi = fp16_bounds(p)
    y = np.asarray(y, F16)
    t = np.where(y < lo, lo, y)
    return fp16.canonical(np.where(t > hi, hi, t).astype(F16))


def c_values(p: dict) -> dict:
    """The fp16 bounds as bits (exact, infinities included) for the kernel's struct."""
    lo, hi = fp16_bounds(p)
    return {"clamp_lo": fp16.bits(lo), "clamp_hi": fp16.bits(hi)}
