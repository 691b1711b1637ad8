"""The bit-exact NumPy simulator of the generated C: the specification of the device.

It also counts clipping: per tensor, the values the float model puts beyond the range
the tensor can hold. For an int8 tensor that is more than one step beyond its last code
(-128 or 127: an error larger than a step), for an fp16 one beyond 65504; a value that
merely sits on the edge (a tanh state near 1 where 1 is code 128, a max equal to the
calibrated maximum) is not clipped. The float values come from the float
model run beside the simulator (`Simulator(qgraph, float_graph)`, fed float inputs by
`run`), so a run without the float model counts only the model input, whose float values
it has. A tensor where more than CLIP_WARN of the values are clipped gets a warning that
names it and says how far beyond its range they go (`saturation_warnings`).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import schedule
from mcuq.ir import Graph, Layer
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer, QTensor
from mcuq.reference import FloatModel

CLIP_WARN = 0.005  # the share of a tensor's values beyond its range that is worth a warning
FP16_MAX = 65504.0


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
    """Runs a QGraph frame by frame on int8 data over a batch of sequences; with the float
    graph it was quantized from, it also counts what each tensor's range clips."""

    def __init__(self, qgraph: QGraph, float_graph: Graph | None = None):
        self.qgraph = qgraph
        self.state: dict[str, dict] = {}
        # fp32 layers (an fp32-ref export) run the float reference ops
        self.floats = {layer.name: float_layer(layer) for layer in qgraph.layers
                       if layer.params["precision"] == "fp32"}
        self.float_model = FloatModel(float_graph) if float_graph is not None else None
        self.output_of = {layer.name: layer.outputs[0] for layer in qgraph.layers}
        # tensor -> [values beyond its range, values seen, the farthest as a multiple of
        # the bound it passes]
        self.saturation: dict[str, list] = {}

    def _count(self, tensor: str, x: np.ndarray) -> None:
        """Float values `x` of `tensor` against the range the tensor holds."""
        t = self.qgraph.tensors.get(tensor)
        if t is None or t.dtype == "float32":
            return
        x = np.asarray(x, np.float64)
        if t.dtype == "int8":  # a full step beyond the last code: more than its rounding
            hi, lo = (128 - t.zero_point) * t.scale, (-129 - t.zero_point) * t.scale
        else:
            hi, lo = FP16_MAX, -FP16_MAX
        over, under = x[x > hi], x[x < lo]
        worst = 0.0
        if over.size and hi > 0:
            worst = float(over.max() / hi)
        if under.size and lo < 0:
            worst = max(worst, float(under.min() / lo))
        seen = self.saturation.setdefault(tensor, [0, 0, 0.0])
        seen[0] += int(over.size + under.size)
        seen[1] += int(x.size)
        seen[2] = max(seen[2], worst)

    def reset(self, batch: int = 1) -> None:
        self.state = {}
        for layer in self.qgraph.layers:
            if layer.name in self.floats:
                self.state[layer.name] = op(layer.kind).init_float_state(
                    self.floats[layer.name], batch)
            else:
                self.state[layer.name] = op(layer.kind).init_device_state(layer, batch)
        if self.float_model is not None:
            self.float_model.reset(batch)

    def _layer(self, layer: QLayer, xs) -> np.ndarray:
        state = self.state[layer.name]
        if layer.name in self.floats:
            return op(layer.kind).run_float(self.floats[layer.name], xs, state)
        return op(layer.kind).run_device(layer, xs, state)

    def step(self, x_q: np.ndarray) -> np.ndarray:
        """One frame of a streaming model, device-format input (batch, *input shape) ->
        device-format output, keeping the state."""
        if self.qgraph.sequence:
            raise ValueError("a model with reverse layers runs over whole sequences")
        values = {self.qgraph.input: np.asarray(x_q, self.qgraph.input_tensor.dtype)}
        for layer in self.qgraph.layers:
            values[layer.outputs[0]] = self._layer(layer, [values[t] for t in layer.inputs])
        return values[self.qgraph.output]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        self._count(self.qgraph.input, x)
        return encode(x, self.qgraph.input_tensor)

    def dequantize_output(self, y_q: np.ndarray) -> np.ndarray:
        return decode(y_q, self.qgraph.output_tensor)

    def run_device(self, x_q: np.ndarray, trace: dict | None = None,
                   x_float: np.ndarray | None = None) -> np.ndarray:
        """Device-format (batch, time, *input shape) -> (batch, time, *output shape), from
        reset, layer by layer (mcuq.schedule); `trace` collects every layer's output (layer
        name -> (batch, time, *shape)); `x_float`, the same input in float, runs the float
        model beside it to count clipping."""
        self.reset(x_q.shape[0])
        x_q = np.asarray(x_q, self.qgraph.input_tensor.dtype)
        values = schedule.run_layer_major(
            self.qgraph.layers, self.qgraph.input, x_q,
            lambda layer, xs, t: self._layer(layer, xs),
            keep=None if trace is not None else self.qgraph.output)
        if trace is not None:
            trace.update({layer.name: values[layer.outputs[0]] for layer in self.qgraph.layers})
        if x_float is not None and self.float_model is not None:
            self.float_model.run(x_float, lambda layer, y, state: self._count(
                self.output_of.get(layer.name, ""), y))
        return values[self.qgraph.output]

    def run(self, x: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """float (batch, time, *input shape) -> dequantized float output."""
        x = np.asarray(x, np.float32)
        return self.dequantize_output(self.run_device(self.quantize_input(x), trace, x))


def headroom_advice(worst: float) -> int:
    """The --calib-headroom (dB, whole) that takes a range out to `worst` times its bound."""
    import math

    return max(1, min(60, math.ceil(20.0 * math.log10(max(worst, 1.0)) + 1e-9)))


def saturation_warnings(qgraph: QGraph, saturation: dict, limit: float = CLIP_WARN
                        ) -> list[str]:
    """One line per tensor where more than `limit` of the values are beyond its range."""
    producer = {layer.outputs[0]: layer for layer in qgraph.layers}
    lines = []
    for tensor, (hits, total, worst) in saturation.items():
        if hits and hits / total > limit:
            where = (f"layer {producer[tensor].name} (from node {producer[tensor].source})"
                     if tensor in producer else "the model input")
            far = f", up to {worst:.3g}x the bound" if worst > 0 else ""
            lines.append(f"{100 * hits / total:.2f}% of the values of {where} are beyond its "
                         f"calibrated range ({hits} of {total}{far}) and clip: the data goes "
                         f"beyond the calibration data; calibrate on data like this, or export "
                         f"with --calib-headroom (up to {headroom_advice(worst)} dB covers the "
                         "farthest value; fewer keep finer steps); percentile, mse and kl "
                         "would clip more, not less")
    return lines
