"""Calibration: stream per-tensor statistics of the float model over a data set.

Only running min/max (and max |state| where an op asks for it) are kept, so
the calibration set can be larger than memory allows for activations.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError
from mcuq.ir import Graph
from mcuq.ops import op
from mcuq.reference import FloatModel


class MinMax:
    def __init__(self):
        self.min = np.inf
        self.max = -np.inf

    def update(self, x: np.ndarray) -> None:
        self.min = min(self.min, float(np.min(x)))
        self.max = max(self.max, float(np.max(x)))


def calibrate_minmax(graph: Graph, batches) -> dict:
    """Per-tensor {"min", "max"} and per-layer {"state_max_abs": {...}} statistics.

    `batches` yields float arrays (batch, time, *input shape)."""
    tensors = {graph.input: MinMax()}
    states: dict[str, dict[str, float]] = {}
    model = FloatModel(graph)

    def observe(layer, y, state):
        tensors.setdefault(layer.outputs[0], MinMax()).update(y)
        for key in op(layer.kind).CALIBRATED_STATE:
            seen = states.setdefault(layer.name, {})
            seen[key] = max(seen.get(key, 0.0), float(np.max(np.abs(state[key]))))

    frames = 0
    for batch in batches:
        model.reset(batch.shape[0])
        for t in range(batch.shape[1]):
            tensors[graph.input].update(batch[:, t])
            model.step(batch[:, t], observe)
        frames += batch.shape[0] * batch.shape[1]
    for layer in graph.layers:
        m = tensors.get(layer.outputs[0])
        if m is not None and not (np.isfinite(m.min) and np.isfinite(m.max)):
            raise McuqError(f"on the calibration data the float output of layer {layer.name} "
                            f"(from node {layer.source}) overflows float32 or is NaN; check "
                            "the scale of the calibration data")
    stats = {name: {"min": m.min, "max": m.max} for name, m in tensors.items()}
    for layer in graph.layers:
        stats[layer.outputs[0]]["state_max_abs"] = states.get(layer.name, {})
    return {"tensors": stats, "frames": frames}


def dead_tensors(graph: Graph, stats: dict) -> list[str]:
    """One note per layer output that was exactly 0 on every calibration frame: its int8
    range is the nominal one of mcuq.fixedpoint.activation_qparams, not a measured one."""
    notes = []
    for layer in graph.layers:
        s = stats["tensors"].get(layer.outputs[0])
        if s is not None and s["min"] == 0.0 and s["max"] == 0.0:
            notes.append(f"layer {layer.name} (from node {layer.source}) output 0 on every "
                         "calibration frame; its int8 range is a nominal [0, 1]: calibrate "
                         "with data that makes it non-zero")
    return notes
