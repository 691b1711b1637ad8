"""Fixed-point primitives shared by every int8 kernel; the C twins are in
firmware/kernels/mcuq_fixedpoint.h and must stay identical in behaviour.

Rounding rule (one, everywhere): add half, then shift right arithmetically,
i.e. round half toward +infinity:  rshift_round(x, n) = (x + (2^n >> 1)) >> n.

Formats:
  activations  int8, real = scale * (q - zero_point)
  weights      int8 symmetric per output channel, real = scale[c] * q
  Q12 (int32)  gate pre-activations, real = q / 2^12
  Q15 (int16)  gate outputs, real = q / 2^15
"""
from __future__ import annotations

import math

import numpy as np

from mcuq.errors import McuqError

Q_GATE = 12  # fraction bits of gate pre-activations
Q_UNIT = 15  # fraction bits of sigmoid/tanh outputs
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A positive real multiplier as (mult, shift): real ~= mult * 2^-shift, mult in
    [2^30, 2^31). shift is kept in [1, 62] so the C code never shifts by >= 64."""
    if real < 0:
        raise ValueError("multipliers are positive")
    if real == 0:
        return 0, 1
    mantissa, exponent = math.frexp(real)  # real = mantissa * 2^exponent, mantissa in [0.5, 1)
    mult = int(round(mantissa * (1 << 31)))
    if mult == 1 << 31:
        mult //= 2
        exponent += 1
    shift = 31 - exponent
    if shift > 62:  # too small to matter: the product of any int32 rounds to 0
        return 0, 1
    if shift < 1:
        raise McuqError(f"a requantization multiplier of {real:g} is too large; the "
                        "calibration ranges are degenerate (check the calibration data)")
    return mult, shift


def quantize_multipliers(reals) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(r)) for r in np.asarray(reals).reshape(-1)]
    mult = np.array([p[0] for p in pairs], dtype=np.int32)
    shift = np.array([p[1] for p in pairs], dtype=np.int32)
    return mult, shift


def rshift_round(x, n):
    """Divide by 2^n, rounding half toward +infinity (n >= 0)."""
    x = np.asarray(x, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    return (x + ((np.int64(1) << n) >> 1)) >> n


def saturate(x, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi)


def requant(acc, mult, shift) -> np.ndarray:
    """acc * mult * 2^-shift, rounded by the one rule, saturated to int32."""
    product = np.asarray(acc, dtype=np.int64) * np.asarray(mult, dtype=np.int64)
    return saturate(rshift_round(product, shift), INT32_MIN, INT32_MAX)


def accumulator_bound(weight_q: np.ndarray, bias_q: np.ndarray) -> np.ndarray:
    """The largest |sum_k W[n,k] x[k] + b[n]| of each row over all int8 x (int64)."""
    return (np.abs(np.asarray(bias_q, np.int64))
            + 128 * np.abs(np.asarray(weight_q, np.int64)).sum(axis=1))


def requant_steps(mult, shift, bound) -> tuple[np.ndarray, np.ndarray]:
    """How the C kernels' hot loops compute requant(acc, mult, shift) for |acc| <= bound:
    (pre, post) per row, with requant = rshift_round(high32(acc 2^pre * mult), post) when
    post > 0: one 32-bit high multiply and one rounding shift (mcuq_requant_steps).

    shift > 32: pre = 0, post = shift - 32. shift <= 32: the same product with acc scaled
    up to shift 33, pre = 33 - shift and post = 1, where the bound proves acc 2^pre fits
    in int32; otherwise pre = 0 and post = shift - 32 <= 0, which sends that row to the
    general (64-bit, saturating) path. Both fast forms are exact rewrites of requant and
    never exceed 2^29 in magnitude, so two of them add without overflow."""
    shift = np.asarray(shift, np.int64)
    up = np.clip(33 - shift, 0, 62)
    fits = (shift <= 32) & (up <= 30) & ((np.asarray(bound, np.int64) << np.minimum(up, 30))
                                          <= INT32_MAX)
    pre = np.where(fits, up, 0)
    return pre.astype(np.int32), (shift + pre - 32).astype(np.int32)


def mul32_fits(mult, shift, bound, zero_point: int) -> np.ndarray:
    """Per row: whether zp + requant(acc, mult, shift), for every |acc| <= bound, is
    (acc mult + zp 2^shift + 2^(shift-1)) >> shift with no term or sum leaving int32: one
    32-bit multiply and one rounding shift that also adds the zero point
    (mcuq_requant_mul8, firmware/kernels/mcuq_fixedpoint.h). Needs 1 <= shift <= 31."""
    shift = np.asarray(shift, np.int64)
    ok = (shift >= 1) & (shift <= 31)
    s = np.clip(shift, 1, 31)
    total = (np.asarray(bound, np.int64) * np.abs(np.asarray(mult, np.int64))
             + (abs(int(zero_point)) << s) + (np.int64(1) << (s - 1)))
    return ok & (total <= INT32_MAX)


def short_multipliers(mult, shift, bound, zero_point: int, min_bits: int = 11
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(mult, shift) of each row rounded to the longest multiplier for which mul32_fits
    holds (the depthwise kernels' one-multiply requantization: a 32-bit `mul` of 1 cycle
    instead of the 5 of `mulh`); a row whose short multiplier would keep fewer than
    `min_bits` bits (a channel of near-zero weights) keeps its own. A short multiplier has
    about 13 bits instead of 31 (a 3x3 channel's |acc| bound is near 2^17): a relative
    error below 2^-12, under 0.03 of an output step for |y| <= 128. From here on the
    row's requantization is requant with these values, in NumPy and C alike."""
    mult = np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    new_mult, new_shift = mult.copy(), shift.copy()
    found = np.zeros(mult.shape, bool)
    for s in range(31, 0, -1):  # the longest multiplier first
        m = np.where(shift >= s, rshift_round(mult, np.maximum(shift - s, 0)), -1)
        take = (~found & (m >= 0) & ((m >= 1 << (min_bits - 1)) | (mult == 0))
                & mul32_fits(m, np.full_like(shift, s), bound, zero_point))
        new_mult[take], new_shift[take] = m[take], s
        found |= take
    return new_mult.astype(np.int32), new_shift.astype(np.int32)


def _table(fn, index_shift: int) -> np.ndarray:
    """257 samples of fn in Q15 on the grid x = (i - 128) * 2^(index_shift - 12)."""
    x = (np.arange(257) - 128) * 2.0 ** (index_shift - Q_GATE)
    return np.clip(np.floor(fn(x) * 2**Q_UNIT + 0.5), -32767, 32767).astype(np.int16)


# sigmoid on [-8, 8] (step 1/16), tanh on [-4, 4] (step 1/32); beyond, both are flat
SIGMOID_SHIFT = 8
TANH_SHIFT = 7
SIGMOID_Q15 = _table(lambda x: 1.0 / (1.0 + np.exp(-x)), SIGMOID_SHIFT)
TANH_Q15 = _table(np.tanh, TANH_SHIFT)


def lut_q15(table: np.ndarray, index_shift: int, x_q12) -> np.ndarray:
    """f(x) in Q15 for x in Q12, by linear interpolation between table samples.

    float:   y = f(x)
    fixed:   x clamped to the table's domain [-2^(s+7), 2^(s+7) - 1]
             i = (x >> s) + 128,  frac = x & (2^s - 1)
             y = T[i] + rshift_round((T[i+1] - T[i]) * frac, s)
    """
    limit = 1 << (index_shift + 7)
    x = saturate(x_q12, -limit, limit - 1)
    i = (x >> index_shift) + 128
    frac = x & ((1 << index_shift) - 1)
    t = table.astype(np.int64)
    return t[i] + rshift_round((t[i + 1] - t[i]) * frac, index_shift)


def sigmoid_q15(x_q12) -> np.ndarray:
    return lut_q15(SIGMOID_Q15, SIGMOID_SHIFT, x_q12)


def tanh_q15(x_q12) -> np.ndarray:
    return lut_q15(TANH_Q15, TANH_SHIFT, x_q12)


def quantize_activation(x, scale: float, zero_point: int) -> np.ndarray:
    """Float to int8: round(x / scale) + zero_point, half toward +infinity, saturated."""
    q = np.floor(np.asarray(x, dtype=np.float64) / scale + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q, scale: float, zero_point: int) -> np.ndarray:
    return ((np.asarray(q, dtype=np.float64) - zero_point) * scale).astype(np.float32)


DEAD_RANGE = 1.0  # nominal width of a tensor that was 0 on every calibration frame


def activation_qparams(lo: float, hi: float, min_scale: float = 0.0) -> tuple[float, int]:
    """Asymmetric int8 (scale, zero_point) covering [lo, hi], which is widened to hold 0,
    and to a scale of at least min_scale (requantization multipliers must fit).

    A range that is exactly [0, 0] (a ReLU that never fired on the calibration data)
    carries no scale at all; it gets the nominal range [0, DEAD_RANGE]. A scale derived
    from the empty range instead would make every reader's bias scale (input scale times
    weight scale) so small that its biases overflow int32 (see `dead_tensors`)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi == lo:
        hi = lo + DEAD_RANGE
    hi = max(hi, lo + 255.0 * min_scale)
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zero_point


def symmetric_scale(max_abs: float) -> float:
    return max(float(max_abs), 1e-12) / 127.0


WEIGHT_BITS = range(2, 9)  # --weight-bits: stored in int8 with a narrower range


# --weight-range: how each output row's range [-r, r] is chosen before its codes are
# rounded (values beyond r clip to the last code)
WEIGHT_RANGES = ("max", "mse", "percentile", "clip")
WEIGHT_PERCENTILE = 99.9  # "percentile" without a value
MSE_STEPS = 64  # candidate ranges of "mse", from MSE_LOWEST to 1 times the row's max |w|
MSE_LOWEST = 0.2


def parse_weight_range(text: str) -> tuple[str, float | None]:
    """"max", "mse", "percentile", "percentile=<p>" or "clip=<w_max>" -> (rule, value)."""
    rule, _, value = str(text).partition("=")
    if rule not in WEIGHT_RANGES or (rule in ("max", "mse") and value):
        raise McuqError(f"weight range '{text}': use max, mse, percentile[=<p>] or "
                        "clip=<w_max>")
    if rule in ("max", "mse"):
        return rule, None
    if rule == "percentile" and not value:
        return rule, WEIGHT_PERCENTILE
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if rule == "percentile" and not (math.isfinite(number) and 50.0 < number <= 100.0):
        raise McuqError(f"weight range '{text}': the percentile must be above 50 and at "
                        "most 100 (e.g. percentile=99.9)")
    if rule == "clip" and not (math.isfinite(number) and number > 0):
        raise McuqError(f"weight range '{text}': the bound must be a number above 0 "
                        "(e.g. clip=0.1)")
    return rule, number


def _round_codes(w: np.ndarray, scale: np.ndarray, top: int) -> np.ndarray:
    return np.clip(np.floor(w / scale[..., None] + 0.5), -top, top)


def weight_range(w: np.ndarray, bits: int = 8, rule: str = "max") -> np.ndarray:
    """Each row's range r (float64 [rows]) under a --weight-range rule: its max |w|; the
    given percentile of its |w|; min(max |w|, w_max) for clip=<w_max>; or for mse the r
    among MSE_STEPS candidates from MSE_LOWEST to 1 times max |w| whose codes reconstruct
    the row with the least squared error (the largest of equals). A rule never widens a
    range beyond max |w| nor narrows a non-zero row to 0."""
    name, value = parse_weight_range(rule)
    a = np.abs(np.asarray(w, np.float64))
    max_abs = a.max(axis=1)
    if name == "max":
        return max_abs
    if name == "clip":
        r = np.minimum(max_abs, value)
    elif name == "percentile":
        r = np.percentile(a, value, axis=1)
    else:
        top = 2 ** (bits - 1) - 1
        alphas = np.linspace(MSE_LOWEST, 1.0, MSE_STEPS)
        candidates = max_abs[:, None] * alphas[None, :]  # [rows, steps]
        scale = np.where(candidates > 0, candidates / top, 1.0)
        wq = _round_codes(np.asarray(w, np.float64)[:, None, :], scale, top) * scale[..., None]
        err = ((wq - np.asarray(w, np.float64)[:, None, :]) ** 2).sum(axis=2)
        best = err.shape[1] - 1 - np.argmin(err[:, ::-1], axis=1)  # the largest of equals
        r = candidates[np.arange(len(best)), best]
    return np.where(r > 0, r, max_abs)


def quantize_weights_per_channel(w: np.ndarray, bits: int = 8, rule: str = "max"
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per output row with `bits` bits over the row's range under `rule`
    (weight_range), codes in +-(2^(bits-1) - 1) stored as int8: (q int8 [rows, cols],
    scale float64 [rows])."""
    top = 2 ** (bits - 1) - 1
    r = weight_range(w, bits, rule)
    scale = np.where(r > 0, r / top, 1.0)
    q = _round_codes(w, scale, top).astype(np.int8)
    return q, scale


def weight_quality(w: np.ndarray, bits: int = 8, rule: str = "max") -> tuple[float, float]:
    """(share of the weights beyond their row's range, SQNR in dB of the dequantized
    weights) of quantize_weights_per_channel: what a range rule trades."""
    w = np.asarray(w, np.float64).reshape(len(w), -1)
    q, scale = quantize_weights_per_channel(w, bits, rule)
    r = weight_range(w, bits, rule)
    clipped = float(np.mean(np.abs(w) > r[:, None] * (1 + 1e-12)))
    noise = float(((q * scale[:, None] - w) ** 2).sum())
    signal = float((w ** 2).sum())
    sqnr = float("inf") if noise == 0 else 10.0 * math.log10(max(signal, 1e-30) / noise)
    return clipped, sqnr


def quantize_bias(bias: np.ndarray, scale: np.ndarray, what: str) -> np.ndarray:
    q = np.floor(np.asarray(bias, np.float64) / scale + 0.5)
    if np.any(np.abs(q) > INT32_MAX):
        raise McuqError(f"{what}: a bias does not fit int32 at its scale; the input range is "
                        "degenerate (check the calibration data)")
    return q.astype(np.int64)


def check_accumulator(weight_q: np.ndarray, bias_q: np.ndarray, what: str) -> None:
    """The C kernels accumulate sum_k W[n,k] x[k] + b[n] in int32 with int8 x: refuse a
    layer whose worst case could overflow, instead of computing garbage on the device."""
    if np.any(accumulator_bound(weight_q, bias_q) > INT32_MAX):
        raise McuqError(f"{what}: its int32 accumulator could overflow (input too wide or bias "
                        "too large for its scale); check the calibration data")
