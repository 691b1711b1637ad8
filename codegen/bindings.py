"""Op bindings: Python decides every name, size and buffer; the op templates format.

A binding turns one QLayer into the context its template (templates/ops/<kind>.c.j2)
renders: the constant arrays it needs, its state buffers, and the values of its
kernel's parameter struct.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuq.qgraph import QLayer

C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "uint8": "uint8_t",
           "float16": "_Float16"}
# the template of each (layer kind, precision); sigmoid and tanh share the int8 table kernel
TEMPLATES = {("linear", "int8"): "linear", ("relu", "int8"): "relu",
             ("sigmoid", "int8"): "table", ("tanh", "int8"): "table",
             ("gru", "int8"): "gru", ("lstm", "int8"): "lstm",
             ("linear", "fp16"): "linear_f16", ("relu", "fp16"): "unary_f16",
             ("sigmoid", "fp16"): "unary_f16", ("tanh", "fp16"): "unary_f16",
             ("gru", "fp16"): "rnn_f16", ("lstm", "fp16"): "rnn_f16",
             ("convert", "fp16"): "convert", ("convert", "int8"): "convert"}
# kernels of the templates that serve several kinds
KERNELS = {("relu", "fp16"): "mcuq_relu_f16", ("sigmoid", "fp16"): "mcuq_sigmoid_f16_layer",
           ("tanh", "fp16"): "mcuq_tanh_f16_layer", ("convert", "fp16"): "mcuq_convert_s8_f16",
           ("convert", "int8"): "mcuq_convert_f16_s8", ("gru", "fp16"): "mcuq_gru_f16",
           ("lstm", "fp16"): "mcuq_lstm_f16"}
# state buffers of the recurrent kernels, in their argument order: (name, storage type)
STATE = {("gru", "int8"): [("h", "int8")], ("lstm", "int8"): [("h", "int8"), ("c", "int16")],
         ("gru", "fp16"): [("h", "float16")],
         ("lstm", "fp16"): [("h", "float16"), ("c", "float16")]}


@dataclass
class CArray:
    symbol: str
    ctype: str
    values: np.ndarray


@dataclass
class LayerBinding:
    layer: QLayer
    template: str
    arrays: dict[str, CArray]  # array key -> its C symbol
    state: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (ctype, bytes)
    input: str = ""  # C expressions, filled in by the generator
    output: str = ""
    output_bytes: int = 0
    state_ptr: dict[str, str] = field(default_factory=dict)
    kernel: str = ""  # for templates that serve several kinds
    float_arg: str = ""  # a float32 constant as an exact C literal
    relu: int = 0

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def params(self) -> dict:
        return self.layer.params


LINEAR_GROUP = 4  # output channels per pass of the Linear kernel


def interleave_gates(w: np.ndarray, gates: int) -> np.ndarray:
    """[gates * hidden][k] -> [hidden][k][gates]: the gate rows of one unit side by side,
    so the kernel reads them at constant offsets from one pointer."""
    hidden = w.shape[0] // gates
    return np.ascontiguousarray(w.reshape(gates, hidden, -1).transpose(1, 2, 0))


def group_channels(w: np.ndarray, group: int = LINEAR_GROUP) -> np.ndarray:
    """[out][k] -> [ceil(out / group)][k][group], the last group padded with zero rows."""
    rows = -(-w.shape[0] // group) * group
    padded = np.zeros((rows, w.shape[1]), w.dtype)
    padded[:w.shape[0]] = w
    return np.ascontiguousarray(padded.reshape(rows // group, group, -1).transpose(0, 2, 1))


def c_layout(layer: QLayer, key: str, a: np.ndarray) -> np.ndarray:
    """The array as the C kernel reads it (the simulator keeps [rows][k])."""
    if layer.kind in ("gru", "lstm") and key in ("w_ih", "w_hh"):
        return interleave_gates(a, 3 if layer.kind == "gru" else 4)
    if layer.kind == "linear" and key == "weight":
        return group_channels(a)
    return a


def c_float(value: float) -> str:
    """value rounded to float32, as an exact C hexadecimal literal."""
    return float(np.float32(value)).hex() + "f"


def bind(prefix: str, layer: QLayer) -> LayerBinding:
    arrays = {key: CArray(f"{prefix}_{layer.name}_{key}", C_TYPES[str(a.dtype)],
                          c_layout(layer, key, a).reshape(-1))
              for key, a in layer.arrays.items()}
    key = (layer.kind, layer.params["precision"])
    state = {}
    for name, dtype in STATE.get(key, []):
        nbytes = layer.params["hidden"] * np.dtype(dtype).itemsize
        state[name] = (C_TYPES[dtype], nbytes)
    binding = LayerBinding(layer=layer, template=TEMPLATES[key], arrays=arrays, state=state,
                           kernel=KERNELS.get(key, ""),
                           relu=int(layer.params.get("activation") == "relu"))
    if layer.kind == "convert":  # scale into fp16, 1 / scale into int8
        scale = layer.params["scale"]
        binding.float_arg = c_float(scale if key[1] == "fp16" else 1.0 / scale)
    return binding
