"""The bit-exact NumPy simulator of the generated C: the specification of the device."""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.ir import Layer
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer, QTensor


def encode(x: np.ndarray, t: QTensor) -> np.ndarray:
    """Float values in the device format of tensor t (int8 codes, fp16 or fp32)."""
    if t.dtype == "float32":
        return np.asarray(x, np.float32)
    if t.dtype == "float16":
        return np.asarray(x, np.float32).astype(np.float16)
    return fx.quantize_activation(x, t.scale, t.zero_point)


def decode(q: np.ndarray, t: QTensor) -> np.ndarray:
    if t.dtype in ("float16", "float32"):
        return np.asarray(q, t.dtype).astype(np.float32)
    return fx.dequantize(q, t.scale, t.zero_point)


def float_layer(qlayer: QLayer) -> Layer:
    """An fp32 layer of a reference export back as the IR layer the float ops run."""
    attrs = {k: v for k, v in qlayer.params.items() if k != "precision"}
    return Layer(kind=qlayer.kind, name=qlayer.name, inputs=qlayer.inputs,
                 outputs=qlayer.outputs, weights=qlayer.arrays, attrs=attrs,
                 source=qlayer.source)


class Simulator:
    """Runs a QGraph frame by frame on int8 data over a batch of sequences."""

    def __init__(self, qgraph: QGraph):
        self.qgraph = qgraph
        self.state: dict[str, dict] = {}
        # fp32 layers (an fp32-ref export) run the float reference ops
        self.floats = {layer.name: float_layer(layer) for layer in qgraph.layers
                       if layer.params["precision"] == "fp32"}

    def reset(self, batch: int = 1) -> None:
        self.state = {}
        for layer in self.qgraph.layers:
            if layer.name in self.floats:
                self.state[layer.name] = op(layer.kind).init_float_state(
                    self.floats[layer.name], batch)
            else:
                self.state[layer.name] = op(layer.kind).init_device_state(layer, batch)

    def step(self, x_q: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """One frame of device-format input (batch, *input shape) -> device-format output;
        `trace` collects every layer's output (layer name -> array)."""
        values = {self.qgraph.input: np.asarray(x_q, self.qgraph.input_tensor.dtype)}
        for layer in self.qgraph.layers:
            xs, state = [values[t] for t in layer.inputs], self.state[layer.name]
            if layer.name in self.floats:
                y = op(layer.kind).run_float(self.floats[layer.name], xs, state)
            else:
                y = op(layer.kind).run_device(layer, xs, state)
            values[layer.outputs[0]] = y
            if trace is not None:
                trace.setdefault(layer.name, []).append(y.copy())
        return values[self.qgraph.output]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        return encode(x, self.qgraph.input_tensor)

    def dequantize_output(self, y_q: np.ndarray) -> np.ndarray:
        return decode(y_q, self.qgraph.output_tensor)

    def run_device(self, x_q: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """Device-format (batch, time, *input shape) -> (batch, time, *output shape), from reset."""
        self.reset(x_q.shape[0])
        out = np.stack([self.step(x_q[:, t], trace) for t in range(x_q.shape[1])], axis=1)
        if trace is not None:
            for name in trace:
                trace[name] = np.stack(trace[name], axis=1)
        return out

    def run(self, x: np.ndarray) -> np.ndarray:
        """float (batch, time, *input shape) -> dequantized float output."""
        return self.dequantize_output(self.run_device(self.quantize_input(x)))
