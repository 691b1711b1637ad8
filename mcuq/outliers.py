"""Weight outliers kept aside (`--weight-outliers FRACTION`): the largest |w| of each
weight row leave the dense int8 tensor and go to a sparse side list, so that the dense
range is chosen for the rest (EasyQuant's observation: under 1% of the weights set most
rows' max; ICQuant's: their positions cost little when coded as gaps).

Per row of k weights, the round(FRACTION k) largest |w| (the first of equals) are the
outliers. The dense codes hold 0 in their places, and the row's range is chosen by the
weight range rule over what is left. Each outlier is stored as an int16 code at the
row's dense scale (so the kernels add it to the same int32 accumulator, exactly), and
the row's scale grows if an outlier would not fit int16 (|w| > 32767 s). A layer's
codes need only `outlier_bits` bits (the widest code's, sign included: value_bits),
which is what a packed store holds, what the report counts and what bit errors hit: a
flipped bit then moves a code by at most 2^(outlier_bits - 1), about the widest
outlier, instead of 2^15 (with 16 bits flipping, the digits RepVGG's outliers made it
more fragile; at its packed width they make it far more robust: docs/robustness.md).

The side list, in row order (rows as the model has them, whatever the kernel layout):
  outlier_value  int16   the code of each entry
  outlier_gap    uint8   its column minus the previous entry's column in the same row
                         (the first: its column); a gap over 255 takes filler entries of
                         gap 255 and value 0, which add nothing
  outlier_count  uint16  the entries of each row, fillers included
The C kernels (firmware/kernels/rv32/matvec.h, mcuq_outliers_s8) walk it beside the
dense dot products: acc[n] += value[e] x[col] for the entries of row n. Its cost is
reported as bits per weight of the layer: (outlier_bits + 8) per entry + 16 per row.
"""
from __future__ import annotations

import math

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.errors import McuqError

MAX_FRACTION = 0.1
MAX_GAP = 255
CODE_MAX = 32767


def check_fraction(fraction, where: str = "--weight-outliers") -> float:
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        f = float("nan")
    if not (math.isfinite(f) and 0.0 <= f <= MAX_FRACTION):
        raise McuqError(f"{where} {fraction}: the share of each row's weights kept aside must "
                        f"be between 0 and {MAX_FRACTION:g} (e.g. 0.01 for 1%)")
    return f


def per_row(fraction: float, k: int) -> int:
    """Outliers in a row of k weights."""
    return int(math.floor(fraction * k + 0.5))


def choose(weight: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask [rows][k] of each row's per_row(fraction, k) largest |w| (the first
    of equal magnitudes)."""
    w = np.abs(np.asarray(weight, np.float64))
    rows, k = w.shape
    n = per_row(fraction, k)
    mask = np.zeros(w.shape, bool)
    if n:
        order = np.argsort(-w, axis=1, kind="stable")[:, :n]
        mask[np.arange(rows)[:, None], order] = True
    return mask


def encode(codes: np.ndarray, mask: np.ndarray) -> dict:
    """The side list of the outlier codes codes[mask] (int64 [rows][k])."""
    values, gaps, counts = [], [], []
    for row in range(mask.shape[0]):
        before = len(values)
        last = 0
        for col in np.flatnonzero(mask[row]):
            gap = int(col) - last
            while gap > MAX_GAP:
                values.append(0)
                gaps.append(MAX_GAP)
                gap -= MAX_GAP
            values.append(int(codes[row, col]))
            gaps.append(gap)
            last = int(col)
        counts.append(len(values) - before)
    if max(counts, default=0) > np.iinfo(np.uint16).max:
        raise McuqError(f"a weight row of {mask.shape[1]} columns has too many outliers for "
                        "the side list; lower --weight-outliers")
    return {"outlier_value": np.asarray(values, np.int16),
            "outlier_gap": np.asarray(gaps, np.uint8),
            "outlier_count": np.asarray(counts, np.uint16)}


def decode(arrays: dict, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, code) of every entry of a side list, as the C kernels walk it."""
    counts = arrays["outlier_count"].astype(np.int64)
    rows = np.repeat(np.arange(len(counts)), counts)
    gaps = arrays["outlier_gap"].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cols = np.cumsum(gaps)
    # the running sum restarts at each row: subtract the sum before the row's first entry
    offset = np.concatenate([[0], cols])[starts]
    cols = cols - np.repeat(offset, counts)
    if cols.size and (cols.min() < 0 or cols.max() >= k):
        raise McuqError(f"the weight outlier list points past its row of {k} columns; the "
                        "export is damaged")
    return rows, cols, arrays["outlier_value"].astype(np.int64)


def quantize(weight: np.ndarray, bits: int, rule: str, fraction: float
             ) -> tuple[np.ndarray, np.ndarray, dict]:
    """(dense codes int8 [rows][k], scale float64 [rows], side list) of weight rows with
    `fraction` of each row kept aside: the range rule `rule` over the rest, at `bits`
    bits; the side list is empty ({}) when no row has an outlier."""
    w = np.asarray(weight, np.float64)
    mask = choose(w, fraction)
    if not mask.any():
        q, scale = fx.quantize_weights_per_channel(w, bits, rule)
        return q, scale, {}
    rest = np.where(mask, 0.0, w)
    top = 2 ** (bits - 1) - 1
    r = fx.weight_range(rest, bits, rule)
    widest = np.where(mask, np.abs(w), 0.0).max(axis=1)
    # a row whose rest is all zeros takes the finest scale its outliers allow
    scale = np.where(r > 0, r / top, np.where(widest > 0, widest / CODE_MAX, 1.0))
    scale = np.maximum(scale, widest / CODE_MAX)  # every outlier code fits int16
    dense = np.clip(np.floor(rest / scale[:, None] + 0.5), -top, top).astype(np.int8)
    side = np.clip(np.floor(w / scale[:, None] + 0.5), -CODE_MAX, CODE_MAX).astype(np.int64)
    return dense, scale, encode(side, mask)


def quality(weight: np.ndarray, bits: int, rule: str, fraction: float
            ) -> tuple[float, float]:
    """(share of the weights beyond their row's range, SQNR in dB of the dequantized
    weights) with `fraction` kept aside: fixedpoint.weight_quality's figures."""
    if not fraction:
        return fx.weight_quality(weight, bits, rule)
    w = np.asarray(weight, np.float64).reshape(len(weight), -1)
    dense, scale, side = quantize(w, bits, rule, fraction)
    restored = codes({"weight": dense, **side}) * scale[:, None]
    top = 2 ** (bits - 1) - 1
    kept = choose(w, fraction)
    clipped = float(np.mean(~kept & (np.abs(w) > (top + 0.5) * scale[:, None])))
    noise = float(((restored - w) ** 2).sum())
    signal = float((w ** 2).sum())
    sqnr = float("inf") if noise == 0 else 10.0 * math.log10(max(signal, 1e-30) / noise)
    return clipped, sqnr


def has_outliers(arrays: dict) -> bool:
    return "outlier_count" in arrays


def codes(arrays: dict, key: str = "weight") -> np.ndarray:
    """The full integer weight matrix (int64 [rows][k]): the dense codes plus the side
    list, what the kernels' accumulators sum; the stored array itself without a side
    list."""
    if not has_outliers(arrays):
        return arrays[key]
    w = np.asarray(arrays[key], np.int64).copy()
    rows, cols, values = decode(arrays, w.shape[1])
    np.add.at(w, (rows, cols), values)
    return w


def value_bits(values: np.ndarray) -> int:
    """Bits of the narrowest two's complement word that holds every code of `values`."""
    widest = int(np.abs(np.asarray(values, np.int64)).max(initial=0))
    return max(2, widest.bit_length() + 1)


def side_list_bits(arrays: dict, params: dict) -> int:
    """Bits the side list of a layer (its arrays and params) holds, packed."""
    if not has_outliers(arrays):
        return 0
    return int(params["outlier_bits"]) * arrays["outlier_value"].size \
        + 8 * arrays["outlier_gap"].size + 16 * arrays["outlier_count"].size
