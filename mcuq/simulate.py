"""The bit-exact NumPy simulator of the generated C: the specification of the device.

It also counts saturation: per tensor, the values that hit the edge of their format.
For an int8 tensor those are the codes at 127, and at -128 unless -128 is the zero
point (a ReLU output's 0); at the model input, exactly the values outside the range.
For an fp16 tensor they are the infinities. A tensor with more than SATURATION_MIN_HITS
such values making up more than SATURATION_WARN of them gets a warning that names it
(`saturation_warnings`).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.ir import Layer
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer, QTensor

# A warning needs both: a share of a tensor's values at its limits, and a count. The
# calibration extremes themselves land on the limits (minmax maps the largest value to
# 127), so a few hits on data like the calibration set are not saturation.
SATURATION_WARN = 0.005
SATURATION_MIN_HITS = 8


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
        self.saturation: dict[str, list[int]] = {}  # tensor -> [values at a limit, values]

    def _count(self, tensor: str, y: np.ndarray) -> None:
        t = self.qgraph.tensors[tensor]
        if t.dtype == "int8":
            hits = np.count_nonzero(y == 127)
            if t.zero_point != -128:
                hits += np.count_nonzero(y == -128)
        elif t.dtype == "float16":
            hits = np.count_nonzero(np.isinf(y))
        else:
            return
        seen = self.saturation.setdefault(tensor, [0, 0])
        seen[0] += int(hits)
        seen[1] += int(y.size)

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
            self._count(layer.outputs[0], y)
            if trace is not None:
                trace.setdefault(layer.name, []).append(y.copy())
        return values[self.qgraph.output]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        t = self.qgraph.input_tensor
        if t.dtype == "int8":
            v = np.asarray(x, np.float64) / t.scale + t.zero_point
            seen = self.saturation.setdefault(self.qgraph.input, [0, 0])
            seen[0] += int(np.count_nonzero((v >= 127.5) | (v < -128.5)))
            seen[1] += int(v.size)
        return encode(x, t)

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


def saturation_warnings(qgraph: QGraph, saturation: dict, limit: float = SATURATION_WARN
                        ) -> list[str]:
    """One line per tensor whose share of values at its format's limits exceeds `limit`."""
    producer = {layer.outputs[0]: layer for layer in qgraph.layers}
    lines = []
    for tensor, (hits, total) in saturation.items():
        if hits > SATURATION_MIN_HITS and hits / total > limit:
            where = (f"layer {producer[tensor].name} (from node {producer[tensor].source})"
                     if tensor in producer else "the model input")
            lines.append(f"{100 * hits / total:.2f}% of the values of {where} saturate "
                         f"({hits} of {total}): the data goes beyond the calibrated range; "
                         "calibrate on data like this, or export with --calib-headroom or "
                         "--calib-method percentile|mse|kl")
    return lines
