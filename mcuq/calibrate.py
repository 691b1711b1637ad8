"""Calibration: stream per-tensor statistics of the float model over a data set, then
choose each tensor's int8 range by a method.

Only running statistics are kept: min/max, and for the histogram methods two
fixed-size histograms per tensor (mcuq.ranges.Histogram), so memory does not grow
with the number of calibration items. The methods (mcuq.ranges) turn them into the
clipping range [min, max] that the quantizer covers with 256 levels.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError
from mcuq.ir import Graph
from mcuq.ops import op
from mcuq.ranges import GUARD, METHODS, SignedHistogram, guarded_range
from mcuq.reference import FloatModel

DEFAULT_METHOD = "minmax"


class MinMax:
    def __init__(self):
        self.min = np.inf
        self.max = -np.inf

    def update(self, x: np.ndarray) -> None:
        self.min = min(self.min, float(np.min(x)))
        self.max = max(self.max, float(np.max(x)))


def calibrate(graph: Graph, batches, method: str = DEFAULT_METHOD,
              percentile: float = 99.99, headroom_db: float = 0.0) -> dict:
    """Per-tensor {"min", "max" (the chosen range), "seen_min", "seen_max"} and
    per-layer {"state_max_abs": {...}} statistics, and the method used. `headroom_db`
    widens every chosen activation range by 10^(dB/20), for data louder or brighter
    than the calibration set, but not beyond the bounds of what its op can output (a
    tanh, a sigmoid, a GRU/LSTM/RNN state: OUTPUT_BOUNDS).

    `batches` yields float arrays (batch, time, *input shape)."""
    if method not in METHODS:
        raise McuqError(f"unknown calibration method '{method}'; use one of "
                        f"{', '.join(METHODS)}")
    if not 0.0 <= headroom_db <= 60.0:
        raise McuqError(f"--calib-headroom {headroom_db}: use 0 to 60 dB")
    if method == "percentile" and not 50.0 < percentile <= 100.0:
        raise McuqError(f"--percentile {percentile:g}: use a share of values above 50 and at "
                        "most 100 (e.g. 99.99): below 50 the range would clip most values")
    histograms = method != "minmax"
    tensors = {graph.input: MinMax()}
    hists: dict[str, SignedHistogram] = {graph.input: SignedHistogram()} if histograms else {}
    states: dict[str, dict[str, float]] = {}
    model = FloatModel(graph)

    def observe(layer, y, state):
        out = layer.outputs[0]
        tensors.setdefault(out, MinMax()).update(y)
        if histograms:
            hists.setdefault(out, SignedHistogram()).update(y)
        for key in op(layer.kind).CALIBRATED_STATE:
            seen = states.setdefault(layer.name, {})
            seen[key] = max(seen.get(key, 0.0), float(np.max(np.abs(state[key]))))

    frames = 0
    for batch in batches:
        for t in range(batch.shape[1]):
            tensors[graph.input].update(batch[:, t])
            if histograms:
                hists[graph.input].update(batch[:, t])
        model.run(batch, observe)
        frames += batch.shape[0] * batch.shape[1]
    for layer in graph.layers:
        m = tensors.get(layer.outputs[0])
        if m is not None and not (np.isfinite(m.min) and np.isfinite(m.max)):
            raise McuqError(f"on the calibration data the float output of layer {layer.name} "
                            f"(from node {layer.source}) overflows float32 or is NaN; check "
                            "the scale of the calibration data")
    bounds = {layer.outputs[0]: op(layer.kind).OUTPUT_BOUNDS for layer in graph.layers}
    stats = {}
    guarded = []
    for name, m in tensors.items():
        # the model output keeps its whole range: clipping it changes the answer the
        # user reads (a classifier's winning logit is its largest value), and no later
        # layer gains resolution from it
        clip = histograms and name != graph.output
        lo, hi, fell_back = guarded_range(hists[name], method, percentile) if clip else (
            m.min, m.max, False)
        if fell_back:
            guarded.append(name)
        widen = 10.0 ** (headroom_db / 20.0)
        bound_lo, bound_hi = bounds.get(name) or (-np.inf, np.inf)
        # headroom never widens a range beyond what its op can output (tanh, a GRU state)
        lo_w = min(lo, max(lo * widen, bound_lo))
        hi_w = max(hi, min(hi * widen, bound_hi))
        stats[name] = {"min": lo_w, "max": hi_w, "seen_min": m.min,
                       "seen_max": m.max}
    for layer in graph.layers:
        stats[layer.outputs[0]]["state_max_abs"] = states.get(layer.name, {})
    return {"tensors": stats, "frames": frames, "method": method, "headroom_db": headroom_db,
            "guarded": guarded}


def calibrate_minmax(graph: Graph, batches) -> dict:
    return calibrate(graph, batches, "minmax")


def guard_notes(stats: dict) -> list[str]:
    """One note when the kl guard replaced thresholds (mcuq.ranges.GUARD)."""
    guarded = stats.get("guarded") or []
    if not guarded:
        return []
    shown = ", ".join(guarded[:6]) + (f" and {len(guarded) - 6} more" if len(guarded) > 6 else "")
    return [f"--calib-method {stats['method']}: {len(guarded)} of {len(stats['tensors'])} "
            f"activation ranges ({shown}) took the mse threshold instead, because the "
            f"{stats['method']} one would have cost more than {GUARD:g}x its squared error "
            "(docs/calibration.md, the guard)"]


def dead_tensors(graph: Graph, stats: dict) -> list[str]:
    """One note per layer output that was exactly 0 on every calibration frame: its int8
    range is the nominal one of mcuq.fixedpoint.activation_qparams, not a measured one."""
    notes = []
    for layer in graph.layers:
        s = stats["tensors"].get(layer.outputs[0])
        if s is not None and s["seen_min"] == 0.0 and s["seen_max"] == 0.0:
            notes.append(f"layer {layer.name} (from node {layer.source}) output 0 on every "
                         "calibration frame; its int8 range is a nominal [0, 1]: calibrate "
                         "with data that makes it non-zero")
    return notes
