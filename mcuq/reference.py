"""NumPy float executor of the mcuq IR: the float reference that ONNX Runtime checks."""
from __future__ import annotations

from typing import Callable

import numpy as np

from mcuq.ir import Graph
from mcuq.ops import op


class FloatModel:
    """Runs a Graph frame by frame over a batch of sequences, keeping recurrent state."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.state: dict[str, dict] = {}

    def reset(self, batch: int = 1) -> None:
        self.state = {layer.name: op(layer.kind).init_float_state(layer, batch)
                      for layer in self.graph.layers}

    def step(self, x: np.ndarray, observe: Callable | None = None) -> np.ndarray:
        """One frame: x (batch, *input shape) -> (batch, *output shape)."""
        values = {self.graph.input: np.asarray(x, np.float32)}
        for layer in self.graph.layers:
            state = self.state[layer.name]
            # float32 overflow is reported by calibration, naming the layer
            with np.errstate(over="ignore", invalid="ignore"):
                y = op(layer.kind).run_float(layer, [values[t] for t in layer.inputs], state)
            values[layer.outputs[0]] = y
            if observe is not None:
                observe(layer, y, state)
        return values[self.graph.output]

    def run(self, sequences: np.ndarray) -> np.ndarray:
        """(batch, time, *input shape) -> (batch, time, *output shape), from a reset state."""
        sequences = np.asarray(sequences, np.float32)
        self.reset(sequences.shape[0])
        return np.stack([self.step(sequences[:, t]) for t in range(sequences.shape[1])], axis=1)
