"""The mcuq graph IR: a per-frame graph of layers.

A model is run one frame (time step) at a time. Every activation tensor is a
vector of `size` elements; recurrent layers keep state between frames. The
frontend maps a sequence model (time axis somewhere in its tensors) onto this
per-frame form and records where the time and feature axes were, so the
float reference can be compared with ONNX Runtime on whole sequences.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Layer kinds and their weight names. GRU gates are in PyTorch order (r, z, n),
# LSTM gates in PyTorch order (i, f, g, o); rows of w_ih/w_hh are gate-major.
LAYER_KINDS = {
    "linear": ("weight", "bias"),
    "relu": (),
    "sigmoid": (),
    "tanh": (),
    "gru": ("w_ih", "w_hh", "b_ih", "b_hh"),
    "lstm": ("w_ih", "w_hh", "b_ih", "b_hh"),
}
RECURRENT_KINDS = ("gru", "lstm")
GATES = {"gru": 3, "lstm": 4}


@dataclass
class Layer:
    kind: str
    name: str  # a C identifier, unique in the graph
    inputs: list[str]
    outputs: list[str]
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)  # e.g. {"hidden": 11, "activation": "relu"}
    source: str = ""  # the node(s) in the source model this layer came from


@dataclass
class Graph:
    input: str
    output: str
    sizes: dict[str, int]  # tensor name -> elements per frame
    layers: list[Layer]
    # axis roles of the source model's input and output, e.g. ("1", "T", "F"):
    # T = time, F = features, 1 = a singleton (batch, direction) axis
    input_roles: tuple[str, ...] = ("T", "F")
    output_roles: tuple[str, ...] = ("T", "F")
    source_input_name: str = "input"

    @property
    def input_size(self) -> int:
        return self.sizes[self.input]

    @property
    def output_size(self) -> int:
        return self.sizes[self.output]

    @property
    def recurrent(self) -> bool:
        return any(layer.kind in RECURRENT_KINDS for layer in self.layers)

    def producer(self, tensor: str) -> Layer | None:
        for layer in self.layers:
            if tensor in layer.outputs:
                return layer
        return None

    def consumers(self, tensor: str) -> list[Layer]:
        return [layer for layer in self.layers if tensor in layer.inputs]

    def parameter_count(self) -> int:
        return int(sum(w.size for layer in self.layers for w in layer.weights.values()))
