"""The bit-exact NumPy simulator of the generated C: the specification of the device."""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.ops import OPS
from mcuq.qgraph import QGraph


class Simulator:
    """Runs a QGraph frame by frame on int8 data over a batch of sequences."""

    def __init__(self, qgraph: QGraph):
        self.qgraph = qgraph
        self.state: dict[str, dict] = {}

    def reset(self, batch: int = 1) -> None:
        self.state = {layer.name: OPS[layer.kind].init_int_state(layer, batch)
                      for layer in self.qgraph.layers}

    def step(self, x_q: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """One frame of int8 input (batch, input_size) -> int8 output; `trace` collects
        every layer's output (layer name -> int8 array)."""
        values = {self.qgraph.input: np.asarray(x_q, np.int8)}
        for layer in self.qgraph.layers:
            y = OPS[layer.kind].run_int(layer, values[layer.inputs[0]], self.state[layer.name])
            values[layer.outputs[0]] = y
            if trace is not None:
                trace.setdefault(layer.name, []).append(y.copy())
        return values[self.qgraph.output]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        t = self.qgraph.input_tensor
        return fx.quantize_activation(x, t.scale, t.zero_point)

    def dequantize_output(self, y_q: np.ndarray) -> np.ndarray:
        t = self.qgraph.output_tensor
        return fx.dequantize(y_q, t.scale, t.zero_point)

    def run_int(self, x_q: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """int8 (batch, time, input_size) -> int8 (batch, time, output_size), from reset."""
        self.reset(x_q.shape[0])
        out = np.stack([self.step(x_q[:, t], trace) for t in range(x_q.shape[1])], axis=1)
        if trace is not None:
            for name in trace:
                trace[name] = np.stack(trace[name], axis=1)
        return out

    def run(self, x: np.ndarray) -> np.ndarray:
        """float (batch, time, input_size) -> dequantized float output."""
        return self.dequantize_output(self.run_int(self.quantize_input(x)))
