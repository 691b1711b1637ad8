"""Activation ranges: streaming histograms and the methods that pick a clipping range
from them (`mcuq export --calib-method`).

A tensor's values are kept as two histograms of BINS bins, one of the positive values
and one of |x| for the negative ones, plus a count of exact zeros. Each histogram
covers [0, top]; when a value beyond `top` arrives, `top` doubles and neighbouring
bins merge in pairs, so the memory is fixed whatever the number of items, and one
pass over the data is enough.

Each side gets its own threshold T (the range is [-T_neg, T_pos]), searched with the
number of levels it will have: 256 for a one-signed tensor (a ReLU output), 128 per
side for a signed one (int8 codes split around the zero point).

  minmax       the extremes seen: no clipping
  percentile   the value below which `percentile` % of a side's values lie
  mse          the T that minimises the expected squared error: rounding noise
               step^2 / 12 inside [0, T] plus (x - T)^2 for the clipped values
  kl           TensorRT's entropy calibration: for every T from `levels` bins to all
               BINS, the histogram up to T (the clipped values added to its last bin)
               against its quantization to `levels` levels; the T of least
               Kullback-Leibler divergence
  kl-improved  our reading of the improved KL metric of Yang et al., "Post-Training
               Quantization for Re-parameterization via Coarse & Fine Weight
               Splitting" (docs/calibration.md says what could not be found, and why
               this is what mcuq does): the kl search on the non-zero values only. A
               ReLU output is often half exact zeros, which are exact at any scale;
               in bin 0 they dominate the reference distribution, and the kl search
               then clips the values that matter (a ReLU of N(0, 1): kl clips at
               1.9, kl-improved at 4.0, the largest value seen being 4.7)
"""
from __future__ import annotations

import functools

import numpy as np

from mcuq.errors import McuqError

BINS = 2048
METHODS = ("minmax", "percentile", "mse", "kl", "kl-improved")
SMOOTHING = 1e-4  # mass given to an empty bin that the reference has mass in


class Histogram:
    """Counts of values > 0 in BINS equal bins over [0, top]; top doubles as needed."""

    def __init__(self):
        self.counts = np.zeros(BINS, np.int64)
        self.top = 0.0
        self.max = 0.0  # the largest value seen

    def update(self, v: np.ndarray) -> None:
        if v.size == 0:
            return
        m = float(v.max())
        if not np.isfinite(m):
            return  # the calibration refuses non-finite outputs by layer
        self.max = max(self.max, m)
        if self.top == 0.0:
            self.top = m
        while m > self.top:
            self.counts = np.concatenate([self.counts.reshape(-1, 2).sum(axis=1),
                                          np.zeros(BINS // 2, np.int64)])
            self.top *= 2.0
        index = np.minimum((v * (BINS / self.top)).astype(np.int64), BINS - 1)
        self.counts += np.bincount(index, minlength=BINS)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


class SignedHistogram:
    def __init__(self):
        self.positive, self.negative = Histogram(), Histogram()
        self.zeros = 0

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float64).reshape(-1)
        self.positive.update(x[x > 0])
        self.negative.update(-x[x < 0])
        self.zeros += int(np.count_nonzero(x == 0))


GUARD = 2.0  # a kl threshold may cost at most this many times the least squared error


def choose_range(h: SignedHistogram, method: str, percentile: float = 99.99,
                 guard: bool = True) -> tuple[float, float]:
    """[lo, hi] for the tensor whose values `h` holds. With `guard`, a kl or kl-improved
    threshold whose expected squared error is more than GUARD times the least (the mse
    threshold's) is replaced by the mse threshold (guarded_range says whether it was)."""
    return guarded_range(h, method, percentile, guard)[:2]


def guarded_range(h: SignedHistogram, method: str, percentile: float = 99.99,
                  guard: bool = True) -> tuple[float, float, bool]:
    """choose_range, and whether the guard replaced a threshold."""
    if method not in METHODS or method == "minmax":
        raise McuqError(f"no histogram method '{method}'; use one of {', '.join(METHODS[1:])}")
    signed = h.positive.total > 0 and h.negative.total > 0
    levels = 128 if signed else 256
    hi, guarded_hi = threshold(h.positive, h.zeros, method, levels, percentile, guard)
    lo, guarded_lo = threshold(h.negative, 0, method, levels, percentile, guard)
    return -lo, hi, guarded_hi or guarded_lo


def threshold(side: Histogram, zeros: int, method: str, levels: int, percentile: float,
              guard: bool = True) -> tuple[float, bool]:
    """The clipping threshold of one side (|x| values; `zeros` exact zeros counted in bin
    0, except by kl-improved's search) and whether the guard chose it: a bin edge, never
    beyond the largest value seen (the histogram's top may be up to twice that)."""
    t, guarded = _threshold(side, zeros, method, levels, percentile, guard)
    return min(t, side.max), guarded


def _threshold(side: Histogram, zeros: int, method: str, levels: int, percentile: float,
               guard: bool) -> tuple[float, bool]:
    counts = side.counts.astype(np.float64)
    counts[0] += zeros
    if side.total == 0:
        return 0.0, False
    width = side.top / BINS
    if method == "percentile":
        cumulative = np.cumsum(counts)
        return float(np.searchsorted(cumulative, cumulative[-1] * percentile / 100.0) + 1) * width, False
    errors = _squared_errors(counts, levels)
    if method == "mse":
        return float(np.argmin(errors) + 1) * width, False
    searched = counts.copy()
    if method == "kl-improved":  # the search on the non-zero values only
        searched[0] -= zeros
    bins = int(np.argmin(kl_divergences(searched, levels))) + levels
    if guard and errors[bins - 1] > GUARD * errors.min():
        return float(np.argmin(errors) + 1) * width, True
    return float(bins) * width, False


def _squared_errors(counts: np.ndarray, levels: int) -> np.ndarray:
    """Expected squared error (in bin widths^2) for T = 1 .. BINS bins: rounding
    noise of the values below T plus the clipping error of those above."""
    centres = np.arange(BINS) + 0.5
    t = np.arange(1, BINS + 1, dtype=np.float64)
    # suffix sums over the bins at or above T: n, n c, n c^2
    n = np.cumsum(counts[::-1])[::-1]
    nc = np.cumsum((counts * centres)[::-1])[::-1]
    ncc = np.cumsum((counts * centres ** 2)[::-1])[::-1]
    above = np.append(n[1:], 0.0), np.append(nc[1:], 0.0), np.append(ncc[1:], 0.0)
    clipped = above[2] - 2 * t * above[1] + t ** 2 * above[0]
    inside = (counts.sum() - above[0]) * (t / (levels - 1)) ** 2 / 12.0
    return clipped + inside


@functools.lru_cache(maxsize=4)
def _chunks(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """The thresholds i = levels .. BINS (a column) and, for each, the bins where its
    `levels` chunks start, and i where the last one ends: chunk j starts at
    floor(j i / levels)."""
    i = np.arange(levels, BINS + 1)[:, None]
    bounds = (np.arange(levels + 1)[None, :] * i) // levels
    for a in (i, bounds):
        a.flags.writeable = False
    return i, bounds


def kl_divergences(counts: np.ndarray, levels: int) -> np.ndarray:
    """TensorRT's divergence for every threshold T = levels .. BINS bins at once.

    For threshold i: P is counts[:i] with the clipped mass counts[i:] added to its last
    bin; Q merges counts[:i] into `levels` chunks (chunk j starts at bin floor(j i /
    levels)) and spreads each chunk's mass evenly over its bins where P is non-zero; a
    bin of Q left empty where P has mass (only the last bin can be: the clipped mass
    over an empty chunk) gets SMOOTHING, then Q is normalised again. KL(P || Q), or inf
    when nothing lies below the threshold.

    Q is constant within a chunk, so KL = sum P log P - sum over chunks of P's mass
    there times log Q's level: both come from prefix sums, for all thresholds and
    chunks in one array, instead of one pass over the bins per threshold."""
    c = np.asarray(counts, np.float64)
    total = c.sum()
    prefix = np.concatenate([[0.0], np.cumsum(c)])
    nonzero = np.concatenate([[0], np.cumsum(c > 0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.concatenate([[0.0], np.cumsum(np.where(c > 0, c * np.log(c), 0.0))])
        i, bounds = _chunks(levels)
        tail = total - prefix[i[:, 0]]
        last = c[i[:, 0] - 1] + tail                              # P's last bin
        mass = np.diff(np.take(prefix, bounds), axis=1)           # Q's mass per chunk
        used = np.diff(np.take(nonzero, bounds), axis=1)          # P's non-zero bins
        folded = (c[i[:, 0] - 1] == 0) & (tail > 0)               # the last bin is new
        used[:, -1] += folded
        p_mass = mass.copy()
        p_mass[:, -1] += tail
        empty = (mass[:, -1] == 0) & (tail > 0)                   # Q's last bin empty
        below = prefix[i[:, 0]]                                   # Q's total
        z = 1.0 + SMOOTHING * empty
        # Q's level in a chunk is mass / (used below z). A chunk without mass has no
        # P mass either, but for an empty last chunk (its used is 0 or 1): log(1) = 0
        # leaves it out of the first sum, and the SMOOTHING term counts it instead.
        log_count = np.log(np.maximum(np.arange(BINS + 1), 1))
        chunks = (p_mass * (np.log(np.maximum(mass, 1.0)) - log_count[used])).sum(axis=1)
        kept = total - np.where(empty, tail, 0.0)                 # P's mass where Q has some
        cross = chunks - np.log(below * z) * kept + np.where(empty, tail * np.log(SMOOTHING / z), 0.0)
        entropy = plogp[i[:, 0] - 1] + np.where(last > 0, last * np.log(last), 0.0)
        kl = (entropy - cross) / total - np.log(total)
    return np.where(below > 0, kl, np.inf)
