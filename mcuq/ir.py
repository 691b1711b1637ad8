"""The mcuq graph IR: a per-frame graph of layers over shaped tensors.

A model runs one frame at a time. For a recurrent model a frame is one time step
and layers keep state between frames; any other model runs one item per frame.
Every tensor has a per-frame shape: a vector `(F,)` or an image `(C, H, W)`. The
NumPy code (float reference, simulator) holds a batch of frames as
`(batch, *shape)`, channels first as ONNX has them; the C code's memory layout of
each tensor is chosen by the code generator (see `mcuq.qgraph.c_layout`).

The frontend maps the source model onto this form and records where its time and
batch axes were (`input_roles`, `output_roles`), so the float reference can be
compared with ONNX Runtime on whole sequences. Graph passes (mcuq.passes) rewrite
the graph between import and calibration; `passes` lists those that ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Tensor:
    shape: tuple[int, ...]  # per frame

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Layer:
    kind: str  # an op kind of mcuq.ops (the registry)
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
    tensors: dict[str, Tensor]
    layers: list[Layer]
    # axis roles of the source model's input and output, e.g. ("1", "T", "F"):
    # T = time, F = a per-frame axis, 1 = a singleton (batch, direction) axis, N = a batch
    # of independent sequences
    input_roles: tuple[str, ...] = ("T", "F")
    output_roles: tuple[str, ...] = ("T", "F")
    source_input_name: str = "input"
    # the model's output is its value at the last frame (an RNN's final state, Y_h)
    output_final: bool = False
    passes: list[str] = field(default_factory=list)  # graph passes run, in order

    def shape(self, tensor: str) -> tuple[int, ...]:
        return self.tensors[tensor].shape

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.shape(self.input)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.shape(self.output)

    @property
    def input_size(self) -> int:
        return self.tensors[self.input].size

    @property
    def output_size(self) -> int:
        return self.tensors[self.output].size

    @property
    def recurrent(self) -> bool:
        from mcuq.ops import op

        return any(op(layer.kind).STATEFUL for layer in self.layers)

    def producer(self, tensor: str) -> Layer | None:
        for layer in self.layers:
            if tensor in layer.outputs:
                return layer
        return None

    def consumers(self, tensor: str) -> list[Layer]:
        return [layer for layer in self.layers if tensor in layer.inputs]

    def parameter_count(self) -> int:
        return int(sum(w.size for layer in self.layers for w in layer.weights.values()))
