"""Op bindings: Python decides every name, size and buffer; the op templates format.

A binding turns one QLayer into the context its template (templates/ops/<kind>.c.j2)
renders: the constant arrays it needs, its state buffers, and the values of its
kernel's parameter struct.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuq.qgraph import QLayer

C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "uint8": "uint8_t"}
# the template of each layer kind (sigmoid and tanh share the table kernel)
TEMPLATES = {"linear": "linear", "relu": "relu", "sigmoid": "table", "tanh": "table",
             "gru": "gru", "lstm": "lstm"}
# state buffers per recurrent kind: (name, C type, elements per hidden unit)
STATE = {"gru": [("h", "int8")], "lstm": [("h", "int8"), ("c", "int16")]}


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

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def params(self) -> dict:
        return self.layer.params


def bind(prefix: str, layer: QLayer) -> LayerBinding:
    arrays = {key: CArray(f"{prefix}_{layer.name}_{key}", C_TYPES[str(a.dtype)], a.reshape(-1))
              for key, a in layer.arrays.items()}
    state = {}
    for name, dtype in STATE.get(layer.kind, []):
        nbytes = layer.params["hidden"] * np.dtype(dtype).itemsize
        state[name] = (C_TYPES[dtype], nbytes)
    return LayerBinding(layer=layer, template=TEMPLATES[layer.kind], arrays=arrays, state=state)
