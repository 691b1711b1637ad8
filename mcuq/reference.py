"""NumPy float executor of the mcuq IR: the float reference that ONNX Runtime checks."""
from __future__ import annotations

from typing import Callable

import numpy as np

from mcuq import schedule
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

    def _layer(self, layer, xs) -> np.ndarray:
        # float32 overflow is reported by calibration, naming the layer
        with np.errstate(over="ignore", invalid="ignore"):
            return op(layer.kind).run_float(layer, xs, self.state[layer.name])

    def step(self, x: np.ndarray, observe: Callable | None = None) -> np.ndarray:
        """One frame of a streaming model: x (batch, *input shape) -> (batch, *output
        shape); observe(layer, y, state) sees every layer's output."""
        if schedule.is_sequence(self.graph.layers):
            raise ValueError("a model with reverse layers runs over whole sequences: use run")
        values = {self.graph.input: np.asarray(x, np.float32)}
        for layer in self.graph.layers:
            y = self._layer(layer, [values[t] for t in layer.inputs])
            values[layer.outputs[0]] = y
            if observe is not None:
                observe(layer, y, self.state[layer.name])
        return values[self.graph.output]

    def run(self, sequences: np.ndarray, observe: Callable | None = None) -> np.ndarray:
        """(batch, time, *input shape) -> (batch, time, *output shape), from a reset state,
        layer by layer (mcuq.schedule); observe(layer, y, state) sees every output frame."""
        return self.run_all(sequences, observe, keep=self.graph.output)[self.graph.output]

    def run_all(self, sequences: np.ndarray, observe: Callable | None = None,
                keep: str | None = None) -> dict:
        """Every tensor over the sequences, as (batch, time, *shape) (with `keep`, only
        that one)."""
        sequences = np.asarray(sequences, np.float32)
        self.reset(sequences.shape[0])
        see = None if observe is None else (
            lambda layer, y, t: observe(layer, y, self.state[layer.name]))
        return schedule.run_layer_major(self.graph.layers, self.graph.input, sequences,
                                        lambda layer, xs, t: self._layer(layer, xs), see,
                                        keep=keep)
